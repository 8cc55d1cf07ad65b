//! Records: what a job reports, in the host's own form.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::digest::Digest;

/// One record of a job: an event, its context, metrics and artifact
/// references. Metric and artifact order is the order the guest gave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The event name, e.g. `cv fit finished`.
    pub event: String,
    /// The context: bound context merged with the record's own.
    pub context: Map<String, Value>,
    /// Metric name and value pairs. Names are unique within a record.
    pub metrics: Vec<(String, f64)>,
    /// Artifact name and digest pairs.
    pub artifacts: Vec<(String, Digest)>,
}

impl Record {
    /// The bytes this record counts against the record size limits.
    pub fn encoded_size(&self) -> u64 {
        let context: usize = self
            .context
            .iter()
            .map(|(k, v)| k.len() + v.to_string().len())
            .sum();
        let metrics: usize = self.metrics.iter().map(|(k, _)| k.len() + 8).sum();
        let artifacts: usize = self.artifacts.iter().map(|(k, _)| k.len() + 32).sum();
        (self.event.len() + context + metrics + artifacts) as u64
    }

    /// The metrics as a JSON object, in name order. JSON has no NaN or
    /// infinity: non-finite values become `null`.
    pub fn metrics_json(&self) -> Map<String, Value> {
        self.metrics
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    serde_json::Number::from_f64(*v).map_or(Value::Null, Value::Number),
                )
            })
            .collect()
    }

    /// The artifact references as a JSON object, name to digest.
    pub fn artifacts_json(&self) -> Map<String, Value> {
        self.artifacts
            .iter()
            .map(|(k, d)| (k.clone(), Value::String(d.to_hex())))
            .collect()
    }

    /// The record as one JSON object: `{"event", "context", "metrics",
    /// "artifacts"}`.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "event": self.event,
            "context": self.context,
            "metrics": self.metrics_json(),
            "artifacts": self.artifacts_json(),
        })
    }
}

/// An artifact a job stored: its name (as the guest gave it), digest and size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactInfo {
    /// The name given when saving.
    pub name: String,
    /// The digest of its bytes.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
}
