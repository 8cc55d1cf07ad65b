//! Running jobs from a store: claim, run in the sandbox, finish, repeat.
//!
//! A run loads each experiment's module once (compiled, from the cache) and
//! mounts its datasets once; `workers` threads then claim and run jobs, each
//! in its own wasmtime store. A heartbeat renews the leases of running jobs.
//! On cancel (Ctrl-C), no new job is claimed, running jobs are stopped and
//! returned to UNASSIGNED, and nothing of them is written. When nothing is
//! left to claim, a halving sweep whose rung has ended gets its next rung
//! ([`crate::experiment::sweep::advance`]) and the run goes on with its jobs.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::content::artifacts::ArtifactStore;
use crate::content::durability::Durability;
use crate::content::layout::Layout;
use crate::experiment::sweep::advance::{Progress, advance};
use crate::records::Records;
use crate::records::keys::RecordKeys;
use crate::run::pending::{Done, Pending};
use crate::run::prepare::{PrepareError, Prepared};
use crate::run::record_stream::{RecordStreams, record_streams};
use crate::run::worker_id::is_dead_local;
use crate::runtime::{Failure, RunHooks, Runtimes};
use crate::store::{ClaimedJob, Store};

/// How long a worker keeps retrying an unreachable store.
const STORE_RETRY: Duration = Duration::from_secs(60);

/// How long one claim should keep a slot busy: short jobs are claimed
/// several at a time, so claiming costs less than running.
const CLAIM_BATCH_TIME: Duration = Duration::from_millis(50);

/// Most jobs claimed per slot at once.
const MAX_CLAIM_PER_SLOT: u64 = 16;

/// How often an idle worker looks again while others hold jobs.
const IDLE_POLL: Duration = Duration::from_millis(500);

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

/// What happened to one job, for progress reporting.
#[derive(Clone, Debug)]
pub enum JobEvent {
    /// Jobs were finished from the run-cache, without running.
    Cached {
        /// How many.
        jobs: u64,
    },
    /// A worker started the job.
    Started {
        /// The job.
        job: i64,
    },
    /// The job finished.
    Finished {
        /// The job.
        job: i64,
    },
    /// The job failed.
    Failed {
        /// The job.
        job: i64,
        /// Why.
        reason: String,
    },
    /// The job was stopped and put back (cancelled, or the lease was lost).
    Released {
        /// The job.
        job: i64,
    },
    /// A halving sweep's next rung was added (by this worker, or by
    /// another first): its jobs are now to run.
    Rung {
        /// The experiment.
        experiment: i64,
        /// The rung's number.
        rung: u32,
        /// How many rungs the sweep has.
        rungs: u32,
        /// How many jobs the rung has.
        jobs: u64,
        /// The rung's budget.
        budget: serde_json::Value,
        /// Whether this worker added it.
        here: bool,
    },
    /// A halving sweep stopped: no job of its rung recorded the metric.
    SweepStopped {
        /// The experiment.
        experiment: i64,
        /// Why, with the rung it stopped after.
        reason: String,
    },
}

/// Totals of a run.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    /// Jobs that finished (run here, not from the cache).
    pub finished: u64,
    /// Jobs finished from the run-cache.
    pub cached: u64,
    /// Jobs that failed, with their reasons.
    pub failed: Vec<(i64, String)>,
    /// Jobs put back unfinished.
    pub released: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Whether the run was cancelled.
    pub cancelled: bool,
    /// Halving sweeps that stopped in this run, with the reason.
    pub stopped: Vec<(i64, String)>,
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
struct Shared<'a> {
    experiments: &'a [i64],
    queue: Mutex<VecDeque<ClaimedJob>>,
    prepared: HashMap<i64, Prepared>,
    artifacts: ArtifactStore,
    running: AtomicU64,
    /// A moving average of job wall time in this run, in microseconds (0:
    /// none finished yet).
    avg_job_us: AtomicU64,
    summary: Mutex<RunSummary>,
    on_event: &'a (dyn Fn(JobEvent) + Sync),
    /// Ended attempts not committed yet.
    pending: Pending,
    /// Held while a thread advances the sweeps, so that the threads of one
    /// process do not rank the same rung twice; claims wait for it, so that
    /// no thread claims a new rung's job before the run-cache is linked to
    /// it (and runs a job that the cache would finish).
    advancing: Mutex<()>,
}

impl Shared<'_> {
    /// Counts an ended job in the summary, then tells `on_event`.
    fn report(&self, event: JobEvent) {
        let mut s = self.summary.lock().unwrap_or_else(|p| p.into_inner());
        match &event {
            JobEvent::Finished { .. } => s.finished += 1,
            JobEvent::Failed { job, reason } => s.failed.push((*job, reason.clone())),
            JobEvent::Released { .. } => s.released += 1,
            JobEvent::SweepStopped { experiment, reason } => {
                s.stopped.push((*experiment, reason.clone()))
            }
            JobEvent::Cached { jobs } => s.cached += jobs,
            JobEvent::Started { .. } | JobEvent::Rung { .. } => {}
        }
        drop(s);
        (self.on_event)(event);
    }

    /// Whether no claimed job waits to start.
    fn queue_is_empty(&self) -> bool {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }

    /// Folds one job's wall time into the moving average.
    fn observe(&self, took: Duration) {
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
    fn jobs_per_claim(&self) -> usize {
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
        let first = experiments.first().copied().unwrap_or_default();
        // `DJX_DATA_TEMP` may name a directory that does not exist yet.
        let mounts = std::fs::create_dir_all(&self.layout.temp)
            .and_then(|()| {
                tempfile::Builder::new()
                    .prefix("djx-mounts-")
                    .tempdir_in(&self.layout.temp)
            })
            .map_err(|e| PrepareError {
                experiment: first,
                message: format!(
                    "creating a mount directory in {}: {e}",
                    self.layout.temp.display()
                ),
            })?;
        let mut prepared = HashMap::new();
        for &id in experiments {
            prepared.insert(
                id,
                Prepared::load(self.store, self.layout, self.runtimes, id, mounts.path())?,
            );
        }
        let durability = Durability::from_env().map_err(|e| PrepareError {
            experiment: first,
            message: e.to_string(),
        })?;
        let artifacts = ArtifactStore::open(&self.layout.artifacts)
            .map(|store| store.synced(durability.sync_artifacts()))
            .map_err(|e| PrepareError {
                experiment: first,
                message: e.to_string(),
            })?;
        self.retrying(|| reap(self.store, experiments))?;
        let cached = if self.options.use_cache {
            self.retrying(|| Ok(self.store.link_cached(&self.worker, experiments)?))?
        } else {
            0
        };
        let shared = Shared {
            experiments,
            queue: Mutex::default(),
            prepared,
            artifacts,
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
                if let Err(e) = self.heartbeat(&done, &shared) {
                    first_error
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get_or_insert(e);
                    self.cancel.store(true, Ordering::Relaxed);
                }
            });
            let (shared, first_error) = (&shared, &first_error);
            let workers: Vec<_> = (0..self.options.workers.max(1))
                .map(|_| {
                    let streams = streams.clone();
                    s.spawn(move || {
                        if let Err(e) = self.work(shared, &streams) {
                            first_error
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .get_or_insert(e);
                            // One worker's store error stops the others too.
                            self.cancel.store(true, Ordering::Relaxed);
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
        // Attempts that ended are committed, even when cancelled.
        if let Some(batch) = shared.pending.take_if_due(true) {
            let flushed = self.flush(&shared, batch);
            if let Err(e) = flushed {
                first_error
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert(e);
            }
        }
        // Claimed but never started (cancelled, or a worker stopped early).
        let unstarted: Vec<i64> = shared
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .map(|j| j.id)
            .collect();
        if !unstarted.is_empty() {
            self.retrying(|| Ok(self.store.release(&self.worker, &unstarted)?))?;
        }
        if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        let mut summary = shared
            .summary
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        summary.elapsed = started.elapsed();
        summary.cancelled = self.cancel.load(Ordering::Relaxed);
        Ok(summary)
    }

    /// Renews this worker's leases while jobs run.
    /// Renews this worker's leases while jobs run, and commits ended
    /// attempts that waited long enough for company.
    fn heartbeat(&self, done: &AtomicBool, shared: &Shared<'_>) -> Result<(), RunError> {
        let period = self.options.lease / 3;
        let mut last = Instant::now();
        while !done.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(10));
            if let Some(batch) = shared.pending.take_if_due(false) {
                self.flush(shared, batch)?;
            }
            if last.elapsed() >= period {
                last = Instant::now();
                if shared.running.load(Ordering::Relaxed) > 0 {
                    // A failed renewal is retried next period; if the lease
                    // is lost meanwhile, the fenced finish writes nothing.
                    let _ = self.store.renew(&self.worker, self.options.lease);
                }
            }
        }
        Ok(())
    }

    /// Commits ended attempts in one transaction, then reports them.
    fn flush(&self, shared: &Shared<'_>, batch: Vec<Done>) -> Result<(), RunError> {
        if batch.is_empty() {
            return Ok(());
        }
        let results: Vec<_> = batch.iter().map(Done::result).collect();
        let items: Vec<_> = batch.iter().map(|d| &d.job).zip(results.iter()).collect();
        // A retried commit is safe: each attempt is fenced by its attempt
        // number and lease, so if the first try committed, a retry changes
        // nothing.
        let kept = self.retrying(|| Ok(self.store.finish_all(&self.worker, &items)?))?;
        shared
            .running
            .fetch_sub(batch.len() as u64, Ordering::Relaxed);
        for (done, kept) in batch.iter().zip(kept) {
            let event = match (kept, &done.failure) {
                (false, _) => JobEvent::Released { job: done.job.id },
                (true, None) => JobEvent::Finished { job: done.job.id },
                (true, Some(reason)) => JobEvent::Failed {
                    job: done.job.id,
                    reason: reason.clone(),
                },
            };
            shared.report(event);
        }
        Ok(())
    }

    /// One worker thread: claim, run, finish, until there is nothing left.
    fn work(&self, shared: &Shared<'_>, streams: &RecordStreams) -> Result<(), RunError> {
        while !self.cancel.load(Ordering::Relaxed) {
            if shared.queue_is_empty() {
                // Nothing queued: what ended is committed before waiting
                // on a claim.
                if let Some(batch) = shared.pending.take_if_due(true) {
                    self.flush(shared, batch)?;
                }
            }
            let Some(job) = self.next_job(shared)? else {
                // Put back what vanished workers left behind, then wait while
                // other workers still hold jobs: their leases may expire.
                if self.retrying(|| reap(self.store, shared.experiments))? > 0 {
                    continue;
                }
                let owners =
                    self.retrying(|| Ok(self.store.lease_owners(shared.experiments)?))?;
                if owners.iter().any(|o| *o != self.worker) {
                    self.retrying(|| Ok(self.store.wait_for_work(IDLE_POLL)?))?;
                    continue;
                }
                // Nothing to claim, no other worker holding a job: a sweep
                // whose rung has ended gets its next one.
                match self.advance_sweeps(shared)? {
                    Sweeps::Grew => continue,
                    Sweeps::Running => {
                        // This process's other threads are finishing the
                        // rung; its next one may follow.
                        self.retrying(|| Ok(self.store.wait_for_work(IDLE_POLL)?))?;
                        continue;
                    }
                    Sweeps::Done => return Ok(()),
                }
            };
            let Some(exp) = shared.prepared.get(&job.experiment_id) else {
                self.retrying(|| Ok(self.store.release(&self.worker, &[job.id])?))?;
                continue;
            };
            shared.running.fetch_add(1, Ordering::Relaxed);
            (shared.on_event)(JobEvent::Started { job: job.id });
            let started = Instant::now();
            let ran = self.run_one(exp, job, &shared.artifacts, streams);
            shared.observe(started.elapsed());
            match ran? {
                Ok(done) => {
                    // The lease stays ours, and `running` counts the job,
                    // until it is committed.
                    let target = self.options.workers.max(1) * shared.jobs_per_claim();
                    if let Some(batch) = shared.pending.push(done, target) {
                        self.flush(shared, batch)?;
                    }
                }
                Err(released) => {
                    shared.running.fetch_sub(1, Ordering::Relaxed);
                    shared.report(JobEvent::Released { job: released });
                }
            }
        }
        Ok(())
    }

    /// Advances the halving sweeps of the run (see
    /// [`crate::experiment::sweep::advance`]): whether one grew, has a rung still
    /// running, or none will grow any more.
    fn advance_sweeps(&self, shared: &Shared<'_>) -> Result<Sweeps, RunError> {
        let _one = shared.advancing.lock().unwrap_or_else(|p| p.into_inner());
        let mut state = Sweeps::Done;
        for id in shared.experiments {
            let Some(exp) = shared.prepared.get(id) else {
                continue;
            };
            let Some(sweep) = &exp.sweep else {
                continue;
            };
            let progress = self.retrying(|| {
                Ok(advance(
                    self.store,
                    *id,
                    &exp.experiment,
                    sweep,
                    &self.worker,
                )?)
            })?;
            match progress {
                Progress::Added {
                    rung,
                    rungs,
                    jobs,
                    budget,
                    here,
                } => {
                    shared.report(JobEvent::Rung {
                        experiment: *id,
                        rung,
                        rungs,
                        jobs: jobs.max(0) as u64,
                        budget,
                        here,
                    });
                    if self.options.use_cache {
                        let cached =
                            self.retrying(|| Ok(self.store.link_cached(&self.worker, &[*id])?))?;
                        if cached > 0 {
                            shared.report(JobEvent::Cached { jobs: cached });
                        }
                    }
                    state = Sweeps::Grew;
                }
                Progress::Stopped { reason, .. } => shared.report(JobEvent::SweepStopped {
                    experiment: *id,
                    reason,
                }),
                Progress::Running { .. } if state == Sweeps::Done => state = Sweeps::Running,
                Progress::Running { .. } | Progress::Done => {}
            }
        }
        Ok(state)
    }

    /// The next job: from this process's claimed batch, or claimed now. One
    /// round trip claims a job for every slot, so slots do not each pay it.
    fn next_job(&self, shared: &Shared<'_>) -> Result<Option<ClaimedJob>, RunError> {
        let mut queue = shared.queue.lock().unwrap_or_else(|p| p.into_inner());
        if queue.is_empty() {
            // Lock order: `queue`, then `advancing` (which never takes `queue`).
            let _no_rung_being_added = shared.advancing.lock().unwrap_or_else(|p| p.into_inner());
            let n = self.options.workers.max(1) * shared.jobs_per_claim();
            let claimed = self.retrying(|| {
                Ok(self
                    .store
                    .claim(&self.worker, shared.experiments, n, self.options.lease)?)
            })?;
            queue.extend(claimed);
        }
        Ok(queue.pop_front())
    }

    /// Runs a store operation, retrying while the store is unreachable (a
    /// database restart, a dropped connection) for up to a minute.
    fn retrying<T>(&self, op: impl Fn() -> Result<T, RunError>) -> Result<T, RunError> {
        let deadline = Instant::now() + STORE_RETRY;
        let mut pause = Duration::from_millis(100);
        loop {
            match op() {
                Err(RunError::Store(e)) if e.is_transient() && Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                other => return other,
            }
        }
    }

    /// Runs one job: what it produced, to commit, or (`Err`) the job's id
    /// when it was stopped and put back.
    fn run_one(
        &self,
        exp: &Prepared,
        job: ClaimedJob,
        artifacts: &ArtifactStore,
        streams: &RecordStreams,
    ) -> Result<Result<Done, i64>, RunError> {
        let key = exp.job_key(&job.parameter, &job.labels);
        if let Some(stored) = job.key.filter(|stored| *stored != key) {
            // Never run a job under a key that does not describe it.
            let reason = format!(
                "its stored job key {stored} does not match its inputs, which give {key}: \
                 the job or its experiment was changed in the store after `djx add`"
            );
            return Ok(Ok(Done {
                job,
                failure: Some(reason),
                records: Records::new(),
                record_keys: RecordKeys::default(),
                stored_records: 0,
                artifacts: Vec::new(),
                log: Vec::new(),
                duration: Duration::ZERO,
                result_digest: None,
            }));
        }
        let input = exp.job_input(&key, &job.parameter, &job.labels);
        let (sink, stream) = streams.open(job.id, job.attempt);
        let hooks = RunHooks {
            cancel: Some(self.cancel.clone()),
            sink: Some(sink),
        };
        let outcome = exp.runtime.run_with(&exp.module, &input, artifacts, hooks);
        let streamed = stream.finish();
        if outcome.failure == Some(Failure::Cancelled) {
            self.retrying(|| Ok(self.store.release(&self.worker, &[job.id])?))?;
            return Ok(Err(job.id));
        }
        let log = outcome.log_bytes();
        let failure = outcome.failure.as_ref().map(Failure::reason);
        let result_digest = failure
            .is_none()
            .then(|| exp.result_digest(streamed.hasher, &outcome, &log));
        // What the finish writes: the chunks that were not stored, then
        // the records after the last chunk.
        let mut records = streamed.unstored;
        records.append(outcome.records);
        // The columns an export of these records needs: the job's labels
        // too, when it has records to show them with.
        let mut record_keys = outcome.record_keys;
        if streamed.stored + records.len() > 0 {
            record_keys.add_label_keys(&job.labels);
        }
        Ok(Ok(Done {
            job,
            failure,
            records,
            record_keys,
            stored_records: streamed.stored,
            artifacts: outcome.artifacts,
            log,
            duration: outcome.duration,
            result_digest,
        }))
    }
}

/// Where the sweeps of a run stand, for a thread with nothing to claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sweeps {
    /// A rung was added: claim again.
    Grew,
    /// A rung has jobs this process still runs: wait, then look again.
    Running,
    /// No sweep will grow (or there is none).
    Done,
}

/// Puts back jobs of dead local workers and expired leases.
fn reap(store: &dyn Store, experiments: &[i64]) -> Result<usize, RunError> {
    let dead: Vec<String> = store
        .lease_owners(experiments)?
        .into_iter()
        .filter(|owner| is_dead_local(owner))
        .collect();
    Ok(store.reap(experiments, &dead)?)
}
