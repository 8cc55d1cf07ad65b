//! PostgreSQL's bulk inserts: a batch of rows goes as one array a column
//! through `unnest`, one round trip a batch, and memory holds one batch
//! however many rows there are.

use tokio_postgres::types::ToSql;

use crate::records::Records;
use crate::store::sql::RecordsAt;
use crate::store::sql::postgres::PgSql;
use crate::store::{NewJobs, Result, StoreError};

const INSERT_JOBS: &str = include_str!("insert_jobs.sql");
const INSERT_RECORDS: &str = include_str!("insert_records.sql");

/// Jobs per round trip when adding an experiment.
const ADD_BATCH: usize = 10_000;

/// One batch of jobs to add, as the arrays `INSERT_JOBS` takes.
#[derive(Default)]
struct JobBatch {
    positions: Vec<i64>,
    labels: Vec<String>,
    params: Vec<String>,
    keys: Vec<String>,
}

impl JobBatch {
    /// Adds the batch to experiment `experiment`, and empties it.
    fn flush(&mut self, db: &PgSql<'_, '_>, experiment: i64) -> Result<()> {
        let batch = std::mem::take(self);
        db.execute_values(
            INSERT_JOBS,
            &[
                &experiment,
                &batch.positions,
                &batch.labels,
                &batch.params,
                &batch.keys,
            ],
        )?;
        Ok(())
    }
}

/// See [`Sql::insert_jobs`](crate::store::sql::Sql::insert_jobs).
pub fn insert_jobs(
    db: &PgSql<'_, '_>,
    experiment: i64,
    first: i64,
    jobs: &mut NewJobs<'_>,
) -> Result<i64> {
    let mut position = first;
    let mut batch = JobBatch::default();
    for job in jobs {
        let job = job.map_err(StoreError::Input)?;
        batch.positions.push(position);
        batch.labels.push(job.labels);
        batch.params.push(job.parameter);
        batch.keys.push(job.key.to_hex());
        position += 1;
        if batch.positions.len() >= ADD_BATCH {
            batch.flush(db, experiment)?;
        }
    }
    if !batch.positions.is_empty() {
        batch.flush(db, experiment)?;
    }
    Ok(position - first)
}

/// See [`Sql::insert_records`](crate::store::sql::Sql::insert_records):
/// one statement, whatever their number.
pub fn insert_records(db: &PgSql<'_, '_>, at: RecordsAt, records: &Records) -> Result<()> {
    let (mut events, mut contexts, mut metrics, mut refs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for record in records.iter() {
        events.push(record.event);
        contexts.push(record.context);
        metrics.push(record.metrics);
        refs.push(record.artifacts);
    }
    if events.is_empty() {
        return Ok(());
    }
    let seqs: Vec<i64> = (at.first as i64..).take(events.len()).collect();
    let values: [&(dyn ToSql + Sync); 7] = [
        &at.job,
        &at.attempt,
        &seqs,
        &events,
        &contexts,
        &metrics,
        &refs,
    ];
    db.execute_values(INSERT_RECORDS, &values)?;
    Ok(())
}
