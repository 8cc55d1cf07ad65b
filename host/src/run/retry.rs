//! Store calls that outlast a short outage. A database restart or a
//! dropped connection is retried with backoff for up to [`STORE_RETRY`];
//! any other error, or one that lasts longer, stops the run. Every store
//! call of a run goes through [`Retrying`], so the rule is written once.

use std::time::{Duration, Instant};

use crate::run::worker_id::is_dead_local;
use crate::store::{ClaimedJob, Ended, Store, StoreError};

/// How long a worker keeps retrying an unreachable store.
pub const STORE_RETRY: Duration = Duration::from_secs(60);

/// A worker's store, its calls retried while the store is unreachable.
#[derive(Clone, Copy)]
pub struct Retrying<'a> {
    store: &'a dyn Store,
    worker: &'a str,
}

impl<'a> Retrying<'a> {
    /// The store as `worker` calls it.
    pub fn new(store: &'a dyn Store, worker: &'a str) -> Retrying<'a> {
        Retrying { store, worker }
    }

    /// Runs `op`, again while it fails with a transient error, for up to
    /// [`STORE_RETRY`]. Each operation retried is safe to repeat: claims
    /// and commits are fenced by lease and attempt.
    pub fn call<T>(
        &self,
        op: impl Fn(&dyn Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let deadline = Instant::now() + STORE_RETRY;
        let mut pause = Duration::from_millis(100);
        loop {
            match op(self.store) {
                Err(e) if e.is_transient() && Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                other => return other,
            }
        }
    }

    /// Puts back the jobs of dead local workers and of expired leases;
    /// returns how many.
    pub fn reap(&self, experiments: &[i64]) -> Result<usize, StoreError> {
        self.call(|store| {
            let dead: Vec<String> = store
                .lease_owners(experiments)?
                .into_iter()
                .filter(|owner| is_dead_local(owner))
                .collect();
            store.reap(experiments, &dead)
        })
    }

    /// Finishes jobs whose key matches a finished job from its result (the
    /// run-cache); returns how many.
    pub fn link_cached(&self, experiments: &[i64]) -> Result<u64, StoreError> {
        self.call(|store| store.link_cached(self.worker, experiments))
    }

    /// Claims up to `n` jobs of `experiments`.
    pub fn claim(
        &self,
        experiments: &[i64],
        n: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        self.call(|store| store.claim(self.worker, experiments, n, lease))
    }

    /// Returns this worker's `jobs` to the queue.
    pub fn release(&self, jobs: &[i64]) -> Result<(), StoreError> {
        self.call(|store| store.release(self.worker, jobs))
    }

    /// Puts back `job`, keeping `log` as its attempt's log.
    pub fn release_with_log(&self, job: &ClaimedJob, log: &[u8]) -> Result<bool, StoreError> {
        self.call(|store| store.release_with_log(self.worker, job, log))
    }

    /// Commits ended attempts; per attempt, whether it was still ours.
    pub fn finish_all(&self, attempts: &[Ended<'_>]) -> Result<Vec<bool>, StoreError> {
        self.call(|store| store.finish_all(self.worker, attempts))
    }

    /// Who holds jobs of `experiments`.
    pub fn lease_owners(&self, experiments: &[i64]) -> Result<Vec<String>, StoreError> {
        self.call(|store| store.lease_owners(experiments))
    }

    /// Waits for jobs to be added or released, or `timeout`.
    pub fn wait_for_work(&self, timeout: Duration) -> Result<(), StoreError> {
        self.call(|store| store.wait_for_work(timeout))
    }

    /// The store itself, for calls not retried (a lease renewal is simply
    /// tried again next period).
    pub fn store(&self) -> &'a dyn Store {
        self.store
    }

    /// The worker calling.
    pub fn worker(&self) -> &'a str {
        self.worker
    }
}
