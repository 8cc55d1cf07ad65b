//! Encoding and decoding of stored values, shared by every dialect: JSON
//! text columns, digests, statuses.

use serde_json::{Map, Value};

use super::{DatasetRef, Experiment, JobRow, NewExperiment, RecordRow, StoreError};
use crate::digest::{Digest, InvalidDigest};
use crate::record::Record;

/// A JSON decoding error as a corrupt-value error.
pub fn corrupt(what: &'static str) -> impl Fn(serde_json::Error) -> StoreError {
    move |e| StoreError::Corrupt {
        what,
        message: e.to_string(),
    }
}

/// A stored JSON object.
pub fn object(text: &str, what: &'static str) -> Result<Map<String, Value>, StoreError> {
    match serde_json::from_str(text).map_err(corrupt(what))? {
        Value::Object(map) => Ok(map),
        _ => Err(StoreError::Corrupt {
            what,
            message: "not a JSON object".into(),
        }),
    }
}

/// A stored digest.
pub fn digest(text: &str, what: &'static str) -> Result<Digest, StoreError> {
    text.parse()
        .map_err(|e: InvalidDigest| StoreError::Corrupt {
            what,
            message: e.to_string(),
        })
}

/// A record's context, metrics and artifact references as JSON text.
/// Non-finite metric values become null.
pub fn record_columns(record: &Record) -> (String, String, String) {
    (
        Value::Object(record.context.clone()).to_string(),
        Value::Object(record.metrics_json()).to_string(),
        Value::Object(record.artifacts_json()).to_string(),
    )
}

/// The columns of `records.sql`: experiment, job, labels, event, context,
/// metrics, artifacts.
pub type RecordColumns = (i64, i64, String, String, String, String, String);

/// Decodes a row of `records.sql`.
pub fn record_row(
    (exp_id, job_id, labels, event, context, metrics, artifacts): RecordColumns,
) -> Result<RecordRow, StoreError> {
    Ok(RecordRow {
        exp_id,
        job_id,
        labels: object(&labels, "job labels")?,
        event,
        context: object(&context, "record context")?,
        metrics: object(&metrics, "record metrics")?,
        artifacts: object(&artifacts, "record artifacts")?,
    })
}

/// Fills in a job's JSON and status columns.
pub fn job_row(
    mut job: JobRow,
    labels: &str,
    parameter: &str,
    status: &str,
) -> Result<JobRow, StoreError> {
    job.labels = serde_json::from_str(labels).map_err(corrupt("job labels"))?;
    job.parameter = serde_json::from_str(parameter).map_err(corrupt("job parameters"))?;
    job.status = status.parse().map_err(|message| StoreError::Corrupt {
        what: "job status",
        message,
    })?;
    Ok(job)
}

/// The text columns of an experiment row, in the order of
/// [`experiment_row`].
pub struct ExperimentColumns {
    /// `created_at`
    pub created_at: String,
    /// `project`
    pub project: Option<String>,
    /// `name`
    pub name: String,
    /// `description`
    pub description: Option<String>,
    /// `source_path`
    pub source_path: String,
    /// `source_digest`
    pub source_digest: String,
    /// `spec`
    pub spec: String,
    /// `module_digest`
    pub module_digest: String,
    /// `datasets`
    pub datasets: String,
    /// `limits`
    pub limits: String,
    /// `determinism`
    pub determinism: String,
    /// `retries`
    pub retries: u32,
}

/// The columns `experiment_row` reads, for a SELECT.
pub const EXPERIMENT_COLUMNS: &str = "created_at, project, name, description, source_path, source_digest, spec, \
     module_digest, datasets, limits, determinism, retries";

/// Decodes an experiment row.
pub fn experiment_row(id: i64, c: ExperimentColumns) -> Result<Experiment, StoreError> {
    let datasets: Vec<DatasetRef> =
        serde_json::from_str(&c.datasets).map_err(corrupt("datasets"))?;
    Ok(Experiment {
        id,
        created_at: c.created_at,
        spec: NewExperiment {
            project: c.project,
            name: c.name,
            description: c.description,
            source_path: c.source_path,
            source_digest: digest(&c.source_digest, "experiment source digest")?,
            spec: c.spec,
            module_digest: digest(&c.module_digest, "module digest")?,
            datasets,
            limits: serde_json::from_str(&c.limits).map_err(corrupt("limits"))?,
            determinism: serde_json::from_value(Value::String(c.determinism))
                .map_err(corrupt("determinism"))?,
            retries: c.retries,
        },
    })
}

/// The datasets and limits of an experiment as JSON text.
pub fn experiment_json(e: &NewExperiment) -> Result<(String, String), StoreError> {
    Ok((
        serde_json::to_string(&e.datasets).map_err(corrupt("datasets"))?,
        serde_json::to_string(&e.limits).map_err(corrupt("limits"))?,
    ))
}

/// Decodes claimed rows: id, experiment, attempt, labels, parameters; in
/// experiment and job order (RETURNING gives none).
pub fn claimed_jobs(
    rows: Vec<(i64, i64, i64, String, String)>,
) -> Result<Vec<super::ClaimedJob>, StoreError> {
    let mut jobs = rows
        .into_iter()
        .map(|(id, experiment_id, attempt, labels, parameter)| {
            Ok(super::ClaimedJob {
                id,
                experiment_id,
                attempt,
                labels: serde_json::from_str(&labels).map_err(corrupt("job labels"))?,
                parameter: serde_json::from_str(&parameter).map_err(corrupt("job parameters"))?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    jobs.sort_by_key(|j| (j.experiment_id, j.id));
    Ok(jobs)
}

/// Decodes an artifact row: name, digest, size.
pub fn artifact_row(
    (name, digest_text, size): (String, String, i64),
) -> Result<crate::record::ArtifactInfo, StoreError> {
    Ok(crate::record::ArtifactInfo {
        name,
        digest: digest(&digest_text, "artifact digest")?,
        size: size as u64,
    })
}

/// Adds `(experiment, status, count)` rows to experiment summaries.
pub fn with_counts(
    mut list: Vec<super::ExperimentSummary>,
    counts: Vec<(i64, String, i64)>,
) -> Result<Vec<super::ExperimentSummary>, StoreError> {
    for (exp, status, n) in counts {
        let status: super::JobStatus = status.parse().map_err(|message| StoreError::Corrupt {
            what: "job status",
            message,
        })?;
        if let Some(summary) = list.iter_mut().find(|s| s.id == exp) {
            summary.jobs.add(status, n as u64);
        }
    }
    Ok(list)
}
