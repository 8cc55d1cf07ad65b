//! `djx lineage`: every job and experiment that produced or reused an
//! artifact, with their inputs; or, for a dataset or module digest, every
//! experiment that used it. The lineage itself is the view the web's
//! lineage page shows ([`djx_host::views::lineage`]); this prints it.

use clap::Args;
use djx_host::views::lineage::{InputUse, JobUse, Lineage, check_prefix};

use super::common::{compact, layout, open_store};

/// Arguments of `djx lineage`.
#[derive(Args)]
pub struct LineageArgs {
    /// An artifact digest (or a prefix of at least 8 hex characters); a
    /// dataset or module digest lists the experiments that used it.
    digest: String,
}

/// Runs `djx lineage`.
pub fn run(args: LineageArgs) -> anyhow::Result<()> {
    let prefix = check_prefix(&args.digest)?;
    let layout = layout()?;
    let store = open_store(&layout)?;
    let lineage = Lineage::load(store.as_ref(), &prefix)?;
    for artifact in &lineage.artifacts {
        println!("artifact {} ({} bytes)", artifact.digest, artifact.size);
        println!("produced by");
        for job in &artifact.produced_by {
            print_job(job);
        }
        if !artifact.reused_by.is_empty() {
            println!("reused from the run-cache by");
            for job in &artifact.reused_by {
                print_job(job);
            }
        }
    }
    for input in &lineage.inputs {
        print_input(input);
    }
    Ok(())
}

fn print_job(u: &JobUse) {
    println!(
        "  job {} attempt {} as {:?}  experiment {} {:?}{}",
        u.job_id,
        u.attempt,
        u.name,
        u.experiment_id,
        u.experiment_name,
        u.source.map_or_else(String::new, |(j, a)| format!(
            "  (result of job {j} attempt {a})"
        ))
    );
    if let Some(key) = u.key {
        println!("    key        {key}");
    }
    println!("    module     {}", u.module);
    for d in &u.datasets {
        println!("    {:<10} {} {}", d.role(), d.name, d.digest);
    }
    println!("    parameter  {}", compact(&u.parameter));
    println!("    labels     {}", compact(&u.labels));
    println!("    source     {} {}", u.source_path, u.source_digest);
    if let Some(git) = &u.git {
        println!("    git        {git}");
    }
}

fn print_input(input: &InputUse) {
    let role = match &input.name {
        Some(name) => format!("{} {name:?} {}", input.role, input.digest),
        None => format!("{} {}", input.role, input.digest),
    };
    println!(
        "{role} is an input of experiment {} {:?} ({} jobs: {} finished, {} failed)",
        input.experiment_id,
        input.experiment_name,
        input.jobs.total(),
        input.jobs.finished,
        input.jobs.failed
    );
}
