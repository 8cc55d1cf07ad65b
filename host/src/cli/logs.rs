//! `djx logs`: a job's log (stdout, stderr and log messages) as it was; for
//! a job from the run-cache, the log of the attempt it reuses.

use std::io::Write;

use clap::Args;

use super::common::{layout, open_store, result_attempt};

/// Arguments of `djx logs`.
#[derive(Args)]
pub struct LogsArgs {
    /// The job id.
    job: i64,
    /// Which attempt (default: the latest).
    #[arg(long)]
    attempt: Option<i64>,
}

/// Runs `djx logs`.
pub fn run(args: LogsArgs) -> anyhow::Result<()> {
    let layout = layout()?;
    let store = open_store(&layout)?;
    let job = store.job(args.job)?;
    let (job, attempt) =
        result_attempt(store.as_ref(), job.id, args.attempt.unwrap_or(job.attempt))?;
    let log = store.attempt_log(job, attempt)?;
    std::io::stdout().lock().write_all(&log)?;
    Ok(())
}
