//! What a signal does to a worker: the one place that says so, for the
//! sbatch script, `djx worker` and `djx run` alike.
//!
//! | signal | sent by | what the worker does |
//! |---|---|---|
//! | SIGTERM | Slurm, [`WARNING_LEAD`] before the time limit (`--signal=TERM@90`); `scancel --signal=TERM`; `scancel`, preemption and the time limit itself | stops claiming, stops its running jobs and puts them back (UNASSIGNED, nothing of them kept), commits the jobs that ended, exits 0 |
//! | SIGINT, SIGHUP | Ctrl-C, a closed terminal | the same |
//! | a second one | a user pressing Ctrl-C again; Slurm repeating itself | `djx run` exits at once (130): the running jobs come back when their leases expire; `djx worker` ignores it and finishes putting its jobs back |
//! | SIGKILL | Slurm, `KillWait` (30 s) after a cancel or the time limit, or `GraceTime` after preemption; a lost node | nothing can run: the jobs come back when their lease expires, or at once when another worker on the same host sees the process is gone |
//!
//! In the batch script the worker is a job step (`srun`): Slurm signals job
//! steps, not the batch shell, unless told otherwise (`B:`, `--batch`), so
//! the warning and `scancel --signal=TERM` reach the worker itself. The
//! batch shell ignores the signals it gets (on a cancel, preemption or the
//! time limit) and waits for the worker to end.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The signal Slurm sends before the time limit.
pub const WARNING_SIGNAL: &str = "TERM";

/// How long before the time limit Slurm sends [`WARNING_SIGNAL`]: time to
/// put the running jobs back and commit what ended. (Slurm may send it up
/// to a minute earlier: it checks time limits about every 30 s.)
pub const WARNING_LEAD: Duration = Duration::from_secs(90);

/// The sbatch option that asks for the warning, sent to the job steps:
/// `--signal=TERM@90`.
pub fn sbatch_signal() -> String {
    format!("--signal={WARNING_SIGNAL}@{}", WARNING_LEAD.as_secs())
}

/// The signals the batch shell ignores (it waits for the worker, which
/// gets them itself).
pub const BATCH_SHELL_IGNORES: &str = "TERM INT HUP";

/// What a second stopping signal does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Again {
    /// Nothing: the first one is being carried out (a batch system may
    /// send the same signal more than once).
    Ignore,
    /// Exit at once with this status (someone at a terminal means it).
    Exit(i32),
}

/// Makes SIGTERM, SIGINT and SIGHUP set `stop`; `on_stop` runs once, at
/// the first of them (to say what happens next); `again` says what a
/// later one does.
pub fn stop_on_signals(
    stop: Arc<AtomicBool>,
    again: Again,
    on_stop: impl Fn() + Send + 'static,
) -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(move || {
        if !stop.swap(true, Ordering::Relaxed) {
            on_stop();
        } else if let Again::Exit(status) = again {
            std::process::exit(status);
        }
    })
}
