//! `djx jobs`: the jobs of an experiment, in grid order; for a halving
//! sweep, then its rungs.

use clap::Args;

use super::common::{ExpRef, compact, duration_ms, layout, open_store, parse_exp, resolve_exps};
use super::{sweeps, table};

/// Arguments of `djx jobs`.
#[derive(Args)]
pub struct JobsArgs {
    /// The experiment (an id, or `last`).
    #[arg(value_parser = parse_exp)]
    experiment: ExpRef,
    /// One JSON object per line, in job order.
    #[arg(long)]
    json: bool,
}

/// Runs `djx jobs`.
pub fn run(args: JobsArgs) -> anyhow::Result<()> {
    let layout = layout()?;
    let store = open_store(&layout)?;
    let [exp] = resolve_exps(store.as_ref(), &[args.experiment])?[..] else {
        unreachable!("one reference gives one id")
    };
    let jobs = store.jobs(exp)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        for job in &jobs {
            serde_json::to_writer(&mut out, job)?;
            std::io::Write::write_all(&mut out, b"\n")?;
        }
        return Ok(());
    }
    let header = [
        "id", "key", "labels", "status", "attempt", "duration", "result", "reason",
    ]
    .map(String::from);
    let short = |d: Option<djx_host::digest::Digest>| {
        d.map_or_else(String::new, |d| d.to_hex()[..12].to_owned())
    };
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|j| {
            vec![
                j.id.to_string(),
                short(j.key),
                compact(&j.labels),
                j.status.to_string(),
                j.attempt.to_string(),
                match j.cached_from {
                    Some(source) => format!("cached from job {source}"),
                    None => duration_ms(j.duration_ms),
                },
                short(j.result_digest),
                j.reason
                    .as_deref()
                    .and_then(|r| r.lines().next())
                    .unwrap_or("")
                    .to_owned(),
            ]
        })
        .collect();
    table::write(&mut out, &header, &rows, 80)?;
    for line in sweeps::rung_lines(store.as_ref(), exp)? {
        std::io::Write::write_all(&mut out, format!("{line}\n").as_bytes())?;
    }
    Ok(())
}
