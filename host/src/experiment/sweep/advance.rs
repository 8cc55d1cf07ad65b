//! Adding the next rung of a sweep once its latest rung has ended.
//!
//! A worker that finds nothing to claim calls [`advance`] for each sweep it
//! runs. Only a rung whose every job has ended is ranked; finished and
//! failed jobs never change again, so every worker that ranks it decides
//! the same. The next rung's row and jobs go in one transaction, and the
//! row is unique per rung: of racing workers one adds it, and the others
//! learn it was added ([`Progress::Added`] with `here` false).

use serde_json::Value;

use super::Sweep;
use super::promote::{Decision, decide};
use crate::experiment::locked::LockedExperiment;
use crate::store::{JobStatus, NewRung, Store, StoreError};

/// Where a sweep stands after [`advance`].
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    /// Its next rung was added, by this worker (`here`) or another: its
    /// jobs wait to run.
    Added {
        /// The rung's number.
        rung: u32,
        /// How many rungs the sweep has.
        rungs: u32,
        /// How many jobs it has.
        jobs: i64,
        /// Its budget.
        budget: Value,
        /// Whether this worker added it.
        here: bool,
    },
    /// No job of its latest rung recorded the metric: the sweep stopped.
    Stopped {
        /// The rung it stopped after.
        rung: u32,
        /// Why.
        reason: String,
    },
    /// Its latest rung has jobs that have not ended.
    Running {
        /// The rung.
        rung: u32,
    },
    /// Nothing more will happen: the last rung is under way or ended, or
    /// the sweep stopped.
    Done,
}

/// Adds the next rung of experiment `id`'s sweep if its latest rung has
/// ended; `worker` is who adds it.
pub fn advance(
    store: &dyn Store,
    id: i64,
    experiment: &LockedExperiment,
    sweep: &Sweep,
    worker: &str,
) -> Result<Progress, StoreError> {
    let rungs = store.rungs(&[id])?;
    let Some(last) = rungs.last() else {
        return Ok(Progress::Done);
    };
    if !last.is_open() {
        return Ok(Progress::Done);
    }
    let jobs = store.rung_jobs(last, &sweep.halving().metric)?;
    if jobs
        .iter()
        .any(|j| matches!(j.status, JobStatus::Unassigned | JobStatus::Assigned))
    {
        return Ok(Progress::Running { rung: last.rung });
    }
    let corrupt = |message: String| StoreError::Corrupt {
        what: "sweep",
        message,
    };
    if jobs.len() as i64 != last.jobs {
        return Err(corrupt(format!(
            "rung {} of experiment {id} has {} jobs, and its row says {}",
            last.rung,
            jobs.len(),
            last.jobs
        )));
    }
    match decide(sweep.halving(), last.rung, &jobs) {
        Decision::Stop(reason) => {
            store.stop_sweep(last, &reason)?;
            Ok(Progress::Stopped {
                rung: last.rung,
                reason,
            })
        }
        Decision::Promote(samples) => {
            let next = last.rung + 1;
            let grid = sweep.rung_grid(next as usize, &samples).ok_or_else(|| {
                corrupt(format!(
                    "experiment {id}'s plan has no rung {next}, and its rungs say it has {}",
                    last.rungs
                ))
            })?;
            let rung = NewRung {
                experiment_id: id,
                rung: next,
                rungs: last.rungs,
                first_position: last.first_position + last.jobs,
                jobs: grid.len() as i64,
                samples,
                worker: worker.to_owned(),
            };
            let here = store.add_rung(&rung, &mut sweep.jobs(experiment, &grid))?;
            Ok(Progress::Added {
                rung: next,
                rungs: last.rungs,
                jobs: rung.jobs,
                budget: sweep.budget(next as usize).cloned().unwrap_or_default(),
                here,
            })
        }
    }
}
