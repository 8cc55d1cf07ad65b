//! `djx jobs`: the jobs of an experiment, in grid order; for a halving
//! sweep, then its rungs.

use std::io::Write;

use clap::Args;
use djx_host::store::StoreError;

use super::common::{ExpRef, compact, duration_ms, layout, open_store, parse_exp, resolve_exps};
use super::sweeps;
use super::table::TableStream;

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
    let mut out = std::io::stdout().lock();
    // Jobs stream from the store: the first line comes at once, and memory
    // holds a thousand rows at most (the table aligns on them).
    let mut write_error = None;
    let mut failed = |e: std::io::Error| {
        write_error = Some(e);
        StoreError::Config("writing the output failed".into())
    };
    if args.json {
        let mut line = Vec::new();
        let read = store.each_job(exp, &mut |job| {
            line.clear();
            serde_json::to_writer(&mut line, &job).map_err(|e| failed(e.into()))?;
            line.push(b'\n');
            out.write_all(&line).map_err(&mut failed)
        });
        return finish(read, write_error);
    }
    let header = [
        "id", "key", "labels", "status", "attempt", "duration", "result", "reason",
    ]
    .map(String::from);
    let short = |d: Option<djx_host::digest::Digest>| {
        d.map_or_else(String::new, |d| d.to_hex()[..12].to_owned())
    };
    let mut table = TableStream::new(&mut out, &header, 80);
    let read = store.each_job(exp, &mut |j| {
        let row = vec![
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
        ];
        table.push(row).map_err(&mut failed)
    });
    let read = read.and_then(|()| table.finish().map_err(&mut failed));
    finish(read, write_error)?;
    for line in sweeps::rung_lines(store.as_ref(), exp)? {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The result of a streamed listing: the write error that stopped it (a
/// closed pipe, say) if any, else the store's.
fn finish(read: Result<(), StoreError>, write: Option<std::io::Error>) -> anyhow::Result<()> {
    match write {
        Some(e) => Err(e.into()),
        None => Ok(read?),
    }
}
