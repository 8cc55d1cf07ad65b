//! `djx jobs`: the jobs of an experiment, in grid order; in the table, for
//! a halving sweep, then its rungs.
//!
//! The table and `--json` show each job as the store has it; CSV and
//! Parquet are tidy, one column per field, label and parameter (see
//! [`djx_host::export::job_columns`]).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use djx_host::export::job_columns::JobColumns;
use djx_host::export::parquet::{ParquetWriteError, ParquetWriter};
use djx_host::store::Store;
use djx_host::views::format::duration_ms;

use super::common::{ExpRef, cell, compact, layout, open_store, parse_exp, resolve_exps};
use super::output::Output;
use super::sweeps;
use super::table::TableStream;
use super::write_error::WriteError;

/// Output formats.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Aligned columns for the terminal (aligned on the first 1,000 rows).
    Table,
    /// One JSON object per line, as the store has each job.
    Json,
    /// CSV with a header row: one column per field, label and parameter.
    Csv,
    /// Parquet with typed columns, as CSV (needs `-o FILE`, or a pipe).
    Parquet,
}

/// Arguments of `djx jobs`.
#[derive(Args)]
pub struct JobsArgs {
    /// The experiment (an id, or `last`).
    #[arg(value_parser = parse_exp, required_unless_present = "project")]
    experiment: Option<ExpRef>,
    /// Every experiment of this project instead, as one list (with an
    /// `experiment` column).
    #[arg(long, conflicts_with = "experiment")]
    project: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// One JSON object per line, in job order (`--format json`).
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Write to this file instead of stdout.
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
}

/// Runs `djx jobs`.
pub fn run(args: JobsArgs) -> anyhow::Result<()> {
    let layout = layout()?;
    let store = open_store(&layout)?;
    let format = if args.json { Format::Json } else { args.format };
    let exps: Vec<i64> = match (&args.project, args.experiment) {
        (Some(project), _) => {
            let ids: Vec<i64> = store
                .experiments()?
                .into_iter()
                .filter(|e| e.project.as_deref() == Some(project.as_str()))
                .map(|e| e.id)
                .collect();
            if ids.is_empty() {
                anyhow::bail!("no experiment has the project {project:?} (`djx ls` lists them)");
            }
            if matches!(format, Format::Csv | Format::Parquet) {
                anyhow::bail!(
                    "--project lists jobs as a table or JSON lines; for CSV or Parquet, \
                     export each experiment ({})",
                    ids.iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            ids
        }
        (None, Some(exp)) => resolve_exps(store.as_ref(), &[exp])?,
        (None, None) => unreachable!("clap requires one"),
    };
    let project = args.project.is_some();
    if let [exp] = exps[..] {
        match format {
            Format::Csv => return write_csv(store.as_ref(), exp, &args.output),
            Format::Parquet => return write_parquet(store.as_ref(), exp, &args.output),
            Format::Table | Format::Json => {}
        }
    }
    let mut out = Output::create(&args.output)?;
    // Jobs stream from the store: the first line comes at once, and memory
    // holds a thousand rows at most (the table aligns on them).
    let mut failed = WriteError::<std::io::Error>::default();
    if format == Format::Json {
        let mut line = Vec::new();
        let mut read = Ok(());
        for &exp in &exps {
            read = read.and_then(|()| {
                store.each_job(exp, &mut |job| {
                    line.clear();
                    serde_json::to_writer(&mut line, &job).map_err(|e| failed.keep(e.into()))?;
                    line.push(b'\n');
                    out.write_all(&line).map_err(|e| failed.keep(e))
                })
            });
        }
        failed.result(read)?;
        return out.commit();
    }
    let mut header: Vec<String> = [
        "id", "key", "labels", "status", "attempt", "duration", "result", "reason",
    ]
    .map(String::from)
    .to_vec();
    if project {
        header.insert(1, "experiment".into());
    }
    let short = |d: Option<djx_host::content::digest::Digest>| {
        d.map_or_else(String::new, |d| d.to_hex()[..12].to_owned())
    };
    let mut table = TableStream::new(&mut out, &header, 80);
    let mut read = Ok(());
    for &exp in &exps {
        read = read.and_then(|()| {
            store.each_job(exp, &mut |j| {
                let mut row = vec![
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
                if project {
                    row.insert(1, j.experiment_id.to_string());
                }
                table.push(row).map_err(|e| failed.keep(e))
            })
        });
    }
    let read = read.and_then(|()| table.finish().map_err(|e| failed.keep(e)));
    failed.result(read)?;
    for &exp in &exps {
        for line in sweeps::rung_lines(store.as_ref(), exp)? {
            writeln!(out, "{line}")?;
        }
    }
    out.commit()
}

/// Writes the jobs of `exp` as CSV: one column per field, label and
/// parameter leaf.
fn write_csv(store: &dyn Store, exp: i64, path: &Option<PathBuf>) -> anyhow::Result<()> {
    let columns = JobColumns::of(store, exp)?;
    let mut csv = csv::Writer::from_writer(Output::create(path)?);
    csv.write_record(columns.names())?;
    let mut failed = WriteError::default();
    let read = store.each_job(exp, &mut |job| {
        let row = columns.row(&job);
        csv.write_record(row.iter().map(cell))
            .map_err(|e| failed.keep(std::io::Error::from(e)))
    });
    failed.result(read)?;
    csv.into_inner().map_err(|e| e.into_error())?.commit()
}

/// Writes the jobs of `exp` as Parquet, with the columns of the CSV export,
/// typed.
fn write_parquet(store: &dyn Store, exp: i64, path: &Option<PathBuf>) -> anyhow::Result<()> {
    let columns = JobColumns::of(store, exp)?;
    let types: Vec<_> = columns
        .names()
        .iter()
        .cloned()
        .zip(columns.types().iter().copied())
        .collect();
    let mut parquet = ParquetWriter::new(Output::binary(path, "Parquet")?, &types)?;
    let mut failed = WriteError::default();
    let read = store.each_job(exp, &mut |job| {
        let mut row = || -> Result<(), ParquetWriteError> {
            for value in columns.row(&job) {
                parquet.value(&value)?;
            }
            parquet.end_row()
        };
        row().map_err(|e| failed.keep(e))
    });
    failed.result(read)?;
    parquet.finish()?.commit()
}
