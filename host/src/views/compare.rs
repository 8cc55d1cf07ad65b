//! Jobs side by side: their labels and parameters (which differ, which are
//! equal), their metrics under one aggregate, and their artifacts by name.
//! What `djx compare`, the compare page and `/api/compare` show.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::agg::{Aggregate, MetricAgg};
use super::columns::leaves;
use super::error::ViewError;
use super::json_scan::{Field, each_field};
use super::steps::step_of;
use crate::records::ArtifactInfo;
use crate::store::{AttemptRow, JobRow, Store};

/// The fewest and most jobs a comparison takes.
pub const MIN_JOBS: usize = 2;
/// See [`MIN_JOBS`].
pub const MAX_JOBS: usize = 10;

/// One job of a comparison.
#[derive(Clone, Debug)]
pub struct Compared {
    /// The job.
    pub row: JobRow,
    /// Its experiment's name.
    pub experiment_name: String,
    /// Each metric's fold over the job's result records, by name.
    pub metrics: BTreeMap<String, MetricAgg>,
    /// The metrics that have a curve (several records with a step).
    pub curves: Vec<String>,
    /// The result's artifacts.
    pub artifacts: Vec<ArtifactInfo>,
}

/// A row of the comparison: one column's value in each job.
#[derive(Clone, Debug)]
pub struct Row {
    /// The column (`labels.fold`, `parameter.model_args.max_depth`, or a
    /// job field: `experiment`, `status`, `result`).
    pub column: String,
    /// Its value in each job (`Null`: absent).
    pub values: Vec<Value>,
    /// Whether the values are not all equal.
    pub differs: bool,
}

/// Jobs side by side.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The jobs, in the order asked for.
    pub jobs: Vec<Compared>,
    /// Labels and parameters, and the job fields that tell jobs apart.
    pub rows: Vec<Row>,
    /// Every metric any of the jobs recorded, by name.
    pub metric_names: Vec<String>,
    /// Every artifact name any of them saved, in first-seen order.
    pub artifact_names: Vec<String>,
}

impl Comparison {
    /// Reads jobs `ids` (2 to 10 of them, any experiments).
    pub fn load(store: &dyn Store, ids: &[i64]) -> Result<Comparison, ViewError> {
        let mut unique = ids.to_vec();
        unique.dedup();
        if !(MIN_JOBS..=MAX_JOBS).contains(&unique.len()) || {
            let mut sorted = unique.clone();
            sorted.sort_unstable();
            sorted.dedup();
            sorted.len() != unique.len()
        } {
            return Err(ViewError::Invalid(format!(
                "compare takes {MIN_JOBS} to {MAX_JOBS} different jobs; got {}",
                ids.iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let mut names: HashMap<i64, String> = HashMap::new();
        let mut jobs = Vec::with_capacity(unique.len());
        for &id in &unique {
            let row = store.job(id)?;
            let experiment_name = match names.get(&row.experiment_id) {
                Some(n) => n.clone(),
                None => {
                    let n = store.experiment(row.experiment_id)?.locked.name;
                    names.insert(row.experiment_id, n.clone());
                    n
                }
            };
            let (metrics, curves, artifacts) = result_of(store, &row)?;
            jobs.push(Compared {
                row,
                experiment_name,
                metrics,
                curves,
                artifacts,
            });
        }
        Ok(Comparison::of(jobs))
    }

    /// Lines up `jobs`.
    pub fn of(jobs: Vec<Compared>) -> Comparison {
        let mut rows = Vec::new();
        let field =
            |name: &str, f: &dyn Fn(&Compared) -> Value| row(name, jobs.iter().map(f).collect());
        rows.push(field("experiment", &|j| {
            json!(format!("{} {}", j.row.experiment_id, j.experiment_name))
        }));
        rows.push(field("status", &|j| json!(j.row.status.as_str())));
        let mut paths: Vec<String> = Vec::new();
        let mut cells: Vec<HashMap<String, Value>> = Vec::new();
        for j in &jobs {
            let mut mine = HashMap::new();
            for (root, value) in [("labels", &j.row.labels), ("parameter", &j.row.parameter)] {
                leaves(root, value, &mut |path, v| {
                    if !paths.iter().any(|p| p == path) {
                        paths.push(path.to_owned());
                    }
                    mine.insert(path.to_owned(), v.clone());
                });
            }
            cells.push(mine);
        }
        // Labels first, then parameters, each by name.
        paths.sort_by(|a, b| (!a.starts_with("labels."), a).cmp(&(!b.starts_with("labels."), b)));
        for path in paths {
            let values = cells
                .iter()
                .map(|c| c.get(&path).cloned().unwrap_or(Value::Null))
                .collect();
            rows.push(row(&path, values));
        }
        rows.push(field("result", &|j| {
            j.row
                .result_digest
                .as_ref()
                .map_or(Value::Null, |d| json!(d.to_hex()))
        }));
        let metric_names: Vec<String> = {
            let mut all: Vec<String> = jobs
                .iter()
                .flat_map(|j| j.metrics.keys().cloned())
                .collect();
            all.sort();
            all.dedup();
            all
        };
        let mut artifact_names: Vec<String> = Vec::new();
        for j in &jobs {
            for a in &j.artifacts {
                if !artifact_names.contains(&a.name) {
                    artifact_names.push(a.name.clone());
                }
            }
        }
        Comparison {
            jobs,
            rows,
            metric_names,
            artifact_names,
        }
    }

    /// Metric `name` of each job under `agg`.
    pub fn metric(&self, name: &str, agg: Aggregate) -> Vec<Option<f64>> {
        self.jobs
            .iter()
            .map(|j| j.metrics.get(name).and_then(|m| m.get(agg)))
            .collect()
    }

    /// The artifact called `name` of each job.
    pub fn artifact(&self, name: &str) -> Vec<Option<&ArtifactInfo>> {
        self.jobs
            .iter()
            .map(|j| j.artifacts.iter().find(|a| a.name == name))
            .collect()
    }

    /// The comparison as JSON (`/api/compare`, `djx compare --json`).
    pub fn to_json(&self, agg: Aggregate) -> Value {
        json!({
            "agg": agg,
            "jobs": self.jobs.iter().map(|j| json!({
                "id": j.row.id,
                "experiment": j.row.experiment_id,
                "experiment_name": j.experiment_name,
                "status": j.row.status,
                "labels": j.row.labels,
                "result_digest": j.row.result_digest,
                "curves": j.curves,
            })).collect::<Vec<_>>(),
            "rows": self.rows.iter().map(|r| json!({
                "column": r.column, "values": r.values, "differs": r.differs,
            })).collect::<Vec<_>>(),
            "metrics": self.metric_names.iter().map(|name| {
                let values = self.metric(name, agg);
                let differs = values.windows(2).any(|w| w[0] != w[1]);
                json!({"name": name, "values": values, "differs": differs})
            }).collect::<Vec<_>>(),
            "artifacts": self.artifact_names.iter().map(|name| json!({
                "name": name,
                "values": self.artifact(name).iter().map(|a| a.map(|a| json!({
                    "digest": a.digest, "size": a.size,
                }))).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }
}

fn row(column: &str, values: Vec<Value>) -> Row {
    let differs = values.windows(2).any(|w| w[0] != w[1]);
    Row {
        column: column.to_owned(),
        values,
        differs,
    }
}

type Result3 = (BTreeMap<String, MetricAgg>, Vec<String>, Vec<ArtifactInfo>);

/// The metric folds, curve names and artifacts of `row`'s result attempt
/// (none before it has ended).
fn result_of(store: &dyn Store, row: &JobRow) -> Result<Result3, ViewError> {
    let attempts = store.attempts(row.id)?;
    let Some((job, attempt)) = attempts
        .iter()
        .find(|a| a.attempt == row.attempt)
        .map(AttemptRow::result_attempt)
    else {
        return Ok((BTreeMap::new(), Vec::new(), Vec::new()));
    };
    let mut metrics: BTreeMap<String, MetricAgg> = BTreeMap::new();
    store.visit_attempt_metrics(job, attempt, &mut |context, text| {
        let stepped = step_of(context).is_some();
        each_field(text, &mut |name, value| {
            let value = match value {
                Field::Number(v) => Some(v),
                Field::Null | Field::Other => None,
            };
            match metrics.get_mut(name) {
                Some(agg) => agg.push(value, stepped),
                None => {
                    metrics.insert(name.to_owned(), MetricAgg::new(value, stepped));
                }
            }
        });
    })?;
    let curves = metrics
        .iter()
        .filter(|(_, a)| a.stepped > 1)
        .map(|(n, _)| n.clone())
        .collect();
    Ok((metrics, curves, store.attempt_artifacts(job, attempt)?))
}
