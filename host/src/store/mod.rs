//! The store: experiments, jobs and records, behind one trait so that the
//! embedded SQLite store and a PostgreSQL store serve the same commands.
//!
//! One implementation serves both ([`sql_store`]): every statement is
//! written once (`queries/`, rewritten for each database by [`sql`]), and
//! only bulk inserts are written per database. A [`sql_store::Backend`]
//! ([`sqlite`], [`postgres`]) gives connections and transactions.
//!
//! Every state change after a claim is fenced by the lease owner: a worker
//! that lost its lease can neither finish the job nor write its records.
//! Records are written with the job's final status in one transaction, so a
//! finished job's records are never partial.

/// A query file of `store/queries/`.
macro_rules! query {
    ($file:literal) => {{
        static QUERY: crate::store::sql::Query =
            crate::store::sql::Query::new($file, include_str!(concat!("queries/", $file)));
        &QUERY
    }};
}

/// A query made of `job_columns.sql` and the rest of the statement.
macro_rules! job_query {
    ($name:literal, $rest:literal) => {{
        static QUERY: crate::store::sql::Query = crate::store::sql::Query::new(
            $name,
            concat!(include_str!("queries/job_columns.sql"), $rest),
        );
        &QUERY
    }};
}

mod adding;
mod attempts;
mod codec;
pub mod postgres;
mod rows;
pub mod sql;
pub mod sql_store;
pub mod sqlite;
pub mod timestamp;
mod types;

use std::time::Duration;

use crate::experiment::locked::LockedExperiment;
use crate::records::keys::RecordKeys;
use crate::records::{RecordText, Records};

pub use self::types::*;
pub use crate::experiment::sweep::rungs::*;

/// An error of a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed (connecting, or a statement).
    #[error("postgres: {0}")]
    Postgres(String),
    /// The database cannot be reached just now (worth retrying).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The store's configuration is wrong.
    #[error("{0}")]
    Config(String),
    /// Running the migrations failed.
    #[error("migrating the database: {0}")]
    Migration(String),
    /// A file of the store failed.
    #[error("store file {path}: {source}")]
    Io {
        /// Which file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A stored value does not decode.
    #[error("corrupt stored {what}: {message}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No such experiment.
    #[error("no experiment {0}")]
    NoExperiment(i64),
    /// No such job.
    #[error("no job {0}")]
    NoJob(i64),
    /// The jobs given to add could not all be made (a grid point that
    /// cannot apply, say); nothing was written.
    #[error("{0}")]
    Input(String),
}

impl StoreError {
    /// Whether retrying may help: the database was unreachable or busy, not
    /// wrong.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}

/// Result with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The jobs an experiment or a rung is added with, made on demand; an
/// `Err` is a job that could not be made, with why.
pub type NewJobs<'a> = dyn Iterator<Item = Result<NewJob, String>> + 'a;

/// An ended attempt and what it produced, as [`Store::finish_all`] commits
/// it.
pub type Ended<'a> = (&'a ClaimedJob, &'a AttemptResult<'a>);

/// What every store implements. Methods are blocking; a store is shared by
/// the worker threads of one process.
pub trait Store: Send + Sync {
    /// Writes an experiment and all its jobs in one transaction. `jobs`
    /// makes the jobs one at a time, in grid order, so a million jobs never
    /// sit in memory together; if it fails, nothing is written and its
    /// message comes back as [`StoreError::Input`]. `module` is the
    /// component's bytes; it is stored once per digest, so every worker of
    /// the store can load it.
    fn add_experiment(
        &self,
        experiment: &LockedExperiment,
        jobs: &mut NewJobs<'_>,
        module: &[u8],
    ) -> Result<i64>;

    /// The bytes of the module with `digest`, if stored.
    fn module(&self, digest: &crate::content::digest::Digest) -> Result<Option<Vec<u8>>>;

    /// Puts back jobs whose lease expired or whose owner is known dead
    /// (`dead_owners`), or fails them when they were lost too often.
    /// Returns how many jobs changed.
    fn reap(&self, experiments: &[i64], dead_owners: &[String]) -> Result<usize>;

    /// Claims up to `n` unassigned jobs of `experiments` for `worker`, in
    /// experiment and grid order, with a lease of `lease`.
    fn claim(
        &self,
        worker: &str,
        experiments: &[i64],
        n: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>>;

    /// Extends the leases of every job `worker` holds.
    fn renew(&self, worker: &str, lease: Duration) -> Result<()>;

    /// Ends attempts: for each, its status, records, artifacts and log,
    /// all in one transaction, each fenced by its lease. Returns, per
    /// attempt, false (having written nothing of it) when `worker` no longer
    /// holds the job.
    fn finish_all(&self, worker: &str, attempts: &[Ended<'_>]) -> Result<Vec<bool>>;

    /// Writes `records` as records `first..` of attempt `attempt` of job
    /// `job` while it runs, in a transaction of their own, fenced by the lease: returns
    /// false, having written nothing, when `worker` no longer holds that
    /// attempt. Every view reads records through the attempt's ending, so
    /// these stay invisible until [`Store::finish_all`] ends the attempt
    /// (told how many are stored, it writes only the rest); putting the
    /// attempt back ([`Store::release`], [`Store::reap`]) deletes them.
    fn append_records(
        &self,
        worker: &str,
        job: i64,
        attempt: i64,
        first: usize,
        records: &Records,
    ) -> Result<bool>;

    /// Ends one attempt (see [`Store::finish_all`]).
    fn finish(&self, worker: &str, job: &ClaimedJob, result: &AttemptResult<'_>) -> Result<bool> {
        Ok(self.finish_all(worker, &[(job, result)])?.first() == Some(&true))
    }

    /// The run-cache: finishes every unassigned job of `experiments` whose
    /// key matches a finished job (of any experiment) by linking that job's
    /// result, without running it. Each linked job gets a FINISHED attempt
    /// whose source is the attempt that produced the result. Returns how
    /// many jobs were linked.
    fn link_cached(&self, worker: &str, experiments: &[i64]) -> Result<u64>;

    /// Returns jobs `worker` holds to UNASSIGNED (an interrupted run).
    fn release(&self, worker: &str, jobs: &[i64]) -> Result<()>;

    /// Returns `job` to UNASSIGNED if `worker` still holds its attempt,
    /// keeping `log` as the log of that attempt (why it could not end: its
    /// artifacts could not be uploaded, say). Returns whether it did.
    fn release_with_log(&self, worker: &str, job: &ClaimedJob, log: &[u8]) -> Result<bool>;

    /// Where artifact `digest` is when a commit packed it (remote content).
    fn artifact_pack(
        &self,
        digest: &crate::content::digest::Digest,
    ) -> Result<Option<crate::content::remote::PackRef>>;

    /// Every pack an artifact is in (remote content).
    fn artifact_packs(&self) -> Result<Vec<crate::content::digest::Digest>>;

    /// The lease owners of assigned jobs of `experiments`.
    fn lease_owners(&self, experiments: &[i64]) -> Result<Vec<String>>;

    /// Every experiment with its job counts.
    fn experiments(&self) -> Result<Vec<ExperimentSummary>>;

    /// One experiment.
    fn experiment(&self, id: i64) -> Result<Experiment>;

    /// Calls `f` with each job of an experiment, in grid order, reading
    /// them as they are needed: a million jobs never sit in memory. `f`
    /// must not use the store (it may hold a connection); an error from it
    /// ends the reading.
    fn each_job(&self, experiment: i64, f: &mut dyn FnMut(JobRow) -> Result<()>) -> Result<()>;

    /// The jobs of an experiment, in grid order, all in memory (see
    /// [`Store::each_job`]).
    fn jobs(&self, experiment: i64) -> Result<Vec<JobRow>> {
        let mut jobs = Vec::new();
        self.each_job(experiment, &mut |job| {
            jobs.push(job);
            Ok(())
        })?;
        Ok(jobs)
    }

    /// One job.
    fn job(&self, id: i64) -> Result<JobRow>;

    /// Calls `f` with each record of the finished jobs of `experiments`,
    /// each from the attempt that finished, in experiment, grid and record
    /// order, as the stored text (borrowed: nothing is parsed or copied),
    /// reading them as they are needed. `f` must not use the store.
    fn each_record(
        &self,
        experiments: &[i64],
        f: &mut dyn FnMut(StoredRecord<'_>) -> Result<()>,
    ) -> Result<()>;

    /// The records [`Store::each_record`] reads, decoded, all in memory.
    fn records(&self, experiments: &[i64]) -> Result<Vec<RecordRow>> {
        let mut rows = Vec::new();
        self.each_record(experiments, &mut |record| {
            rows.push(codec::decode_record(record)?);
            Ok(())
        })?;
        Ok(rows)
    }

    /// The keys the records [`Store::each_record`] reads use, and their
    /// jobs' label keys: the columns of their export, without reading
    /// them. `None` when some of the attempts were stored before djx kept
    /// these sets (then read the records for them).
    fn record_keys(&self, experiments: &[i64]) -> Result<Option<RecordKeys>>;

    /// The records of one attempt of a job.
    fn attempt_records(&self, job: i64, attempt: i64) -> Result<Vec<RecordRow>>;

    /// The artifacts of one attempt of a job.
    fn attempt_artifacts(
        &self,
        job: i64,
        attempt: i64,
    ) -> Result<Vec<crate::records::ArtifactInfo>>;

    /// The attempts of a job that ended, oldest first.
    fn attempts(&self, job: i64) -> Result<Vec<AttemptRow>>;

    /// The names of the artifacts of an experiment's results, with how
    /// many jobs saved one of each.
    fn experiment_artifact_names(&self, experiment: i64) -> Result<Vec<(String, u64)>>;

    /// The artifacts called `name` of an experiment's results (at most
    /// `limit`), with their jobs, in job order.
    fn experiment_artifacts(
        &self,
        experiment: i64,
        name: &str,
        limit: u64,
    ) -> Result<Vec<(i64, crate::records::ArtifactInfo)>>;

    /// Every attempt that stored, or reused from the cache, an artifact
    /// whose digest starts with `digest_prefix` (lowercase hex).
    fn artifact_uses(&self, digest_prefix: &str) -> Result<Vec<ArtifactUse>>;

    /// The digests of the modules stored in the database.
    fn module_digests(&self) -> Result<Vec<crate::content::digest::Digest>>;

    /// The log of one attempt of a job (empty if none was kept).
    fn attempt_log(&self, job: i64, attempt: i64) -> Result<Vec<u8>>;

    /// The sketch of metric `name`'s curve kept with one attempt of a job
    /// (`None` when it has none: it streamed no records, or too many
    /// metrics).
    fn attempt_curve(
        &self,
        job: i64,
        attempt: i64,
        name: &str,
    ) -> Result<Option<crate::views::curve_sketch::StoredCurve>>;

    /// Records that workers for `experiments` were submitted to a
    /// scheduler (one row per experiment).
    fn add_submission(&self, submission: &NewSubmission, experiments: &[i64]) -> Result<()>;

    /// The recorded submissions of `experiments`, oldest first.
    fn submissions(&self, experiments: &[i64]) -> Result<Vec<Submission>>;

    /// One experiment's jobs by status: cheap enough to poll.
    fn status_counts(&self, experiment: i64) -> Result<StatusCounts>;

    /// The jobs of an experiment, in grid order, without their labels and
    /// parameters (empty objects): what changes while they run.
    fn job_states(&self, experiment: i64) -> Result<Vec<JobRow>>;

    /// Calls `visit(job, context, metrics)`, texts as stored, for every
    /// record with metrics of the finished jobs of `experiment` (only of
    /// `jobs`, when given), from the attempt that finished or the one it
    /// reuses from the run-cache, in grid and record order. Rows are not
    /// collected first, so a million records cost no memory.
    fn visit_metric_records(
        &self,
        experiment: i64,
        jobs: Option<&[i64]>,
        visit: &mut dyn FnMut(i64, &str, &str),
    ) -> Result<()>;

    /// Calls `visit` with each record of attempt `attempt` of `job`, in
    /// order, as stored; stops early when `visit` returns false.
    fn visit_attempt_records(
        &self,
        job: i64,
        attempt: i64,
        visit: &mut dyn FnMut(RecordText<'_>) -> bool,
    ) -> Result<()>;

    /// Calls `visit(context, metrics)`, texts as stored, for each record of
    /// attempt `attempt` of `job` that has metrics, in order: all a metric
    /// curve reads, and no more.
    fn visit_attempt_metrics(
        &self,
        job: i64,
        attempt: i64,
        visit: &mut dyn FnMut(&str, &str),
    ) -> Result<()>;

    /// Waits until jobs may have been added or released, or `timeout`
    /// passes. The default polls (it just sleeps).
    fn wait_for_work(&self, timeout: Duration) -> Result<()> {
        std::thread::sleep(timeout);
        Ok(())
    }

    /// The rungs of the halving sweeps of `experiments`, in experiment and
    /// rung order (none for an experiment without a sweep).
    fn rungs(&self, experiments: &[i64]) -> Result<Vec<Rung>>;

    /// The jobs of `rung`, in position order, each with its status and the
    /// metrics of its last record that has `metric`.
    fn rung_jobs(&self, rung: &Rung, metric: &str) -> Result<Vec<RungJob>>;

    /// Adds a rung and its jobs (`rung.jobs` of them, made one at a time)
    /// in one transaction, unless the rung exists: then it writes nothing
    /// and returns false. Of many workers adding the same rung at once,
    /// exactly one adds it.
    fn add_rung(&self, rung: &NewRung, jobs: &mut NewJobs<'_>) -> Result<bool>;

    /// Stops the sweep after `rung`: the rung and its jobs carry `reason`
    /// (a failed job keeps its own). Stopping a stopped sweep changes
    /// nothing.
    fn stop_sweep(&self, rung: &Rung, reason: &str) -> Result<()>;
}
