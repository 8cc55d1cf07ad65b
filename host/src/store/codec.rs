//! Encoding and decoding of stored values, shared by every dialect: JSON
//! text columns, digests, statuses.

use serde_json::{Map, Value};

use super::{DatasetRef, Experiment, JobRow, RecordRow, StoreError, StoredRecord};
use crate::content::digest::{Digest, InvalidDigest};
use crate::experiment::locked::LockedExperiment;
use crate::records::keys::RecordKeys;

/// A JSON decoding error as a corrupt-value error.
pub fn corrupt(what: &'static str) -> impl Fn(serde_json::Error) -> StoreError {
    move |e| StoreError::Corrupt {
        what,
        message: e.to_string(),
    }
}

/// A stored JSON object.
pub fn object(text: &str, what: &'static str) -> Result<Map<String, Value>, StoreError> {
    match serde_json::from_str(text).map_err(corrupt(what))? {
        Value::Object(map) => Ok(map),
        _ => Err(StoreError::Corrupt {
            what,
            message: "not a JSON object".into(),
        }),
    }
}

/// A stored digest.
pub fn digest(text: &str, what: &'static str) -> Result<Digest, StoreError> {
    text.parse()
        .map_err(|e: InvalidDigest| StoreError::Corrupt {
            what,
            message: e.to_string(),
        })
}

/// The columns of `records.sql`: experiment, job, labels, event, context,
/// metrics, artifacts.
pub type RecordColumns = (i64, i64, String, String, String, String, String);

/// Decodes a row of `records.sql`.
pub fn record_row(
    (exp_id, job_id, labels, event, context, metrics, artifacts): RecordColumns,
) -> Result<RecordRow, StoreError> {
    Ok(RecordRow {
        exp_id,
        job_id,
        labels: object(&labels, "job labels")?,
        event,
        context: object(&context, "record context")?,
        metrics: object(&metrics, "record metrics")?,
        artifacts: object(&artifacts, "record artifacts")?,
    })
}

/// Decodes a stored record.
pub fn decode_record(r: StoredRecord<'_>) -> Result<RecordRow, StoreError> {
    Ok(RecordRow {
        exp_id: r.exp_id,
        job_id: r.job_id,
        labels: object(r.labels, "job labels")?,
        event: r.record.event.to_owned(),
        context: object(r.record.context, "record context")?,
        metrics: object(r.record.metrics, "record metrics")?,
        artifacts: object(r.record.artifacts, "record artifacts")?,
    })
}

/// The union of the stored record key sets `texts`.
pub fn merge_key_sets<'a>(
    texts: impl IntoIterator<Item = &'a str>,
) -> Result<RecordKeys, StoreError> {
    let mut keys = RecordKeys::default();
    for text in texts {
        let set = RecordKeys::from_text(text).map_err(|e| StoreError::Corrupt {
            what: "record key set",
            message: e.to_string(),
        })?;
        keys.merge(&set);
    }
    Ok(keys)
}

/// A stored digest that may be absent.
pub fn optional_digest(
    text: Option<&str>,
    what: &'static str,
) -> Result<Option<Digest>, StoreError> {
    text.map(|t| digest(t, what)).transpose()
}

/// A stored status.
pub fn status(text: &str) -> Result<super::JobStatus, StoreError> {
    text.parse().map_err(|message| StoreError::Corrupt {
        what: "job status",
        message,
    })
}

/// The text columns of a job row, decoded by [`job_row`].
pub struct JobText {
    /// `labels`
    pub labels: String,
    /// `parameter`
    pub parameter: String,
    /// `status`
    pub status: String,
    /// `job_key`
    pub key: Option<String>,
    /// the latest attempt's `result_digest`
    pub result_digest: Option<String>,
}

/// Fills in a job's JSON, status and digest columns.
pub fn job_row(mut job: JobRow, text: JobText) -> Result<JobRow, StoreError> {
    job.labels = serde_json::from_str(&text.labels).map_err(corrupt("job labels"))?;
    job.parameter = serde_json::from_str(&text.parameter).map_err(corrupt("job parameters"))?;
    job.status = status(&text.status)?;
    job.key = optional_digest(text.key.as_deref(), "job key")?;
    job.result_digest = optional_digest(text.result_digest.as_deref(), "result digest")?;
    Ok(job)
}

/// The columns of an attempt row, in `attempts.sql` order.
pub type AttemptColumns = (
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

/// Decodes an attempt row.
pub fn attempt_row(c: AttemptColumns) -> Result<super::AttemptRow, StoreError> {
    let (
        job_id,
        attempt,
        worker,
        started_at,
        finished_at,
        duration_ms,
        st,
        reason,
        digest_text,
        sj,
        sa,
    ) = c;
    Ok(super::AttemptRow {
        job_id,
        attempt,
        worker,
        started_at,
        finished_at,
        duration_ms,
        status: status(&st)?,
        reason,
        result_digest: optional_digest(digest_text.as_deref(), "result digest")?,
        source: sj.zip(sa),
    })
}

/// The text columns of an experiment row, in the order of
/// [`experiment_row`].
pub struct ExperimentColumns {
    /// `created_at`
    pub created_at: String,
    /// `project`
    pub project: Option<String>,
    /// `name`
    pub name: String,
    /// `description`
    pub description: Option<String>,
    /// `source_path`
    pub source_path: String,
    /// `source_digest`
    pub source_digest: String,
    /// `spec`
    pub spec: String,
    /// `module_digest`
    pub module_digest: String,
    /// `datasets`
    pub datasets: String,
    /// `limits`
    pub limits: String,
    /// `determinism`
    pub determinism: String,
    /// `retries`
    pub retries: u32,
    /// `engine` (empty for experiments added before djx had job keys)
    pub engine: String,
    /// `provenance`
    pub provenance: String,
    /// `digest_log`
    pub digest_log: bool,
    /// `sweep` (JSON; `None` for an experiment without a halving sweep)
    pub sweep: Option<String>,
}

/// Decodes an experiment row.
pub fn experiment_row(id: i64, c: ExperimentColumns) -> Result<Experiment, StoreError> {
    let datasets: Vec<DatasetRef> =
        serde_json::from_str(&c.datasets).map_err(corrupt("datasets"))?;
    let determinism: crate::runtime::Determinism =
        serde_json::from_value(Value::String(c.determinism)).map_err(corrupt("determinism"))?;
    // Experiments added before djx locked jobs ran with this djx's engine.
    let engine = if c.engine.is_empty() {
        crate::runtime::EngineProfile::of(determinism)
    } else {
        serde_json::from_str(&c.engine).map_err(corrupt("engine"))?
    };
    Ok(Experiment {
        id,
        created_at: c.created_at,
        locked: LockedExperiment {
            project: c.project,
            name: c.name,
            description: c.description,
            source_path: c.source_path,
            source_digest: digest(&c.source_digest, "experiment source digest")?,
            source_text: c.spec,
            module_digest: digest(&c.module_digest, "module digest")?,
            datasets,
            limits: serde_json::from_str(&c.limits).map_err(corrupt("limits"))?,
            determinism,
            retries: c.retries,
            engine,
            provenance: serde_json::from_str(&c.provenance).map_err(corrupt("provenance"))?,
            digest_log: c.digest_log,
            sweep: c
                .sweep
                .map(|s| serde_json::from_str(&s).map_err(corrupt("sweep plan")))
                .transpose()?,
        },
    })
}

/// The JSON columns of an experiment.
pub struct ExperimentJson {
    /// `datasets`
    pub datasets: String,
    /// `limits`
    pub limits: String,
    /// `engine`
    pub engine: String,
    /// `provenance`
    pub provenance: String,
    /// `sweep`
    pub sweep: Option<String>,
}

/// The JSON columns of an experiment as text.
pub fn experiment_json(e: &LockedExperiment) -> Result<ExperimentJson, StoreError> {
    Ok(ExperimentJson {
        datasets: serde_json::to_string(&e.datasets).map_err(corrupt("datasets"))?,
        limits: serde_json::to_string(&e.limits).map_err(corrupt("limits"))?,
        engine: serde_json::to_string(&e.engine).map_err(corrupt("engine"))?,
        provenance: serde_json::to_string(&e.provenance).map_err(corrupt("provenance"))?,
        sweep: e
            .sweep
            .as_ref()
            .map(|s| serde_json::to_string(s).map_err(corrupt("sweep plan")))
            .transpose()?,
    })
}

/// A claimed row: id, experiment, attempt, labels, parameters, job key.
pub type ClaimColumns = (i64, i64, i64, String, String, Option<String>);

/// Decodes claimed rows, in experiment and job order (RETURNING gives none).
pub fn claimed_jobs(rows: Vec<ClaimColumns>) -> Result<Vec<super::ClaimedJob>, StoreError> {
    let mut jobs = rows
        .into_iter()
        .map(|(id, experiment_id, attempt, labels, parameter, key)| {
            Ok(super::ClaimedJob {
                id,
                experiment_id,
                attempt,
                labels: serde_json::from_str(&labels).map_err(corrupt("job labels"))?,
                parameter: serde_json::from_str(&parameter).map_err(corrupt("job parameters"))?,
                key: optional_digest(key.as_deref(), "job key")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    jobs.sort_by_key(|j| (j.experiment_id, j.id));
    Ok(jobs)
}

/// Decodes an artifact row: name, digest, size.
pub fn artifact_row(
    (name, digest_text, size): (String, String, i64),
) -> Result<crate::records::ArtifactInfo, StoreError> {
    Ok(crate::records::ArtifactInfo {
        name,
        digest: digest(&digest_text, "artifact digest")?,
        size: size as u64,
    })
}

/// Adds `(experiment, status, count)` rows to experiment summaries.
pub fn with_counts(
    mut list: Vec<super::ExperimentSummary>,
    counts: Vec<(i64, String, i64)>,
) -> Result<Vec<super::ExperimentSummary>, StoreError> {
    for (exp, status, n) in counts {
        let status: super::JobStatus = status.parse().map_err(|message| StoreError::Corrupt {
            what: "job status",
            message,
        })?;
        if let Some(summary) = list.iter_mut().find(|s| s.id == exp) {
            summary.jobs.add(status, n as u64);
        }
    }
    Ok(list)
}

/// The columns of `artifact_uses.sql`: digest, name, size, job,
/// experiment, attempt, source job, source attempt.
pub type ArtifactUseColumns = (String, String, i64, i64, i64, i64, Option<i64>, Option<i64>);

/// Decodes a row of `artifact_uses.sql`.
pub fn artifact_use(c: ArtifactUseColumns) -> Result<super::ArtifactUse, StoreError> {
    let (digest_text, name, size, job_id, experiment_id, attempt, sj, sa) = c;
    Ok(super::ArtifactUse {
        digest: digest(&digest_text, "artifact digest")?,
        name,
        size: size as u64,
        job_id,
        experiment_id,
        attempt,
        source: sj.zip(sa),
    })
}

/// The columns of `rungs.sql`: experiment, rung, rungs, first position,
/// jobs, samples, created at, created by, stopped.
pub type RungColumns = (
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

/// Decodes a row of `rungs.sql`.
pub fn rung_row(c: RungColumns) -> Result<super::Rung, StoreError> {
    let (
        experiment_id,
        rung,
        rungs,
        first_position,
        jobs,
        samples,
        created_at,
        created_by,
        stopped,
    ) = c;
    let number = |n: i64| {
        u32::try_from(n).map_err(|e| StoreError::Corrupt {
            what: "rung number",
            message: e.to_string(),
        })
    };
    Ok(super::Rung {
        experiment_id,
        rung: number(rung)?,
        rungs: number(rungs)?,
        first_position,
        jobs,
        samples: samples
            .map(|s| serde_json::from_str(&s).map_err(corrupt("rung samples")))
            .transpose()?,
        created_at,
        created_by,
        stopped,
    })
}

/// The samples of a rung as stored.
pub fn rung_samples(samples: &[u64]) -> String {
    Value::from(samples.to_vec()).to_string()
}

/// The columns of `rung_jobs.sql`: position, labels, status, metrics.
pub type RungJobColumns = (i64, String, String, Option<String>);

/// Decodes a row of `rung_jobs.sql`.
pub fn rung_job(
    (position, labels, job_status, metrics): RungJobColumns,
) -> Result<super::RungJob, StoreError> {
    Ok(super::RungJob {
        position,
        labels: Value::Object(object(&labels, "job labels")?),
        status: status(&job_status)?,
        metrics: metrics.map(|m| object(&m, "record metrics")).transpose()?,
    })
}
