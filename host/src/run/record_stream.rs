//! Writing a running job's records to the store while it runs.
//!
//! A job that records a lot (a million metric points) would otherwise
//! spend about as long committing its records after it ends as it spent
//! running. The runtime hands its records out in chunks (a
//! [`RecordSink`]); one writer thread per run appends each chunk to the
//! store in a short transaction of its own, fenced by the job's lease,
//! while the job goes on. Nothing shows those rows until the attempt ends
//! (every view reads records through the attempt's ending), the finish
//! writes only the records not yet stored, and putting the attempt back
//! deletes them. A chunk that cannot be written (the store is down, the
//! lease is gone) stops the stream: the finish writes the rest, or, if the
//! lease is gone, nothing.
//!
//! The writer also feeds each chunk to the attempt's result digest, and
//! drops it once stored, so a job's memory does not grow with the number
//! of records it streams.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::records::Records;
use crate::records::result_digest::ResultHasher;
use crate::runtime::RecordSink;
use crate::store::Store;
use crate::sync::Unpoisoned;

/// Chunks waiting for the writer, over all jobs of a run: a job that
/// records faster than the store writes waits for it here, so memory stays
/// bounded.
const QUEUE: usize = 2;

/// One chunk of one attempt's records.
struct Chunk {
    job: i64,
    attempt: i64,
    first: usize,
    records: Records,
    progress: Arc<Progress>,
}

/// How far one attempt's stream got.
#[derive(Default)]
struct Progress {
    state: Mutex<State>,
    changed: Condvar,
    /// Only the writer touches this until the job has ended.
    taken: Mutex<Taken>,
}

/// What the writer made of the chunks.
#[derive(Default)]
struct Taken {
    /// Every chunk's records, hashed in order.
    hasher: ResultHasher,
    /// The records of chunks not stored (from the first that failed on).
    unstored: Records,
}

#[derive(Default)]
struct State {
    /// Chunks handed to the writer.
    queued: usize,
    /// Chunks the writer is done with, written or not.
    handled: usize,
    /// Records stored, from the first.
    stored: usize,
    /// A chunk failed: later ones are not written.
    stopped: bool,
}

impl Progress {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock_unpoisoned()
    }

    fn taken(&self) -> MutexGuard<'_, Taken> {
        self.taken.lock_unpoisoned()
    }
}

/// The writer's end of a run's streams.
pub struct RecordWriter {
    chunks: Receiver<Chunk>,
}

/// The jobs' end: makes one sink per attempt.
#[derive(Clone)]
pub struct RecordStreams {
    chunks: SyncSender<Chunk>,
}

/// A pair for one run: run [`RecordWriter::write`] on a thread of its own.
pub fn record_streams() -> (RecordStreams, RecordWriter) {
    let (chunks, receiver) = sync_channel(QUEUE);
    (RecordStreams { chunks }, RecordWriter { chunks: receiver })
}

impl RecordWriter {
    /// Appends chunks to `store` as `worker` until every [`RecordStreams`]
    /// and sink is gone.
    pub fn write(self, store: &dyn Store, worker: &str) {
        for chunk in self.chunks {
            chunk.progress.taken().hasher.records(chunk.records.iter());
            let go = {
                let state = chunk.progress.state();
                !state.stopped && state.stored == chunk.first
            };
            let written = go
                && matches!(
                    store.append_records(
                        worker,
                        chunk.job,
                        chunk.attempt,
                        chunk.first,
                        &chunk.records
                    ),
                    Ok(true)
                );
            let progress = chunk.progress;
            if written {
                progress.state().stored = chunk.first + chunk.records.len();
            } else {
                progress.taken().unstored.append(chunk.records);
                progress.state().stopped = true;
            }
            progress.state().handled += 1;
            progress.changed.notify_all();
        }
    }
}

impl RecordStreams {
    /// A sink for attempt `attempt` of job `job`, and the handle that
    /// gives, once the job has ended, what became of the records it
    /// streamed.
    pub fn open(&self, job: i64, attempt: i64) -> (Box<dyn RecordSink>, StreamEnd) {
        let progress = Arc::new(Progress::default());
        let sink = StoreSink {
            chunks: self.chunks.clone(),
            job,
            attempt,
            progress: progress.clone(),
        };
        (Box::new(sink), StreamEnd { progress })
    }
}

/// Hands a job's chunks to the writer.
struct StoreSink {
    chunks: SyncSender<Chunk>,
    job: i64,
    attempt: i64,
    progress: Arc<Progress>,
}

impl RecordSink for StoreSink {
    fn take(&mut self, first: usize, records: Records) {
        self.progress.state().queued += 1;
        let chunk = Chunk {
            job: self.job,
            attempt: self.attempt,
            first,
            records,
            progress: self.progress.clone(),
        };
        if let Err(unsent) = self.chunks.send(chunk) {
            // No writer: hashed here, and left for the finish to write.
            let chunk = unsent.0;
            let mut taken = self.progress.taken();
            taken.hasher.records(chunk.records.iter());
            taken.unstored.append(chunk.records);
            drop(taken);
            let mut state = self.progress.state();
            state.handled += 1;
            state.stopped = true;
        }
    }
}

/// The worker's end of one attempt's stream.
pub struct StreamEnd {
    progress: Arc<Progress>,
}

/// What became of the records a job streamed.
pub struct Streamed {
    /// How many, from the first, are in the store.
    pub stored: usize,
    /// The rest of them, for the finish to write.
    pub unstored: Records,
    /// All of them, hashed in order: the start of the result digest.
    pub hasher: ResultHasher,
}

impl StreamEnd {
    /// Waits until the writer is done with every chunk the job handed out.
    pub fn finish(self) -> Streamed {
        let mut state = self.progress.state();
        while state.handled < state.queued {
            state = self
                .progress
                .changed
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
        let stored = state.stored;
        drop(state);
        let taken = std::mem::take(&mut *self.progress.taken());
        Streamed {
            stored,
            unstored: taken.unstored,
            hasher: taken.hasher,
        }
    }
}
