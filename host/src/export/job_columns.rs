//! The columns of a jobs export (`djx jobs --format csv|parquet`): one row
//! per job, its bookkeeping first, then one column per label and one per
//! parameter leaf.
//!
//! Nested parameters are flattened into dotted names, as the grid writes
//! them (`parameter.model_args.max_depth`); a list is one value. The
//! columns come from a first pass over the jobs (they are small), the rows
//! from a second, so memory holds one job at a time.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::records::keys::KeyKinds;
use crate::records::kinds::{ColumnType, Kinds};
use crate::store::{JobRow, Store, StoreError};
use crate::views::columns::leaves;

/// The bookkeeping columns of every jobs export, and their types.
pub const JOB_FIELDS: [(&str, ColumnType); 14] = [
    ("id", ColumnType::Int),
    ("experiment_id", ColumnType::Int),
    ("position", ColumnType::Int),
    ("key", ColumnType::String),
    ("status", ColumnType::String),
    ("attempt", ColumnType::Int),
    ("lost", ColumnType::Int),
    ("worker", ColumnType::String),
    ("started_at", ColumnType::String),
    ("finished_at", ColumnType::String),
    ("duration_ms", ColumnType::Int),
    ("reason", ColumnType::String),
    ("result_digest", ColumnType::String),
    ("cached_from", ColumnType::Int),
];

/// The columns of the jobs of an experiment.
#[derive(Clone, Debug)]
pub struct JobColumns {
    names: Vec<String>,
    types: Vec<ColumnType>,
    labels: BTreeMap<String, usize>,
    parameters: BTreeMap<String, usize>,
}

impl JobColumns {
    /// The columns of the jobs of `experiment`, from a pass over them.
    pub fn of(store: &dyn Store, experiment: i64) -> Result<JobColumns, StoreError> {
        let mut labels = KeyKinds::default();
        let mut parameters = KeyKinds::default();
        store.each_job(experiment, &mut |job| {
            for (key, value) in job.labels.as_object().into_iter().flatten() {
                labels.add(key, Kinds::of_value(value));
            }
            add_leaf_kinds(&mut parameters, &job.parameter);
            Ok(())
        })?;
        Ok(JobColumns::new(&labels, &parameters))
    }

    /// The columns for jobs with these label and (flattened) parameter
    /// keys.
    pub fn new(labels: &KeyKinds, parameters: &KeyKinds) -> JobColumns {
        let mut names: Vec<String> = JOB_FIELDS.iter().map(|(n, _)| (*n).to_owned()).collect();
        let mut types: Vec<ColumnType> = JOB_FIELDS.iter().map(|(_, t)| *t).collect();
        let mut index = |prefix: &str, keys: &KeyKinds| {
            keys.iter()
                .map(|(key, kinds)| {
                    names.push(format!("{prefix}.{key}"));
                    types.push(kinds.column_type());
                    (key.clone(), names.len() - 1)
                })
                .collect::<BTreeMap<_, _>>()
        };
        let labels = index("labels", labels);
        let parameters = index("parameter", parameters);
        JobColumns {
            names,
            types,
            labels,
            parameters,
        }
    }

    /// The column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The column types (for Parquet).
    pub fn types(&self) -> &[ColumnType] {
        &self.types
    }

    /// A job's values, one per column (`null` where it has none).
    pub fn row(&self, job: &JobRow) -> Vec<Value> {
        let digest = |d: Option<crate::content::digest::Digest>| d.map(|d| d.to_hex()).into();
        let mut row: Vec<Value> = vec![
            job.id.into(),
            job.experiment_id.into(),
            job.position.into(),
            digest(job.key),
            job.status.to_string().into(),
            job.attempt.into(),
            job.lost.into(),
            job.worker.clone().into(),
            job.started_at.clone().into(),
            job.finished_at.clone().into(),
            job.duration_ms.into(),
            job.reason.clone().into(),
            digest(job.result_digest),
            job.cached_from.into(),
        ];
        row.resize(self.names.len(), Value::Null);
        if let Value::Object(labels) = &job.labels {
            for (key, value) in labels {
                if let Some(&column) = self.labels.get(key) {
                    row[column] = value.clone();
                }
            }
        }
        leaves("", &job.parameter, &mut |key, value| {
            if let Some(&column) = self.parameters.get(key) {
                row[column] = value.clone();
            }
        });
        row
    }
}

/// Adds the dotted path of every leaf of `value`, with its kind.
fn add_leaf_kinds(kinds: &mut KeyKinds, value: &Value) {
    leaves("", value, &mut |key, v| kinds.add(key, Kinds::of_value(v)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_parameters_become_dotted_columns() {
        let mut kinds = KeyKinds::default();
        add_leaf_kinds(
            &mut kinds,
            &json!({"model": {"depth": 2, "lr": 0.5}, "folds": [1, 2], "empty": {}}),
        );
        add_leaf_kinds(&mut kinds, &json!({"model": {"depth": 2.5}}));
        let columns = JobColumns::new(&KeyKinds::default(), &kinds);
        let names: Vec<&str> = columns.names()[JOB_FIELDS.len()..]
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(
            names,
            [
                "parameter.empty",
                "parameter.folds",
                "parameter.model.depth",
                "parameter.model.lr"
            ]
        );
        assert_eq!(
            columns.types()[JOB_FIELDS.len()..],
            [
                ColumnType::Json,
                ColumnType::Json,
                ColumnType::Float,
                ColumnType::Float
            ]
        );
    }
}
