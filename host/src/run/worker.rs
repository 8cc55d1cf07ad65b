//! Running jobs from a store: claim, run in the sandbox, finish, repeat.
//!
//! A run prepares each experiment once ([`crate::run::setup`]): its module
//! loaded (compiled, from the cache) and its datasets mounted. `workers`
//! threads then claim and run jobs ([`crate::run::claims`]), each in its
//! own wasmtime store ([`crate::run::job`]), and a heartbeat renews their
//! leases and commits what ended ([`crate::run::commit`]). On cancel
//! (Ctrl-C, [`crate::run::signals`]), no new job is claimed, running jobs
//! are stopped and returned to UNASSIGNED, and nothing of them is written.
//! When nothing is left to claim, a halving sweep whose rung has ended gets
//! its next rung ([`crate::experiment::sweep::advance`]) and the run goes on
//! with its jobs. Every store call is retried through a short outage
//! ([`crate::run::retry`]).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::content::artifacts::ArtifactStore;
use crate::content::layout::Layout;
use crate::run::events::{JobEvent, RunSummary};
use crate::run::pending::Pending;
use crate::run::prepare::{PrepareError, Prepared};
use crate::run::record_stream::record_streams;
use crate::run::retry::Retrying;
use crate::run::setup::setup;
use crate::runtime::Runtimes;
use crate::store::{ClaimedJob, Store};
use crate::sync::Unpoisoned;

/// How long one claim should keep a slot busy: short jobs are claimed
/// several at a time, so claiming costs less than running.
const CLAIM_BATCH_TIME: Duration = Duration::from_millis(50);

/// Most jobs claimed per slot at once.
const MAX_CLAIM_PER_SLOT: u64 = 16;

/// How a run behaves.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Jobs run at once in this process.
    pub workers: usize,
    /// How long a claim holds without a heartbeat.
    pub lease: Duration,
    /// Whether jobs whose key matches a finished job reuse its result
    /// instead of running (the run-cache).
    pub use_cache: bool,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            workers: 1,
            lease: Duration::from_secs(60),
            use_cache: true,
        }
    }
}

/// An error that stops a run (not a job failure: those are in the summary).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A module or dataset could not be prepared.
    #[error(transparent)]
    Prepare(#[from] PrepareError),
}

/// A worker process's view of a run: where things are, who it is, and the
/// flag that stops it.
pub struct Runner<'a> {
    /// The store to claim from.
    pub store: &'a dyn Store,
    /// Where data, modules and artifacts are.
    pub layout: &'a Layout,
    /// The runtimes, one per determinism profile.
    pub runtimes: &'a Runtimes,
    /// This worker's identity (see [`crate::run::worker_id`]).
    pub worker: String,
    /// Set to stop: no new claims; running jobs are put back.
    pub cancel: Arc<AtomicBool>,
    /// Threads and lease.
    pub options: RunOptions,
}

/// What the worker threads of one run share.
pub(super) struct Shared<'a> {
    pub(super) experiments: &'a [i64],
    pub(super) queue: Mutex<VecDeque<ClaimedJob>>,
    pub(super) prepared: HashMap<i64, Prepared>,
    pub(super) artifacts: ArtifactStore,
    pub(super) running: AtomicU64,
    /// A moving average of job wall time in this run, in microseconds (0:
    /// none finished yet).
    pub(super) avg_job_us: AtomicU64,
    pub(super) summary: Mutex<RunSummary>,
    pub(super) on_event: &'a (dyn Fn(JobEvent) + Sync),
    /// Ended attempts not committed yet.
    pub(super) pending: Pending,
    /// Held while a thread advances the sweeps, so that the threads of one
    /// process do not rank the same rung twice; claims wait for it, so that
    /// no thread claims a new rung's job before the run-cache is linked to
    /// it (and runs a job that the cache would finish).
    pub(super) advancing: Mutex<()>,
}

impl Shared<'_> {
    /// Counts an ended job in the summary, then tells `on_event`.
    pub(super) fn report(&self, event: JobEvent) {
        self.summary.lock_unpoisoned().count(&event);
        (self.on_event)(event);
    }

    /// Whether no claimed job waits to start.
    pub(super) fn queue_is_empty(&self) -> bool {
        self.queue.lock_unpoisoned().is_empty()
    }

    /// Folds one job's wall time into the moving average.
    pub(super) fn observe(&self, took: Duration) {
        let us = took.as_micros().min(u128::from(u64::MAX / 8)) as u64;
        let old = self.avg_job_us.load(Ordering::Relaxed);
        let new = if old == 0 {
            us.max(1)
        } else {
            (old * 7 + us) / 8
        };
        self.avg_job_us.store(new.max(1), Ordering::Relaxed);
    }

    /// Jobs to claim per slot: one for jobs that take a while (so that other
    /// workers are not left idle while this one holds a queue), more for
    /// short jobs, so one claim keeps a slot busy for about
    /// [`CLAIM_BATCH_TIME`].
    pub(super) fn jobs_per_claim(&self) -> usize {
        let avg = self.avg_job_us.load(Ordering::Relaxed);
        if avg == 0 {
            return 1;
        }
        let budget = CLAIM_BATCH_TIME.as_micros() as u64;
        (budget / avg).clamp(1, MAX_CLAIM_PER_SLOT) as usize
    }
}

impl Runner<'_> {
    /// Runs the jobs of `experiments` until none is left unassigned and no
    /// halving sweep of them can add a rung, or `cancel` is set. `on_event`
    /// sees every job start and end, and every rung added.
    pub fn run(
        &self,
        experiments: &[i64],
        on_event: &(dyn Fn(JobEvent) + Sync),
    ) -> Result<RunSummary, RunError> {
        let started = Instant::now();
        let setup = setup(self.store, self.layout, self.runtimes, experiments)?;
        self.retrying().reap(experiments)?;
        let cached = if self.options.use_cache {
            self.retrying().link_cached(experiments)?
        } else {
            0
        };
        let shared = Shared {
            experiments,
            queue: Mutex::default(),
            prepared: setup.prepared,
            artifacts: setup.artifacts,
            running: AtomicU64::new(0),
            avg_job_us: AtomicU64::new(0),
            summary: Mutex::default(),
            pending: Pending::default(),
            on_event,
            advancing: Mutex::new(()),
        };
        if cached > 0 {
            shared.report(JobEvent::Cached { jobs: cached });
        }
        let first_error = self.run_threads(&shared);
        // Attempts that ended are committed, even when cancelled.
        if let Some(batch) = shared.pending.take_if_due(true)
            && let Err(e) = self.flush(&shared, batch)
        {
            keep_first(&first_error, e, &self.cancel);
        }
        // Claimed but never started (cancelled, or a worker stopped early).
        let unstarted: Vec<i64> = shared
            .queue
            .lock_unpoisoned()
            .drain(..)
            .map(|j| j.id)
            .collect();
        if !unstarted.is_empty() {
            self.retrying().release(&unstarted)?;
        }
        drop(setup.mounts);
        if let Some(e) = first_error.into_inner_unpoisoned() {
            return Err(e);
        }
        let mut summary = shared.summary.into_inner_unpoisoned();
        summary.elapsed = started.elapsed();
        summary.cancelled = self.cancel.load(Ordering::Relaxed);
        Ok(summary)
    }

    /// Runs the record writer, the heartbeat and `workers` job loops until
    /// the loops end; returns the first error that stopped one of them
    /// (which stops the others too).
    fn run_threads(&self, shared: &Shared<'_>) -> Mutex<Option<RunError>> {
        let first_error: Mutex<Option<RunError>> = Mutex::new(None);
        let done = AtomicBool::new(false);
        let (streams, writer) = record_streams();
        std::thread::scope(|s| {
            // The writer ends when the last worker thread, and with it the
            // last sink, is gone. If its thread cannot start, the writer is
            // dropped with it: sinks then keep nothing, and each job's
            // finish writes all of its records.
            let _ = std::thread::Builder::new()
                .name("djx-records".into())
                .spawn_scoped(s, || writer.write(self.store, &self.worker));
            s.spawn(|| {
                if let Err(e) = self.heartbeat(&done, shared) {
                    keep_first(&first_error, e, &self.cancel);
                }
            });
            let first_error = &first_error;
            let workers: Vec<_> = (0..self.options.workers.max(1))
                .map(|_| {
                    let streams = streams.clone();
                    s.spawn(move || {
                        if let Err(e) = self.work(shared, &streams) {
                            keep_first(first_error, e, &self.cancel);
                        }
                    })
                })
                .collect();
            drop(streams);
            for w in workers {
                let _ = w.join();
            }
            done.store(true, Ordering::Relaxed);
        });
        first_error
    }

    /// The store, its calls retried through a short outage.
    pub(super) fn retrying(&self) -> Retrying<'_> {
        Retrying::new(self.store, &self.worker)
    }
}

/// Keeps `e` if it is the run's first error, and stops the run: one
/// thread's store error stops the others too.
fn keep_first(first: &Mutex<Option<RunError>>, e: RunError, cancel: &AtomicBool) {
    first.lock_unpoisoned().get_or_insert(e);
    cancel.store(true, Ordering::Relaxed);
}
