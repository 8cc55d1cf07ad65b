//! One experiment as the job table and the plots need it: every job with
//! its label and parameter cells and a fold of each metric it recorded.
//!
//! A summary is built once (all jobs, all their metric records) and then
//! brought up to date cheaply: a poll reads the experiment's job counts by
//! status; only when they changed does it read the jobs' states, and then
//! the metric records of the jobs that finished since. Sorting 100,000 jobs
//! by a metric then costs a sort in memory, not a scan of their records.

use std::collections::HashMap;

use serde_json::Value;

use super::agg::{Aggregate, MetricAgg};
use super::columns::{Columns, grid_dimensions, lookup};
use super::json_scan::{Field, each_field};
use super::steps::step_of;
use crate::store::{Experiment, JobRow, JobStatus, Result, StatusCounts, Store};

/// The column that names a job's experiment, in a merged summary.
pub const EXPERIMENT: &str = "experiment";

/// Each job's place in `jobs`, by id.
fn index(jobs: &[JobEntry]) -> HashMap<i64, usize> {
    jobs.iter()
        .enumerate()
        .map(|(i, j)| (j.row.id, i))
        .collect()
}

/// How many job ids go into one read of newly finished jobs' records.
const REFRESH_CHUNK: usize = 2_000;

/// One job of the summary.
#[derive(Clone, Debug)]
pub struct JobEntry {
    /// The job as stored.
    pub row: JobRow,
    /// The values of the label and parameter columns, in
    /// [`Columns::cells`] order.
    pub cells: Vec<Value>,
    /// Each metric's fold, by metric number (absent: never recorded).
    pub metrics: Vec<Option<MetricAgg>>,
}

impl JobEntry {
    /// The fold of metric number `m`, if the job recorded it.
    pub fn metric(&self, m: usize) -> Option<&MetricAgg> {
        self.metrics.get(m).and_then(Option::as_ref)
    }

    /// Metric number `m` aggregated by `agg`.
    pub fn value(&self, m: usize, agg: Aggregate) -> Option<f64> {
        self.metric(m).and_then(|a| a.get(agg))
    }
}

/// A metric some job of the experiment recorded.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct MetricInfo {
    /// Its name.
    pub name: String,
    /// Jobs that recorded it.
    pub jobs: u64,
    /// Records that carry it, over all jobs.
    pub records: u64,
    /// The most records one job has of it.
    pub max_per_job: u64,
    /// Jobs whose records of it carry a step-like context (a curve).
    pub curve_jobs: u64,
}

/// An experiment's jobs with their metrics.
pub struct Summary {
    /// The experiment (of a merged summary, the newest).
    pub experiment: Experiment,
    /// The experiments merged into it (empty: only `experiment`).
    pub experiments: Vec<Experiment>,
    /// Its jobs by status when the summary was last brought up to date.
    pub counts: StatusCounts,
    /// Its jobs, in grid order.
    pub jobs: Vec<JobEntry>,
    by_id: HashMap<i64, usize>,
    /// The label and parameter columns.
    pub columns: Columns,
    /// The grid's dimensions (a column path each), for the plots.
    pub dims: Vec<String>,
    /// The metrics, by metric number.
    pub metrics: Vec<MetricInfo>,
    metric_ids: HashMap<String, usize>,
    /// Metric numbers sorted by name.
    pub metric_order: Vec<usize>,
}

impl Summary {
    /// Reads experiment `id` whole.
    pub fn build(store: &dyn Store, id: i64) -> Result<Summary> {
        // Counts first: whatever changes after them is seen by the next
        // refresh.
        let counts = store.status_counts(id)?;
        let experiment = store.experiment(id)?;
        let rows = store.jobs(id)?;
        let columns = Columns::of(rows.iter().map(|r| (&r.labels, &r.parameter)));
        // Without a grid or a random space in the file itself (one that
        // extends another, say), the labels and parameters that vary.
        let dims = grid_dimensions(&experiment.locked.source_text)
            .filter(|dims| !dims.is_empty())
            .unwrap_or_else(|| columns.cells().take(8).cloned().collect());
        let jobs: Vec<JobEntry> = rows
            .into_iter()
            .map(|row| JobEntry {
                cells: columns
                    .cells()
                    .map(|path| lookup(&row.labels, &row.parameter, path))
                    .collect(),
                metrics: Vec::new(),
                row,
            })
            .collect();
        let by_id = index(&jobs);
        let mut summary = Summary {
            experiment,
            experiments: Vec::new(),
            counts,
            jobs,
            by_id,
            columns,
            dims,
            metrics: Vec::new(),
            metric_ids: HashMap::new(),
            metric_order: Vec::new(),
        };
        summary.read_metrics(store, None)?;
        Ok(summary)
    }

    /// Several experiments' summaries as one (a project's): every job, the
    /// union of their columns and metrics, their grid dimensions, and
    /// [`EXPERIMENT`] as a dimension when there are several. Its
    /// `experiment` is the newest part's (it names no single experiment);
    /// `experiments` lists them all.
    pub fn merge(parts: &[&Summary]) -> Option<Summary> {
        let newest = parts.iter().max_by_key(|p| p.experiment.id)?;
        let rows: Vec<&JobRow> = parts
            .iter()
            .flat_map(|p| p.jobs.iter().map(|j| &j.row))
            .collect();
        let columns = Columns::of(rows.iter().map(|r| (&r.labels, &r.parameter)));
        let mut dims: Vec<String> = Vec::new();
        if parts.len() > 1 {
            dims.push(EXPERIMENT.to_owned());
        }
        for p in parts {
            for d in &p.dims {
                if !dims.contains(d) {
                    dims.push(d.clone());
                }
            }
        }
        let mut metrics: Vec<MetricInfo> = Vec::new();
        let mut metric_ids: HashMap<String, usize> = HashMap::new();
        let mut counts = StatusCounts::default();
        let mut jobs = Vec::with_capacity(rows.len());
        for p in parts {
            for (status, n) in [
                (JobStatus::Unassigned, p.counts.unassigned),
                (JobStatus::Assigned, p.counts.assigned),
                (JobStatus::Finished, p.counts.finished),
                (JobStatus::Failed, p.counts.failed),
            ] {
                counts.add(status, n);
            }
            let remap: Vec<usize> = p
                .metrics
                .iter()
                .map(|info| {
                    *metric_ids.entry(info.name.clone()).or_insert_with(|| {
                        metrics.push(MetricInfo {
                            name: info.name.clone(),
                            ..MetricInfo::default()
                        });
                        metrics.len() - 1
                    })
                })
                .collect();
            for job in &p.jobs {
                let mut folded = vec![None; metrics.len()];
                for (m, agg) in job.metrics.iter().enumerate() {
                    if let (Some(agg), Some(&to)) = (agg, remap.get(m)) {
                        folded[to] = Some(*agg);
                    }
                }
                jobs.push(JobEntry {
                    cells: columns
                        .cells()
                        .map(|path| lookup(&job.row.labels, &job.row.parameter, path))
                        .collect(),
                    metrics: folded,
                    row: job.row.clone(),
                });
            }
        }
        let by_id = index(&jobs);
        let mut summary = Summary {
            experiment: newest.experiment.clone(),
            experiments: parts.iter().map(|p| p.experiment.clone()).collect(),
            counts,
            jobs,
            by_id,
            columns,
            dims,
            metrics,
            metric_ids,
            metric_order: Vec::new(),
        };
        summary.tally();
        Some(summary)
    }

    /// Brings the summary up to date; returns whether anything changed.
    pub fn refresh(&mut self, store: &dyn Store) -> Result<bool> {
        let id = self.experiment.id;
        let counts = store.status_counts(id)?;
        if counts == self.counts {
            return Ok(false);
        }
        let states = store.job_states(id)?;
        let mut finished = Vec::new();
        for state in states {
            let Some(&i) = self.by_id.get(&state.id) else {
                continue;
            };
            let entry = &mut self.jobs[i];
            if state.status == JobStatus::Finished && entry.row.status != JobStatus::Finished {
                finished.push(state.id);
                entry.metrics.clear();
            }
            let row = &mut entry.row;
            row.status = state.status;
            row.attempt = state.attempt;
            row.lost = state.lost;
            row.worker = state.worker;
            row.started_at = state.started_at;
            row.finished_at = state.finished_at;
            row.duration_ms = state.duration_ms;
            row.reason = state.reason;
            row.result_digest = state.result_digest;
            row.cached_from = state.cached_from;
        }
        self.counts = counts;
        for chunk in finished.chunks(REFRESH_CHUNK) {
            self.read_metrics(store, Some(chunk))?;
        }
        Ok(true)
    }

    /// Folds the metric records of `jobs` (all finished jobs: `None`) into
    /// their entries.
    fn read_metrics(&mut self, store: &dyn Store, jobs: Option<&[i64]>) -> Result<()> {
        let experiment = self.experiment.id;
        let Summary {
            jobs: entries,
            by_id,
            metrics,
            metric_ids,
            ..
        } = self;
        let mut current: Option<usize> = None;
        let mut current_id = i64::MIN;
        store.visit_metric_records(experiment, jobs, &mut |job, context, text| {
            if job != current_id {
                current_id = job;
                current = by_id.get(&job).copied();
            }
            let Some(i) = current else { return };
            let entry = &mut entries[i];
            let stepped = step_of(context).is_some();
            each_field(text, &mut |name, value| {
                let m = match metric_ids.get(name) {
                    Some(&m) => m,
                    None => {
                        let m = metrics.len();
                        metrics.push(MetricInfo {
                            name: name.to_owned(),
                            ..MetricInfo::default()
                        });
                        metric_ids.insert(name.to_owned(), m);
                        m
                    }
                };
                let value = match value {
                    Field::Number(v) => Some(v),
                    Field::Null | Field::Other => None,
                };
                if entry.metrics.len() <= m {
                    entry.metrics.resize(m + 1, None);
                }
                match &mut entry.metrics[m] {
                    Some(agg) => agg.push(value, stepped),
                    slot @ None => *slot = Some(MetricAgg::new(value, stepped)),
                }
            });
        })?;
        self.tally();
        Ok(())
    }

    /// Recounts each metric's totals and the name order.
    fn tally(&mut self) {
        for info in &mut self.metrics {
            info.jobs = 0;
            info.records = 0;
            info.max_per_job = 0;
            info.curve_jobs = 0;
        }
        for entry in &self.jobs {
            for (m, agg) in entry.metrics.iter().enumerate() {
                if let (Some(agg), Some(info)) = (agg, self.metrics.get_mut(m)) {
                    info.jobs += 1;
                    info.records += agg.count;
                    info.max_per_job = info.max_per_job.max(agg.count);
                    info.curve_jobs += u64::from(agg.stepped > 1);
                }
            }
        }
        let mut order: Vec<usize> = (0..self.metrics.len()).collect();
        order.sort_by(|&a, &b| self.metrics[a].name.cmp(&self.metrics[b].name));
        self.metric_order = order;
    }

    /// The job with this id.
    pub fn job(&self, id: i64) -> Option<&JobEntry> {
        self.by_id.get(&id).map(|&i| &self.jobs[i])
    }

    /// The number of the metric called `name`.
    pub fn metric_id(&self, name: &str) -> Option<usize> {
        self.metric_ids.get(name).copied()
    }

    /// The metric the plots show first: the first by name that every job
    /// records once (a final score, such as `mean_test_accuracy`), else
    /// the first by name.
    pub fn default_metric(&self) -> Option<usize> {
        self.metric_order
            .iter()
            .copied()
            .find(|&m| self.metrics[m].max_per_job == 1)
            .or_else(|| self.metric_order.first().copied())
    }

    /// The metrics with curves (records with a step-like context), by name.
    pub fn curve_metrics(&self) -> impl Iterator<Item = usize> + '_ {
        self.metric_order
            .iter()
            .copied()
            .filter(|&m| self.metrics[m].curve_jobs > 0)
    }

    /// The value of the label or parameter column `path` for `job`: its
    /// cell, a constant, or a value deeper than the leaves (a grid
    /// dimension whose points are mappings).
    pub fn path_value(&self, job: &JobEntry, path: &str) -> Value {
        if path == EXPERIMENT {
            return Value::from(job.row.experiment_id);
        }
        if let Some(i) = self.columns.cells().position(|c| c == path) {
            return job.cells[i].clone();
        }
        if let Some(v) = self.columns.constants.get(path) {
            return v.clone();
        }
        lookup(&job.row.labels, &job.row.parameter, path)
    }
}
