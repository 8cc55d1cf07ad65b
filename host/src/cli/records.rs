//! `djx records`: a tidy table, one row per record, like the original djx's
//! `get_exp_records_df`. Columns: `exp_id, job_id, event, labels.*,
//! context.*, metrics.*, artifacts.*`, each group's keys sorted.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use djx_host::store::RecordRow;
use serde_json::{Map, Value};

use super::common::{ExpRef, cell, layout, open_store, output, parse_exp, resolve_exps};
use super::table;

/// Output formats.
#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Aligned columns for the terminal.
    Table,
    /// CSV with a header row (pandas reads it as is).
    Csv,
    /// One JSON object per line, with the same columns.
    Json,
}

/// Arguments of `djx records`.
#[derive(Args)]
pub struct RecordsArgs {
    /// Experiments (ids, or `last`).
    #[arg(value_parser = parse_exp, required = true)]
    experiments: Vec<ExpRef>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write to this file instead of stdout.
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
}

/// Runs `djx records`.
pub fn run(args: RecordsArgs) -> anyhow::Result<()> {
    let layout = layout()?;
    let store = open_store(&layout)?;
    let ids = resolve_exps(store.as_ref(), &args.experiments)?;
    let records = store.records(&ids)?;
    let (columns, rows) = tidy(&records);
    let mut out = output(&args.output)?;
    match args.format {
        Format::Table => {
            let cells: Vec<Vec<String>> =
                rows.iter().map(|r| r.iter().map(cell).collect()).collect();
            table::write(&mut out, &columns, &cells, 40)?;
        }
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record(&columns)?;
            for row in &rows {
                csv.write_record(row.iter().map(cell))?;
            }
            csv.flush()?;
            return Ok(());
        }
        Format::Json => {
            for row in rows {
                let object: Map<String, Value> = columns.iter().cloned().zip(row).collect();
                serde_json::to_writer(&mut out, &object)?;
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// The column names and one row of values per record.
pub fn tidy(records: &[RecordRow]) -> (Vec<String>, Vec<Vec<Value>>) {
    let keys = |f: &dyn Fn(&RecordRow) -> &Map<String, Value>| -> Vec<String> {
        let set: BTreeSet<&String> = records.iter().flat_map(|r| f(r).keys()).collect();
        set.into_iter().cloned().collect()
    };
    let labels = keys(&|r| &r.labels);
    let context = keys(&|r| &r.context);
    let metrics = keys(&|r| &r.metrics);
    let artifacts = keys(&|r| &r.artifacts);
    let mut columns: Vec<String> = vec!["exp_id".into(), "job_id".into(), "event".into()];
    for (prefix, names) in [
        ("labels", &labels),
        ("context", &context),
        ("metrics", &metrics),
        ("artifacts", &artifacts),
    ] {
        columns.extend(names.iter().map(|k| format!("{prefix}.{k}")));
    }
    let rows = records
        .iter()
        .map(|r| {
            let mut row = vec![
                Value::from(r.exp_id),
                Value::from(r.job_id),
                Value::from(r.event.clone()),
            ];
            for (names, map) in [
                (&labels, &r.labels),
                (&context, &r.context),
                (&metrics, &r.metrics),
                (&artifacts, &r.artifacts),
            ] {
                row.extend(
                    names
                        .iter()
                        .map(|k| map.get(k).cloned().unwrap_or(Value::Null)),
                );
            }
            row
        })
        .collect();
    (columns, rows)
}
