//! Handing a running job's records out while it runs, so that a store can
//! write them as the job goes on instead of all at its end.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde_json::{Map, Value};

use crate::records::Records;
use crate::views::curve_sketch::{CurveSketches, StoredCurve};

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

/// A job's sink, how far it has been fed, and its curves so far: a job
/// that streams records enough to need it has them sketched as it emits
/// them ([`CurveSketches`]), from the values, on the job's thread.
pub(crate) struct Stream {
    sink: Box<dyn RecordSink>,
    sent: usize,
    curves: CurveSketches,
}

impl Stream {
    pub(crate) fn new(sink: Box<dyn RecordSink>) -> Stream {
        Stream {
            sink,
            sent: 0,
            curves: CurveSketches::default(),
        }
    }

    /// Sketches the curves of the record just emitted.
    pub(crate) fn sketch(
        &mut self,
        bound: &Map<String, Value>,
        own: &Map<String, Value>,
        metrics: &[(String, f64)],
    ) {
        self.curves.add_record(bound, own, metrics);
    }

    /// The curve sketches to store: none unless a chunk was handed out (a
    /// job with fewer records is read back quickly enough).
    pub(crate) fn curves(self) -> Vec<StoredCurve> {
        if self.sent == 0 {
            return Vec::new();
        }
        self.curves.finish()
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
