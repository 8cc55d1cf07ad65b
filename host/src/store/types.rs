//! The values a store reads and writes.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::content::digest::Digest;
use crate::experiment::locked::LockedExperiment;
use crate::records::keys::RecordKeys;
use crate::records::{ArtifactInfo, RecordText, Records};

/// A dataset as an experiment stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetRef {
    /// The dataset's name.
    pub name: String,
    /// Its content digest (file blake3 or directory Merkle digest).
    pub digest: Digest,
    /// For a single-file dataset, the file's name.
    pub file: Option<String>,
}

impl DatasetRef {
    /// What it is to the job: `"dataset"`, or `"file"` for a WASI
    /// program's read-only file, named by its path in the sandbox.
    pub fn role(&self) -> &'static str {
        if crate::runtime::job::is_program_file(&self.name) {
            "file"
        } else {
            "dataset"
        }
    }
}

/// A job to add, locked: its values as the store keeps them.
#[derive(Clone, Debug)]
pub struct NewJob {
    /// Labels (an object), as canonical JSON ([`crate::content::canonical`]).
    pub labels: String,
    /// Parameters (an object), as canonical JSON.
    pub parameter: String,
    /// The job key (see [`crate::experiment::lock`]).
    pub key: Digest,
}

/// A stored experiment.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// Its id.
    pub id: i64,
    /// When it was added (RFC 3339, UTC).
    pub created_at: String,
    /// Everything it was added with.
    pub locked: LockedExperiment,
}

/// A job's status, as in the original djx.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    /// Waiting for a worker.
    Unassigned,
    /// A worker holds it.
    Assigned,
    /// Ran to completion.
    Finished,
    /// Failed; `reason` says why.
    Failed,
}

impl JobStatus {
    /// The status as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Unassigned => "UNASSIGNED",
            JobStatus::Assigned => "ASSIGNED",
            JobStatus::Finished => "FINISHED",
            JobStatus::Failed => "FAILED",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<JobStatus, String> {
        Ok(match s {
            "UNASSIGNED" => JobStatus::Unassigned,
            "ASSIGNED" => JobStatus::Assigned,
            "FINISHED" => JobStatus::Finished,
            "FAILED" => JobStatus::Failed,
            other => return Err(format!("unknown job status {other:?}")),
        })
    }
}

/// Job counts by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    /// UNASSIGNED jobs.
    pub unassigned: u64,
    /// ASSIGNED jobs.
    pub assigned: u64,
    /// FINISHED jobs.
    pub finished: u64,
    /// FAILED jobs.
    pub failed: u64,
}

impl StatusCounts {
    /// All jobs.
    pub fn total(&self) -> u64 {
        self.unassigned + self.assigned + self.finished + self.failed
    }

    /// Adds `n` jobs of `status`.
    pub fn add(&mut self, status: JobStatus, n: u64) {
        match status {
            JobStatus::Unassigned => self.unassigned += n,
            JobStatus::Assigned => self.assigned += n,
            JobStatus::Finished => self.finished += n,
            JobStatus::Failed => self.failed += n,
        }
    }
}

/// An experiment in a listing.
#[derive(Clone, Debug, Serialize)]
pub struct ExperimentSummary {
    /// Its id.
    pub id: i64,
    /// Its project.
    pub project: Option<String>,
    /// Its name.
    pub name: String,
    /// When it was added.
    pub created_at: String,
    /// Its jobs by status.
    pub jobs: StatusCounts,
}

/// A stored job.
#[derive(Clone, Debug, Serialize)]
pub struct JobRow {
    /// Its id.
    pub id: i64,
    /// Its experiment.
    pub experiment_id: i64,
    /// Its place in the grid.
    pub position: i64,
    /// Labels.
    pub labels: Value,
    /// Parameters.
    pub parameter: Value,
    /// Status.
    pub status: JobStatus,
    /// Claims so far (the latest attempt's number).
    pub attempt: i64,
    /// Attempts whose worker vanished.
    pub lost: i64,
    /// The worker of the latest attempt.
    pub worker: Option<String>,
    /// When the latest attempt started.
    pub started_at: Option<String>,
    /// When it ended.
    pub finished_at: Option<String>,
    /// How long it ran, in milliseconds.
    pub duration_ms: Option<i64>,
    /// Why it failed.
    pub reason: Option<String>,
    /// The job key (`None` for jobs added before djx had keys).
    pub key: Option<Digest>,
    /// The result digest of the latest attempt, if it ended with one.
    pub result_digest: Option<Digest>,
    /// For a job taken from the run-cache: the job whose result it reuses.
    pub cached_from: Option<i64>,
}

/// One attempt of a job that ended.
#[derive(Clone, Debug, Serialize)]
pub struct AttemptRow {
    /// The job.
    pub job_id: i64,
    /// The attempt's number.
    pub attempt: i64,
    /// Who ran it (or linked it from the cache).
    pub worker: Option<String>,
    /// When it started.
    pub started_at: Option<String>,
    /// When it ended.
    pub finished_at: Option<String>,
    /// How long it ran, in milliseconds.
    pub duration_ms: Option<i64>,
    /// FINISHED or FAILED.
    pub status: JobStatus,
    /// Why it failed.
    pub reason: Option<String>,
    /// Its result digest (finished attempts).
    pub result_digest: Option<Digest>,
    /// For a cached attempt: the job and attempt whose records and
    /// artifacts it reuses.
    pub source: Option<(i64, i64)>,
}

impl AttemptRow {
    /// The attempt whose records and artifacts are this attempt's result:
    /// itself, or its cache source.
    pub fn result_attempt(&self) -> (i64, i64) {
        self.source.unwrap_or((self.job_id, self.attempt))
    }
}

/// An artifact row: who produced an artifact, or reused it from the cache.
#[derive(Clone, Debug, Serialize)]
pub struct ArtifactUse {
    /// The artifact's digest.
    pub digest: Digest,
    /// The name the job gave it.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// The job.
    pub job_id: i64,
    /// The job's experiment.
    pub experiment_id: i64,
    /// The attempt.
    pub attempt: i64,
    /// For a reuse from the run-cache: the attempt that produced it.
    pub source: Option<(i64, i64)>,
}

/// A job a worker claimed.
#[derive(Clone, Debug)]
pub struct ClaimedJob {
    /// The job's id.
    pub id: i64,
    /// Its experiment.
    pub experiment_id: i64,
    /// This attempt's number.
    pub attempt: i64,
    /// Labels.
    pub labels: Value,
    /// Parameters.
    pub parameter: Value,
    /// The stored job key (`None` for jobs added before djx had keys).
    pub key: Option<Digest>,
}

/// What an attempt produced, for [`super::Store::finish`].
pub struct AttemptResult<'a> {
    /// `None` if it finished, else the failure reason.
    pub failure: Option<String>,
    /// Its records from number `stored_records` on: the ones the finish
    /// writes.
    pub records: &'a Records,
    /// The keys all its records (stored ones too) use, with its label
    /// keys: the columns they need in an export.
    pub record_keys: &'a RecordKeys,
    /// How many of its records, from the first, are already in the store
    /// ([`Store::append_records`](crate::store::Store::append_records)).
    pub stored_records: usize,
    /// Its artifacts.
    pub artifacts: &'a [ArtifactInfo],
    /// Where those of its artifacts that went into a pack are.
    pub packed: &'a std::collections::HashMap<Digest, crate::content::remote::PackRef>,
    /// Its log.
    pub log: &'a [u8],
    /// How long it ran.
    pub duration: Duration,
    /// The result digest (of a finished attempt).
    pub result_digest: Option<Digest>,
    /// The sketches of its curves (an attempt that streamed its records).
    pub curves: &'a [crate::views::curve_sketch::StoredCurve],
}

impl AttemptResult<'_> {
    /// The status the attempt ends in.
    pub fn status(&self) -> JobStatus {
        match self.failure {
            None => JobStatus::Finished,
            Some(_) => JobStatus::Failed,
        }
    }
}

/// One stored record with the job it belongs to, as the store keeps it.
#[derive(Clone, Copy, Debug)]
pub struct StoredRecord<'a> {
    /// The experiment.
    pub exp_id: i64,
    /// The job.
    pub job_id: i64,
    /// The job's labels (a JSON object's text).
    pub labels: &'a str,
    /// The record.
    pub record: RecordText<'a>,
}

/// One record with the job it belongs to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordRow {
    /// The experiment.
    pub exp_id: i64,
    /// The job.
    pub job_id: i64,
    /// The job's labels.
    pub labels: Map<String, Value>,
    /// The event.
    pub event: String,
    /// The context.
    pub context: Map<String, Value>,
    /// The metrics (null for a non-finite value).
    pub metrics: Map<String, Value>,
    /// Artifact references, name to digest.
    pub artifacts: Map<String, Value>,
}

/// Workers submitted to a cluster's scheduler for some experiments
/// (`djx submit`), to record.
#[derive(Clone, Debug)]
pub struct NewSubmission {
    /// The scheduler (`slurm`).
    pub scheduler: String,
    /// The scheduler's id of the submitted job (a Slurm job id).
    pub scheduler_job: String,
    /// The command that submitted it (never with a password).
    pub command: String,
    /// How many workers were asked for.
    pub workers: u32,
    /// Jobs each worker runs at once.
    pub slots: u32,
}

/// A recorded submission of one experiment's workers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Submission {
    /// The experiment.
    pub experiment_id: i64,
    /// The scheduler (`slurm`).
    pub scheduler: String,
    /// The scheduler's job id.
    pub scheduler_job: String,
    /// When (RFC 3339, UTC).
    pub submitted_at: String,
    /// The command that submitted it.
    pub command: String,
    /// How many workers were asked for.
    pub workers: u32,
    /// Jobs each worker runs at once.
    pub slots: u32,
}
