//! The PostgreSQL store: one database shared by many `djx` processes on
//! many machines.
//!
//! Claims are one statement with `FOR UPDATE SKIP LOCKED`, so workers never
//! wait on each other or take the same job. Every change after a claim is
//! fenced by the lease owner. All tables live in one schema (`DJX_PG_SCHEMA`,
//! default `djx`). Migrations are embedded and run under an advisory lock, so
//! workers that start together migrate once. Connections use TLS as
//! `sslmode` says (see [`tls`]).

mod config;
pub mod tls;

use crate::experiment::locked::LockedExperiment;
use crate::sync::Unpoisoned;
use std::sync::Mutex;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;
use tokio_postgres_rustls::MakeRustlsConnect;

pub use self::config::PgConfig;
use super::codec;
use super::sql::Sql;
use super::sql::postgres::{PgConn, PgSql};
use super::sql_store::{
    Append, Backend, Claim, check_rung_jobs, first_rung, insert_experiment, insert_rung,
};
use super::{AttemptResult, ClaimedJob, Ended, NewJob, NewJobs, NewRung, Result, StoreError};
use crate::content::digest::Digest;
use crate::records::{RecordText, Records};
use crate::store::timestamp::{now_ms, now_text};

mod migrations {
    refinery::embed_migrations!("../migrations/postgres");
}

const CLAIM: &str = include_str!("claim.sql");
const REAP: &str = include_str!("reap.sql");
const FINISH: &str = include_str!("finish.sql");
const RELEASE: &str = include_str!("release.sql");
const INSERT_RECORDS: &str = include_str!("insert_records.sql");
const INSERT_ARTIFACTS: &str = include_str!("insert_artifacts.sql");
const INSERT_ATTEMPT: &str = include_str!("insert_attempt.sql");
const LINK_CACHED: &str = include_str!("link_cached.sql");
const DROP_RECORDS: &str = include_str!("drop_records.sql");
const LEASE_HELD: &str = include_str!("lease_held.sql");
const INSERT_JOBS: &str = include_str!("insert_jobs.sql");

/// Jobs per `INSERT_JOBS` round trip when adding an experiment.
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
    fn push(&mut self, position: i64, job: NewJob) {
        self.positions.push(position);
        self.labels.push(job.labels);
        self.params.push(job.parameter);
        self.keys.push(job.key.to_hex());
    }
}

/// Connections per process.
const POOL_SIZE: usize = 16;

/// The PostgreSQL store. Its methods block on an internal tokio runtime.
pub struct PgStore {
    rt: tokio::runtime::Runtime,
    pool: Pool,
    config: PgConfig,
    tls: MakeRustlsConnect,
    listener: Mutex<Option<Listener>>,
}

/// A connection LISTENing on `djx_jobs`; each notification is a message.
struct Listener {
    _client: tokio_postgres::Client,
    notified: mpsc::UnboundedReceiver<()>,
}

/// A driver error as a store error: transient when the connection broke.
pub(crate) fn pg(e: tokio_postgres::Error) -> StoreError {
    // Connection exceptions (08), shutdowns (57P), serialization failures and
    // deadlocks, and errors with no SQLSTATE (I/O) may pass; others will not.
    let transient = e.is_closed()
        || e.code().is_none_or(|c| {
            let c = c.code();
            c.starts_with("08") || c.starts_with("57P") || c == "40001" || c == "40P01"
        });
    // tokio-postgres shows a server error as just "db error"; say what the
    // server said.
    let text = error_text(&e);
    if transient {
        StoreError::Unavailable(text)
    } else {
        StoreError::Postgres(text)
    }
}

/// The error's text with its causes (tokio-postgres shows a TLS failure
/// as just "error performing TLS handshake").
fn error_text(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = cause.source();
    }
    text
}

/// The rustls error behind a failed TLS handshake.
fn tls_failure(e: &tokio_postgres::Error) -> Option<&rustls::Error> {
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        source = cause.source();
    }
    None
}

/// Why connecting to the server failed, with a hint for TLS failures.
fn connect_error(config: &PgConfig, e: &tokio_postgres::Error) -> String {
    use rustls::CertificateError as Cert;
    let text = error_text(e);
    let tls = config.tls();
    let hint = match tls_failure(e) {
        Some(rustls::Error::InvalidCertificate(Cert::UnknownIssuer | Cert::BadSignature)) => {
            format!(
                " (the server's certificate is not signed by the CA in sslrootcert={})",
                tls.root_cert()
                    .map_or("?".into(), |p| p.display().to_string())
            )
        }
        Some(rustls::Error::InvalidCertificate(
            Cert::NotValidForName | Cert::NotValidForNameContext { .. },
        )) => " (sslmode=verify-full: the server's certificate does not name the host \
               connected to; connect by a name it has, or use sslmode=verify-ca)"
            .to_owned(),
        _ if text.contains("no encryption") => {
            format!(" (the server requires TLS, and sslmode is {})", tls.mode())
        }
        _ => String::new(),
    };
    format!("connecting to {config}: {text}{hint}")
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl PgStore {
    /// Connects, creating the schema and running migrations if needed.
    pub fn open(config: PgConfig) -> Result<PgStore> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("djx-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Postgres(format!("starting the tokio runtime: {e}")))?;
        let tls = config.tls().connector()?;
        let manager = Manager::from_config(
            config.connection(),
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Postgres(e.to_string()))?;
        let store = PgStore {
            rt,
            pool,
            config,
            tls,
            listener: Mutex::new(None),
        };
        store.rt.block_on(store.migrate())?;
        Ok(store)
    }

    /// The configuration (its `Display` never shows the password).
    pub fn config(&self) -> &PgConfig {
        &self.config
    }

    async fn migrate(&self) -> Result<()> {
        let (mut client, connection) = self
            .config
            .connection()
            .connect(self.tls.clone())
            .await
            .map_err(|e| StoreError::Postgres(connect_error(&self.config, &e)))?;
        let driver = tokio::spawn(connection);
        let schema = self.config.schema();
        // One process migrates; the others wait here, then find nothing to do.
        client
            .batch_execute("SELECT pg_advisory_lock(hashtext('djx migrations'))")
            .await
            .map_err(pg)?;
        let result = async {
            client
                .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .await
                .map_err(pg)?;
            migrations::migrations::runner()
                .set_grouped(true)
                .run_async(&mut client)
                .await
                .map(|_| ())
                .map_err(|e| StoreError::Migration(e.to_string()))
        }
        .await;
        let _ = client
            .batch_execute("SELECT pg_advisory_unlock(hashtext('djx migrations'))")
            .await;
        drop(client);
        driver.abort();
        result
    }

    async fn listen(&self) -> Result<Listener> {
        let (client, mut connection) = self
            .config
            .connection()
            .connect(self.tls.clone())
            .await
            .map_err(pg)?;
        let (tx, notified) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(Ok(message)) =
                std::future::poll_fn(|cx| connection.poll_message(cx)).await
            {
                if let AsyncMessage::Notification(_) = message
                    && tx.send(()).is_err()
                {
                    break;
                }
            }
            // Dropping `tx` tells the waiter the connection is gone.
        });
        client.batch_execute("LISTEN djx_jobs").await.map_err(pg)?;
        Ok(Listener {
            _client: client,
            notified,
        })
    }

    /// The SQL seam over transaction `tx`.
    fn sql<'c, 't>(&'c self, tx: &'c deadpool_postgres::Transaction<'t>) -> PgSql<'c, 't> {
        PgSql {
            rt: &self.rt,
            conn: PgConn::Transaction(tx),
        }
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(pool_err)
    }
}

/// Wakes `djx worker`s waiting for work, and commits `tx`.
async fn notify_and_commit(tx: deadpool_postgres::Transaction<'_>) -> Result<()> {
    tx.batch_execute("NOTIFY djx_jobs").await.map_err(pg)?;
    tx.commit().await.map_err(pg)
}

/// Writes `records` as records `first..` of an attempt, in one statement.
async fn insert_records<'r>(
    tx: &deadpool_postgres::Transaction<'_>,
    job: i64,
    attempt: i64,
    first: usize,
    records: impl Iterator<Item = RecordText<'r>>,
) -> Result<()> {
    let (mut events, mut contexts, mut metrics, mut refs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for record in records {
        events.push(record.event);
        contexts.push(record.context);
        metrics.push(record.metrics);
        refs.push(record.artifacts);
    }
    if events.is_empty() {
        return Ok(());
    }
    let seqs: Vec<i64> = (first as i64..).take(events.len()).collect();
    tx.execute(
        INSERT_RECORDS,
        &[&job, &attempt, &seqs, &events, &contexts, &metrics, &refs],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

/// Runs `put_back` (an UPDATE returning the id and attempt of each job it
/// puts back) and deletes the records those attempts streamed; returns how
/// many jobs it put back.
async fn put_back(
    tx: &deadpool_postgres::Transaction<'_>,
    put_back: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<usize> {
    let rows = tx.query(put_back, params).await.map_err(pg)?;
    let (jobs, attempts): (Vec<i64>, Vec<i64>) = rows
        .iter()
        .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1)))
        .unzip();
    if !jobs.is_empty() {
        tx.execute(DROP_RECORDS, &[&jobs, &attempts])
            .await
            .map_err(pg)?;
    }
    Ok(jobs.len())
}

/// Writes `jobs` as the jobs of experiment `id` at positions `first..`, in
/// grid order; returns how many. Batches of rows go as arrays through
/// `unnest`: one round trip per batch, and memory for one batch, however
/// many jobs there are.
async fn insert_jobs(
    tx: &deadpool_postgres::Transaction<'_>,
    id: i64,
    first: i64,
    jobs: &mut NewJobs<'_>,
) -> Result<i64> {
    let insert = tx.prepare(INSERT_JOBS).await.map_err(pg)?;
    let mut position = first;
    let mut batch = JobBatch::default();
    loop {
        let job = jobs.next().transpose().map_err(StoreError::Input)?;
        let done = job.is_none();
        if let Some(job) = job {
            batch.push(position, job);
            position += 1;
        }
        if batch.positions.len() >= ADD_BATCH || (done && !batch.positions.is_empty()) {
            tx.execute(
                &insert,
                &[
                    &id,
                    &batch.positions,
                    &batch.labels,
                    &batch.params,
                    &batch.keys,
                ],
            )
            .await
            .map_err(pg)?;
            batch = JobBatch::default();
        }
        if done {
            return Ok(position - first);
        }
    }
}

/// Ends one attempt inside `tx`, fenced by its lease; false (writing
/// nothing of it) when `worker` no longer holds the job.
async fn finish_one(
    tx: &deadpool_postgres::Transaction<'_>,
    worker: &str,
    job: &ClaimedJob,
    result: &AttemptResult<'_>,
    now: &str,
) -> Result<bool> {
    let stmt = tx.prepare_cached(FINISH).await.map_err(pg)?;
    let changed = tx
        .execute(
            &stmt,
            &[
                &result.status().as_str(),
                &result.failure,
                &now,
                &(result.duration.as_millis() as i64),
                &job.id,
                &job.attempt,
                &worker,
            ],
        )
        .await
        .map_err(pg)?;
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
    )
    .await?;
    if !result.artifacts.is_empty() {
        let seqs: Vec<i64> = (0..result.artifacts.len() as i64).collect();
        let names: Vec<&str> = result.artifacts.iter().map(|a| a.name.as_str()).collect();
        let digests: Vec<String> = result.artifacts.iter().map(|a| a.digest.to_hex()).collect();
        let sizes: Vec<i64> = result.artifacts.iter().map(|a| a.size as i64).collect();
        tx.execute(
            INSERT_ARTIFACTS,
            &[&job.id, &job.attempt, &seqs, &names, &digests, &sizes],
        )
        .await
        .map_err(pg)?;
    }
    if !result.log.is_empty() {
        tx.execute(
            "INSERT INTO job_log (job_id, attempt, log) VALUES ($1, $2, $3)",
            &[&job.id, &job.attempt, &result.log],
        )
        .await
        .map_err(pg)?;
    }
    let digest = result.result_digest.map(|d| d.to_hex());
    let keys = result.record_keys.to_text();
    let key_digest = Digest::of(keys.as_bytes()).to_hex();
    let stmt = tx.prepare_cached(INSERT_ATTEMPT).await.map_err(pg)?;
    tx.execute(&stmt, &[&job.id, &job.attempt, &digest, &key_digest, &keys])
        .await
        .map_err(pg)?;
    Ok(true)
}

impl Backend for PgStore {
    fn with_sql<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let mut client = self.rt.block_on(self.client())?;
        f(&mut PgSql {
            rt: &self.rt,
            conn: PgConn::Client(&mut client),
        })
    }

    fn in_transaction<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let mut client = self.rt.block_on(self.client())?;
        let tx = self.rt.block_on(client.transaction()).map_err(pg)?;
        let value = f(&mut self.sql(&tx))?;
        self.rt.block_on(tx.commit()).map_err(pg)?;
        Ok(value)
    }

    fn add(&self, e: &LockedExperiment, jobs: &mut NewJobs<'_>, module: &[u8]) -> Result<i64> {
        let mut client = self.rt.block_on(self.client())?;
        let tx = self.rt.block_on(client.transaction()).map_err(pg)?;
        let id = insert_experiment(&mut self.sql(&tx), e, module)?;
        let count = self.rt.block_on(insert_jobs(&tx, id, 0, jobs))?;
        if let Some(rung) = first_rung(e, id, count) {
            insert_rung(&mut self.sql(&tx), &rung, false)?;
        }
        self.rt.block_on(notify_and_commit(tx))?;
        Ok(id)
    }

    fn reap(&self, experiments: &[i64], dead_owners: &[String]) -> Result<usize> {
        self.rt.block_on(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(pg)?;
            let n = put_back(
                &tx,
                REAP,
                &[&now_text(), &now_ms(), &experiments, &dead_owners],
            )
            .await?;
            tx.commit().await.map_err(pg)?;
            Ok(n)
        })
    }

    fn append_records(&self, to: Append<'_>, records: &Records) -> Result<bool> {
        let (worker, job) = (to.worker, to.job);
        let (attempt, first) = (to.attempt, to.first);
        self.rt.block_on(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(pg)?;
            let held = tx
                .query_opt(LEASE_HELD, &[&job, &attempt, &worker])
                .await
                .map_err(pg)?;
            if held.is_none() {
                return Ok(false);
            }
            insert_records(&tx, job, attempt, first, records.iter()).await?;
            tx.commit().await.map_err(pg)?;
            Ok(true)
        })
    }

    fn claim(&self, claim: Claim<'_>) -> Result<Vec<ClaimedJob>> {
        let (worker, experiments) = (claim.worker, claim.experiments);
        let (n, lease) = (claim.n, claim.lease);
        self.rt.block_on(async {
            let client = self.client().await?;
            let stmt = client.prepare_cached(CLAIM).await.map_err(pg)?;
            let rows = client
                .query(
                    &stmt,
                    &[
                        &worker,
                        &(now_ms() + lease.as_millis() as i64),
                        &now_text(),
                        &experiments,
                        &(n as i64),
                    ],
                )
                .await
                .map_err(pg)?;
            codec::claimed_jobs(
                rows.iter()
                    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
                    .collect(),
            )
        })
    }

    fn finish_all(&self, worker: &str, attempts: &[Ended<'_>]) -> Result<Vec<bool>> {
        self.rt.block_on(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(pg)?;
            let now = now_text();
            let mut kept = Vec::with_capacity(attempts.len());
            for (job, result) in attempts {
                kept.push(finish_one(&tx, worker, job, result, &now).await?);
            }
            tx.commit().await.map_err(pg)?;
            Ok(kept)
        })
    }

    fn link_cached(&self, worker: &str, experiments: &[i64]) -> Result<u64> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let linked = client
                .execute(LINK_CACHED, &[&experiments, &worker, &now_text()])
                .await
                .map_err(pg)?;
            Ok(linked)
        })
    }

    fn release(&self, worker: &str, jobs: &[i64]) -> Result<()> {
        self.rt.block_on(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(pg)?;
            put_back(&tx, RELEASE, &[&worker, &jobs]).await?;
            tx.commit().await.map_err(pg)?;
            // Others may be waiting for these jobs.
            client.batch_execute("NOTIFY djx_jobs").await.map_err(pg)?;
            Ok(())
        })
    }

    fn wait_for_work(&self, timeout: Duration) -> Result<()> {
        let mut guard = self.listener.lock_unpoisoned();
        self.rt.block_on(async {
            if guard.is_none() {
                *guard = Some(self.listen().await?);
            }
            let Some(listener) = guard.as_mut() else {
                return Ok(());
            };
            match tokio::time::timeout(timeout, listener.notified.recv()).await {
                Ok(Some(())) => while listener.notified.try_recv().is_ok() {},
                // The connection dropped: listen again next time.
                Ok(None) => *guard = None,
                Err(_elapsed) => {}
            }
            Ok(())
        })
    }

    fn add_rung(&self, rung: &NewRung, jobs: &mut NewJobs<'_>) -> Result<bool> {
        let mut client = self.rt.block_on(self.client())?;
        let tx = self.rt.block_on(client.transaction()).map_err(pg)?;
        // A racing insert of the same rung waits for this transaction, then
        // inserts nothing: exactly one worker adds each rung.
        if !insert_rung(&mut self.sql(&tx), rung, true)? {
            return Ok(false);
        }
        let count = self.rt.block_on(insert_jobs(
            &tx,
            rung.experiment_id,
            rung.first_position,
            jobs,
        ))?;
        check_rung_jobs(rung, count)?;
        self.rt.block_on(notify_and_commit(tx))?;
        Ok(true)
    }
}
