//! Everything about one job, as `djx show` prints it and the job page
//! shows it: its key and inputs, where its experiment came from, its
//! attempts, and the records, artifacts and log of its result.

use serde_json::{Value, json};

use crate::records::ArtifactInfo;
use crate::store::{AttemptRow, Experiment, JobRow, RecordRow, Result, Store, Submission};

/// One job and its result.
pub struct JobDetail {
    /// The job.
    pub job: JobRow,
    /// Its experiment.
    pub experiment: Experiment,
    /// Its attempts that ended, oldest first.
    pub attempts: Vec<AttemptRow>,
    /// The cluster jobs submitted for its experiment, oldest first.
    pub submissions: Vec<Submission>,
    /// The attempt whose records, artifacts and log are the job's result:
    /// its latest, or for a job from the run-cache the one it reuses.
    pub result: (i64, i64),
    /// The result's records (the first `record_limit` of them, if limited).
    pub records: Vec<RecordRow>,
    /// How many records the result has.
    pub records_total: u64,
    /// The result's artifacts.
    pub artifacts: Vec<ArtifactInfo>,
    /// The result's log.
    pub log: Vec<u8>,
}

impl JobDetail {
    /// Reads job `id`; with `record_limit`, only that many of its records
    /// are kept (the rest are counted).
    pub fn load(store: &dyn Store, id: i64, record_limit: Option<usize>) -> Result<JobDetail> {
        let job = store.job(id)?;
        let experiment = store.experiment(job.experiment_id)?;
        let attempts = store.attempts(job.id)?;
        let submissions = store.submissions(&[experiment.id])?;
        let result = attempts
            .iter()
            .find(|a| a.attempt == job.attempt)
            .map_or((job.id, job.attempt), AttemptRow::result_attempt);
        let (records, records_total) = match record_limit {
            None => {
                let records = store.attempt_records(result.0, result.1)?;
                let n = records.len() as u64;
                (records, n)
            }
            Some(limit) => limited_records(store, &job, result, limit)?,
        };
        Ok(JobDetail {
            artifacts: store.attempt_artifacts(result.0, result.1)?,
            log: store.attempt_log(result.0, result.1)?,
            job,
            experiment,
            attempts,
            submissions,
            result,
            records,
            records_total,
        })
    }

    /// The JSON of `djx show --json` (with `records_total`, which says how
    /// many records there are when only some are given).
    pub fn to_json(&self) -> Value {
        let locked = &self.experiment.locked;
        json!({
            "job": self.job,
            "experiment": {"id": self.experiment.id, "name": locked.name, "source": locked.source_path,
                           "source_digest": locked.source_digest, "provenance": locked.provenance},
            "module": locked.module_digest,
            "datasets": locked.datasets,
            "limits": locked.limits,
            "engine": locked.engine,
            "digest_log": locked.digest_log,
            "submissions": self.submissions,
            "attempts": self.attempts,
            "records": self.records,
            "records_total": self.records_total,
            "artifacts": self.artifacts,
            "log": String::from_utf8_lossy(&self.log),
        })
    }
}

/// The first `limit` records of the result attempt, and how many it has.
fn limited_records(
    store: &dyn Store,
    job: &JobRow,
    (result_job, attempt): (i64, i64),
    limit: usize,
) -> Result<(Vec<RecordRow>, u64)> {
    // Records are shown with the labels of the job that produced them, as
    // `djx show` does.
    let (exp_id, labels) = if result_job == job.id {
        (job.experiment_id, job.labels.clone())
    } else {
        let source = store.job(result_job)?;
        (source.experiment_id, source.labels)
    };
    let labels = match labels {
        Value::Object(map) => map,
        _ => Default::default(),
    };
    let object = |text: &str| match serde_json::from_str(text) {
        Ok(Value::Object(map)) => map,
        _ => Default::default(),
    };
    let mut records = Vec::new();
    let mut total = 0u64;
    store.visit_attempt_records(result_job, attempt, &mut |r| {
        total += 1;
        if records.len() < limit {
            records.push(RecordRow {
                exp_id,
                job_id: result_job,
                labels: labels.clone(),
                event: r.event.to_owned(),
                context: object(r.context),
                metrics: object(r.metrics),
                artifacts: object(r.artifacts),
            });
        }
        true
    })?;
    Ok((records, total))
}
