//! Records: what a job reports, kept in the exact text the store writes.
//!
//! A record is four texts: its event, and its context, metrics and artifact
//! references as JSON objects (keys sorted; a non-finite metric is `null`).
//! A job's records are packed into one buffer ([`Records`]) as they are
//! emitted: a job that logs a million points costs tens of megabytes, not
//! a million maps, and the store writes the texts as they are.

pub mod json_fields;
pub mod keys;
pub mod kinds;
pub mod result_digest;

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::content::digest::Digest;

/// One record, borrowed from a [`Records`] buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordText<'a> {
    /// The event name, e.g. `cv fit finished`.
    pub event: &'a str,
    /// The context: a JSON object.
    pub context: &'a str,
    /// The metrics: a JSON object of numbers (or null).
    pub metrics: &'a str,
    /// The artifact references: a JSON object of digests.
    pub artifacts: &'a str,
}

impl RecordText<'_> {
    /// The record as one JSON object, keys sorted:
    /// `{"artifacts", "context", "event", "metrics"}`.
    pub fn to_json_text(&self) -> String {
        let mut out = String::with_capacity(
            48 + self.event.len() + self.context.len() + self.metrics.len() + self.artifacts.len(),
        );
        out.push_str("{\"artifacts\":");
        out.push_str(self.artifacts);
        out.push_str(",\"context\":");
        out.push_str(self.context);
        out.push_str(",\"event\":");
        push_json_string(&mut out, self.event);
        out.push_str(",\"metrics\":");
        out.push_str(self.metrics);
        out.push('}');
        out
    }

    /// The record as a JSON value.
    pub fn to_json(&self) -> Value {
        serde_json::from_str(&self.to_json_text()).unwrap_or(Value::Null)
    }

    /// The bytes this record counts against the record size limits.
    pub fn size(&self) -> u64 {
        (self.event.len() + self.context.len() + self.metrics.len() + self.artifacts.len()) as u64
    }
}

/// A job's records, in order, packed into one buffer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Records {
    text: String,
    /// The end of each field in `text`: four per record.
    ends: Vec<usize>,
}

impl Records {
    /// No records.
    pub fn new() -> Records {
        Records::default()
    }

    /// Appends a record whose parts are already in stored form.
    pub fn push(&mut self, record: RecordText<'_>) {
        for field in [
            record.event,
            record.context,
            record.metrics,
            record.artifacts,
        ] {
            self.text.push_str(field);
            self.ends.push(self.text.len());
        }
    }

    /// Appends a record from its event and JSON parts, given as values
    /// (metrics as name and value pairs, in any order).
    pub fn push_parts(
        &mut self,
        event: &str,
        context: &serde_json::Map<String, Value>,
        metrics: &[(String, f64)],
        artifacts: &[(String, Digest)],
    ) {
        self.push_merged(event, &serde_json::Map::new(), context, metrics, artifacts);
    }

    /// Like [`Records::push_parts`], with the context `own` merged over
    /// `bound` (keys in `own` win), written without building the merged map.
    pub fn push_merged(
        &mut self,
        event: &str,
        bound: &serde_json::Map<String, Value>,
        own: &serde_json::Map<String, Value>,
        metrics: &[(String, f64)],
        artifacts: &[(String, Digest)],
    ) {
        self.text.push_str(event);
        self.ends.push(self.text.len());
        write_merged(&mut self.text, bound, own);
        self.ends.push(self.text.len());
        write_metrics(&mut self.text, metrics);
        self.ends.push(self.text.len());
        write_artifacts(&mut self.text, artifacts);
        self.ends.push(self.text.len());
    }

    /// Keeps the first `n` records.
    pub fn truncate(&mut self, n: usize) {
        if n < self.len() {
            self.ends.truncate(n * 4);
            self.text.truncate(self.ends.last().copied().unwrap_or(0));
        }
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.ends.len() / 4
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Record `i`.
    pub fn get(&self, i: usize) -> Option<RecordText<'_>> {
        let ends = self.ends.get(i * 4..i * 4 + 4)?;
        let start = if i == 0 { 0 } else { self.ends[i * 4 - 1] };
        Some(RecordText {
            event: &self.text[start..ends[0]],
            context: &self.text[ends[0]..ends[1]],
            metrics: &self.text[ends[1]..ends[2]],
            artifacts: &self.text[ends[2]..ends[3]],
        })
    }

    /// Every record, in order.
    pub fn iter(&self) -> impl Iterator<Item = RecordText<'_>> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Appends `other`'s records (taking its buffers as they are when there
    /// are none here yet).
    pub fn append(&mut self, other: Records) {
        if self.is_empty() {
            *self = other;
            return;
        }
        let base = self.text.len();
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.iter().map(|end| end + base));
    }

    /// Bytes held (text and index), for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * std::mem::size_of::<usize>()
    }
}

impl Serialize for Records {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(|r| r.to_json()))
    }
}

/// Lets serde_json write into a `String`.
struct StringWriter<'a>(&'a mut String);

impl std::io::Write for StringWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = std::str::from_utf8(buf).map_err(std::io::Error::other)?;
        self.0.push_str(text);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Appends `text` as a JSON string.
fn push_json_string(out: &mut String, text: &str) {
    let _ = serde_json::to_writer(StringWriter(out), text);
}

/// Appends the JSON object of `own` merged over `bound`: both maps are
/// sorted, so one pass over the two gives the merged keys in order.
fn write_merged(
    out: &mut String,
    bound: &serde_json::Map<String, Value>,
    own: &serde_json::Map<String, Value>,
) {
    let (mut b, mut o) = (bound.iter().peekable(), own.iter().peekable());
    out.push('{');
    let mut first = true;
    loop {
        let next = match (b.peek(), o.peek()) {
            (None, None) => break,
            (Some(_), None) => b.next(),
            (None, Some(_)) => o.next(),
            (Some((bk, _)), Some((ok, _))) => match bk.cmp(ok) {
                std::cmp::Ordering::Less => b.next(),
                std::cmp::Ordering::Greater => o.next(),
                std::cmp::Ordering::Equal => {
                    b.next();
                    o.next()
                }
            },
        };
        let Some((key, value)) = next else { break };
        if !first {
            out.push(',');
        }
        first = false;
        push_json_string(out, key);
        out.push(':');
        let _ = serde_json::to_writer(StringWriter(out), value);
    }
    out.push('}');
}

/// Appends `items` as a JSON object, names sorted, each value written by
/// `value`.
fn write_object<T>(out: &mut String, items: &[(String, T)], value: impl Fn(&mut String, &T)) {
    let mut order: Vec<&(String, T)> = items.iter().collect();
    order.sort_by(|a, b| a.0.cmp(&b.0));
    out.push('{');
    for (i, (name, v)) in order.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(out, name);
        out.push(':');
        value(out, v);
    }
    out.push('}');
}

/// Appends metrics as a JSON object, names sorted; a non-finite value is
/// `null` (JSON has no NaN or infinity).
pub fn write_metrics(out: &mut String, metrics: &[(String, f64)]) {
    write_object(out, metrics, |out, value| {
        if value.is_finite() {
            let _ = serde_json::to_writer(StringWriter(out), value);
        } else {
            out.push_str("null");
        }
    });
}

/// Appends artifact references as a JSON object of name to digest, names
/// sorted.
pub fn write_artifacts(out: &mut String, artifacts: &[(String, Digest)]) {
    write_object(out, artifacts, |out, digest| {
        let _ = write!(out, "\"{}\"", digest.to_hex());
    });
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_own_context_over_bound() {
        let Value::Object(bound) = json!({"a": 1, "fold": 0, "z": true}) else {
            unreachable!()
        };
        let Value::Object(own) = json!({"fold": 2, "b": "x"}) else {
            unreachable!()
        };
        let mut records = Records::new();
        records.push_merged("e", &bound, &own, &[], &[]);
        let r = records.get(0).expect("record");
        assert_eq!(r.context, r#"{"a":1,"b":"x","fold":2,"z":true}"#);
        let mut merged = bound.clone();
        merged.extend(own);
        assert_eq!(r.context, Value::Object(merged).to_string());
    }

    #[test]
    fn extends_records_with_copies_of_others() {
        let numbered = |range: std::ops::Range<i32>| {
            let mut records = Records::new();
            for i in range {
                records.push_parts(
                    &format!("e{i}"),
                    &serde_json::Map::new(),
                    &[("m".into(), f64::from(i))],
                    &[],
                );
            }
            records
        };
        for cut in 0..=5 {
            let mut joined = numbered(0..cut);
            joined.append(numbered(cut..5));
            assert_eq!(joined, numbered(0..5), "cut at {cut}");
        }
    }

    #[test]
    fn packs_records_in_stored_form() {
        let mut records = Records::new();
        let context = json!({"b": 1, "a": "x"});
        let Value::Object(context) = context else {
            unreachable!()
        };
        records.push_parts(
            "fit",
            &context,
            &[
                ("z".into(), 1.5),
                ("a".into(), f64::NAN),
                ("m".into(), -0.0),
            ],
            &[("model".into(), Digest::of(b"m"))],
        );
        records.push_parts("done", &serde_json::Map::new(), &[], &[]);
        assert_eq!(records.len(), 2);
        let first = records.get(0).expect("first");
        assert_eq!(first.event, "fit");
        assert_eq!(first.context, r#"{"a":"x","b":1}"#);
        assert_eq!(first.metrics, r#"{"a":null,"m":-0.0,"z":1.5}"#);
        assert_eq!(
            first.artifacts,
            format!("{{\"model\":\"{}\"}}", Digest::of(b"m").to_hex())
        );
        let second = records.get(1).expect("second");
        assert_eq!((second.context, second.metrics), ("{}", "{}"));
        assert_eq!(records.get(2), None);
        assert_eq!(second.to_json()["event"], "done");
        // What the stored text reads back as, it writes again.
        let value: Value = serde_json::from_str(first.metrics).expect("json");
        assert_eq!(value.to_string(), first.metrics);
    }
}
