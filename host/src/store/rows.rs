//! Rows as the store returns them, decoded by column name: one decoder per
//! kind of row, shared by both databases. A column added to a query is
//! read here, in one place.

use serde_json::Value;

use super::codec::{corrupt, digest, object, optional_digest, status};
use super::sql::SqlRow;
use super::{
    ArtifactUse, AttemptRow, ClaimedJob, DatasetRef, Experiment, JobRow, RecordRow, Result, Rung,
    RungJob, StoreError, Submission,
};
use crate::experiment::locked::LockedExperiment;
use crate::records::{ArtifactInfo, RecordText};
use crate::runtime::{Determinism, EngineProfile};

/// An optional text column, owned.
fn owned(r: &dyn SqlRow, column: &str) -> Result<Option<String>> {
    Ok(r.opt_text(column)?.map(str::to_owned))
}

/// A text column, owned.
fn text(r: &dyn SqlRow, column: &str) -> Result<String> {
    Ok(r.text(column)?.to_owned())
}

/// A count column that must fit a `u32`.
pub fn count(r: &dyn SqlRow, column: &'static str) -> Result<u32> {
    u32::try_from(r.int(column)?).map_err(|e| StoreError::Corrupt {
        what: column,
        message: e.to_string(),
    })
}

/// A record's four texts, borrowed from the row.
pub fn record_text<'r>(r: &'r dyn SqlRow) -> Result<RecordText<'r>> {
    Ok(RecordText {
        event: r.text("event")?,
        context: r.text("context")?,
        metrics: r.text("metrics")?,
        artifacts: r.text("artifacts")?,
    })
}

/// A record with its job (`records.sql`, `attempt_records.sql`).
pub fn record(r: &dyn SqlRow) -> Result<RecordRow> {
    Ok(RecordRow {
        exp_id: r.int("exp_id")?,
        job_id: r.int("job_id")?,
        labels: object(r.text("labels")?, "job labels")?,
        event: text(r, "event")?,
        context: object(r.text("context")?, "record context")?,
        metrics: object(r.text("metrics")?, "record metrics")?,
        artifacts: object(r.text("artifacts")?, "record artifacts")?,
    })
}

/// A job just claimed (`claim.sql`).
pub fn claimed_job(r: &dyn SqlRow) -> Result<ClaimedJob> {
    let (labels, parameter) = labels_and_parameter(r)?;
    Ok(ClaimedJob {
        id: r.int("id")?,
        experiment_id: r.int("experiment_id")?,
        attempt: r.int("attempt")?,
        labels,
        parameter,
        key: optional_digest(r.opt_text("job_key")?, "job key")?,
    })
}

/// A job's labels and parameters.
fn labels_and_parameter(r: &dyn SqlRow) -> Result<(Value, Value)> {
    Ok((
        serde_json::from_str(r.text("labels")?).map_err(corrupt("job labels"))?,
        serde_json::from_str(r.text("parameter")?).map_err(corrupt("job parameters"))?,
    ))
}

/// A job (`job_columns.sql`, `job_states.sql`).
pub fn job(r: &dyn SqlRow) -> Result<JobRow> {
    let (labels, parameter) = labels_and_parameter(r)?;
    Ok(JobRow {
        id: r.int("id")?,
        experiment_id: r.int("experiment_id")?,
        position: r.int("position")?,
        labels,
        parameter,
        status: status(r.text("status")?)?,
        attempt: r.int("attempt")?,
        lost: r.int("lost")?,
        worker: owned(r, "worker")?,
        started_at: owned(r, "started_at")?,
        finished_at: owned(r, "finished_at")?,
        duration_ms: r.opt_int("duration_ms")?,
        reason: owned(r, "reason")?,
        key: optional_digest(r.opt_text("job_key")?, "job key")?,
        result_digest: optional_digest(r.opt_text("result_digest")?, "result digest")?,
        cached_from: r.opt_int("source_job")?,
    })
}

/// An attempt (`attempts.sql`).
pub fn attempt(r: &dyn SqlRow) -> Result<AttemptRow> {
    let source = r.opt_int("source_job")?.zip(r.opt_int("source_attempt")?);
    Ok(AttemptRow {
        job_id: r.int("job_id")?,
        attempt: r.int("attempt")?,
        worker: owned(r, "worker")?,
        started_at: owned(r, "started_at")?,
        finished_at: owned(r, "finished_at")?,
        duration_ms: r.opt_int("duration_ms")?,
        status: status(r.text("status")?)?,
        reason: owned(r, "reason")?,
        result_digest: optional_digest(r.opt_text("result_digest")?, "result digest")?,
        source,
    })
}

/// Experiment `id` (`experiment.sql`).
pub fn experiment(id: i64, r: &dyn SqlRow) -> Result<Experiment> {
    let datasets: Vec<DatasetRef> =
        serde_json::from_str(r.text("datasets")?).map_err(corrupt("datasets"))?;
    let determinism: Determinism = serde_json::from_value(Value::String(text(r, "determinism")?))
        .map_err(corrupt("determinism"))?;
    // Experiments added before djx locked jobs ran with this djx's engine.
    let engine = match r.text("engine")? {
        "" => EngineProfile::of(determinism),
        engine => serde_json::from_str(engine).map_err(corrupt("engine"))?,
    };
    Ok(Experiment {
        id,
        created_at: text(r, "created_at")?,
        locked: LockedExperiment {
            project: owned(r, "project")?,
            name: text(r, "name")?,
            description: owned(r, "description")?,
            source_path: text(r, "source_path")?,
            source_digest: digest(r.text("source_digest")?, "experiment source digest")?,
            source_text: text(r, "spec")?,
            module_digest: digest(r.text("module_digest")?, "module digest")?,
            datasets,
            invocation: serde_json::from_str(r.text("invocation")?)
                .map_err(corrupt("invocation"))?,
            limits: serde_json::from_str(r.text("limits")?).map_err(corrupt("limits"))?,
            determinism,
            retries: count(r, "retries")?,
            engine,
            provenance: serde_json::from_str(r.text("provenance")?)
                .map_err(corrupt("provenance"))?,
            digest_log: r.bool("digest_log")?,
            sweep: r
                .opt_text("sweep")?
                .map(|s| serde_json::from_str(s).map_err(corrupt("sweep plan")))
                .transpose()?,
        },
    })
}

/// An artifact of an attempt (`attempt_artifacts.sql`).
pub fn artifact(r: &dyn SqlRow) -> Result<ArtifactInfo> {
    Ok(ArtifactInfo {
        name: text(r, "name")?,
        digest: digest(r.text("digest")?, "artifact digest")?,
        size: r.int("size")? as u64,
    })
}

/// A job that stored or reused an artifact (`artifact_uses.sql`).
pub fn artifact_use(r: &dyn SqlRow) -> Result<ArtifactUse> {
    Ok(ArtifactUse {
        digest: digest(r.text("digest")?, "artifact digest")?,
        name: text(r, "name")?,
        size: r.int("size")? as u64,
        job_id: r.int("job_id")?,
        experiment_id: r.int("experiment_id")?,
        attempt: r.int("attempt")?,
        source: r.opt_int("source_job")?.zip(r.opt_int("source_attempt")?),
    })
}

/// A cluster submission (`submissions.sql`).
pub fn submission(r: &dyn SqlRow) -> Result<Submission> {
    Ok(Submission {
        experiment_id: r.int("experiment_id")?,
        scheduler: text(r, "scheduler")?,
        scheduler_job: text(r, "scheduler_job")?,
        submitted_at: text(r, "submitted_at")?,
        command: text(r, "command")?,
        workers: count(r, "workers")?,
        slots: count(r, "slots")?,
    })
}

/// A rung of a sweep (`rungs.sql`).
pub fn rung(r: &dyn SqlRow) -> Result<Rung> {
    Ok(Rung {
        experiment_id: r.int("experiment_id")?,
        rung: count(r, "rung")?,
        rungs: count(r, "rungs")?,
        first_position: r.int("first_position")?,
        jobs: r.int("jobs")?,
        samples: r
            .opt_text("samples")?
            .map(|s| serde_json::from_str(s).map_err(corrupt("rung samples")))
            .transpose()?,
        created_at: text(r, "created_at")?,
        created_by: owned(r, "created_by")?,
        stopped: owned(r, "stopped")?,
    })
}

/// A job of a rung with the metrics that rank it (`rung_jobs.sql`).
pub fn rung_job(r: &dyn SqlRow) -> Result<RungJob> {
    Ok(RungJob {
        position: r.int("position")?,
        labels: Value::Object(object(r.text("labels")?, "job labels")?),
        status: status(r.text("status")?)?,
        metrics: r
            .opt_text("metrics")?
            .map(|m| object(m, "record metrics"))
            .transpose()?,
    })
}
