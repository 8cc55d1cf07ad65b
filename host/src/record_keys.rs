//! The keys an attempt's records use: the columns of an export.
//!
//! A tidy export (`djx records`, CSV or Parquet) has one column per label,
//! context key, metric and artifact name that any of its records uses, and
//! a file's header comes first. Finding the columns by reading every record
//! twice would double the cost of exporting ten million records, so djx
//! keeps them as it goes: the runtime adds each record's keys as the guest
//! emits it (a set lookup per key), the worker adds the job's label keys,
//! and the store keeps each attempt's set (shared by every attempt with
//! the same one). An export then reads the sets of the attempts it shows.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::digest::Digest;
use crate::json_fields::{NotAnObject, each_field};
use crate::record::RecordText;

/// The keys of each part of a set of records, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordKeys {
    /// Label keys of the job the records belong to.
    pub labels: BTreeSet<String>,
    /// Context keys (bound and own).
    pub context: BTreeSet<String>,
    /// Metric names.
    pub metrics: BTreeSet<String>,
    /// Artifact reference names.
    pub artifacts: BTreeSet<String>,
}

/// Adds `key` to `set` unless it is there (no allocation then).
fn add(set: &mut BTreeSet<String>, key: &str) {
    if !set.contains(key) {
        set.insert(key.to_owned());
    }
}

impl RecordKeys {
    /// Adds the keys of a record as the runtime builds it: `own` context
    /// merged over `bound`, metrics and artifact references.
    pub fn add_record(
        &mut self,
        bound: &Map<String, Value>,
        own: &Map<String, Value>,
        metrics: &[(String, f64)],
        artifacts: &[(String, Digest)],
    ) {
        for key in bound.keys().chain(own.keys()) {
            add(&mut self.context, key);
        }
        for (name, _) in metrics {
            add(&mut self.metrics, name);
        }
        for (name, _) in artifacts {
            add(&mut self.artifacts, name);
        }
    }

    /// Adds the keys of a record as stored (for attempts stored before
    /// djx kept key sets).
    pub fn add_stored(&mut self, record: RecordText<'_>) -> Result<(), NotAnObject> {
        for (text, set) in [
            (record.context, &mut self.context),
            (record.metrics, &mut self.metrics),
            (record.artifacts, &mut self.artifacts),
        ] {
            each_field(text, |key, _| add(set, &key))?;
        }
        Ok(())
    }

    /// Adds the keys of a job's labels (a JSON object's text).
    pub fn add_labels(&mut self, labels: &str) -> Result<(), NotAnObject> {
        each_field(labels, |key, _| add(&mut self.labels, &key))
    }

    /// Adds the keys of a job's labels (a JSON object; anything else has
    /// none).
    pub fn add_label_keys(&mut self, labels: &Value) {
        for key in labels.as_object().into_iter().flat_map(Map::keys) {
            add(&mut self.labels, key);
        }
    }

    /// Adds every key of `other`.
    pub fn merge(&mut self, other: &RecordKeys) {
        for (mine, theirs) in [
            (&mut self.labels, &other.labels),
            (&mut self.context, &other.context),
            (&mut self.metrics, &other.metrics),
            (&mut self.artifacts, &other.artifacts),
        ] {
            for key in theirs {
                add(mine, key);
            }
        }
    }

    /// Whether no part has a key.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
            && self.context.is_empty()
            && self.metrics.is_empty()
            && self.artifacts.is_empty()
    }

    /// The stored form: canonical JSON, so equal sets share one row.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The set from its stored form.
    pub fn from_text(text: &str) -> Result<RecordKeys, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn runtime_and_stored_records_give_the_same_keys() {
        let bound = json!({"phase": "train"});
        let own = json!({"step": 3});
        let metrics = [("loss".to_owned(), 0.5), ("acc".to_owned(), 0.9)];
        let artifacts = [("model".to_owned(), Digest::of(b"m"))];
        let mut live = RecordKeys::default();
        live.add_record(
            bound.as_object().expect("object"),
            own.as_object().expect("object"),
            &metrics,
            &artifacts,
        );
        let mut records = crate::record::Records::new();
        records.push_merged(
            "step",
            bound.as_object().expect("object"),
            own.as_object().expect("object"),
            &metrics,
            &artifacts,
        );
        let mut stored = RecordKeys::default();
        stored
            .add_stored(records.get(0).expect("record"))
            .expect("stored text");
        assert_eq!(live, stored);
        assert_eq!(
            live.to_text(),
            r#"{"labels":[],"context":["phase","step"],"metrics":["acc","loss"],"artifacts":["model"]}"#
        );
        assert_eq!(RecordKeys::from_text(&live.to_text()).expect("parse"), live);
    }
}
