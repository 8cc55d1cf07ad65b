//! `djx records`: a tidy table, one row per record, like the original djx's
//! `get_exp_records_df`. Columns: `exp_id, job_id, event, labels.*,
//! context.*, metrics.*, artifacts.*`, each group's keys sorted.
//!
//! Records stream from the store to the output one at a time (see
//! [`djx_host::export`]): memory does not grow with the experiment.

use std::borrow::Cow;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use djx_host::export::columns::{FIXED, Row, Span};
use djx_host::export::parquet::{ParquetWriteError, ParquetWriter};
use djx_host::export::{RecordColumns, read_ahead};
use djx_host::records::json_fields::cell;
use djx_host::records::kinds::ColumnType;
use djx_host::store::{Store, StoredRecord};

use super::common::{ExpRef, layout, open_store, parse_exp, resolve_exps};
use super::output::Output;
use super::table::TableStream;
use super::write_error::WriteError;

/// Output formats.
#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Aligned columns for the terminal (aligned on the first 1,000 rows).
    Table,
    /// CSV with a header row (pandas reads it as is).
    Csv,
    /// One JSON object per line, with the same columns.
    Json,
    /// Parquet with typed columns (needs `-o FILE`, or a pipe).
    Parquet,
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
    let columns = RecordColumns::of(store.as_ref(), &ids)?;
    if let Format::Parquet = args.format {
        return write_parquet(store.as_ref(), &ids, &columns, &args.output);
    }
    let mut out = Output::create(&args.output)?;
    let mut cells = Row::default();
    // `each_record` lends each record for the call only: the row is made
    // and written inside it. An I/O error is carried out through the
    // store's error type and turned back here.
    let mut failed = WriteError::<std::io::Error>::default();
    let read = match args.format {
        Format::Table => {
            let mut table = TableStream::new(&mut out, columns.names(), 40);
            let read = read_ahead::each_record(store.as_ref(), &ids, &mut |r| {
                columns.fill(&r, &mut cells)?;
                let row = texts(&r, cells.spans()).map(Cow::into_owned).collect();
                table.push(row).map_err(|e| failed.keep(e))
            });
            read.and_then(|()| table.finish().map_err(|e| failed.keep(e)))
        }
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(&mut out);
            let header = csv.write_record(columns.names());
            let read = header.map_err(|e| failed.keep(e.into())).and_then(|()| {
                read_ahead::each_record(store.as_ref(), &ids, &mut |r| {
                    columns.fill(&r, &mut cells)?;
                    let mut row = || -> csv::Result<()> {
                        for text in texts(&r, cells.spans()) {
                            csv.write_field(text.as_bytes())?;
                        }
                        csv.write_record(None::<&[u8]>)
                    };
                    row().map_err(|e| failed.keep(e.into()))
                })
            });
            read.and_then(|()| csv.flush().map_err(|e| failed.keep(e)))
        }
        Format::Parquet => unreachable!("written above"),
        Format::Json => {
            let names = columns.names();
            let mut line = Vec::new();
            read_ahead::each_record(store.as_ref(), &ids, &mut |r| {
                columns.fill(&r, &mut cells)?;
                json_line(&mut line, names, &r, cells.spans());
                out.write_all(&line).map_err(|e| failed.keep(e))
            })
        }
    };
    failed.result(read)?;
    out.commit()
}

/// Writes the records as Parquet, one typed column per column (see
/// [`djx_host::export::parquet`]).
fn write_parquet(
    store: &dyn Store,
    ids: &[i64],
    columns: &RecordColumns,
    path: &Option<PathBuf>,
) -> anyhow::Result<()> {
    let types: Vec<(String, ColumnType)> = columns
        .names()
        .iter()
        .cloned()
        .zip(columns.kinds().iter().map(|k| k.column_type()))
        .collect();
    let mut parquet = ParquetWriter::new(Output::binary(path, "Parquet")?, &types)?;
    let mut cells = Row::default();
    let mut failed = WriteError::default();
    let read = read_ahead::each_record(store, ids, &mut |r| {
        columns.fill(&r, &mut cells)?;
        let mut row = || -> Result<(), ParquetWriteError> {
            parquet.int(r.exp_id)?;
            parquet.int(r.job_id)?;
            parquet.str(r.record.event)?;
            for cell in &cells.spans()[FIXED..] {
                parquet.raw(cell.map(|span| span.text(&r)))?;
            }
            parquet.end_row()
        };
        row().map_err(|e| failed.keep(e))
    });
    failed.result(read)?;
    parquet.finish()?.commit()
}

/// A record's cells as text: the fixed columns, then each key column (a
/// missing value is empty).
fn texts<'a>(
    r: &'a StoredRecord<'a>,
    cells: &'a [Option<Span>],
) -> impl Iterator<Item = Cow<'a, str>> + 'a {
    let fixed = [
        Cow::Owned(r.exp_id.to_string()),
        Cow::Owned(r.job_id.to_string()),
        Cow::Borrowed(r.record.event),
    ];
    fixed.into_iter().chain(
        cells[FIXED..]
            .iter()
            .map(|c| c.map_or(Cow::Borrowed(""), |span| cell(span.text(r)))),
    )
}

/// One JSON object (and a newline) with every column, in column order; a
/// missing value is `null`. Values are the stored JSON, copied as they are.
fn json_line(line: &mut Vec<u8>, names: &[String], r: &StoredRecord<'_>, cells: &[Option<Span>]) {
    line.clear();
    let string = |line: &mut Vec<u8>, s: &str| {
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *line, s);
    };
    line.extend_from_slice(
        format!(
            "{{\"exp_id\":{},\"job_id\":{},\"event\":",
            r.exp_id, r.job_id
        )
        .as_bytes(),
    );
    string(line, r.record.event);
    for (name, value) in names.iter().zip(cells).skip(FIXED) {
        line.push(b',');
        string(line, name);
        line.push(b':');
        line.extend_from_slice(value.map_or("null", |span| span.text(r)).as_bytes());
    }
    line.extend_from_slice(b"}\n");
}
