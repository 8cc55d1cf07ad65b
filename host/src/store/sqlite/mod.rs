//! The embedded store: one SQLite file in WAL mode.
//!
//! Writes are short transactions; claims run under `BEGIN IMMEDIATE`, so two
//! `djx run` processes on one file never claim the same job. With WAL and
//! `synchronous = NORMAL` a committed transaction survives a crash of the
//! djx process; a power loss may lose the last transactions, never corrupt
//! the file.

pub mod bulk;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use super::sql::Sql;
use super::sql::sqlite::SqliteSql;
use super::sql_store::Backend;
use super::{Result, StoreError};
use crate::sync::Unpoisoned;

mod migrations {
    refinery::embed_migrations!("../migrations/sqlite");
}

/// The page cache while adding an experiment, in KiB (negative: SQLite's
/// unit for a size rather than a page count).
const ADD_CACHE_KIB: i64 = -32_768;
/// SQLite's default page cache, restored after an add.
const DEFAULT_CACHE_KIB: i64 = -2_000;

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

/// Runs `f` in a write transaction on `conn`: `BEGIN IMMEDIATE` takes the
/// write lock first, so that of two processes one waits rather than both
/// failing at their first write.
fn transaction<T>(conn: &mut Connection, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let value = f(&mut SqliteSql(&tx))?;
    tx.commit()?;
    Ok(value)
}

impl Backend for SqliteStore {
    fn with_sql<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let conn = self.conn();
        f(&mut SqliteSql(&conn))
    }

    fn in_transaction<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        transaction(&mut self.conn(), f)
    }

    fn in_bulk_transaction<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        // Adding a million jobs touches the table and its indexes far more
        // than SQLite's default 2 MiB page cache holds: nearly every insert
        // re-read pages from the WAL (9 s of system time); 32 MiB keeps
        // them (P7).
        conn.pragma_update(None, "cache_size", ADD_CACHE_KIB)?;
        let added = transaction(&mut conn, f);
        conn.pragma_update(None, "cache_size", DEFAULT_CACHE_KIB)?;
        added
    }

    fn in_append_transaction<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let mut conn = self.appender()?;
        transaction(&mut conn, f)
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
