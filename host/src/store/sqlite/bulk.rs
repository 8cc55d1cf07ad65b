//! SQLite's bulk inserts: jobs and records as multi-row `INSERT … VALUES`,
//! [`INSERT_BATCH`] rows a statement, so that SQLite's per-statement work
//! (reset, bind bookkeeping, opcode dispatch) is paid once a batch (P2: a
//! million records; P7: a million jobs).

use rusqlite::{CachedStatement, Connection};

use crate::records::{RecordText, Records};
use crate::store::sql::RecordsAt;
use crate::store::{NewJob, NewJobs, Result, StoreError};

/// Rows per multi-row INSERT.
const INSERT_BATCH: usize = 64;

/// `INSERT INTO <into> VALUES (?,...), ...`: `rows` rows of `columns`
/// parameters each.
fn multi_row_insert(into: &str, columns: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(","));
    format!("INSERT INTO {into} VALUES {}", vec![row; rows].join(","))
}

/// The job table's columns that an insert sets, and their number.
const JOB_COLUMNS: (&str, usize) = (
    "job (experiment_id, position, labels, parameter, job_key)",
    5,
);

/// The record table's columns that an insert sets, and their number.
const RECORD_COLUMNS: (&str, usize) = (
    "record (job_id, attempt, seq, event, context, metrics, artifacts)",
    7,
);

/// The batch statement and the one-row statement for `columns`.
fn statements<'c>(
    conn: &'c Connection,
    (into, columns): (&str, usize),
) -> Result<[CachedStatement<'c>; 2]> {
    Ok([
        conn.prepare_cached(&multi_row_insert(into, columns, INSERT_BATCH))?,
        conn.prepare_cached(&multi_row_insert(into, columns, 1))?,
    ])
}

/// Binds `rows` with `bind` (which binds one row at a parameter offset)
/// and runs the statement.
fn run<T>(
    statement: &mut CachedStatement<'_>,
    rows: &[T],
    bind: &mut impl FnMut(&mut CachedStatement<'_>, usize, &T) -> rusqlite::Result<()>,
    columns: usize,
) -> Result<()> {
    for (i, row) in rows.iter().enumerate() {
        bind(statement, i * columns, row)?;
    }
    statement.raw_execute()?;
    Ok(())
}

/// Inserts every row of `rows`, [`INSERT_BATCH`] a statement and the rest
/// one by one.
fn insert_all<T>(
    conn: &Connection,
    table: (&str, usize),
    rows: impl Iterator<Item = Result<T>>,
    mut bind: impl FnMut(&mut CachedStatement<'_>, usize, &T) -> rusqlite::Result<()>,
) -> Result<()> {
    let [mut batch, mut single] = statements(conn, table)?;
    let mut pending: Vec<T> = Vec::with_capacity(INSERT_BATCH);
    for row in rows {
        pending.push(row?);
        if pending.len() == INSERT_BATCH {
            run(&mut batch, &pending, &mut bind, table.1)?;
            pending.clear();
        }
    }
    for row in pending.chunks(1) {
        run(&mut single, row, &mut bind, table.1)?;
    }
    Ok(())
}

/// See [`Sql::insert_jobs`](crate::store::sql::Sql::insert_jobs).
pub fn insert_jobs(
    conn: &Connection,
    experiment: i64,
    first: i64,
    jobs: &mut NewJobs<'_>,
) -> Result<i64> {
    let mut position = first;
    let numbered = jobs.map(|job| {
        let job = job.map_err(StoreError::Input)?;
        position += 1;
        Ok((position - 1, job))
    });
    insert_all(
        conn,
        JOB_COLUMNS,
        numbered,
        |s, at, (position, job): &(i64, NewJob)| {
            s.raw_bind_parameter(at + 1, experiment)?;
            s.raw_bind_parameter(at + 2, position)?;
            s.raw_bind_parameter(at + 3, job.labels.as_str())?;
            s.raw_bind_parameter(at + 4, job.parameter.as_str())?;
            s.raw_bind_parameter(at + 5, job.key.to_hex())
        },
    )?;
    Ok(position - first)
}

/// See [`Sql::insert_records`](crate::store::sql::Sql::insert_records).
pub fn insert_records(conn: &Connection, at: RecordsAt, records: &Records) -> Result<()> {
    let numbered = (at.first as i64..).zip(records.iter()).map(Ok);
    insert_all(
        conn,
        RECORD_COLUMNS,
        numbered,
        |s, n, (seq, record): &(i64, RecordText<'_>)| {
            s.raw_bind_parameter(n + 1, at.job)?;
            s.raw_bind_parameter(n + 2, at.attempt)?;
            s.raw_bind_parameter(n + 3, seq)?;
            s.raw_bind_parameter(n + 4, record.event)?;
            s.raw_bind_parameter(n + 5, record.context)?;
            s.raw_bind_parameter(n + 6, record.metrics)?;
            s.raw_bind_parameter(n + 7, record.artifacts)
        },
    )
}
