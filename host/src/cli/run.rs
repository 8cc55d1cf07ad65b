//! `djx run`: run the jobs of experiments (or of a file, added first), with a
//! progress bar and a summary.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use std::time::Duration;

use anyhow::Context;
use clap::Args;
use djx_host::content::layout::Layout;
use djx_host::run::events::{JobEvent, RunSummary, rung_text};
use djx_host::run::signals::{self, Again};
use djx_host::run::worker::{RunOptions, Runner};
use djx_host::run::worker_id::this_worker;
use djx_host::runtime::Runtimes;
use djx_host::runtime::limits::parse_duration;
use djx_host::store::Store;
use djx_host::sync::Unpoisoned;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::common::{layout, open_store, parse_exp, resolve_exps};
use super::{EXIT_INTERRUPTED, EXIT_JOB_FAILED, Exit, add, sweeps};

/// Arguments of `djx run`.
#[derive(Args)]
pub struct RunArgs {
    /// Experiment ids (or `last`), or one experiment file to add and run.
    #[arg(required = true)]
    targets: Vec<String>,
    /// Jobs to run at once in this process.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// How long a claim holds without a heartbeat (renewed every third of it).
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    lease: Duration,
    /// No progress bar (it is also off when stderr is not a terminal).
    #[arg(long)]
    no_progress: bool,
    /// Run every job, even those whose key matches a finished job (by
    /// default they reuse that job's result: the run-cache).
    #[arg(long)]
    no_cache: bool,
    /// For an experiment file: the most jobs its grid may have (overrides
    /// the file's `max_jobs:`; default 10,000,000).
    #[arg(long, value_name = "N")]
    max_jobs: Option<u64>,
}

/// Runs `djx run`.
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let layout = layout()?;
    let runtimes = Runtimes::new(layout.cache.clone(), layout.temp.clone());
    let (store, ids) = experiments(&args, &layout, &runtimes)?;
    let cancel = Arc::new(AtomicBool::new(false));
    signals::stop_on_signals(
        cancel.clone(),
        Again::Exit(i32::from(EXIT_INTERRUPTED)),
        || {
            eprintln!(
                "\ndjx: stopping: running jobs go back to the queue (Ctrl-C again to quit at once)"
            )
        },
    )
    .context("installing the Ctrl-C handler")?;

    let progress = Progress::new(store.as_ref(), &ids, args.no_progress)?;
    let on_event = |event: JobEvent| progress.event(event);
    let options = RunOptions {
        workers: args.workers.max(1),
        lease: args.lease,
        use_cache: !args.no_cache,
    };
    let runner = Runner {
        store: store.as_ref(),
        layout: &layout,
        runtimes: &runtimes,
        worker: this_worker(),
        cancel,
        options,
    };
    let summary = runner.run(&ids, &on_event)?;
    progress.bar.finish_and_clear();
    print_summary(store.as_ref(), &ids, &summary)?;
    if summary.cancelled {
        return Err(Exit(EXIT_INTERRUPTED).into());
    }
    if !summary.failed.is_empty() || !summary.stopped.is_empty() {
        return Err(Exit(EXIT_JOB_FAILED).into());
    }
    Ok(())
}

/// The experiments `djx run` runs: its ids, and its files added first.
/// Every target is checked before the store is opened.
fn experiments(
    args: &RunArgs,
    layout: &Layout,
    runtimes: &Runtimes,
) -> anyhow::Result<(Box<dyn Store>, Vec<i64>)> {
    // Validate before opening anything: every target is an id or a file.
    let mut refs = Vec::new();
    let mut files = Vec::new();
    for t in &args.targets {
        match parse_exp(t) {
            Ok(r) => refs.push(r),
            Err(_) if Path::new(t).is_file() => files.push(t.clone()),
            Err(e) => anyhow::bail!("{e}, and no file {t:?} exists"),
        }
    }
    let store = open_store(layout)?;
    let mut ids = resolve_exps(store.as_ref(), &refs)?;
    for file in files {
        let added = add::add(
            Path::new(&file),
            args.max_jobs,
            layout,
            runtimes,
            store.as_ref(),
        )?;
        eprintln!(
            "djx: added experiment {} ({}) from {file}",
            added.id,
            added.describe()
        );
        ids.push(added.id);
    }
    ids.dedup();

    Ok((store, ids))
}

/// The progress bar of a run, and what it shows besides the count: the
/// rung each sweep is at, failed and running jobs.
struct Progress {
    bar: ProgressBar,
    failed: AtomicU64,
    running: AtomicU64,
    rungs: Mutex<BTreeMap<i64, String>>,
}

impl Progress {
    fn new(store: &dyn Store, ids: &[i64], hidden: bool) -> anyhow::Result<Progress> {
        let rungs = sweeps::latest(&store.rungs(ids)?)
            .into_iter()
            .map(|(id, r)| (id, rung_text(r.rung, r.rungs, None)))
            .collect();
        Ok(Progress {
            bar: progress_bar(pending(store, ids)?, hidden),
            failed: AtomicU64::new(0),
            running: AtomicU64::new(0),
            rungs: Mutex::new(rungs),
        })
    }

    /// Shows one event of the run.
    fn event(&self, event: JobEvent) {
        let bar = &self.bar;
        if event.is_notable()
            && let Some(line) = event.describe()
        {
            bar.suspend(|| eprintln!("{line}"));
        }
        match event {
            JobEvent::Cached { jobs } => bar.inc(jobs),
            JobEvent::Started { .. } => {
                self.running.fetch_add(1, Ordering::Relaxed);
            }
            JobEvent::Finished { .. } => {
                self.running.fetch_sub(1, Ordering::Relaxed);
                bar.inc(1);
            }
            JobEvent::Failed { .. } => {
                self.running.fetch_sub(1, Ordering::Relaxed);
                self.failed.fetch_add(1, Ordering::Relaxed);
                bar.inc(1);
            }
            JobEvent::Released { .. } => {
                self.running.fetch_sub(1, Ordering::Relaxed);
            }
            JobEvent::Rung {
                experiment,
                rung,
                rungs: of,
                jobs,
                budget,
                ..
            } => {
                bar.inc_length(jobs);
                self.rungs
                    .lock_unpoisoned()
                    .insert(experiment, rung_text(rung, of, Some(&budget)));
            }
            JobEvent::SweepStopped { .. } => {}
        }
        let at: Vec<String> = self.rungs.lock_unpoisoned().values().cloned().collect();
        bar.set_message(format!(
            "{}failed {}  running {}",
            at.iter().map(|a| format!("{a}  ")).collect::<String>(),
            self.failed.load(Ordering::Relaxed),
            self.running.load(Ordering::Relaxed)
        ));
    }
}

/// Jobs not yet finished or failed.
fn pending(store: &dyn Store, ids: &[i64]) -> anyhow::Result<u64> {
    Ok(store
        .experiments()?
        .iter()
        .filter(|e| ids.contains(&e.id))
        .map(|e| e.jobs.unassigned + e.jobs.assigned)
        .sum())
}

fn progress_bar(len: u64, hidden: bool) -> ProgressBar {
    let target = if hidden {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} done  {msg}  {per_sec}  ETA {eta}")
    {
        bar.set_style(style);
    }
    bar
}

fn print_summary(store: &dyn Store, ids: &[i64], s: &RunSummary) -> anyhow::Result<()> {
    let secs = s.elapsed.as_secs_f64();
    let ran = s.finished + s.failed.len() as u64;
    println!(
        "ran {ran} jobs in {secs:.2}s ({:.1} jobs/s): {} finished, {} failed{}",
        if secs > 0.0 { ran as f64 / secs } else { 0.0 },
        s.finished,
        s.failed.len(),
        if s.released > 0 {
            format!(", {} put back unfinished", s.released)
        } else {
            String::new()
        }
    );
    if s.cached > 0 {
        println!(
            "{} jobs from the run-cache: their key matched a finished job, whose result they reuse \
             (`djx run --no-cache` reruns them)",
            s.cached
        );
    }
    let mut out = std::io::stdout().lock();
    let list: Vec<_> = store
        .experiments()?
        .into_iter()
        .filter(|e| ids.contains(&e.id))
        .collect();
    let submissions = store.submissions(ids)?;
    let rungs = store.rungs(ids)?;
    super::ls::write_table(&mut out, &list, &submissions, &rungs)?;
    for line in sweeps::summary_lines(store, ids)? {
        writeln!(out, "{line}")?;
    }
    for (job, reason) in s.failed.iter().take(10) {
        println!("job {job} failed: {}", reason.lines().next().unwrap_or(""));
    }
    if s.failed.len() > 10 {
        println!(
            "… and {} more failed jobs (`djx jobs ID` lists them)",
            s.failed.len() - 10
        );
    }
    Ok(())
}
