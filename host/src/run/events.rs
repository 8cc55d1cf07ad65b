//! What a run tells its caller as it goes ([`JobEvent`]), the line a
//! person reads for each, and the totals at the end ([`RunSummary`]).
//! `djx run` and `djx worker` print the same lines.

use std::time::Duration;

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
    /// The job was put back (cancelled, its lease lost, or its artifacts
    /// not uploaded).
    Released {
        /// The job.
        job: i64,
        /// Why, when it was not the run stopping or the lease lost.
        why: Option<String>,
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

impl JobEvent {
    /// The line a person reads for the event (none for a start).
    pub fn describe(&self) -> Option<String> {
        Some(match self {
            JobEvent::Started { .. } => return None,
            JobEvent::Cached { jobs } => format!("djx: {jobs} jobs from the run-cache"),
            JobEvent::Finished { job } => format!("djx: job {job} finished"),
            JobEvent::Failed { job, reason } => format!(
                "djx: job {job} failed: {}",
                reason.lines().next().unwrap_or("")
            ),
            JobEvent::Released { job, why: None } => format!("djx: job {job} put back"),
            JobEvent::Released {
                job,
                why: Some(why),
            } => format!("djx: job {job} put back: {why}"),
            JobEvent::Rung {
                experiment,
                rung,
                rungs,
                jobs,
                budget,
                here,
            } => format!(
                "djx: experiment {experiment}: {} added{}, {jobs} jobs",
                rung_text(*rung, *rungs, Some(budget)),
                if *here { "" } else { " by another worker" }
            ),
            JobEvent::SweepStopped { experiment, reason } => {
                format!("djx: experiment {experiment}: {reason}")
            }
        })
    }

    /// Whether a progress display should show the event's line too: a
    /// failure, a rung added, a sweep stopped. A log shows every line.
    pub fn is_notable(&self) -> bool {
        matches!(
            self,
            JobEvent::Failed { .. }
                | JobEvent::Released { why: Some(_), .. }
                | JobEvent::Rung { .. }
                | JobEvent::SweepStopped { .. }
        )
    }
}

/// A rung as people read it: `rung 1 of rungs 0-2`, with its budget when
/// given (`rung 1 of rungs 0-2 (budget 3)`).
pub fn rung_text(rung: u32, rungs: u32, budget: Option<&serde_json::Value>) -> String {
    let text = format!("rung {rung} of rungs 0-{}", rungs.saturating_sub(1));
    match budget {
        Some(budget) => format!("{text} (budget {budget})"),
        None => text,
    }
}

impl RunSummary {
    /// Counts an event in the totals.
    pub fn count(&mut self, event: &JobEvent) {
        match event {
            JobEvent::Finished { .. } => self.finished += 1,
            JobEvent::Failed { job, reason } => self.failed.push((*job, reason.clone())),
            JobEvent::Released { .. } => self.released += 1,
            JobEvent::SweepStopped { experiment, reason } => {
                self.stopped.push((*experiment, reason.clone()))
            }
            JobEvent::Cached { jobs } => self.cached += jobs,
            JobEvent::Started { .. } | JobEvent::Rung { .. } => {}
        }
    }
}
