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
use futures_util::TryStreamExt;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Row};
use tokio_postgres_rustls::MakeRustlsConnect;

pub use self::config::PgConfig;
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
    refinery::embed_migrations!("../migrations/postgres");
}

const CLAIM: &str = include_str!("claim.sql");
const REAP: &str = include_str!("reap.sql");
const FINISH: &str = include_str!("finish.sql");
const RELEASE: &str = include_str!("release.sql");
const RENEW: &str = include_str!("renew.sql");
const RECORDS: &str = include_str!("records.sql");
const RECORD_KEY_SETS: &str = include_str!("record_key_sets.sql");
const JOB_COLUMNS: &str = include_str!("job_columns.sql");
const INSERT_RECORDS: &str = include_str!("insert_records.sql");
const INSERT_ARTIFACTS: &str = include_str!("insert_artifacts.sql");
const ATTEMPT_RECORDS: &str = include_str!("attempt_records.sql");
const ATTEMPT_ARTIFACTS: &str = include_str!("attempt_artifacts.sql");
const ATTEMPT_LOG: &str = include_str!("attempt_log.sql");
const INSERT_ATTEMPT: &str = include_str!("insert_attempt.sql");
const LINK_CACHED: &str = include_str!("link_cached.sql");
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
const INSERT_JOBS: &str = include_str!("insert_jobs.sql");
const INSERT_RUNG: &str = include_str!("insert_rung.sql");
const RUNGS: &str = include_str!("rungs.sql");
const RUNG_JOBS: &str = include_str!("rung_jobs.sql");
const STOP_RUNG: &str = include_str!("stop_rung.sql");
const STOP_RUNG_JOBS: &str = include_str!("stop_rung_jobs.sql");

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

fn pg(e: tokio_postgres::Error) -> StoreError {
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

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(pool_err)
    }

    /// Calls `f` with each row of the query, fetched [`FETCH_ROWS`] at a
    /// time through a portal (a cursor), so memory holds one batch however
    /// many rows there are.
    fn each_row(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
        f: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        self.rt.block_on(async {
            let mut client = self.client().await?;
            // A portal lives in a transaction (read only: this only reads).
            let tx = client
                .build_transaction()
                .read_only(true)
                .start()
                .await
                .map_err(pg)?;
            let statement = tx.prepare(sql).await.map_err(pg)?;
            let portal = tx.bind(&statement, params).await.map_err(pg)?;
            loop {
                let rows = tx.query_portal(&portal, FETCH_ROWS).await.map_err(pg)?;
                for row in &rows {
                    f(row)?;
                }
                if rows.len() < FETCH_ROWS as usize {
                    break;
                }
            }
            tx.commit().await.map_err(pg)
        })
    }
}

/// Rows per round trip when a read streams.
const FETCH_ROWS: i32 = 10_000;

fn job_row(row: &Row) -> Result<JobRow> {
    let job = JobRow {
        id: row.get(0),
        experiment_id: row.get(1),
        position: row.get(2),
        labels: serde_json::Value::Null,
        parameter: serde_json::Value::Null,
        status: JobStatus::Unassigned,
        attempt: row.get(6),
        lost: row.get(7),
        worker: row.get(8),
        started_at: row.get(9),
        finished_at: row.get(10),
        duration_ms: row.get(11),
        reason: row.get(12),
        key: None,
        result_digest: None,
        cached_from: row.get(15),
    };
    codec::job_row(
        job,
        JobText {
            labels: row.get(3),
            parameter: row.get(4),
            status: row.get(5),
            key: row.get(13),
            result_digest: row.get(14),
        },
    )
}

/// Statement parameters as `query_raw` takes them.
fn params<'a>(
    values: &'a [&'a (dyn tokio_postgres::types::ToSql + Sync)],
) -> impl ExactSizeIterator<Item = &'a dyn tokio_postgres::types::ToSql> + 'a {
    values.iter().map(|v| *v as _)
}

fn record_row(row: &Row) -> Result<RecordRow> {
    let columns: RecordColumns = (
        row.get(0),
        row.get(1),
        row.get(2),
        row.get(3),
        row.get(4),
        row.get(5),
        row.get(6),
    );
    codec::record_row(columns)
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
    jobs: &mut dyn Iterator<Item = std::result::Result<NewJob, String>>,
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

impl Store for PgStore {
    fn add_experiment(
        &self,
        e: &LockedExperiment,
        jobs: &mut dyn Iterator<Item = std::result::Result<NewJob, String>>,
        module: &[u8],
    ) -> Result<i64> {
        let json = codec::experiment_json(e)?;
        self.rt.block_on(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(pg)?;
            tx.execute(
                "INSERT INTO module (digest, wasm) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING",
                &[&e.module_digest.to_hex(), &module],
            )
            .await
            .map_err(pg)?;
            let row = tx
                .query_one(
                    "INSERT INTO experiment (project, name, description, created_at, source_path, source_digest,
                                             spec, module_digest, datasets, limits, determinism, retries,
                                             engine, provenance, digest_log, sweep)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                     RETURNING id",
                    &[
                        &e.project,
                        &e.name,
                        &e.description,
                        &now_text(),
                        &e.source_path,
                        &e.source_digest.to_hex(),
                        &e.source_text,
                        &e.module_digest.to_hex(),
                        &json.datasets,
                        &json.limits,
                        &e.determinism.to_string(),
                        &(e.retries as i32),
                        &json.engine,
                        &json.provenance,
                        &e.digest_log,
                        &json.sweep,
                    ],
                )
                .await
                .map_err(pg)?;
            let id: i64 = row.get(0);
            let count = insert_jobs(&tx, id, 0, jobs).await?;
            if let Some(plan) = &e.sweep {
                // Rung 0: the jobs just added.
                tx.execute(
                    INSERT_RUNG,
                    &[
                        &id,
                        &0i64,
                        &i64::from(plan.rungs),
                        &0i64,
                        &count,
                        &None::<String>,
                        &now_text(),
                        &None::<String>,
                    ],
                )
                .await
                .map_err(pg)?;
            }
            // Wakes `djx worker`s waiting for work.
            tx.batch_execute("NOTIFY djx_jobs").await.map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            Ok(id)
        })
    }

    fn module(&self, digest: &crate::content::digest::Digest) -> Result<Option<Vec<u8>>> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let row = client
                .query_opt(
                    "SELECT wasm FROM module WHERE digest = $1",
                    &[&digest.to_hex()],
                )
                .await
                .map_err(pg)?;
            Ok(row.map(|r| r.get(0)))
        })
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

    fn append_records(
        &self,
        worker: &str,
        job: i64,
        attempt: i64,
        first: usize,
        records: &Records,
    ) -> Result<bool> {
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

    fn claim(
        &self,
        worker: &str,
        experiments: &[i64],
        n: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>> {
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

    fn renew(&self, worker: &str, lease: Duration) -> Result<()> {
        self.rt.block_on(async {
            let client = self.client().await?;
            client
                .execute(RENEW, &[&worker, &(now_ms() + lease.as_millis() as i64)])
                .await
                .map_err(pg)?;
            Ok(())
        })
    }

    fn finish_all(
        &self,
        worker: &str,
        attempts: &[(&ClaimedJob, &AttemptResult<'_>)],
    ) -> Result<Vec<bool>> {
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

    fn lease_owners(&self, experiments: &[i64]) -> Result<Vec<String>> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT DISTINCT lease_owner FROM job
                     WHERE status = 'ASSIGNED' AND lease_owner IS NOT NULL AND experiment_id = ANY($1)",
                    &[&experiments],
                )
                .await
                .map_err(pg)?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    fn experiments(&self) -> Result<Vec<ExperimentSummary>> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let rows = client
                .query("SELECT id, project, name, created_at FROM experiment ORDER BY id", &[])
                .await
                .map_err(pg)?;
            let list = rows
                .iter()
                .map(|r| ExperimentSummary {
                    id: r.get(0),
                    project: r.get(1),
                    name: r.get(2),
                    created_at: r.get(3),
                    jobs: StatusCounts::default(),
                })
                .collect();
            let counts = client
                .query("SELECT experiment_id, status, count(*) FROM job GROUP BY experiment_id, status", &[])
                .await
                .map_err(pg)?;
            codec::with_counts(list, counts.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
        })
    }

    fn experiment(&self, id: i64) -> Result<Experiment> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let row = client
                .query_opt(
                    &format!(
                        "SELECT {} FROM experiment WHERE id = $1",
                        codec::EXPERIMENT_COLUMNS
                    ),
                    &[&id],
                )
                .await
                .map_err(pg)?
                .ok_or(StoreError::NoExperiment(id))?;
            codec::experiment_row(
                id,
                ExperimentColumns {
                    created_at: row.get(0),
                    project: row.get(1),
                    name: row.get(2),
                    description: row.get(3),
                    source_path: row.get(4),
                    source_digest: row.get(5),
                    spec: row.get(6),
                    module_digest: row.get(7),
                    datasets: row.get(8),
                    limits: row.get(9),
                    determinism: row.get(10),
                    retries: row.get::<_, i32>(11) as u32,
                    engine: row.get(12),
                    provenance: row.get(13),
                    digest_log: row.get(14),
                    sweep: row.get(15),
                },
            )
        })
    }

    fn each_job(&self, experiment: i64, f: &mut dyn FnMut(JobRow) -> Result<()>) -> Result<()> {
        let sql = format!("{JOB_COLUMNS} WHERE experiment_id = $1 ORDER BY position");
        self.each_row(&sql, &[&experiment], &mut |row| f(job_row(row)?))
    }

    fn job(&self, id: i64) -> Result<JobRow> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let row = client
                .query_opt(&format!("{JOB_COLUMNS} WHERE id = $1"), &[&id])
                .await
                .map_err(pg)?
                .ok_or(StoreError::NoJob(id))?;
            job_row(&row)
        })
    }

    fn each_record(
        &self,
        experiments: &[i64],
        f: &mut dyn FnMut(StoredRecord<'_>) -> Result<()>,
    ) -> Result<()> {
        self.each_row(RECORDS, &[&experiments], &mut |row| {
            let text = |i: usize| row.try_get::<_, &str>(i).map_err(pg);
            f(StoredRecord {
                exp_id: row.try_get(0).map_err(pg)?,
                job_id: row.try_get(1).map_err(pg)?,
                labels: text(2)?,
                record: RecordText {
                    event: text(3)?,
                    context: text(4)?,
                    metrics: text(5)?,
                    artifacts: text(6)?,
                },
            })
        })
    }

    fn record_keys(&self, experiments: &[i64]) -> Result<Option<RecordKeys>> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let rows = client
                .query(RECORD_KEY_SETS, &[&experiments])
                .await
                .map_err(pg)?;
            let ids: Option<Vec<i64>> = rows.iter().map(|r| r.get::<_, Option<i64>>(0)).collect();
            let Some(ids) = ids else {
                return Ok(None);
            };
            let rows = client
                .query("SELECT keys FROM key_set WHERE id = ANY($1)", &[&ids])
                .await
                .map_err(pg)?;
            codec::merge_key_sets(rows.iter().map(|r| r.get::<_, &str>(0))).map(Some)
        })
    }

    fn attempt_records(&self, job: i64, attempt: i64) -> Result<Vec<RecordRow>> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let rows = client
                .query(ATTEMPT_RECORDS, &[&job, &attempt])
                .await
                .map_err(pg)?;
            rows.iter().map(record_row).collect()
        })
    }

    fn attempt_artifacts(&self, job: i64, attempt: i64) -> Result<Vec<ArtifactInfo>> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let rows = client
                .query(ATTEMPT_ARTIFACTS, &[&job, &attempt])
                .await
                .map_err(pg)?;
            rows.iter()
                .map(|r| codec::artifact_row((r.get(0), r.get(1), r.get(2))))
                .collect()
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

    fn attempts(&self, job: i64) -> Result<Vec<AttemptRow>> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let rows = client.query(ATTEMPTS, &[&job]).await.map_err(pg)?;
            rows.iter()
                .map(|r| {
                    codec::attempt_row((
                        r.get(0),
                        r.get(1),
                        r.get(2),
                        r.get(3),
                        r.get(4),
                        r.get(5),
                        r.get(6),
                        r.get(7),
                        r.get(8),
                        r.get(9),
                        r.get(10),
                    ))
                })
                .collect()
        })
    }

    fn artifact_uses(&self, digest_prefix: &str) -> Result<Vec<ArtifactUse>> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let rows = client
                .query(ARTIFACT_USES, &[&digest_prefix])
                .await
                .map_err(pg)?;
            rows.iter()
                .map(|r| {
                    codec::artifact_use((
                        r.get(0),
                        r.get(1),
                        r.get(2),
                        r.get(3),
                        r.get(4),
                        r.get(5),
                        r.get(6),
                        r.get(7),
                    ))
                })
                .collect()
        })
    }

    fn module_digests(&self) -> Result<Vec<Digest>> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let rows = client
                .query("SELECT digest FROM module ORDER BY digest", &[])
                .await
                .map_err(pg)?;
            rows.iter()
                .map(|r| codec::digest(r.get(0), "module digest"))
                .collect()
        })
    }

    fn attempt_log(&self, job: i64, attempt: i64) -> Result<Vec<u8>> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let row = client
                .query_opt(ATTEMPT_LOG, &[&job, &attempt])
                .await
                .map_err(pg)?;
            Ok(row.map(|r| r.get(0)).unwrap_or_default())
        })
    }

    fn add_submission(&self, submission: &NewSubmission, experiments: &[i64]) -> Result<()> {
        self.rt.block_on(async {
            let client = self.client().await?;
            client
                .execute(
                    INSERT_SUBMISSION,
                    &[
                        &experiments,
                        &submission.scheduler,
                        &submission.scheduler_job,
                        &now_text(),
                        &submission.command,
                        &(submission.workers as i32),
                        &(submission.slots as i32),
                    ],
                )
                .await
                .map_err(pg)?;
            Ok(())
        })
    }

    fn submissions(&self, experiments: &[i64]) -> Result<Vec<Submission>> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let rows = client
                .query(SUBMISSIONS, &[&experiments])
                .await
                .map_err(pg)?;
            Ok(rows
                .iter()
                .map(|r| Submission {
                    experiment_id: r.get(0),
                    scheduler: r.get(1),
                    scheduler_job: r.get(2),
                    submitted_at: r.get(3),
                    command: r.get(4),
                    workers: r.get::<_, i32>(5).max(0) as u32,
                    slots: r.get::<_, i32>(6).max(0) as u32,
                })
                .collect())
        })
    }

    fn rungs(&self, experiments: &[i64]) -> Result<Vec<Rung>> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let rows = client.query(RUNGS, &[&experiments]).await.map_err(pg)?;
            rows.iter()
                .map(|r| {
                    codec::rung_row((
                        r.get(0),
                        r.get(1),
                        r.get(2),
                        r.get(3),
                        r.get(4),
                        r.get(5),
                        r.get(6),
                        r.get(7),
                        r.get(8),
                    ))
                })
                .collect()
        })
    }

    fn rung_jobs(&self, rung: &Rung, metric: &str) -> Result<Vec<RungJob>> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let positions = rung.positions();
            let rows = client
                .query(
                    RUNG_JOBS,
                    &[
                        &rung.experiment_id,
                        &positions.start,
                        &positions.end,
                        &metric,
                    ],
                )
                .await
                .map_err(pg)?;
            rows.iter()
                .map(|r| codec::rung_job((r.get(0), r.get(1), r.get(2), r.get(3))))
                .collect()
        })
    }

    fn add_rung(
        &self,
        rung: &NewRung,
        jobs: &mut dyn Iterator<Item = std::result::Result<NewJob, String>>,
    ) -> Result<bool> {
        self.rt.block_on(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(pg)?;
            // A racing insert of the same rung waits for this transaction,
            // then inserts nothing: exactly one worker adds each rung.
            let inserted = tx
                .execute(
                    INSERT_RUNG,
                    &[
                        &rung.experiment_id,
                        &i64::from(rung.rung),
                        &i64::from(rung.rungs),
                        &rung.first_position,
                        &rung.jobs,
                        &Some(codec::rung_samples(&rung.samples)),
                        &now_text(),
                        &Some(rung.worker.as_str()),
                    ],
                )
                .await
                .map_err(pg)?;
            if inserted == 0 {
                return Ok(false);
            }
            let count = insert_jobs(&tx, rung.experiment_id, rung.first_position, jobs).await?;
            if count != rung.jobs {
                return Err(StoreError::Input(format!(
                    "rung {} of experiment {} was to have {} jobs, and {count} were made",
                    rung.rung, rung.experiment_id, rung.jobs
                )));
            }
            // Wakes `djx worker`s waiting for work.
            tx.batch_execute("NOTIFY djx_jobs").await.map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            Ok(true)
        })
    }

    fn stop_sweep(&self, rung: &Rung, reason: &str) -> Result<()> {
        self.rt.block_on(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(pg)?;
            tx.execute(
                STOP_RUNG,
                &[&rung.experiment_id, &i64::from(rung.rung), &reason],
            )
            .await
            .map_err(pg)?;
            let positions = rung.positions();
            tx.execute(
                STOP_RUNG_JOBS,
                &[
                    &rung.experiment_id,
                    &positions.start,
                    &positions.end,
                    &reason,
                ],
            )
            .await
            .map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            Ok(())
        })
    }

    fn status_counts(&self, experiment: i64) -> Result<StatusCounts> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let stmt = client.prepare_cached(STATUS_COUNTS).await.map_err(pg)?;
            let rows = client.query(&stmt, &[&experiment]).await.map_err(pg)?;
            let mut counts = StatusCounts::default();
            for row in &rows {
                counts.add(codec::status(row.get(0))?, row.get::<_, i64>(1) as u64);
            }
            Ok(counts)
        })
    }

    fn job_states(&self, experiment: i64) -> Result<Vec<JobRow>> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let stmt = client.prepare_cached(JOB_STATES).await.map_err(pg)?;
            let rows = client.query(&stmt, &[&experiment]).await.map_err(pg)?;
            rows.iter().map(job_row).collect()
        })
    }

    fn visit_metric_records(
        &self,
        experiment: i64,
        jobs: Option<&[i64]>,
        visit: &mut dyn FnMut(i64, &str, &str),
    ) -> Result<()> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let stmt = client.prepare_cached(METRIC_RECORDS).await.map_err(pg)?;
            let all = jobs.is_none();
            let ids: Vec<i64> = jobs.unwrap_or_default().to_vec();
            let rows = client
                .query_raw(&stmt, params(&[&experiment, &all, &ids]))
                .await
                .map_err(pg)?;
            let mut rows = std::pin::pin!(rows);
            while let Some(row) = rows.try_next().await.map_err(pg)? {
                visit(row.get(0), row.get(1), row.get(2));
            }
            Ok(())
        })
    }

    fn visit_attempt_records(
        &self,
        job: i64,
        attempt: i64,
        visit: &mut dyn FnMut(RecordText<'_>) -> bool,
    ) -> Result<()> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let stmt = client.prepare_cached(VISIT_RECORDS).await.map_err(pg)?;
            let rows = client
                .query_raw(&stmt, params(&[&job, &attempt]))
                .await
                .map_err(pg)?;
            let mut rows = std::pin::pin!(rows);
            while let Some(row) = rows.try_next().await.map_err(pg)? {
                let record = RecordText {
                    event: row.get(0),
                    context: row.get(1),
                    metrics: row.get(2),
                    artifacts: row.get(3),
                };
                if !visit(record) {
                    break;
                }
            }
            Ok(())
        })
    }

    fn visit_attempt_metrics(
        &self,
        job: i64,
        attempt: i64,
        visit: &mut dyn FnMut(&str, &str),
    ) -> Result<()> {
        self.rt.block_on(async {
            let client = self.client().await?;
            let stmt = client.prepare_cached(ATTEMPT_METRICS).await.map_err(pg)?;
            let rows = client
                .query_raw(&stmt, params(&[&job, &attempt]))
                .await
                .map_err(pg)?;
            let mut rows = std::pin::pin!(rows);
            while let Some(row) = rows.try_next().await.map_err(pg)? {
                visit(row.get(0), row.get(1));
            }
            Ok(())
        })
    }
}
