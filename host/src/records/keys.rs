//! The keys an attempt's records use, and the kinds of their values: the
//! columns of an export, and their types.
//!
//! A tidy export (`djx records`, CSV or Parquet) has one column per label,
//! context key, metric and artifact name that any of its records uses, and
//! a file's header (a Parquet file's schema) comes first. Finding the
//! columns by reading every record twice would double the cost of
//! exporting ten million records, so djx keeps them as it goes: the runtime
//! adds each record's keys (and the kind of each value: integer, float,
//! string...) as the guest emits it, the worker adds the job's labels, and
//! the store keeps each attempt's set (shared by every attempt with the
//! same one). An export then reads the sets of the attempts it shows.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::content::digest::Digest;
use crate::records::RecordText;
use crate::records::json_fields::{NotAnObject, each_field};
use crate::records::kinds::Kinds;

/// Keys and the kinds of their values, sorted by key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyKinds(pub BTreeMap<String, Kinds>);

impl KeyKinds {
    /// Adds `key` holding a value of `kinds`; no allocation when the key is
    /// known.
    pub fn add(&mut self, key: &str, kinds: Kinds) {
        match self.0.get_mut(key) {
            Some(known) => *known = known.with(kinds),
            None => {
                self.0.insert(key.to_owned(), kinds);
            }
        }
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The keys, sorted, with their kinds.
    pub fn iter(&self) -> impl Iterator<Item = (&String, Kinds)> {
        self.0.iter().map(|(k, v)| (k, *v))
    }
}

impl Serialize for KeyKinds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v.letters())))
    }
}

impl<'de> Deserialize<'de> for KeyKinds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<KeyKinds, D::Error> {
        let letters = BTreeMap::<String, String>::deserialize(d)?;
        Ok(KeyKinds(
            letters
                .into_iter()
                .map(|(k, v)| (k, Kinds::from_letters(&v)))
                .collect(),
        ))
    }
}

/// The keys of each part of a set of records, with their values' kinds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordKeys {
    /// Label keys of the job the records belong to.
    pub labels: KeyKinds,
    /// Context keys (bound and own).
    pub context: KeyKinds,
    /// Metric names (every metric is a float).
    pub metrics: KeyKinds,
    /// Artifact reference names (every reference is a digest, a string).
    pub artifacts: KeyKinds,
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
        for (key, value) in bound {
            // A key of the record's own context replaces the bound one.
            if !own.contains_key(key) {
                self.context.add(key, Kinds::of_value(value));
            }
        }
        for (key, value) in own {
            self.context.add(key, Kinds::of_value(value));
        }
        for (name, _) in metrics {
            self.metrics.add(name, Kinds::FLOAT);
        }
        for (name, _) in artifacts {
            self.artifacts.add(name, Kinds::STRING);
        }
    }

    /// Adds the keys of a record as stored (for attempts stored before
    /// djx kept key sets).
    pub fn add_stored(&mut self, record: RecordText<'_>) -> Result<(), NotAnObject> {
        for (text, part) in [
            (record.context, &mut self.context),
            (record.metrics, &mut self.metrics),
            (record.artifacts, &mut self.artifacts),
        ] {
            each_field(text, |key, raw| part.add(&key, Kinds::of_raw(raw)))?;
        }
        Ok(())
    }

    /// Adds the keys of a job's labels (a JSON object's text).
    pub fn add_labels(&mut self, labels: &str) -> Result<(), NotAnObject> {
        each_field(labels, |key, raw| self.labels.add(&key, Kinds::of_raw(raw)))
    }

    /// Adds the keys of a job's labels (a JSON object; anything else has
    /// none).
    pub fn add_label_keys(&mut self, labels: &Value) {
        for (key, value) in labels.as_object().into_iter().flatten() {
            self.labels.add(key, Kinds::of_value(value));
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
            for (key, kinds) in theirs.iter() {
                mine.add(key, kinds);
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
        let bound = json!({"phase": "train", "step": "overridden"});
        let own = json!({"step": 3, "lr": 0.5});
        let metrics = [("loss".to_owned(), 0.5), ("acc".to_owned(), f64::NAN)];
        let artifacts = [("model".to_owned(), Digest::of(b"m"))];
        let mut live = RecordKeys::default();
        live.add_record(
            bound.as_object().expect("object"),
            own.as_object().expect("object"),
            &metrics,
            &artifacts,
        );
        let mut records = crate::records::Records::new();
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
        // A NaN metric is stored as null: the stored form cannot tell it
        // is a float, and a float column holds a missing value either way.
        stored.metrics.add("acc", Kinds::FLOAT);
        assert_eq!(live, stored);
        assert_eq!(
            live.to_text(),
            r#"{"labels":{},"context":{"lr":"f","phase":"s","step":"i"},"metrics":{"acc":"f","loss":"f"},"artifacts":{"model":"s"}}"#
        );
        assert_eq!(RecordKeys::from_text(&live.to_text()).expect("parse"), live);
    }
}
