//! The columns of a records export, and where each field of a stored record
//! goes among them.

use std::collections::HashMap;

use crate::records::json_fields::each_field;
use crate::records::keys::RecordKeys;
use crate::records::kinds::Kinds;
use crate::store::{Store, StoreError, StoredRecord};

/// The parts of a record that become column groups, in column order.
const PARTS: [&str; 4] = ["labels", "context", "metrics", "artifacts"];

/// The columns `exp_id, job_id, event, labels.*, context.*, metrics.*,
/// artifacts.*` (each group's keys sorted) of a records export.
#[derive(Clone, Debug)]
pub struct RecordColumns {
    names: Vec<String>,
    /// Per column, the kinds of its values (the fixed ones included).
    kinds: Vec<Kinds>,
    /// Per part, each key's column.
    index: [KeyIndex; 4],
}

/// Each key's column, for one part. Records have a few keys each, and
/// comparing a few short strings beats hashing one; past [`LINEAR`] keys a
/// map is faster.
#[derive(Clone, Debug, Default)]
struct KeyIndex {
    list: Vec<(String, usize)>,
    map: HashMap<String, usize>,
}

/// Keys a part may have before its index becomes a map.
const LINEAR: usize = 16;

impl KeyIndex {
    fn insert(&mut self, key: String, column: usize) {
        self.list.push((key.clone(), column));
        if self.list.len() > LINEAR {
            self.map.extend(self.list.iter().cloned());
        }
        if !self.map.is_empty() {
            self.map.insert(key, column);
        }
    }

    fn get(&self, key: &str) -> Option<usize> {
        if self.map.is_empty() {
            self.list.iter().find(|(k, _)| k == key).map(|&(_, c)| c)
        } else {
            self.map.get(key).copied()
        }
    }

    fn len(&self) -> usize {
        self.list.len()
    }
}

/// How many columns come before the key columns.
pub const FIXED: usize = 3;

impl RecordColumns {
    /// The columns of `keys`.
    pub fn new(keys: &RecordKeys) -> RecordColumns {
        let mut names: Vec<String> = vec!["exp_id".into(), "job_id".into(), "event".into()];
        let mut kinds = vec![
            Kinds::of_value(&1.into()),
            Kinds::of_value(&1.into()),
            Kinds::STRING,
        ];
        let mut index: [KeyIndex; 4] = Default::default();
        for (part, (prefix, set)) in PARTS
            .iter()
            .zip([&keys.labels, &keys.context, &keys.metrics, &keys.artifacts])
            .enumerate()
        {
            for (key, key_kinds) in set.iter() {
                index[part].insert(key.clone(), names.len());
                names.push(format!("{prefix}.{key}"));
                // Every metric is a float (an integral one may be stored
                // as `1`), and every artifact reference a digest.
                kinds.push(match *prefix {
                    "metrics" => Kinds::FLOAT,
                    "artifacts" => Kinds::STRING,
                    _ => key_kinds,
                });
            }
        }
        RecordColumns {
            names,
            kinds,
            index,
        }
    }

    /// The columns of the records of `experiments`: from the key sets the
    /// store keeps, or, for attempts stored before it kept them, by reading
    /// every record once.
    pub fn of(store: &dyn Store, experiments: &[i64]) -> Result<RecordColumns, StoreError> {
        if let Some(keys) = store.record_keys(experiments)? {
            return Ok(RecordColumns::new(&keys));
        }
        let mut keys = RecordKeys::default();
        store.each_record(experiments, &mut |r| {
            keys.add_labels(r.labels)
                .and_then(|()| keys.add_stored(r.record))
                .map_err(|e| corrupt(r.job_id, e))
        })?;
        Ok(RecordColumns::new(&keys))
    }

    /// The column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Per column, the kinds of its values.
    pub fn kinds(&self) -> &[Kinds] {
        &self.kinds
    }

    /// Which part (`labels`, `context`, `metrics`, `artifacts`) and key each
    /// key column holds, in column order.
    pub fn keys(&self) -> Vec<(&'static str, &str)> {
        let mut out: Vec<(usize, &'static str, &str)> = Vec::new();
        for (part, index) in self.index.iter().enumerate() {
            for (key, column) in index.list.iter().map(|(k, c)| (k, *c)) {
                out.push((column, PARTS[part], key.as_str()));
            }
        }
        out.sort_unstable();
        out.into_iter().map(|(_, part, key)| (part, key)).collect()
    }

    /// Puts where the raw JSON text of each field of `record` is at its
    /// column in `cells` (which gets one slot per column, `None` for a
    /// missing value). The first [`FIXED`] are left for the caller.
    pub fn fill(&self, record: &StoredRecord<'_>, cells: &mut Row) -> Result<(), StoreError> {
        // A job's records come together, and share its labels: those are
        // read once per job.
        let same_job = cells.job == Some(record.job_id);
        if same_job {
            let first_key = FIXED + self.index[0].len();
            cells.spans[first_key..].fill(None);
        } else {
            cells.spans.clear();
            cells.spans.resize(self.names.len(), None);
            cells.job = Some(record.job_id);
        }
        let first_part = if same_job { 1 } else { 0 };
        for (part, text) in parts(record).into_iter().enumerate().skip(first_part) {
            let mut missing = None;
            each_field(text, |key, raw| match self.index[part].get(key.as_ref()) {
                Some(column) => {
                    let start = raw.as_ptr() as usize - text.as_ptr() as usize;
                    cells.spans[column] = Some(Span {
                        part: part as u8,
                        start: start as u32,
                        end: (start + raw.len()) as u32,
                    });
                }
                None => missing = Some(key.into_owned()),
            })
            .map_err(|e| corrupt(record.job_id, e))?;
            if let Some(key) = missing {
                return Err(StoreError::Corrupt {
                    what: "record key set",
                    message: format!(
                        "a record of job {} has the {} key {key:?}, which its attempt's \
                         key set lacks",
                        record.job_id, PARTS[part]
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Where each column's value is in the current record (filled by
/// [`RecordColumns::fill`], reused from record to record).
#[derive(Clone, Debug, Default)]
pub struct Row {
    /// The job whose labels the label columns hold.
    job: Option<i64>,
    /// Per column, where its value is (`None`: missing). The first
    /// [`FIXED`] are unused.
    spans: Vec<Option<Span>>,
}

impl Row {
    /// Per column, where its value is in the record filled in.
    pub fn spans(&self) -> &[Option<Span>] {
        &self.spans
    }
}

/// Where a value is in a stored record: which part, and the byte range of
/// its raw JSON text there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    part: u8,
    start: u32,
    end: u32,
}

impl Span {
    /// The raw JSON text of the value in `record`.
    pub fn text<'a>(&self, record: &StoredRecord<'a>) -> &'a str {
        let text = parts(record)[usize::from(self.part)];
        text.get(self.start as usize..self.end as usize)
            .unwrap_or("null")
    }
}

/// The texts of a record's column groups, in [`PARTS`] order.
fn parts<'a>(record: &StoredRecord<'a>) -> [&'a str; 4] {
    [
        record.labels,
        record.record.context,
        record.record.metrics,
        record.record.artifacts,
    ]
}

fn corrupt(job: i64, e: crate::records::json_fields::NotAnObject) -> StoreError {
    StoreError::Corrupt {
        what: "record",
        message: format!("job {job}: {e}"),
    }
}
