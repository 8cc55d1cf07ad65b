//! Result digests: one blake3 over everything an attempt produced, in the
//! exact form the store keeps it.
//!
//! The digest covers the ordered records (event, then the context, metrics
//! and artifact references as the JSON text the store writes), the
//! attempt's artifacts (name, digest, size, in order) and, when the
//! experiment says so, its log. Because it is computed from the stored
//! form, it can be recomputed from the store alone (`djx fsck`), and a
//! rerun's result can be compared with it (`djx verify`).

use serde_json::Value;

use crate::content::digest::Digest;
use crate::records::{ArtifactInfo, RecordText, Records};
use crate::store::{RecordRow, Store, StoreError};

/// One record in stored form, owned: what a store gives back, as the text
/// it was written as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    /// The event.
    pub event: String,
    /// The context object's JSON text.
    pub context: String,
    /// The metrics object's JSON text.
    pub metrics: String,
    /// The artifact references' JSON text.
    pub artifacts: String,
}

impl StoredRecord {
    /// The stored form of a record read back from a store. Decoded JSON
    /// encodes back to the text it was decoded from (sorted keys, shortest
    /// round-trip floats).
    pub fn from_row(row: &RecordRow) -> StoredRecord {
        let text =
            |map: &serde_json::Map<String, Value>| serde_json::to_string(map).unwrap_or_default();
        StoredRecord {
            event: row.event.clone(),
            context: text(&row.context),
            metrics: text(&row.metrics),
            artifacts: text(&row.artifacts),
        }
    }

    /// The record as borrowed text.
    pub fn text(&self) -> RecordText<'_> {
        RecordText {
            event: &self.event,
            context: &self.context,
            metrics: &self.metrics,
            artifacts: &self.artifacts,
        }
    }
}

/// An attempt's result as a store holds it: what `djx verify` compares a
/// rerun with and `djx fsck` re-hashes.
#[derive(Clone, Debug)]
pub struct StoredResult {
    /// Its records, in order.
    pub records: Vec<StoredRecord>,
    /// Its artifacts, in order.
    pub artifacts: Vec<ArtifactInfo>,
    /// Its log.
    pub log: Vec<u8>,
}

impl StoredResult {
    /// The result of attempt `attempt` of job `job`.
    pub fn load(store: &dyn Store, (job, attempt): (i64, i64)) -> Result<StoredResult, StoreError> {
        Ok(StoredResult {
            records: store
                .attempt_records(job, attempt)?
                .iter()
                .map(StoredRecord::from_row)
                .collect(),
            artifacts: store.attempt_artifacts(job, attempt)?,
            log: store.attempt_log(job, attempt)?,
        })
    }

    /// The log as a result digest covers it (`None` without `digest_log`).
    pub fn digested_log(&self, digest_log: bool) -> Option<&[u8]> {
        digest_log.then_some(&self.log[..])
    }

    /// The result digest of what is stored.
    pub fn digest(&self, digest_log: bool) -> Digest {
        result_digest(
            self.records.iter().map(StoredRecord::text),
            &self.artifacts,
            self.digested_log(digest_log),
        )
    }

    /// Every artifact the result stored or a record references.
    pub fn referenced_artifacts(&self) -> std::collections::BTreeSet<Digest> {
        let mut digests: std::collections::BTreeSet<Digest> =
            self.artifacts.iter().map(|a| a.digest).collect();
        for record in &self.records {
            let refs: serde_json::Map<String, Value> =
                serde_json::from_str(&record.artifacts).unwrap_or_default();
            digests.extend(
                refs.values()
                    .filter_map(|v| v.as_str()?.parse::<Digest>().ok()),
            );
        }
        digests
    }
}

/// Feeds length-prefixed fields to a hasher, so that no two different
/// field sequences hash the same bytes. Fields are gathered into blocks
/// first: blake3 hashes a large input several chunks at a time, and a
/// million tiny updates cost more than the hashing (the digest is the same
/// however the input is split).
struct Fields {
    hasher: blake3::Hasher,
    block: Vec<u8>,
}

/// Bytes gathered before they are hashed.
const BLOCK: usize = 64 << 10;

impl Fields {
    fn new() -> Fields {
        Fields {
            hasher: blake3::Hasher::new_derive_key("djx result digest v2"),
            // Grows to a block only for attempts that have that much.
            block: Vec::new(),
        }
    }

    /// Raw bytes (a tag or a fixed-size value).
    fn raw(&mut self, bytes: &[u8]) {
        if self.block.len() + bytes.len() > BLOCK {
            self.hasher.update(&self.block);
            self.block.clear();
        }
        if bytes.len() > BLOCK {
            self.hasher.update(bytes);
        } else {
            self.block.extend_from_slice(bytes);
        }
    }

    /// A length-prefixed field.
    fn bytes(&mut self, bytes: &[u8]) {
        self.raw(&(bytes.len() as u64).to_le_bytes());
        self.raw(bytes);
    }

    fn finish(mut self) -> Digest {
        self.hasher.update(&self.block);
        self.hasher.finalize().into()
    }
}

/// A result digest taken as an attempt's parts arrive: its records, in
/// order and in any number of pieces, then its artifacts and log.
pub struct ResultHasher(Fields);

impl Default for ResultHasher {
    fn default() -> ResultHasher {
        ResultHasher(Fields::new())
    }
}

impl ResultHasher {
    /// Nothing hashed yet.
    pub fn new() -> ResultHasher {
        ResultHasher::default()
    }

    /// The next records.
    pub fn records<'a>(&mut self, records: impl IntoIterator<Item = RecordText<'a>>) {
        let f = &mut self.0;
        for r in records {
            f.raw(b"r");
            f.bytes(r.event.as_bytes());
            f.bytes(r.context.as_bytes());
            f.bytes(r.metrics.as_bytes());
            f.bytes(r.artifacts.as_bytes());
        }
    }

    /// The digest, after the last records. `log` is `None` when the
    /// experiment leaves the log out of its digests.
    pub fn finish(self, artifacts: &[ArtifactInfo], log: Option<&[u8]>) -> Digest {
        let mut f = self.0;
        for a in artifacts {
            f.raw(b"a");
            f.bytes(a.name.as_bytes());
            f.raw(a.digest.as_bytes());
            f.raw(&a.size.to_le_bytes());
        }
        match log {
            Some(log) => {
                f.raw(b"l");
                f.bytes(log);
            }
            None => f.raw(b"n"),
        }
        f.finish()
    }
}

/// The result digest of an attempt. `log` is `None` when the experiment
/// leaves the log out of its digests.
pub fn result_digest<'a>(
    records: impl IntoIterator<Item = RecordText<'a>>,
    artifacts: &[ArtifactInfo],
    log: Option<&[u8]>,
) -> Digest {
    let mut hasher = ResultHasher::new();
    hasher.records(records);
    hasher.finish(artifacts, log)
}

/// The result digest of records held in a [`Records`] buffer.
pub fn records_digest(records: &Records, artifacts: &[ArtifactInfo], log: Option<&[u8]>) -> Digest {
    result_digest(records.iter(), artifacts, log)
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
    rerun: (&Records, &[ArtifactInfo], Option<&[u8]>),
) -> Option<Difference> {
    let n = stored.0.len().max(rerun.0.len());
    for index in 0..n {
        let (a, b) = (
            stored.0.get(index).map(StoredRecord::text),
            rerun.0.get(index),
        );
        if a != b {
            return Some(Difference::Record {
                index,
                stored: a.map(|r| r.to_json()),
                rerun: b.map(|r| r.to_json()),
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

    fn records(parts: &[(&str, f64)]) -> Records {
        let mut records = Records::new();
        for (event, loss) in parts {
            records.push_parts(
                event,
                &serde_json::Map::new(),
                &[("loss".into(), *loss)],
                &[],
            );
        }
        records
    }

    fn digest(parts: &[(&str, f64)], log: Option<&[u8]>) -> Digest {
        records_digest(&records(parts), &[], log)
    }

    #[test]
    fn digest_sees_order_values_and_log() {
        let base = digest(&[("a", 1.0), ("b", 1.0)], None);
        assert_eq!(base, digest(&[("a", 1.0), ("b", 1.0)], None));
        assert_ne!(base, digest(&[("b", 1.0), ("a", 1.0)], None));
        assert_ne!(base, digest(&[("a", 1.0), ("b", 1.5)], None));
        assert_ne!(base, digest(&[("a", 1.0), ("b", 1.0)], Some(b"")));
        assert_ne!(
            digest(&[("a", 1.0)], Some(b"x")),
            digest(&[("a", 1.0)], Some(b"y"))
        );
        // -0.0 and 0.0 are different bits, and stay different.
        assert_ne!(digest(&[("a", 0.0)], None), digest(&[("a", -0.0)], None));
        // Record boundaries count: one record is not two.
        assert_ne!(
            digest(&[("ab", 1.0)], None),
            digest(&[("a", 1.0), ("b", 1.0)], None)
        );
    }

    /// The digest format, written out plainly: one update per field.
    fn reference_digest(records: &Records, artifacts: &[ArtifactInfo], log: &[u8]) -> Digest {
        let mut h = blake3::Hasher::new_derive_key("djx result digest v2");
        let field = |h: &mut blake3::Hasher, b: &[u8]| {
            h.update(&(b.len() as u64).to_le_bytes());
            h.update(b);
        };
        for r in records.iter() {
            h.update(b"r");
            for part in [r.event, r.context, r.metrics, r.artifacts] {
                field(&mut h, part.as_bytes());
            }
        }
        for a in artifacts {
            h.update(b"a");
            field(&mut h, a.name.as_bytes());
            h.update(a.digest.as_bytes());
            h.update(&a.size.to_le_bytes());
        }
        h.update(b"l");
        field(&mut h, log);
        h.finalize().into()
    }

    #[test]
    fn gathering_fields_into_blocks_keeps_the_digest() {
        // Enough records to fill several blocks, a log larger than a block,
        // and an artifact after them.
        let mut many = Records::new();
        for i in 0..20_000 {
            many.push_parts(
                &format!("step {i}"),
                &serde_json::Map::new(),
                &[("loss".into(), 1.0 / (1.0 + i as f64))],
                &[],
            );
        }
        let artifacts = [ArtifactInfo {
            name: "model".into(),
            digest: Digest::of(b"model"),
            size: 5,
        }];
        let log = vec![b'x'; 3 * BLOCK + 7];
        // Hashed in pieces as a stream hands them out: the same digest.
        let mut pieces = ResultHasher::new();
        let all: Vec<_> = many.iter().collect();
        for piece in all.chunks(7_000) {
            pieces.records(piece.iter().copied());
        }
        assert_eq!(
            pieces.finish(&artifacts, Some(&log)),
            reference_digest(&many, &artifacts, &log)
        );
        for (records, log) in [(&many, &log[..]), (&Records::new(), &b""[..])] {
            assert_eq!(
                records_digest(records, &artifacts, Some(log)),
                reference_digest(records, &artifacts, log)
            );
        }
    }

    #[test]
    fn first_difference_names_the_record() {
        let as_stored = |r: &Records| -> Vec<StoredRecord> {
            r.iter()
                .map(|t| StoredRecord {
                    event: t.event.into(),
                    context: t.context.into(),
                    metrics: t.metrics.into(),
                    artifacts: t.artifacts.into(),
                })
                .collect()
        };
        let stored = as_stored(&records(&[("a", 1.0), ("b", 2.0)]));
        let rerun = records(&[("a", 1.0), ("b", 3.0)]);
        let d = first_difference((&stored, &[], None), (&rerun, &[], None));
        assert!(
            matches!(d, Some(Difference::Record { index: 1, .. })),
            "{d:?}"
        );
        let same = records(&[("a", 1.0), ("b", 2.0)]);
        assert_eq!(
            first_difference((&stored, &[], None), (&same, &[], None)),
            None
        );
    }
}
