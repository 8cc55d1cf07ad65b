//! Handing a running job's records out while it runs, so that a store can
//! write them as the job goes on instead of all at its end.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::record::Records;

/// Records per chunk handed to a [`RecordSink`]: large enough that a chunk
/// is one cheap transaction, small enough that a job recording thousands
/// of records never streams at all.
pub const CHUNK_RECORDS: usize = 16_384;

/// Receives a running job's records, in order, [`CHUNK_RECORDS`] at a
/// time. Records the job emits after the last full chunk are only in its
/// outcome.
pub trait RecordSink: Send {
    /// `chunk` holds the job's records `first..first + chunk.len()`.
    fn take(&mut self, first: usize, chunk: Records);
}

/// What a run may be given besides its job.
#[derive(Default)]
pub struct RunHooks {
    /// When set, the job stops with
    /// [`Failure::Cancelled`](crate::runtime::Failure::Cancelled) within
    /// one epoch tick.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Receives the records as the job emits them.
    pub sink: Option<Box<dyn RecordSink>>,
}

/// A job's sink and how far it has been fed.
pub(crate) struct Stream {
    sink: Box<dyn RecordSink>,
    sent: usize,
}

impl Stream {
    pub(crate) fn new(sink: Box<dyn RecordSink>) -> Stream {
        Stream { sink, sent: 0 }
    }

    /// Hands out a chunk if `records` has a full one not yet sent.
    pub(crate) fn feed(&mut self, records: &Records) {
        if records.len() - self.sent >= CHUNK_RECORDS {
            self.sink.take(self.sent, records.copy_from(self.sent));
            self.sent = records.len();
        }
    }
}
