//! One claimed job, run: its key checked against its inputs, its sandbox
//! run with the run's cancel flag and a record stream, and what it produced
//! gathered for the commit ([`Done`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::content::artifacts::ArtifactStore;
use crate::records::Records;
use crate::records::keys::RecordKeys;
use crate::run::pending::Done;
use crate::run::prepare::Prepared;
use crate::run::record_stream::RecordStreams;
use crate::run::retry::Retrying;
use crate::runtime::{Failure, RunHooks};
use crate::store::{ClaimedJob, StoreError};

/// How a job's run ended.
pub enum JobEnd {
    /// It ended (finished or failed): commit this.
    Ended(Box<Done>),
    /// It was stopped (the run was cancelled) and put back; nothing of it
    /// is kept.
    PutBack(i64),
}

/// What a job needs from its run besides itself.
pub struct JobContext<'r> {
    /// The run's artifact store.
    pub artifacts: &'r ArtifactStore,
    /// Where running jobs stream their records.
    pub streams: &'r RecordStreams,
    /// Set when the run stops: the job is stopped too.
    pub cancel: &'r Arc<AtomicBool>,
    /// The store, to put the job back.
    pub store: Retrying<'r>,
}

/// Runs `job` of `exp`.
pub fn run_job(exp: &Prepared, job: ClaimedJob, cx: &JobContext<'_>) -> Result<JobEnd, StoreError> {
    let key = exp.job_key(&job.parameter, &job.labels);
    if let Some(stored) = job.key.filter(|stored| *stored != key) {
        // Never run a job under a key that does not describe it.
        let reason = format!(
            "its stored job key {stored} does not match its inputs, which give {key}: \
             the job or its experiment was changed in the store after `djx add`"
        );
        return Ok(JobEnd::Ended(Box::new(Done {
            job,
            failure: Some(reason),
            records: Records::new(),
            record_keys: RecordKeys::default(),
            stored_records: 0,
            packed: HashMap::new(),
            artifacts: Vec::new(),
            log: Vec::new(),
            duration: Duration::ZERO,
            result_digest: None,
            curves: Vec::new(),
        })));
    }
    let input = exp.job_input(&key, &job.parameter, &job.labels);
    let (sink, stream) = cx.streams.open(job.id, job.attempt);
    let hooks = RunHooks {
        cancel: Some(cx.cancel.clone()),
        sink: Some(sink),
    };
    let outcome = exp
        .runtime
        .run_with(&exp.module, &input, cx.artifacts, hooks);
    let streamed = stream.finish();
    if outcome.failure == Some(Failure::Cancelled) {
        cx.store.release(&[job.id])?;
        return Ok(JobEnd::PutBack(job.id));
    }
    let log = outcome.log_bytes();
    let failure = outcome.failure.as_ref().map(Failure::reason);
    let result_digest = failure
        .is_none()
        .then(|| exp.result_digest(streamed.hasher, &outcome, &log));
    // What the finish writes: the chunks that were not stored, then the
    // records after the last chunk.
    let mut records = streamed.unstored;
    records.append(outcome.records);
    // The columns an export of these records needs: the job's labels too,
    // when it has records to show them with.
    let mut record_keys = outcome.record_keys;
    if streamed.stored + records.len() > 0 {
        record_keys.add_label_keys(&job.labels);
    }
    Ok(JobEnd::Ended(Box::new(Done {
        job,
        failure,
        records,
        record_keys,
        stored_records: streamed.stored,
        packed: HashMap::new(),
        artifacts: outcome.artifacts,
        log,
        duration: outcome.duration,
        result_digest,
        curves: outcome.curves,
    })))
}
