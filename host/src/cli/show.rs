//! `djx show`: everything about one job: parameters, inputs with their
//! digests, records, artifacts and log.

use clap::Args;
use serde_json::json;

use super::common::{cell, compact, duration_ms, layout, open_store};

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
    let job = store.job(args.job)?;
    let exp = store.experiment(job.experiment_id)?;
    let records = store.attempt_records(job.id, job.attempt)?;
    let artifacts = store.attempt_artifacts(job.id, job.attempt)?;
    let log = store.attempt_log(job.id, job.attempt)?;
    if args.json {
        let value = json!({
            "job": job,
            "experiment": {"id": exp.id, "name": exp.spec.name, "source": exp.spec.source_path,
                           "source_digest": exp.spec.source_digest, "determinism": exp.spec.determinism},
            "module": exp.spec.module_digest,
            "datasets": exp.spec.datasets,
            "limits": exp.spec.limits,
            "records": records,
            "artifacts": artifacts,
            "log": String::from_utf8_lossy(&log),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!(
        "job {}  (experiment {} {:?}, position {})",
        job.id, exp.id, exp.spec.name, job.position
    );
    println!(
        "status     {}  attempt {}  {}",
        job.status,
        job.attempt,
        duration_ms(job.duration_ms)
    );
    if let Some(worker) = &job.worker {
        println!("worker     {worker}");
    }
    if let Some(reason) = &job.reason {
        println!("reason     {}", reason.replace('\n', "\n           "));
    }
    println!("labels     {}", compact(&job.labels));
    println!(
        "parameter  {}",
        serde_json::to_string_pretty(&job.parameter)?.replace('\n', "\n           ")
    );
    println!("module     {}", exp.spec.module_digest);
    for d in &exp.spec.datasets {
        println!(
            "dataset    {} {} {}",
            d.name,
            d.digest,
            d.file
                .as_deref()
                .map_or("(directory)".to_owned(), |f| format!("({f})"))
        );
    }
    println!(
        "source     {} {}",
        exp.spec.source_path, exp.spec.source_digest
    );
    println!("engine     determinism={}", exp.spec.determinism);
    println!("limits     {}", exp.spec.limits);
    println!("records    {}", records.len());
    for r in &records {
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
    for a in &artifacts {
        println!("  {} {} ({} bytes)", a.name, a.digest, a.size);
    }
    if !log.is_empty() {
        println!("log");
        for line in String::from_utf8_lossy(&log).lines() {
            println!("  {line}");
        }
    }
    Ok(())
}
