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

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, named_params};
use serde_json::Value;

use super::codec::{self, ExperimentColumns, JobText, RecordColumns};
use super::{
    ArtifactUse, AttemptResult, AttemptRow, ClaimedJob, Experiment, ExperimentSummary, JobRow,
    JobStatus, NewJob, NewRung, NewSubmission, RecordRow, Result, Rung, RungJob, StatusCounts,
    Store, StoreError, StoredRecord, Submission,
};
use crate::content::digest::Digest;
use crate::records::keys::RecordKeys;
use crate::records::{ArtifactInfo, RecordText, Records};
use crate::store::timestamp::{now_ms, now_text};

mod migrations {
    refinery::embed_migrations!("../migrations/sqlite");
}

const CLAIM: &str = include_str!("claim.sql");
const REAP: &str = include_str!("reap.sql");
const FINISH: &str = include_str!("finish.sql");
const RELEASE: &str = include_str!("release.sql");
const RENEW: &str = include_str!("renew.sql");
const RECORDS: &str = include_str!("records.sql");
const RECORD_KEY_SETS: &str = include_str!("record_key_sets.sql");
const JOB_COLUMNS: &str = include_str!("job_columns.sql");
const ATTEMPT_RECORDS: &str = include_str!("attempt_records.sql");
const ATTEMPT_ARTIFACTS: &str = include_str!("attempt_artifacts.sql");
const ATTEMPT_LOG: &str = include_str!("attempt_log.sql");
/// The page cache while adding an experiment, in KiB (negative: SQLite's
/// unit for a size rather than a page count).
const ADD_CACHE_KIB: i64 = -32_768;
/// SQLite's default page cache, restored after an add.
const DEFAULT_CACHE_KIB: i64 = -2_000;
const INSERT_ATTEMPT: &str = include_str!("insert_attempt.sql");
const INSERT_KEY_SET: &str = include_str!("insert_key_set.sql");
const CACHE_ATTEMPTS: &str = include_str!("cache_attempts.sql");
const CACHE_JOBS: &str = include_str!("cache_jobs.sql");
const ATTEMPTS: &str = include_str!("attempts.sql");
const ARTIFACT_USES: &str = include_str!("artifact_uses.sql");
const DROP_RECORDS: &str = include_str!("drop_records.sql");
const LEASE_HELD: &str = include_str!("lease_held.sql");
const STATUS_COUNTS: &str = include_str!("status_counts.sql");
const JOB_STATES: &str = include_str!("job_states.sql");
const METRIC_RECORDS: &str = include_str!("metric_records.sql");
const VISIT_RECORDS: &str = include_str!("visit_records.sql");
const ATTEMPT_METRICS: &str = include_str!("attempt_metrics.sql");
const INSERT_SUBMISSION: &str = include_str!("insert_submission.sql");
const SUBMISSIONS: &str = include_str!("submissions.sql");
const INSERT_RUNG: &str = include_str!("insert_rung.sql");
const RUNGS: &str = include_str!("rungs.sql");
const RUNG_JOBS: &str = include_str!("rung_jobs.sql");
const STOP_RUNG: &str = include_str!("stop_rung.sql");
const STOP_RUNG_JOBS: &str = include_str!("stop_rung_jobs.sql");

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

fn job_row(row: &Row<'_>) -> rusqlite::Result<(JobRow, JobText)> {
    Ok((
        JobRow {
            id: row.get(0)?,
            experiment_id: row.get(1)?,
            position: row.get(2)?,
            labels: Value::Null,
            parameter: Value::Null,
            status: JobStatus::Unassigned,
            attempt: row.get(6)?,
            lost: row.get(7)?,
            worker: row.get(8)?,
            started_at: row.get(9)?,
            finished_at: row.get(10)?,
            duration_ms: row.get(11)?,
            reason: row.get(12)?,
            key: None,
            result_digest: None,
            cached_from: row.get(15)?,
        },
        JobText {
            labels: row.get(3)?,
            parameter: row.get(4)?,
            status: row.get(5)?,
            key: row.get(13)?,
            result_digest: row.get(14)?,
        },
    ))
}

fn decode_job((job, text): (JobRow, JobText)) -> Result<JobRow> {
    codec::job_row(job, text)
}

/// Text column `i` of `row`, borrowed from it.
fn text_column<'r>(row: &'r Row<'_>, i: usize) -> Result<&'r str> {
    row.get_ref(i)?
        .as_str()
        .map_err(|e| StoreError::Sqlite(e.into()))
}

fn attempt_columns(row: &Row<'_>) -> rusqlite::Result<codec::AttemptColumns> {
    row.try_into()
}

fn record_columns(row: &Row<'_>) -> rusqlite::Result<RecordColumns> {
    row.try_into()
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
    jobs: &mut dyn Iterator<Item = std::result::Result<NewJob, String>>,
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

/// Writes an experiment and its jobs in one transaction (see
/// [`Store::add_experiment`]).
fn add_in(
    conn: &mut Connection,
    e: &LockedExperiment,
    json: &codec::ExperimentJson,
    jobs: &mut dyn Iterator<Item = std::result::Result<NewJob, String>>,
    module: &[u8],
) -> Result<i64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO module (digest, wasm) VALUES (?1, ?2) ON CONFLICT (digest) DO NOTHING",
        (e.module_digest.to_hex(), module),
    )?;
    tx.execute(
        "INSERT INTO experiment (project, name, description, created_at, source_path, source_digest,
                                 spec, module_digest, datasets, limits, determinism, retries,
                                 engine, provenance, digest_log, sweep)
         VALUES (:project, :name, :description, :created_at, :source_path, :source_digest,
                 :spec, :module_digest, :datasets, :limits, :determinism, :retries,
                 :engine, :provenance, :digest_log, :sweep)",
        named_params! {
            ":project": e.project,
            ":name": e.name,
            ":description": e.description,
            ":created_at": now_text(),
            ":source_path": e.source_path,
            ":source_digest": e.source_digest.to_hex(),
            ":spec": e.source_text,
            ":module_digest": e.module_digest.to_hex(),
            ":datasets": json.datasets,
            ":limits": json.limits,
            ":determinism": e.determinism.to_string(),
            ":retries": e.retries,
            ":engine": json.engine,
            ":provenance": json.provenance,
            ":digest_log": e.digest_log,
            ":sweep": json.sweep,
        },
    )?;
    let id = tx.last_insert_rowid();
    let count = insert_jobs(&tx, id, 0, jobs)?;
    if let Some(plan) = &e.sweep {
        // Rung 0: the jobs just added.
        tx.prepare_cached(INSERT_RUNG)?.execute(named_params! {
            ":experiment": id,
            ":rung": 0,
            ":rungs": plan.rungs,
            ":first_position": 0,
            ":jobs": count,
            ":samples": None::<String>,
            ":now": now_text(),
            ":worker": None::<String>,
        })?;
    }
    tx.commit()?;
    Ok(id)
}

impl Store for SqliteStore {
    fn add_experiment(
        &self,
        e: &LockedExperiment,
        jobs: &mut dyn Iterator<Item = std::result::Result<NewJob, String>>,
        module: &[u8],
    ) -> Result<i64> {
        let json = codec::experiment_json(e)?;
        let mut conn = self.conn();
        // Adding a million jobs touches the table and its indexes far more
        // than SQLite's default 2 MiB page cache holds: nearly every insert
        // re-read pages from the WAL (9 s of system time); 32 MiB keeps
        // them (P7).
        conn.pragma_update(None, "cache_size", ADD_CACHE_KIB)?;
        let added = add_in(&mut conn, e, &json, jobs, module);
        conn.pragma_update(None, "cache_size", DEFAULT_CACHE_KIB)?;
        added
    }

    fn module(&self, digest: &crate::content::digest::Digest) -> Result<Option<Vec<u8>>> {
        let wasm = self
            .conn()
            .query_row(
                "SELECT wasm FROM module WHERE digest = ?1",
                [digest.to_hex()],
                |row| row.get(0),
            )
            .optional()?;
        Ok(wasm)
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

    fn append_records(
        &self,
        worker: &str,
        job: i64,
        attempt: i64,
        first: usize,
        records: &Records,
    ) -> Result<bool> {
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

    fn claim(
        &self,
        worker: &str,
        experiments: &[i64],
        n: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>> {
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

    fn renew(&self, worker: &str, lease: Duration) -> Result<()> {
        self.conn().execute(
            RENEW,
            named_params! {":worker": worker, ":expires_ms": now_ms() + lease.as_millis() as i64},
        )?;
        Ok(())
    }

    fn finish_all(
        &self,
        worker: &str,
        attempts: &[(&ClaimedJob, &AttemptResult<'_>)],
    ) -> Result<Vec<bool>> {
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

    fn lease_owners(&self, experiments: &[i64]) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT DISTINCT lease_owner FROM job
             WHERE status = 'ASSIGNED' AND lease_owner IS NOT NULL
               AND experiment_id IN (SELECT value FROM json_each(?1))",
        )?;
        let owners = stmt
            .query_map([json_ids(experiments)], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(owners)
    }

    fn experiments(&self) -> Result<Vec<ExperimentSummary>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT id, project, name, created_at FROM experiment ORDER BY id")?;
        let list = stmt
            .query_map([], |row| {
                Ok(ExperimentSummary {
                    id: row.get(0)?,
                    project: row.get(1)?,
                    name: row.get(2)?,
                    created_at: row.get(3)?,
                    jobs: StatusCounts::default(),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut counts = conn.prepare(
            "SELECT experiment_id, status, count(*) FROM job GROUP BY experiment_id, status",
        )?;
        let rows = counts
            .query_map([], |row| row.try_into())?
            .collect::<rusqlite::Result<Vec<(i64, String, i64)>>>()?;
        codec::with_counts(list, rows)
    }

    fn experiment(&self, id: i64) -> Result<Experiment> {
        let conn = self.conn();
        let columns = conn
            .query_row(
                &format!(
                    "SELECT {} FROM experiment WHERE id = ?1",
                    codec::EXPERIMENT_COLUMNS
                ),
                [id],
                |row| {
                    Ok(ExperimentColumns {
                        created_at: row.get(0)?,
                        project: row.get(1)?,
                        name: row.get(2)?,
                        description: row.get(3)?,
                        source_path: row.get(4)?,
                        source_digest: row.get(5)?,
                        spec: row.get(6)?,
                        module_digest: row.get(7)?,
                        datasets: row.get(8)?,
                        limits: row.get(9)?,
                        determinism: row.get(10)?,
                        retries: row.get(11)?,
                        engine: row.get(12)?,
                        provenance: row.get(13)?,
                        digest_log: row.get(14)?,
                        sweep: row.get(15)?,
                    })
                },
            )
            .optional()?
            .ok_or(StoreError::NoExperiment(id))?;
        codec::experiment_row(id, columns)
    }

    fn each_job(&self, experiment: i64, f: &mut dyn FnMut(JobRow) -> Result<()>) -> Result<()> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "{JOB_COLUMNS} WHERE experiment_id = ?1 ORDER BY position"
        ))?;
        let mut rows = stmt.query([experiment])?;
        while let Some(row) = rows.next()? {
            f(decode_job(job_row(row)?)?)?;
        }
        Ok(())
    }

    fn job(&self, id: i64) -> Result<JobRow> {
        let conn = self.conn();
        let row = conn
            .query_row(&format!("{JOB_COLUMNS} WHERE id = ?1"), [id], job_row)
            .optional()?
            .ok_or(StoreError::NoJob(id))?;
        decode_job(row)
    }

    fn each_record(
        &self,
        experiments: &[i64],
        f: &mut dyn FnMut(StoredRecord<'_>) -> Result<()>,
    ) -> Result<()> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(RECORDS)?;
        let mut rows = stmt.query(named_params! {":experiments": json_ids(experiments)})?;
        while let Some(row) = rows.next()? {
            f(StoredRecord {
                exp_id: row.get(0)?,
                job_id: row.get(1)?,
                labels: text_column(row, 2)?,
                record: RecordText {
                    event: text_column(row, 3)?,
                    context: text_column(row, 4)?,
                    metrics: text_column(row, 5)?,
                    artifacts: text_column(row, 6)?,
                },
            })?;
        }
        Ok(())
    }

    fn record_keys(&self, experiments: &[i64]) -> Result<Option<RecordKeys>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(RECORD_KEY_SETS)?;
        let ids = stmt
            .query_map(
                named_params! {":experiments": json_ids(experiments)},
                |row| row.get::<_, Option<i64>>(0),
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let Some(ids) = ids.into_iter().collect::<Option<Vec<i64>>>() else {
            return Ok(None);
        };
        let mut texts = Vec::with_capacity(ids.len());
        let mut one = conn.prepare_cached("SELECT keys FROM key_set WHERE id = ?1")?;
        for id in ids {
            texts.push(one.query_row([id], |row| row.get::<_, String>(0))?);
        }
        codec::merge_key_sets(texts.iter().map(String::as_str)).map(Some)
    }

    fn attempt_records(&self, job: i64, attempt: i64) -> Result<Vec<RecordRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(ATTEMPT_RECORDS)?;
        let rows = stmt
            .query_map((job, attempt), record_columns)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(codec::record_row).collect()
    }

    fn attempt_artifacts(&self, job: i64, attempt: i64) -> Result<Vec<ArtifactInfo>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(ATTEMPT_ARTIFACTS)?;
        let rows = stmt
            .query_map((job, attempt), |row| row.try_into())?
            .collect::<rusqlite::Result<Vec<(String, String, i64)>>>()?;
        rows.into_iter().map(codec::artifact_row).collect()
    }

    fn attempts(&self, job: i64) -> Result<Vec<AttemptRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(ATTEMPTS)?;
        let rows = stmt
            .query_map([job], attempt_columns)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(codec::attempt_row).collect()
    }

    fn artifact_uses(&self, digest_prefix: &str) -> Result<Vec<ArtifactUse>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(ARTIFACT_USES)?;
        let rows = stmt
            .query_map(named_params! {":prefix": digest_prefix}, |row| {
                row.try_into()
            })?
            .collect::<rusqlite::Result<Vec<codec::ArtifactUseColumns>>>()?;
        rows.into_iter().map(codec::artifact_use).collect()
    }

    fn module_digests(&self) -> Result<Vec<Digest>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT digest FROM module ORDER BY digest")?;
        let rows = stmt
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.iter()
            .map(|d| codec::digest(d, "module digest"))
            .collect()
    }

    fn attempt_log(&self, job: i64, attempt: i64) -> Result<Vec<u8>> {
        let log = self
            .conn()
            .query_row(ATTEMPT_LOG, (job, attempt), |row| row.get(0))
            .optional()?;
        Ok(log.unwrap_or_default())
    }
    fn add_submission(&self, submission: &NewSubmission, experiments: &[i64]) -> Result<()> {
        self.conn().execute(
            INSERT_SUBMISSION,
            named_params! {
                ":experiments": json_ids(experiments),
                ":scheduler": submission.scheduler,
                ":job": submission.scheduler_job,
                ":at": now_text(),
                ":command": submission.command,
                ":workers": submission.workers,
                ":slots": submission.slots,
            },
        )?;
        Ok(())
    }

    fn submissions(&self, experiments: &[i64]) -> Result<Vec<Submission>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(SUBMISSIONS)?;
        let rows = stmt
            .query_map(named_params! {":experiments": json_ids(experiments)}, |r| {
                Ok(Submission {
                    experiment_id: r.get(0)?,
                    scheduler: r.get(1)?,
                    scheduler_job: r.get(2)?,
                    submitted_at: r.get(3)?,
                    command: r.get(4)?,
                    workers: r.get(5)?,
                    slots: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn rungs(&self, experiments: &[i64]) -> Result<Vec<Rung>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(RUNGS)?;
        let rows = stmt
            .query_map(named_params! {":experiments": json_ids(experiments)}, |r| {
                r.try_into()
            })?
            .collect::<rusqlite::Result<Vec<codec::RungColumns>>>()?;
        rows.into_iter().map(codec::rung_row).collect()
    }

    fn rung_jobs(&self, rung: &Rung, metric: &str) -> Result<Vec<RungJob>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(RUNG_JOBS)?;
        let positions = rung.positions();
        let rows = stmt
            .query_map(
                named_params! {
                    ":experiment": rung.experiment_id,
                    ":first": positions.start,
                    ":end": positions.end,
                    ":metric": metric,
                },
                |r| r.try_into(),
            )?
            .collect::<rusqlite::Result<Vec<codec::RungJobColumns>>>()?;
        rows.into_iter().map(codec::rung_job).collect()
    }

    fn add_rung(
        &self,
        rung: &NewRung,
        jobs: &mut dyn Iterator<Item = std::result::Result<NewJob, String>>,
    ) -> Result<bool> {
        let mut conn = self.conn();
        // The write lock first: of racing workers, one inserts the rung and
        // its jobs; the others find the rung there and write nothing.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let inserted = tx.prepare_cached(INSERT_RUNG)?.execute(named_params! {
            ":experiment": rung.experiment_id,
            ":rung": rung.rung,
            ":rungs": rung.rungs,
            ":first_position": rung.first_position,
            ":jobs": rung.jobs,
            ":samples": codec::rung_samples(&rung.samples),
            ":now": now_text(),
            ":worker": rung.worker,
        })?;
        if inserted == 0 {
            return Ok(false);
        }
        let count = insert_jobs(&tx, rung.experiment_id, rung.first_position, jobs)?;
        if count != rung.jobs {
            return Err(StoreError::Input(format!(
                "rung {} of experiment {} was to have {} jobs, and {count} were made",
                rung.rung, rung.experiment_id, rung.jobs
            )));
        }
        tx.commit()?;
        Ok(true)
    }

    fn stop_sweep(&self, rung: &Rung, reason: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached(STOP_RUNG)?.execute(named_params! {
            ":experiment": rung.experiment_id,
            ":rung": rung.rung,
            ":reason": reason,
        })?;
        let positions = rung.positions();
        tx.prepare_cached(STOP_RUNG_JOBS)?.execute(named_params! {
            ":experiment": rung.experiment_id,
            ":first": positions.start,
            ":end": positions.end,
            ":reason": reason,
        })?;
        tx.commit()?;
        Ok(())
    }

    fn status_counts(&self, experiment: i64) -> Result<StatusCounts> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(STATUS_COUNTS)?;
        let rows = stmt
            .query_map([experiment], |row| row.try_into())?
            .collect::<rusqlite::Result<Vec<(String, i64)>>>()?;
        let mut counts = StatusCounts::default();
        for (status, n) in rows {
            counts.add(codec::status(&status)?, n as u64);
        }
        Ok(counts)
    }

    fn job_states(&self, experiment: i64) -> Result<Vec<JobRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(JOB_STATES)?;
        let rows = stmt
            .query_map([experiment], job_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(decode_job).collect()
    }

    fn visit_metric_records(
        &self,
        experiment: i64,
        jobs: Option<&[i64]>,
        visit: &mut dyn FnMut(i64, &str, &str),
    ) -> Result<()> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(METRIC_RECORDS)?;
        let mut rows = stmt.query(named_params! {
            ":experiment": experiment,
            ":all": jobs.is_none(),
            ":jobs": json_ids(jobs.unwrap_or_default()),
        })?;
        while let Some(row) = rows.next()? {
            let context = text_column(row, 1)?;
            let metrics = text_column(row, 2)?;
            visit(row.get(0)?, context, metrics);
        }
        Ok(())
    }

    fn visit_attempt_records(
        &self,
        job: i64,
        attempt: i64,
        visit: &mut dyn FnMut(RecordText<'_>) -> bool,
    ) -> Result<()> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(VISIT_RECORDS)?;
        let mut rows = stmt.query((job, attempt))?;
        while let Some(row) = rows.next()? {
            let record = RecordText {
                event: text_column(row, 0)?,
                context: text_column(row, 1)?,
                metrics: text_column(row, 2)?,
                artifacts: text_column(row, 3)?,
            };
            if !visit(record) {
                break;
            }
        }
        Ok(())
    }

    fn visit_attempt_metrics(
        &self,
        job: i64,
        attempt: i64,
        visit: &mut dyn FnMut(&str, &str),
    ) -> Result<()> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(ATTEMPT_METRICS)?;
        let mut rows = stmt.query((job, attempt))?;
        while let Some(row) = rows.next()? {
            visit(text_column(row, 0)?, text_column(row, 1)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
