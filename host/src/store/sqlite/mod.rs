//! The embedded store: one SQLite file in WAL mode.
//!
//! Writes are short transactions; claims run under `BEGIN IMMEDIATE`, so two
//! `djx run` processes on one file never claim the same job. With WAL and
//! `synchronous = NORMAL` a committed transaction survives a crash of the
//! djx process; a power loss may lose the last transactions, never corrupt
//! the file.

use crate::experiment::locked::LockedExperiment;
use crate::sync::Unpoisoned;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior, named_params};
use serde_json::Value;

use super::codec;
use super::sql::Sql;
use super::sql::sqlite::SqliteSql;
use super::sql_store::{
    Append, Backend, Claim, check_rung_jobs, first_rung, insert_experiment, insert_rung,
};
use super::{AttemptResult, ClaimedJob, Ended, NewJob, NewJobs, NewRung, Result, StoreError};
use crate::content::digest::Digest;
use crate::records::{RecordText, Records};
use crate::store::timestamp::{now_ms, now_text};

mod migrations {
    refinery::embed_migrations!("../migrations/sqlite");
}

const CLAIM: &str = include_str!("claim.sql");
const REAP: &str = include_str!("reap.sql");
const FINISH: &str = include_str!("finish.sql");
const RELEASE: &str = include_str!("release.sql");
/// The page cache while adding an experiment, in KiB (negative: SQLite's
/// unit for a size rather than a page count).
const ADD_CACHE_KIB: i64 = -32_768;
/// SQLite's default page cache, restored after an add.
const DEFAULT_CACHE_KIB: i64 = -2_000;
const INSERT_ATTEMPT: &str = include_str!("insert_attempt.sql");
const INSERT_KEY_SET: &str = include_str!("insert_key_set.sql");
const CACHE_ATTEMPTS: &str = include_str!("cache_attempts.sql");
const CACHE_JOBS: &str = include_str!("cache_jobs.sql");
const DROP_RECORDS: &str = include_str!("drop_records.sql");
const LEASE_HELD: &str = include_str!("lease_held.sql");

/// How long a writer waits for another process's transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The SQLite store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// A second connection for [`Store::append_records`], opened on first
    /// use: records stream in while the main connection claims and
    /// finishes other jobs.
    appender: OnceLock<Mutex<Connection>>,
    path: PathBuf,
}

/// A connection configured as every connection of the store is. Foreign
/// keys are checked unless `foreign_keys` is false.
fn connect(path: &Path, foreign_keys: bool) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    let durability = crate::content::durability::Durability::from_env()
        .map_err(|e| StoreError::Config(e.to_string()))?;
    conn.pragma_update(None, "synchronous", durability.sqlite_synchronous())?;
    conn.pragma_update(
        None,
        "foreign_keys",
        if foreign_keys { "ON" } else { "OFF" },
    )?;
    // Every statement of the store stays prepared (rusqlite keeps 16 by
    // default; the store has about 40).
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn json_ids(ids: &[i64]) -> String {
    Value::from(ids.to_vec()).to_string()
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let mut conn = connect(path, true)?;
        migrate(path, &mut conn)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            appender: OnceLock::new(),
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable: every
        // write is a transaction that rolled back.
        self.conn.lock_unpoisoned()
    }

    /// The connection records stream through. It skips the foreign-key
    /// check of each record row (a tenth of an insert's cost): the lease
    /// check in the same transaction has just found the job.
    fn appender(&self) -> Result<MutexGuard<'_, Connection>> {
        let appender = match self.appender.get() {
            Some(appender) => appender,
            None => {
                let conn = connect(&self.path, false)?;
                // If another thread won the race, its connection is as good.
                self.appender.get_or_init(|| Mutex::new(conn))
            }
        };
        Ok(appender.lock_unpoisoned())
    }
}

/// Runs the embedded migrations once, under a file lock so that several
/// processes starting at once do not race.
fn migrate(path: &Path, conn: &mut Connection) -> Result<()> {
    let lock_path = path.with_extension("migrate.lock");
    let lock = File::create(&lock_path).map_err(|source| StoreError::Io {
        path: lock_path.clone(),
        source,
    })?;
    lock.lock().map_err(|source| StoreError::Io {
        path: lock_path,
        source,
    })?;
    let result = migrations::migrations::runner()
        .set_grouped(true)
        .run(conn)
        .map(|_| ())
        .map_err(|e| StoreError::Migration(e.to_string()));
    drop(lock);
    result
}

/// Ends one attempt inside `tx`, fenced by its lease; false (writing
/// nothing) when `worker` no longer holds the job.
fn finish_one(
    tx: &rusqlite::Transaction<'_>,
    worker: &str,
    job: &ClaimedJob,
    result: &AttemptResult<'_>,
    now: &str,
) -> Result<bool> {
    let changed = tx.prepare_cached(FINISH)?.execute(named_params! {
        ":status": result.status().as_str(),
        ":reason": result.failure,
        ":now": now,
        ":duration_ms": result.duration.as_millis() as i64,
        ":id": job.id,
        ":attempt": job.attempt,
        ":worker": worker,
    })?;
    if changed != 1 {
        // The lease is gone: write nothing.
        return Ok(false);
    }
    insert_records(
        tx,
        job.id,
        job.attempt,
        result.stored_records,
        result.records.iter(),
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO artifact (job_id, attempt, seq, name, digest, size) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (seq, a) in result.artifacts.iter().enumerate() {
        insert.execute((
            job.id,
            job.attempt,
            seq as i64,
            &a.name,
            a.digest.to_hex(),
            a.size as i64,
        ))?;
    }
    if !result.log.is_empty() {
        tx.prepare_cached("INSERT INTO job_log (job_id, attempt, log) VALUES (?1, ?2, ?3)")?
            .execute((job.id, job.attempt, result.log))?;
    }
    let keys = result.record_keys.to_text();
    let key_digest = Digest::of(keys.as_bytes()).to_hex();
    tx.prepare_cached(INSERT_KEY_SET)?.execute(named_params! {
        ":digest": key_digest,
        ":keys": keys,
    })?;
    tx.prepare_cached(INSERT_ATTEMPT)?.execute(named_params! {
        ":id": job.id,
        ":attempt": job.attempt,
        ":result_digest": result.result_digest.map(|d| d.to_hex()),
        ":key_digest": key_digest,
    })?;
    Ok(true)
}

/// Records per multi-row INSERT: one statement step inserts this many rows,
/// so SQLite's per-statement work (reset, bind bookkeeping, opcode
/// dispatch) is paid once per batch (P2: a million records).
const INSERT_BATCH: usize = 64;

/// `INSERT INTO <into> VALUES (?,...), ...`: `rows` rows of `columns`
/// parameters each.
fn multi_row_insert(into: &str, columns: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(","));
    format!("INSERT INTO {into} VALUES {}", vec![row; rows].join(","))
}

/// `INSERT INTO record ... VALUES (...), ...` for `rows` rows.
fn insert_records_sql(rows: usize) -> String {
    multi_row_insert(
        "record (job_id, attempt, seq, event, context, metrics, artifacts)",
        7,
        rows,
    )
}

/// `INSERT INTO job ... VALUES (...), ...` for `rows` rows.
fn insert_jobs_sql(rows: usize) -> String {
    multi_row_insert(
        "job (experiment_id, position, labels, parameter, job_key)",
        5,
        rows,
    )
}

/// Writes `jobs` as the jobs of experiment `id` at positions `first..`, in
/// grid order, [`INSERT_BATCH`] rows per statement; returns how many.
fn insert_jobs(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    first: i64,
    jobs: &mut NewJobs<'_>,
) -> Result<i64> {
    let mut batch = tx.prepare(&insert_jobs_sql(INSERT_BATCH))?;
    let mut single = tx.prepare(&insert_jobs_sql(1))?;
    let mut pending: Vec<NewJob> = Vec::with_capacity(INSERT_BATCH);
    let mut position = first;
    let mut flush = |statement: &mut rusqlite::Statement<'_>, rows: &[NewJob]| -> Result<()> {
        for (i, job) in rows.iter().enumerate() {
            let at = i * 5;
            statement.raw_bind_parameter(at + 1, id)?;
            statement.raw_bind_parameter(at + 2, position)?;
            statement.raw_bind_parameter(at + 3, job.labels.as_str())?;
            statement.raw_bind_parameter(at + 4, job.parameter.as_str())?;
            statement.raw_bind_parameter(at + 5, job.key.to_hex())?;
            position += 1;
        }
        statement.raw_execute()?;
        Ok(())
    };
    for job in jobs {
        pending.push(job.map_err(StoreError::Input)?);
        if pending.len() == INSERT_BATCH {
            flush(&mut batch, &pending)?;
            pending.clear();
        }
    }
    for job in pending.chunks(1) {
        flush(&mut single, job)?;
    }
    Ok(position - first)
}

/// Writes `records` as records `first..` of an attempt.
fn insert_records<'r>(
    tx: &rusqlite::Transaction<'_>,
    job: i64,
    attempt: i64,
    first: usize,
    records: impl Iterator<Item = RecordText<'r>>,
) -> Result<()> {
    let mut batch = tx.prepare_cached(&insert_records_sql(INSERT_BATCH))?;
    let mut single = tx.prepare_cached(&insert_records_sql(1))?;
    let mut pending: Vec<RecordText<'r>> = Vec::with_capacity(INSERT_BATCH);
    let mut seq = first as i64;
    let flush = |statement: &mut rusqlite::CachedStatement<'_>,
                 rows: &[RecordText<'r>],
                 seq: &mut i64|
     -> Result<()> {
        for (i, record) in rows.iter().enumerate() {
            let at = i * 7;
            statement.raw_bind_parameter(at + 1, job)?;
            statement.raw_bind_parameter(at + 2, attempt)?;
            statement.raw_bind_parameter(at + 3, *seq)?;
            statement.raw_bind_parameter(at + 4, record.event)?;
            statement.raw_bind_parameter(at + 5, record.context)?;
            statement.raw_bind_parameter(at + 6, record.metrics)?;
            statement.raw_bind_parameter(at + 7, record.artifacts)?;
            *seq += 1;
        }
        statement.raw_execute()?;
        Ok(())
    };
    for record in records {
        pending.push(record);
        if pending.len() == INSERT_BATCH {
            flush(&mut batch, &pending, &mut seq)?;
            pending.clear();
        }
    }
    for record in &pending {
        flush(&mut single, std::slice::from_ref(record), &mut seq)?;
    }
    Ok(())
}

/// Runs `put_back` (an UPDATE returning the id and attempt of each job it
/// puts back) and deletes the records those attempts streamed; returns how
/// many jobs it put back.
fn put_back(
    tx: &rusqlite::Transaction<'_>,
    put_back: &str,
    params: &[(&str, &dyn rusqlite::ToSql)],
) -> Result<usize> {
    let attempts = tx
        .prepare_cached(put_back)?
        .query_map(params, |row| row.try_into())?
        .collect::<rusqlite::Result<Vec<(i64, i64)>>>()?;
    let mut drop = tx.prepare_cached(DROP_RECORDS)?;
    for attempt in &attempts {
        drop.execute(*attempt)?;
    }
    Ok(attempts.len())
}

/// Adds experiment `e` with its module and jobs in one transaction.
fn add_in(
    conn: &mut Connection,
    e: &LockedExperiment,
    jobs: &mut NewJobs<'_>,
    module: &[u8],
) -> Result<i64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let id = insert_experiment(&mut SqliteSql(&tx), e, module)?;
    let count = insert_jobs(&tx, id, 0, jobs)?;
    if let Some(rung) = first_rung(e, id, count) {
        insert_rung(&mut SqliteSql(&tx), &rung, false)?;
    }
    tx.commit()?;
    Ok(id)
}

impl Backend for SqliteStore {
    fn with_sql<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let conn = self.conn();
        f(&mut SqliteSql(&conn))
    }

    fn in_transaction<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&mut SqliteSql(&tx))?;
        tx.commit()?;
        Ok(value)
    }

    fn add(&self, e: &LockedExperiment, jobs: &mut NewJobs<'_>, module: &[u8]) -> Result<i64> {
        let mut conn = self.conn();
        // Adding a million jobs touches the table and its indexes far more
        // than SQLite's default 2 MiB page cache holds: nearly every insert
        // re-read pages from the WAL (9 s of system time); 32 MiB keeps
        // them (P7).
        conn.pragma_update(None, "cache_size", ADD_CACHE_KIB)?;
        let added = add_in(&mut conn, e, jobs, module);
        conn.pragma_update(None, "cache_size", DEFAULT_CACHE_KIB)?;
        added
    }

    fn reap(&self, experiments: &[i64], dead_owners: &[String]) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = put_back(
            &tx,
            REAP,
            named_params! {
                ":now": now_text(),
                ":now_ms": now_ms(),
                ":experiments": json_ids(experiments),
                ":dead_owners": Value::from(dead_owners.to_vec()).to_string(),
            },
        )?;
        tx.commit()?;
        Ok(changed)
    }

    fn append_records(&self, to: Append<'_>, records: &Records) -> Result<bool> {
        let (worker, job) = (to.worker, to.job);
        let (attempt, first) = (to.attempt, to.first);
        let mut conn = self.appender()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let held: i64 = tx.prepare_cached(LEASE_HELD)?.query_row(
            named_params! {":id": job, ":attempt": attempt, ":worker": worker},
            |row| row.get(0),
        )?;
        if held != 1 {
            return Ok(false);
        }
        insert_records(&tx, job, attempt, first, records.iter())?;
        tx.commit()?;
        Ok(true)
    }

    fn claim(&self, claim: Claim<'_>) -> Result<Vec<ClaimedJob>> {
        let (worker, experiments) = (claim.worker, claim.experiments);
        let (n, lease) = (claim.n, claim.lease);
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let claimed = {
            let mut stmt = tx.prepare_cached(CLAIM)?;
            let rows = stmt.query_map(
                named_params! {
                    ":worker": worker,
                    ":expires_ms": now_ms() + lease.as_millis() as i64,
                    ":now": now_text(),
                    ":experiments": json_ids(experiments),
                    ":n": n as i64,
                },
                |row| row.try_into(),
            )?;
            rows.collect::<rusqlite::Result<Vec<codec::ClaimColumns>>>()?
        };
        tx.commit()?;
        codec::claimed_jobs(claimed)
    }

    fn finish_all(&self, worker: &str, attempts: &[Ended<'_>]) -> Result<Vec<bool>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut kept = Vec::with_capacity(attempts.len());
        let now = now_text();
        for (job, result) in attempts {
            kept.push(finish_one(&tx, worker, job, result, &now)?);
        }
        tx.commit()?;
        Ok(kept)
    }

    fn link_cached(&self, worker: &str, experiments: &[i64]) -> Result<u64> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let params = named_params! {
            ":worker": worker,
            ":now": now_text(),
            ":experiments": json_ids(experiments),
        };
        let linked = tx.execute(CACHE_ATTEMPTS, params)?;
        if linked > 0 {
            let finished = tx.execute(CACHE_JOBS, params)?;
            debug_assert_eq!(linked, finished);
        }
        tx.commit()?;
        Ok(linked as u64)
    }

    fn release(&self, worker: &str, jobs: &[i64]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        put_back(
            &tx,
            RELEASE,
            named_params! {":worker": worker, ":jobs": json_ids(jobs)},
        )?;
        tx.commit()?;
        Ok(())
    }

    fn add_rung(&self, rung: &NewRung, jobs: &mut NewJobs<'_>) -> Result<bool> {
        let mut conn = self.conn();
        // The write lock first: of racing workers, one inserts the rung and
        // its jobs; the others find the rung there and write nothing.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !insert_rung(&mut SqliteSql(&tx), rung, true)? {
            return Ok(false);
        }
        let count = insert_jobs(&tx, rung.experiment_id, rung.first_position, jobs)?;
        check_rung_jobs(rung, count)?;
        tx.commit()?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn migrations_run_exactly_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("djx.db");
        for _ in 0..3 {
            drop(SqliteStore::open(&path).expect("open"));
        }
        let store = SqliteStore::open(&path).expect("open");
        let applied: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM refinery_schema_history", [], |r| {
                r.get(0)
            })
            .expect("history");
        let embedded = migrations::migrations::runner().get_migrations().len() as i64;
        assert!(embedded >= 2, "V1 and V2 are embedded");
        assert_eq!(
            applied, embedded,
            "each migration applied once, however often the store opens"
        );
        assert!(store.experiments().expect("list").is_empty());
    }

    #[test]
    fn jobs_finished_before_v3_keep_their_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("djx.db");
        {
            let mut conn = Connection::open(&path).expect("open");
            migrations::migrations::runner()
                .set_target(refinery::Target::Version(2))
                .run(&mut conn)
                .expect("migrate to V2");
            conn.execute_batch(
                "INSERT INTO experiment (id, name, created_at, source_path, source_digest, spec,
                                         module_digest, datasets, limits, determinism)
                 VALUES (1, 'old', '2026-01-01T00:00:00Z', 'old.yml', '' || printf('%064d', 0), '',
                         printf('%064d', 0), '[]', '{}', 'native');
                 INSERT INTO job (id, experiment_id, position, labels, parameter, status, attempt)
                 VALUES (1, 1, 0, '{}', '{}', 'FINISHED', 2);
                 INSERT INTO record (job_id, attempt, seq, event, context, metrics, artifacts)
                 VALUES (1, 2, 0, 'done', '{}', '{\"x\":1.5}', '{}');",
            )
            .expect("legacy rows");
        }
        let store = SqliteStore::open(&path).expect("open migrates to the latest");
        let records = store.records(&[1]).expect("records");
        assert_eq!(records.len(), 1, "records of old jobs stay visible");
        assert_eq!(records[0].metrics["x"], 1.5);
        let job = store.job(1).expect("job");
        assert_eq!((job.key, job.result_digest), (None, None));
        let attempts = store.attempts(1).expect("attempts");
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].attempt, 2);
        let exp = store.experiment(1).expect("experiment");
        assert_eq!(
            exp.locked.engine,
            crate::runtime::EngineProfile::of(crate::runtime::Determinism::Native)
        );
    }
}
