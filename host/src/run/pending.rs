//! Ended attempts waiting to be committed together.
//!
//! Committing each short job in its own transaction cost more than running
//! it. A run therefore gathers ended attempts and commits them in one
//! transaction (each still fenced by its own lease): when a slot's worth of
//! claims has ended, when the oldest has waited [`MAX_WAIT`], when the
//! batch holds [`MAX_BYTES`] of records, or when there is nothing left to
//! run. A job is reported finished only once committed; one that ended but
//! was not committed when the process died runs again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::content::digest::Digest;
use crate::content::remote::PackRef;
use crate::records::keys::RecordKeys;
use crate::records::{ArtifactInfo, Records};
use crate::store::{AttemptResult, ClaimedJob};
use crate::sync::Unpoisoned;
use crate::views::curve_sketch::StoredCurve;

/// The longest an ended attempt waits for others before it is committed.
pub const MAX_WAIT: Duration = Duration::from_millis(50);

/// Record bytes at which a batch is committed however young.
pub const MAX_BYTES: usize = 64 << 20;

/// An attempt that ended, with everything its commit writes.
pub struct Done {
    /// The job.
    pub job: ClaimedJob,
    /// `None` if it finished, else why it failed.
    pub failure: Option<String>,
    /// Its records not stored while it ran: records `stored_records..`.
    pub records: Records,
    /// The keys all its records use, and its label keys if it has any.
    pub record_keys: RecordKeys,
    /// How many of its records, from the first, were stored while it ran.
    pub stored_records: usize,
    /// Its artifacts.
    pub artifacts: Vec<ArtifactInfo>,
    /// Where those of them a commit packed are (remote content).
    pub packed: HashMap<Digest, PackRef>,
    /// Its log.
    pub log: Vec<u8>,
    /// How long it ran.
    pub duration: Duration,
    /// Its result digest (finished attempts).
    pub result_digest: Option<Digest>,
    /// The sketches of its curves (when it streamed its records).
    pub curves: Vec<StoredCurve>,
}

impl Done {
    /// What the store writes for it.
    pub fn result(&self) -> AttemptResult<'_> {
        AttemptResult {
            failure: self.failure.clone(),
            records: &self.records,
            record_keys: &self.record_keys,
            stored_records: self.stored_records,
            artifacts: &self.artifacts,
            packed: &self.packed,
            log: &self.log,
            duration: self.duration,
            result_digest: self.result_digest,
            curves: &self.curves,
        }
    }
}

#[derive(Default)]
struct Batch {
    items: Vec<Done>,
    since: Option<Instant>,
    bytes: usize,
}

/// Ended attempts not yet committed, shared by a run's threads.
#[derive(Default)]
pub struct Pending {
    batch: Mutex<Batch>,
}

impl Pending {
    /// Adds an ended attempt; returns the batch when it should be committed
    /// now, having `target` items or more, or [`MAX_BYTES`] of records.
    pub fn push(&self, done: Done, target: usize) -> Option<Vec<Done>> {
        let mut batch = self.batch.lock_unpoisoned();
        batch.bytes += done.records.heap_bytes() + done.log.len();
        batch.items.push(done);
        batch.since.get_or_insert_with(Instant::now);
        (batch.items.len() >= target || batch.bytes >= MAX_BYTES).then(|| take(&mut batch))
    }

    /// Everything pending, if the oldest has waited [`MAX_WAIT`] or `now`.
    pub fn take_if_due(&self, now: bool) -> Option<Vec<Done>> {
        let mut batch = self.batch.lock_unpoisoned();
        let due = batch
            .since
            .is_some_and(|since| now || since.elapsed() >= MAX_WAIT);
        due.then(|| take(&mut batch))
    }
}

fn take(batch: &mut Batch) -> Vec<Done> {
    batch.since = None;
    batch.bytes = 0;
    std::mem::take(&mut batch.items)
}
