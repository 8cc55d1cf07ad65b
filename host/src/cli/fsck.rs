//! `djx fsck`: re-hash every stored object and check every reference.

use clap::Args;
use djx_host::audit::fsck::fsck;

use super::common::{layout, open_store};
use super::{EXIT_JOB_FAILED, Exit};

/// Arguments of `djx fsck`.
#[derive(Args)]
pub struct FsckArgs {
    /// With remote content (`DJX_CONTENT`): download and re-hash every
    /// object in the bucket, not only check that it is there.
    #[arg(long)]
    content: bool,
}

/// Runs `djx fsck`.
pub fn run(args: FsckArgs) -> anyhow::Result<()> {
    let layout = layout()?;
    let store = open_store(&layout)?;
    let started = std::time::Instant::now();
    let report = fsck(store.as_ref(), &layout, args.content)?;
    for problem in &report.problems {
        println!("{problem}");
    }
    println!(
        "checked {} objects, {} jobs and {} result digests in {:.2}s: {}",
        report.objects,
        report.jobs,
        report.results,
        started.elapsed().as_secs_f64(),
        match report.problems.len() {
            0 => "no problems".to_owned(),
            1 => "1 problem".to_owned(),
            n => format!("{n} problems"),
        }
    );
    if !report.problems.is_empty() {
        return Err(Exit(EXIT_JOB_FAILED).into());
    }
    Ok(())
}
