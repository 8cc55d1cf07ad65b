//! Handing a running job's records out while it runs, so that a store can
//! write them as the job goes on instead of all at its end.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::records::Records;

/// Records per chunk handed to a [`RecordSink`]: large enough that a chunk
/// is one cheap transaction, small enough that a job recording thousands
/// of records never streams at all.
pub const CHUNK_RECORDS: usize = 16_384;

/// Receives a running job's records, in order, [`CHUNK_RECORDS`] at a
/// time. A chunk handed to the sink is the sink's: the job keeps only the
/// records it emitted after the last full chunk, and its outcome holds only
/// those, so a job's memory does not grow with its record count.
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

    /// Hands `records` (the job's records from number [`Stream::sent`] on)
    /// to the sink once they make a full chunk, leaving `records` empty.
    pub(crate) fn feed(&mut self, records: &mut Records) {
        if records.len() >= CHUNK_RECORDS {
            let chunk = std::mem::take(records);
            let n = chunk.len();
            self.sink.take(self.sent, chunk);
            self.sent += n;
        }
    }

    /// How many records the sink has been given.
    pub(crate) fn sent(&self) -> usize {
        self.sent
    }
}
