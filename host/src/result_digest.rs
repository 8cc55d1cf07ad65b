//! Result digests: one blake3 over everything an attempt produced, in the
//! exact form the store keeps it.
//!
//! The digest covers the ordered records (event, then the context, metrics
//! and artifact references as the JSON text the store writes), the
//! attempt's artifacts (name, digest, size, in order) and, when the
//! experiment says so, its log. Because it is computed from the stored
//! form, it can be recomputed from the store alone (`djx fsck`), and a
//! rerun's result can be compared with it (`djx verify`).

use serde_json::{Map, Value};

use crate::digest::Digest;
use crate::record::{ArtifactInfo, Record};
use crate::store::RecordRow;

/// One record as the store keeps it: event, context, metrics (non-finite
/// values as null) and artifact references.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRecord {
    /// The event.
    pub event: String,
    /// The context object.
    pub context: Map<String, Value>,
    /// The metrics object.
    pub metrics: Map<String, Value>,
    /// The artifact references, name to digest.
    pub artifacts: Map<String, Value>,
}

impl StoredRecord {
    /// The stored form of a record a job emitted.
    pub fn of(record: &Record) -> StoredRecord {
        StoredRecord {
            event: record.event.clone(),
            context: record.context.clone(),
            metrics: record.metrics_json(),
            artifacts: record.artifacts_json(),
        }
    }

    /// The stored form of a record read back from a store.
    pub fn from_row(row: &RecordRow) -> StoredRecord {
        StoredRecord {
            event: row.event.clone(),
            context: row.context.clone(),
            metrics: row.metrics.clone(),
            artifacts: row.artifacts.clone(),
        }
    }

    /// The record as one JSON object, for showing a difference.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "event": self.event,
            "context": self.context,
            "metrics": self.metrics,
            "artifacts": self.artifacts,
        })
    }
}

/// Feeds length-prefixed fields to a hasher, so that no two different
/// field sequences hash the same bytes.
struct Fields(blake3::Hasher);

impl Fields {
    fn bytes(&mut self, bytes: &[u8]) {
        self.0.update(&(bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    fn object(&mut self, map: &Map<String, Value>) {
        // serde_json's map is sorted by key, so this is the stored text.
        let text = serde_json::to_string(map).unwrap_or_default();
        self.bytes(text.as_bytes());
    }
}

/// The result digest of an attempt. `log` is `None` when the experiment
/// leaves the log out of its digests.
pub fn result_digest<'a>(
    records: impl IntoIterator<Item = &'a StoredRecord>,
    artifacts: &[ArtifactInfo],
    log: Option<&[u8]>,
) -> Digest {
    let mut f = Fields(blake3::Hasher::new_derive_key("djx result digest v1"));
    let records: Vec<&StoredRecord> = records.into_iter().collect();
    f.0.update(&(records.len() as u64).to_le_bytes());
    for r in records {
        f.bytes(r.event.as_bytes());
        f.object(&r.context);
        f.object(&r.metrics);
        f.object(&r.artifacts);
    }
    f.0.update(&(artifacts.len() as u64).to_le_bytes());
    for a in artifacts {
        f.bytes(a.name.as_bytes());
        f.0.update(a.digest.as_bytes());
        f.0.update(&a.size.to_le_bytes());
    }
    match log {
        Some(log) => {
            f.0.update(&[1]);
            f.bytes(log);
        }
        None => {
            f.0.update(&[0]);
        }
    }
    f.0.finalize().into()
}

/// Where two results first differ.
#[derive(Clone, Debug, PartialEq)]
pub enum Difference {
    /// Record `index` differs (`None` where one side has no such record).
    Record {
        /// Its position.
        index: usize,
        /// The stored record.
        stored: Option<Value>,
        /// The rerun's record.
        rerun: Option<Value>,
    },
    /// Artifact `index` differs.
    Artifact {
        /// Its position.
        index: usize,
        /// The stored artifact.
        stored: Option<ArtifactInfo>,
        /// The rerun's artifact.
        rerun: Option<ArtifactInfo>,
    },
    /// The logs differ; the first differing line of each.
    Log {
        /// The line number (1-based).
        line: usize,
        /// The stored line.
        stored: String,
        /// The rerun's line.
        rerun: String,
    },
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn side<T: std::fmt::Debug>(v: &Option<T>, show: impl Fn(&T) -> String) -> String {
            v.as_ref().map_or("(none)".to_owned(), show)
        }
        match self {
            Difference::Record {
                index,
                stored,
                rerun,
            } => write!(
                f,
                "record {index} differs\n  stored: {}\n  rerun:  {}",
                side(stored, Value::to_string),
                side(rerun, Value::to_string)
            ),
            Difference::Artifact {
                index,
                stored,
                rerun,
            } => {
                let show = |a: &ArtifactInfo| format!("{} {} ({} bytes)", a.name, a.digest, a.size);
                write!(
                    f,
                    "artifact {index} differs\n  stored: {}\n  rerun:  {}",
                    side(stored, show),
                    side(rerun, show)
                )
            }
            Difference::Log {
                line,
                stored,
                rerun,
            } => write!(
                f,
                "log line {line} differs\n  stored: {stored}\n  rerun:  {rerun}"
            ),
        }
    }
}

/// The first difference between a stored result and a rerun's, if any.
pub fn first_difference(
    stored: (&[StoredRecord], &[ArtifactInfo], Option<&[u8]>),
    rerun: (&[StoredRecord], &[ArtifactInfo], Option<&[u8]>),
) -> Option<Difference> {
    let n = stored.0.len().max(rerun.0.len());
    for index in 0..n {
        let (a, b) = (stored.0.get(index), rerun.0.get(index));
        if a != b {
            return Some(Difference::Record {
                index,
                stored: a.map(StoredRecord::to_json),
                rerun: b.map(StoredRecord::to_json),
            });
        }
    }
    let n = stored.1.len().max(rerun.1.len());
    for index in 0..n {
        let (a, b) = (stored.1.get(index), rerun.1.get(index));
        if a != b {
            return Some(Difference::Artifact {
                index,
                stored: a.cloned(),
                rerun: b.cloned(),
            });
        }
    }
    if let (Some(a), Some(b)) = (stored.2, rerun.2)
        && a != b
    {
        let a = String::from_utf8_lossy(a);
        let b = String::from_utf8_lossy(b);
        let (mut la, mut lb) = (a.lines(), b.lines());
        let mut line = 1;
        loop {
            match (la.next(), lb.next()) {
                (x, y) if x != y => {
                    return Some(Difference::Log {
                        line,
                        stored: x.unwrap_or("(end)").to_owned(),
                        rerun: y.unwrap_or("(end)").to_owned(),
                    });
                }
                (None, None) => break,
                _ => line += 1,
            }
        }
        // Same lines, different bytes (line endings).
        return Some(Difference::Log {
            line,
            stored: "(line endings differ)".into(),
            rerun: String::new(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(event: &str, loss: f64) -> StoredRecord {
        StoredRecord::of(&Record {
            event: event.into(),
            context: Map::new(),
            metrics: vec![("loss".into(), loss)],
            artifacts: vec![],
        })
    }

    #[test]
    fn digest_sees_order_values_and_log() {
        let (a, b) = (record("a", 1.0), record("b", 1.0));
        let base = result_digest([&a, &b], &[], None);
        assert_eq!(base, result_digest([&a, &b], &[], None));
        assert_ne!(base, result_digest([&b, &a], &[], None));
        assert_ne!(base, result_digest([&a, &record("b", 1.5)], &[], None));
        assert_ne!(base, result_digest([&a, &b], &[], Some(b"")));
        assert_ne!(
            result_digest([&a], &[], Some(b"x")),
            result_digest([&a], &[], Some(b"y"))
        );
        // -0.0 and 0.0 are different bits, and stay different.
        assert_ne!(
            result_digest([&record("a", 0.0)], &[], None),
            result_digest([&record("a", -0.0)], &[], None)
        );
    }

    #[test]
    fn first_difference_names_the_record() {
        let stored = [record("a", 1.0), record("b", 2.0)];
        let rerun = [record("a", 1.0), record("b", 3.0)];
        let d = first_difference((&stored, &[], None), (&rerun, &[], None));
        assert!(
            matches!(d, Some(Difference::Record { index: 1, .. })),
            "{d:?}"
        );
        assert_eq!(
            first_difference((&stored, &[], None), (&stored, &[], None)),
            None
        );
    }
}
