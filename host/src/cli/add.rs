//! `djx add`: parse, check and pin an experiment file, then write the
//! experiment and all its jobs in one transaction.

use std::path::{Path, PathBuf};

use clap::Args;
use djx_host::layout::Layout;
use djx_host::resolve::resolve;
use djx_host::runtime::Runtimes;
use djx_host::store::{Store, StoreError};

use super::common::{layout, open_store};
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
}

/// Runs `djx add`.
pub fn run(args: AddArgs) -> anyhow::Result<()> {
    let layout = layout()?;
    let runtimes = Runtimes::new(layout.cache.clone(), layout.temp.clone());
    let store = open_store(&layout)?;
    let (id, jobs) = add(
        &args.file,
        args.max_jobs,
        &layout,
        &runtimes,
        store.as_ref(),
    )?;
    if args.json {
        println!("{}", serde_json::json!({"experiment": id, "jobs": jobs}));
    } else {
        println!("experiment {id}: {jobs} jobs");
    }
    Ok(())
}

/// Adds an experiment file; returns its id and job count. Errors in the file
/// are printed here and end with exit code 2. `max_jobs` overrides the
/// file's ceiling on the job count.
pub fn add(
    file: &Path,
    max_jobs: Option<u64>,
    layout: &Layout,
    runtimes: &Runtimes,
    store: &dyn Store,
) -> anyhow::Result<(i64, u64)> {
    // Type-checking is the same under every profile; the native runtime
    // also leaves the common case compiled in the cache.
    let runtime = runtimes
        .get(Default::default())
        .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let resolved = match resolve(file, layout, &runtime, max_jobs) {
        Ok(resolved) => resolved,
        Err(e) => {
            eprintln!("djx: error: {e}");
            return Err(Exit(EXIT_USAGE).into());
        }
    };
    for warning in &resolved.warnings {
        eprintln!("djx: warning: {warning}");
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
    Ok((id, n))
}
