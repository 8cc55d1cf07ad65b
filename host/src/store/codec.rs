//! Encoding and decoding of stored values, shared by every dialect: JSON
//! text columns, digests, statuses.

use serde_json::{Map, Value};

use super::{RecordRow, StoreError, StoredRecord};
use crate::content::digest::{Digest, InvalidDigest};
use crate::experiment::locked::LockedExperiment;
use crate::records::keys::RecordKeys;

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

/// Decodes a stored record.
pub fn decode_record(r: StoredRecord<'_>) -> Result<RecordRow, StoreError> {
    Ok(RecordRow {
        exp_id: r.exp_id,
        job_id: r.job_id,
        labels: object(r.labels, "job labels")?,
        event: r.record.event.to_owned(),
        context: object(r.record.context, "record context")?,
        metrics: object(r.record.metrics, "record metrics")?,
        artifacts: object(r.record.artifacts, "record artifacts")?,
    })
}

/// The union of the stored record key sets `texts`.
pub fn merge_key_sets<'a>(
    texts: impl IntoIterator<Item = &'a str>,
) -> Result<RecordKeys, StoreError> {
    let mut keys = RecordKeys::default();
    for text in texts {
        let set = RecordKeys::from_text(text).map_err(|e| StoreError::Corrupt {
            what: "record key set",
            message: e.to_string(),
        })?;
        keys.merge(&set);
    }
    Ok(keys)
}

/// A stored digest that may be absent.
pub fn optional_digest(
    text: Option<&str>,
    what: &'static str,
) -> Result<Option<Digest>, StoreError> {
    text.map(|t| digest(t, what)).transpose()
}

/// A stored status.
pub fn status(text: &str) -> Result<super::JobStatus, StoreError> {
    text.parse().map_err(|message| StoreError::Corrupt {
        what: "job status",
        message,
    })
}

/// The JSON columns of an experiment.
pub struct ExperimentJson {
    /// `datasets`
    pub datasets: String,
    /// `limits`
    pub limits: String,
    /// `engine`
    pub engine: String,
    /// `provenance`
    pub provenance: String,
    /// `sweep`
    pub sweep: Option<String>,
    /// `invocation`
    pub invocation: String,
}

/// The JSON columns of an experiment as text.
pub fn experiment_json(e: &LockedExperiment) -> Result<ExperimentJson, StoreError> {
    Ok(ExperimentJson {
        datasets: serde_json::to_string(&e.datasets).map_err(corrupt("datasets"))?,
        limits: serde_json::to_string(&e.limits).map_err(corrupt("limits"))?,
        engine: serde_json::to_string(&e.engine).map_err(corrupt("engine"))?,
        provenance: serde_json::to_string(&e.provenance).map_err(corrupt("provenance"))?,
        sweep: e
            .sweep
            .as_ref()
            .map(|s| serde_json::to_string(s).map_err(corrupt("sweep plan")))
            .transpose()?,
        invocation: serde_json::to_string(&e.invocation).map_err(corrupt("invocation"))?,
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

/// The samples of a rung as stored.
pub fn rung_samples(samples: &[u64]) -> String {
    Value::from(samples.to_vec()).to_string()
}
