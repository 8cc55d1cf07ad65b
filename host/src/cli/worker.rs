//! `djx worker`: a long-running worker. It runs jobs of every experiment
//! (or of `--exp`), waits for new ones (LISTEN/NOTIFY on PostgreSQL,
//! polling on SQLite), and stops gracefully on SIGTERM or Ctrl-C: it stops
//! claiming, puts its running jobs back, and exits 0 (see
//! [`djx_host::run::signals`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use djx_host::run::events::JobEvent;
use djx_host::run::signals::{self, Again};
use djx_host::run::worker::{RunOptions, Runner};
use djx_host::run::worker_id::this_worker;
use djx_host::runtime::Runtimes;
use djx_host::runtime::limits::parse_duration;

use super::common::{ExpRef, layout, open_store, parse_exp, resolve_exps};
use super::sweeps;

/// Arguments of `djx worker`.
#[derive(Args)]
pub struct WorkerArgs {
    /// Only these experiments (ids or `last`); default: all.
    #[arg(long = "exp", value_parser = parse_exp)]
    experiments: Vec<ExpRef>,
    /// Jobs to run at once.
    #[arg(long, default_value_t = 1)]
    slots: usize,
    /// Exit when no job is left unassigned, instead of waiting for more.
    #[arg(long)]
    until_empty: bool,
    /// How long a claim holds without a heartbeat (renewed every third of it).
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    lease: Duration,
    /// How long to wait for new work between checks.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    poll: Duration,
    /// Run every job, even those whose key matches a finished job.
    #[arg(long)]
    no_cache: bool,
}

/// Runs `djx worker`.
pub fn run(args: WorkerArgs) -> anyhow::Result<()> {
    let layout = layout()?;
    let store = open_store(&layout)?;
    let runtimes = Runtimes::new(layout.cache.clone(), layout.temp.clone());
    let cancel = Arc::new(AtomicBool::new(false));
    signals::stop_on_signals(cancel.clone(), Again::Ignore, || {
        eprintln!("djx: stopping: running jobs go back to the queue");
    })
    .context("installing the signal handler")?;
    let worker = this_worker();
    eprintln!("djx: worker {worker} with {} slot(s)", args.slots.max(1));
    let runner = Runner {
        store: store.as_ref(),
        layout: &layout,
        runtimes: &runtimes,
        worker,
        cancel: cancel.clone(),
        options: RunOptions {
            workers: args.slots.max(1),
            lease: args.lease,
            use_cache: !args.no_cache,
        },
    };
    let on_event = |event: JobEvent| {
        if let Some(line) = event.describe() {
            eprintln!("{line}");
        }
    };
    let (mut finished, mut failed) = (0u64, 0u64);
    while !cancel.load(Ordering::Relaxed) {
        let wanted = if args.experiments.is_empty() {
            None
        } else {
            Some(resolve_exps(store.as_ref(), &args.experiments)?)
        };
        // Only experiments with jobs left, or a sweep whose next rung may
        // be due: each one run loads its module and mounts its datasets,
        // which finished experiments do not need.
        let all = store.experiments()?;
        let all_ids: Vec<i64> = all.iter().map(|e| e.id).collect();
        let rungs = store.rungs(&all_ids)?;
        let growing = sweeps::latest(&rungs);
        let ids: Vec<i64> = all
            .iter()
            .filter(|e| wanted.as_ref().is_none_or(|w| w.contains(&e.id)))
            .filter(|e| {
                e.jobs.unassigned + e.jobs.assigned > 0
                    || growing.get(&e.id).is_some_and(|r| r.is_open())
            })
            .map(|e| e.id)
            .collect();
        if !ids.is_empty() {
            let summary = runner.run(&ids, &on_event)?;
            finished += summary.finished;
            failed += summary.failed.len() as u64;
        }
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        if args.until_empty {
            let left: u64 = store
                .experiments()?
                .iter()
                .filter(|e| ids.contains(&e.id))
                .map(|e| e.jobs.unassigned)
                .sum();
            if left == 0 {
                break;
            }
        }
        store.wait_for_work(args.poll)?;
    }
    println!("worker done: {finished} finished, {failed} failed");
    Ok(())
}
