//! The job loop of one worker thread: take the next claimed job (claiming a
//! batch when none is left), run it, hand what ended to the commit; with
//! nothing to claim, put back what dead workers left, wait for the others,
//! or grow a halving sweep by its next rung.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::experiment::sweep::advance::{Progress, advance};
use crate::run::events::JobEvent;
use crate::run::job::{JobContext, JobEnd, run_job};
use crate::run::record_stream::RecordStreams;
use crate::run::worker::{RunError, Runner, Shared};
use crate::store::ClaimedJob;
use crate::sync::Unpoisoned;

/// How often an idle worker looks again while others hold jobs.
const IDLE_POLL: Duration = Duration::from_millis(500);

impl Runner<'_> {
    /// One worker thread: claim, run, finish, until there is nothing left.
    pub(super) fn work(
        &self,
        shared: &Shared<'_>,
        streams: &RecordStreams,
    ) -> Result<(), RunError> {
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
                if self.retrying().reap(shared.experiments)? > 0 {
                    continue;
                }
                let owners = self.retrying().lease_owners(shared.experiments)?;
                if owners.iter().any(|o| *o != self.worker) {
                    self.retrying().wait_for_work(IDLE_POLL)?;
                    continue;
                }
                // Nothing to claim, no other worker holding a job: a sweep
                // whose rung has ended gets its next one.
                match self.advance_sweeps(shared)? {
                    Sweeps::Grew => continue,
                    Sweeps::Running => {
                        // This process's other threads are finishing the
                        // rung; its next one may follow.
                        self.retrying().wait_for_work(IDLE_POLL)?;
                        continue;
                    }
                    Sweeps::Done => return Ok(()),
                }
            };
            let Some(exp) = shared.prepared.get(&job.experiment_id) else {
                self.retrying().release(&[job.id])?;
                continue;
            };
            shared.running.fetch_add(1, Ordering::Relaxed);
            (shared.on_event)(JobEvent::Started { job: job.id });
            let started = Instant::now();
            let cx = JobContext {
                artifacts: &shared.artifacts,
                streams,
                cancel: &self.cancel,
                store: self.retrying(),
            };
            let ran = run_job(exp, job, &cx);
            shared.observe(started.elapsed());
            match ran? {
                JobEnd::Ended(done) => {
                    // The lease stays ours, and `running` counts the job,
                    // until it is committed.
                    let target = self.options.workers.max(1) * shared.jobs_per_claim();
                    if let Some(batch) = shared.pending.push(*done, target) {
                        self.flush(shared, batch)?;
                    }
                }
                JobEnd::PutBack(job) => {
                    shared.running.fetch_sub(1, Ordering::Relaxed);
                    shared.report(JobEvent::Released { job, why: None });
                }
            }
        }
        Ok(())
    }

    /// Advances the halving sweeps of the run (see
    /// [`crate::experiment::sweep::advance`]): whether one grew, has a rung still
    /// running, or none will grow any more.
    fn advance_sweeps(&self, shared: &Shared<'_>) -> Result<Sweeps, RunError> {
        let _one = shared.advancing.lock_unpoisoned();
        let mut state = Sweeps::Done;
        for id in shared.experiments {
            let Some(exp) = shared.prepared.get(id) else {
                continue;
            };
            let Some(sweep) = &exp.sweep else {
                continue;
            };
            let progress = self
                .retrying()
                .call(|store| advance(store, *id, &exp.experiment, sweep, &self.worker))?;
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
                        let cached = self.retrying().link_cached(&[*id])?;
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
        let mut queue = shared.queue.lock_unpoisoned();
        if queue.is_empty() {
            // Lock order: `queue`, then `advancing` (which never takes `queue`).
            let _no_rung_being_added = shared.advancing.lock_unpoisoned();
            let n = self.options.workers.max(1) * shared.jobs_per_claim();
            let claimed = self
                .retrying()
                .claim(shared.experiments, n, self.options.lease)?;
            queue.extend(claimed);
        }
        Ok(queue.pop_front())
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
