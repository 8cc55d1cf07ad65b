//! `djx show`: everything about one job: its key and every input digest,
//! where its experiment came from (and the cluster jobs submitted for it),
//! its attempts with their result digests, and its records, artifacts and
//! log.

use clap::Args;
use djx_host::experiment::locked::LockedExperiment;
use djx_host::experiment::provenance::Provenance;
use djx_host::records::ArtifactInfo;
use djx_host::store::{AttemptRow, RecordRow, Submission};
use djx_host::views::JobDetail;
use djx_host::views::format::duration_ms;

use super::common::{cell, compact, layout, open_store};

/// Arguments of `djx show`.
#[derive(Args)]
pub struct ShowArgs {
    /// The job id.
    job: i64,
    /// One JSON object.
    #[arg(long)]
    json: bool,
}

/// Runs `djx show`.
pub fn run(args: ShowArgs) -> anyhow::Result<()> {
    let layout = layout()?;
    let store = open_store(&layout)?;
    // The same reading (and JSON) as the web UI's job page: a job from the
    // run-cache shows the records of the attempt it reuses.
    let detail = JobDetail::load(store.as_ref(), args.job, None)?;
    if args.json {
        let mut value = detail.to_json();
        if let Some(map) = value.as_object_mut() {
            map.remove("records_total");
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let JobDetail {
        job,
        experiment: exp,
        attempts,
        submissions,
        records,
        artifacts,
        log,
        ..
    } = detail;
    let locked = &exp.locked;
    let indent = |text: &str| text.replace('\n', "\n           ");
    println!(
        "job {}  (experiment {} {:?}, position {})",
        job.id, exp.id, locked.name, job.position
    );
    println!(
        "status     {}  attempt {}  {}",
        job.status,
        job.attempt,
        duration_ms(job.duration_ms)
    );
    match &job.key {
        Some(key) => println!("key        {key}"),
        None => println!("key        (none: added before djx locked jobs)"),
    }
    if let Some(reason) = &job.reason {
        println!("reason     {}", indent(reason));
    }
    println!("labels     {}", compact(&job.labels));
    println!(
        "parameter  {}",
        indent(&serde_json::to_string_pretty(&job.parameter)?)
    );
    print_inputs(locked);
    print_source(&locked.provenance, locked);
    print_attempts(&submissions, &attempts);
    print_outputs(&records, &artifacts, &log);
    Ok(())
}

/// The module, datasets, limits and engine a job ran with.
fn print_inputs(locked: &LockedExperiment) {
    println!("inputs");
    println!("  module   {}", locked.module_digest);
    for d in &locked.datasets {
        println!(
            "  {:<8} {} {} {}",
            d.role(),
            d.name,
            d.digest,
            d.file
                .as_deref()
                .map_or("(directory)".to_owned(), |f| format!("({f})"))
        );
    }
    for arg in &locked.invocation.args {
        println!("  arg      {arg}");
    }
    for (name, value) in &locked.invocation.env {
        println!("  env      {name}={value}");
    }
    println!("  limits   {}", locked.limits);
    println!("  engine   {}", locked.engine);
}

/// Where the experiment came from: its file, what it extends, git, how
/// the module was built, and who added it.
fn print_source(p: &Provenance, locked: &LockedExperiment) {
    println!("source");
    println!("  file     {} {}", locked.source_path, locked.source_digest);
    // The files it extends (the first of `files` is the file itself).
    for f in p.files.iter().skip(1) {
        println!("  extends  {} {}", f.path, f.digest);
    }
    match (&p.experiment_git, &p.module_git) {
        (Some(e), Some(m)) if e == m => println!("  git      {e}"),
        (e, m) => {
            if let Some(e) = e {
                println!("  git      {e} (experiment file)");
            }
            if let Some(m) = m {
                println!("  git      {m} (module)");
            }
        }
    }
    if let Some(src) = &p.module_source {
        println!(
            "  built    from {} source {} (module `{}`) by {}, kit {}",
            src.language, src.source, src.entry, src.builder, src.kit
        );
    }
    if !p.djx_version.is_empty() {
        println!(
            "  added by djx {} on {} ({}, {})",
            p.djx_version, p.host.hostname, p.host.os, p.host.arch
        );
    }
}

/// The cluster jobs submitted for the experiment, and the job's attempts.
fn print_attempts(submissions: &[Submission], attempts: &[AttemptRow]) {
    for s in submissions {
        println!(
            "submitted  {} job {} at {}, {} worker(s) x {} slot(s): {}",
            s.scheduler, s.scheduler_job, s.submitted_at, s.workers, s.slots, s.command
        );
    }
    println!("attempts   {}", attempts.len());
    for a in attempts {
        let result = a
            .result_digest
            .map_or_else(|| "no result digest".to_owned(), |d| d.to_string());
        let cached = a.source.map_or_else(String::new, |(j, n)| {
            format!("  from the run-cache: job {j} attempt {n}")
        });
        println!(
            "  #{} {} {} {} {}{cached}",
            a.attempt,
            a.status,
            duration_ms(a.duration_ms),
            a.worker.as_deref().unwrap_or(""),
            result
        );
    }
}

/// The job's records, artifacts and log.
fn print_outputs(records: &[RecordRow], artifacts: &[ArtifactInfo], log: &[u8]) {
    println!("records    {}", records.len());
    for r in records {
        let metrics: Vec<String> = r
            .metrics
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect();
        println!(
            "  {}  {}  {}",
            r.event,
            compact(&serde_json::Value::Object(r.context.clone())),
            metrics.join(" ")
        );
    }
    println!("artifacts  {}", artifacts.len());
    for a in artifacts {
        println!("  {} {} ({} bytes)", a.name, a.digest, a.size);
    }
    if !log.is_empty() {
        println!("log");
        for line in String::from_utf8_lossy(log).lines() {
            println!("  {line}");
        }
    }
}
