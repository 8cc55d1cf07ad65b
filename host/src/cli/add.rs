//! `djx add`: parse, check and pin an experiment file, then write the
//! experiment and all its jobs in one transaction. `--dry-run` prints the
//! jobs instead, one at a time, and writes nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use djx_host::content::layout::Layout;
use djx_host::content::remote::fetch::publish_inputs;
use djx_host::experiment::resolve::{Pinning, Resolved, resolve};
use djx_host::runtime::Runtimes;
use djx_host::store::{JobRow, JobStatus, Store, StoreError};

use super::common::{compact, layout, open_store};
use super::{EXIT_USAGE, Exit};

/// Arguments of `djx add`.
#[derive(Args)]
pub struct AddArgs {
    /// The experiment file (YAML).
    file: PathBuf,
    /// Print `{"experiment": ID, "jobs": N}`.
    #[arg(long)]
    json: bool,
    /// The most jobs the grid may have (overrides the file's `max_jobs:`;
    /// default 10,000,000).
    #[arg(long, value_name = "N")]
    max_jobs: Option<u64>,
    /// Print the jobs `djx add` would create (labels and parameters, in
    /// grid order; rung 0 of a halving sweep) and their count; write
    /// nothing. With `--json`, one object per line as `djx jobs --json`.
    #[arg(long)]
    dry_run: bool,
}

/// Runs `djx add`.
pub fn run(args: AddArgs) -> anyhow::Result<()> {
    let layout = layout()?;
    if args.dry_run {
        return dry_run(&args, &layout);
    }
    let runtimes = Runtimes::new(layout.cache.clone(), layout.temp.clone());
    let store = open_store(&layout)?;
    let added = add(
        &args.file,
        args.max_jobs,
        &layout,
        &runtimes,
        store.as_ref(),
    )?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({"experiment": added.id, "jobs": added.jobs})
        );
    } else {
        println!("experiment {}: {}", added.id, added.describe());
    }
    Ok(())
}

/// An experiment `djx add` wrote.
pub struct Added {
    /// Its id.
    pub id: i64,
    /// How many jobs it has (for a halving sweep, in its first rung).
    pub jobs: u64,
    /// For a halving sweep: how many rungs it has, and the first's budget.
    pub sweep: Option<(usize, String)>,
}

impl Added {
    /// `36 jobs`, or `27 jobs in rung 0 of 4 (budget 10)`.
    pub fn describe(&self) -> String {
        match &self.sweep {
            None => format!("{} jobs", self.jobs),
            Some((rungs, budget)) => format!(
                "{} jobs in rung 0 of {rungs} of the halving sweep (budget {budget}); \
                 the next rungs are added as rungs end",
                self.jobs
            ),
        }
    }
}

/// Adds an experiment file. Errors in the file are printed here and end
/// with exit code 2. `max_jobs` overrides the file's ceiling on the job
/// count.
pub fn add(
    file: &Path,
    max_jobs: Option<u64>,
    layout: &Layout,
    runtimes: &Runtimes,
    store: &dyn Store,
) -> anyhow::Result<Added> {
    let resolved = checked(file, max_jobs, layout, runtimes, Pinning::Store)?;
    if let Some(remote) = layout.content.as_deref() {
        // Before the database: a worker must find every input of a job it
        // can claim. (What a failed add uploaded is only garbage: `djx gc`.)
        let started = std::time::Instant::now();
        let done = publish_inputs(remote, layout, &resolved.experiment)
            .with_context(|| format!("uploading the module and datasets to {}", remote.url()))?;
        eprintln!(
            "djx: content in {}: {} object(s) uploaded, {} input(s) already there ({:.1}s)",
            remote.url(),
            done.uploaded,
            done.present,
            started.elapsed().as_secs_f64()
        );
    }
    let n = resolved.job_count();
    let mut jobs = resolved.jobs().map(|job| job.map_err(|e| e.to_string()));
    let id = match store.add_experiment(&resolved.experiment, &mut jobs, &resolved.module) {
        Ok(id) => id,
        // A job of the grid that cannot be made: an error in the file.
        Err(StoreError::Input(message)) => {
            eprintln!("djx: error: {message}");
            return Err(Exit(EXIT_USAGE).into());
        }
        Err(e) => return Err(anyhow::Error::new(e).context("writing the experiment")),
    };
    let sweep = resolved.grid().halving().map(|h| {
        let budget = h.budgets.first().map(ToString::to_string);
        (h.budgets.len(), budget.unwrap_or_default())
    });
    Ok(Added { id, jobs: n, sweep })
}

/// Resolves `file`, printing its warnings; an error in the file is printed
/// here and ends with exit code 2.
fn checked(
    file: &Path,
    max_jobs: Option<u64>,
    layout: &Layout,
    runtimes: &Runtimes,
    pinning: Pinning,
) -> anyhow::Result<Resolved> {
    // Type-checking is the same under every profile; the native runtime
    // also leaves the common case compiled in the cache.
    let runtime = runtimes
        .get(Default::default())
        .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let resolved = match resolve(file, layout, &runtime, max_jobs, pinning) {
        Ok(resolved) => resolved,
        Err(e) => {
            eprintln!("djx: error: {e}");
            return Err(Exit(EXIT_USAGE).into());
        }
    };
    for warning in &resolved.warnings {
        eprintln!("djx: warning: {warning}");
    }
    Ok(resolved)
}

/// `djx add --dry-run`: the jobs, one line each as they are made, then
/// their count. Nothing is written: the inputs are digested, not stored,
/// and the module is compiled into a throwaway cache.
fn dry_run(args: &AddArgs, layout: &Layout) -> anyhow::Result<()> {
    let cache = tempfile::tempdir()?;
    let runtimes = Runtimes::new(cache.path().to_path_buf(), layout.temp.clone());
    let resolved = checked(
        &args.file,
        args.max_jobs,
        layout,
        &runtimes,
        Pinning::DryRun,
    )?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut count = 0u64;
    for (position, job) in resolved.jobs().enumerate() {
        let job = match job {
            Ok(job) => job,
            Err(e) => {
                out.flush()?;
                eprintln!("djx: error: {e}");
                return Err(Exit(EXIT_USAGE).into());
            }
        };
        let row = JobRow {
            id: 0,
            experiment_id: 0,
            position: position as i64,
            labels: serde_json::from_str(&job.labels)?,
            parameter: serde_json::from_str(&job.parameter)?,
            status: JobStatus::Unassigned,
            attempt: 0,
            lost: 0,
            worker: None,
            started_at: None,
            finished_at: None,
            duration_ms: None,
            reason: None,
            key: Some(job.key),
            result_digest: None,
            cached_from: None,
        };
        if args.json {
            // As `djx jobs --json` prints a job, without the ids it has not got.
            let mut value = serde_json::to_value(&row)?;
            value["id"] = serde_json::Value::Null;
            value["experiment_id"] = serde_json::Value::Null;
            // As an I/O error, so that a closed pipe (`| head`) ends quietly.
            serde_json::to_writer(&mut out, &value).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        } else {
            writeln!(
                out,
                "{position}  {}  {}",
                compact(&row.labels),
                job.parameter
            )?;
        }
        count += 1;
    }
    let rung = match resolved.grid().halving() {
        Some(h) => format!(
            " (rung 0 of {} of the halving sweep, at budget {})",
            h.budgets.len(),
            h.budgets
                .first()
                .map(ToString::to_string)
                .unwrap_or_default()
        ),
        None => String::new(),
    };
    let summary = format!("dry run: {count} jobs{rung}; nothing was written");
    if args.json {
        out.flush()?;
        eprintln!("djx: {summary}");
    } else {
        writeln!(out, "{summary}")?;
        out.flush()?;
    }
    Ok(())
}
