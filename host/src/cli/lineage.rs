//! `djx lineage`: every job and experiment that produced or reused an
//! artifact, with their inputs; or, for a dataset or module digest, every
//! experiment that used it.

use std::collections::BTreeMap;

use anyhow::bail;
use clap::Args;
use djx_host::store::{ArtifactUse, Store};

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
    let prefix = args.digest.to_ascii_lowercase();
    if prefix.len() < 8 || prefix.len() > 64 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!(
            "{:?} is not a digest: give at least 8 of its hex characters",
            args.digest
        );
    }
    let layout = layout()?;
    let store = open_store(&layout)?;
    let uses = store.artifact_uses(&prefix)?;
    let mut by_digest: BTreeMap<String, Vec<ArtifactUse>> = BTreeMap::new();
    for u in uses {
        by_digest.entry(u.digest.to_hex()).or_default().push(u);
    }
    let mut found = !by_digest.is_empty();
    for (digest, uses) in &by_digest {
        let first = &uses[0];
        println!("artifact {digest} ({} bytes)", first.size);
        let (made, reused): (Vec<&ArtifactUse>, Vec<&ArtifactUse>) =
            uses.iter().partition(|u| u.source.is_none());
        println!("produced by");
        for u in made {
            print_job(store.as_ref(), u, None)?;
        }
        if !reused.is_empty() {
            println!("reused from the run-cache by");
            for u in reused {
                print_job(store.as_ref(), u, u.source)?;
            }
        }
    }
    found |= print_input_uses(store.as_ref(), &prefix)?;
    if !found {
        bail!("no artifact, dataset or module with a digest starting {prefix} is in the store");
    }
    Ok(())
}

fn print_job(store: &dyn Store, u: &ArtifactUse, source: Option<(i64, i64)>) -> anyhow::Result<()> {
    let job = store.job(u.job_id)?;
    let exp = store.experiment(u.experiment_id)?;
    let locked = &exp.locked;
    println!(
        "  job {} attempt {} as {:?}  experiment {} {:?}{}",
        u.job_id,
        u.attempt,
        u.name,
        exp.id,
        locked.name,
        source.map_or_else(String::new, |(j, a)| format!(
            "  (result of job {j} attempt {a})"
        ))
    );
    if let Some(key) = job.key {
        println!("    key        {key}");
    }
    println!("    module     {}", locked.module_digest);
    for d in &locked.datasets {
        println!("    dataset    {} {}", d.name, d.digest);
    }
    println!("    parameter  {}", compact(&job.parameter));
    println!("    labels     {}", compact(&job.labels));
    println!(
        "    source     {} {}",
        locked.source_path, locked.source_digest
    );
    if let Some(git) = &locked.provenance.experiment_git {
        println!("    git        {git}");
    }
    Ok(())
}

/// Lists experiments whose module or a dataset has a digest starting with
/// `prefix`. Returns whether there was any.
fn print_input_uses(store: &dyn Store, prefix: &str) -> anyhow::Result<bool> {
    let mut found = false;
    for summary in store.experiments()? {
        let exp = store.experiment(summary.id)?;
        let locked = &exp.locked;
        let mut roles = Vec::new();
        if locked.module_digest.to_hex().starts_with(prefix) {
            roles.push(format!("module {}", locked.module_digest));
        }
        for d in &locked.datasets {
            if d.digest.to_hex().starts_with(prefix) {
                roles.push(format!("dataset {:?} {}", d.name, d.digest));
            }
        }
        for role in roles {
            found = true;
            println!(
                "{role} is an input of experiment {} {:?} ({} jobs: {} finished, {} failed)",
                exp.id,
                locked.name,
                summary.jobs.total(),
                summary.jobs.finished,
                summary.jobs.failed
            );
        }
    }
    Ok(found)
}
