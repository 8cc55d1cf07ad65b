//! Running one job: a fresh store, the sandbox, the limits, and turning
//! whatever happens into a [`JobOutcome`].

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Instant;

use serde_json::Map;
use wasmtime::component::ResourceTable;
use wasmtime::{Store, Trap, UpdateDeadline};

use crate::content::artifacts::ArtifactStore;
use crate::content::canonical;
use crate::records::Records;
use crate::records::keys::RecordKeys;
use crate::runtime::ctx::{JobCtx, JobState};
use crate::runtime::job::{Failure, JobInput, JobOutcome};
use crate::runtime::limits::{LimitExceeded, LimitKind, format_duration};
use crate::runtime::log::JobLog;
use crate::runtime::memory::MemoryLimiter;
use crate::runtime::pinned_fs::FsPins;
use crate::runtime::record_sink::{RunHooks, Stream};
use crate::runtime::{Module, Runtime, sandbox};

/// Lines of stderr quoted in a trap's failure reason.
const STDERR_TAIL_LINES: usize = 8;

/// The error a job is stopped with when its run is cancelled.
#[derive(Debug, thiserror::Error)]
#[error("the job was cancelled")]
pub struct Cancelled;

pub(crate) fn run_job(
    runtime: &Runtime,
    module: &Module,
    input: &JobInput,
    artifacts: &ArtifactStore,
    hooks: RunHooks,
) -> JobOutcome {
    let RunHooks { cancel, sink } = hooks;
    let started = Instant::now();
    let log = JobLog::new(input.limits.log_bytes);
    let host_failure = |message: String| JobOutcome {
        failure: Some(Failure::Host(message)),
        records: Records::new(),
        record_keys: RecordKeys::default(),
        artifacts: vec![],
        log: log.chunks(),
        duration: started.elapsed(),
    };
    // The scratch directory goes back to the pool, emptied, when `scratch`
    // drops after the job.
    let scratch = match runtime.scratch.take() {
        Ok(dir) => dir,
        Err(e) => {
            return host_failure(format!(
                "cannot create a scratch directory in {}: {e}",
                runtime.scratch.root().display()
            ));
        }
    };
    let wasi = match sandbox::wasi_ctx(input, scratch.path(), &log) {
        Ok(wasi) => wasi,
        Err(e) => return host_failure(format!("{e:#}")),
    };
    let mut datasets = input.datasets.clone();
    datasets.sort_by(|a, b| a.name.cmp(&b.name));
    let state = JobState {
        wasi,
        table: ResourceTable::new(),
        job: JobCtx {
            params_json: canonical::to_string(&input.params),
            labels_json: canonical::to_string(&input.labels),
            datasets,
            limits: input.limits.clone(),
            artifact_store: artifacts.clone(),
            scratch: scratch.path().to_path_buf(),
            bound: Map::new(),
            records: Records::new(),
            record_keys: RecordKeys::default(),
            record_bytes: 0,
            artifacts: Vec::new(),
            artifact_digests: BTreeSet::new(),
            artifact_bytes: 0,
            log: log.clone(),
            stream: sink.map(Stream::new),
        },
        limiter: MemoryLimiter::new(input.limits.memory),
        fs: FsPins::default(),
    };
    let mut store = Store::new(runtime.engine.engine(), state);
    store.limiter(|state| &mut state.limiter);
    // Every epoch tick the job checks its deadline and the cancel flag; the
    // check costs nothing between ticks.
    let deadline = started + input.limits.timeout;
    let timeout = input.limits.timeout;
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(wasmtime::Error::new(Cancelled));
        }
        if Instant::now() >= deadline {
            return Err(wasmtime::Error::new(LimitExceeded {
                kind: LimitKind::Timeout,
                limit: format_duration(timeout),
                detail: "the job was still running; it was stopped".into(),
            }));
        }
        Ok(UpdateDeadline::Continue(1))
    });

    let result = module
        .pre
        .instantiate(&mut store)
        .and_then(|job| job.call_run(&mut store));
    let duration = started.elapsed();
    let state = store.into_data();
    let mut outcome = JobOutcome {
        failure: None,
        records: state.job.records,
        record_keys: state.job.record_keys,
        artifacts: state.job.artifacts,
        log: log.chunks(),
        duration,
    };
    outcome.failure = match result {
        Ok(Ok(())) => None,
        Ok(Err(message)) => Some(Failure::Guest(message)),
        Err(error) => Some(classify(&error, &outcome)),
    };
    outcome
}

/// Turns a trap or host error into a failure that says why.
fn classify(error: &wasmtime::Error, outcome: &JobOutcome) -> Failure {
    for cause in error.chain() {
        if cause.downcast_ref::<Cancelled>().is_some() {
            return Failure::Cancelled;
        }
        if let Some(limit) = cause.downcast_ref::<LimitExceeded>() {
            return Failure::Limit {
                kind: limit.kind,
                message: limit.to_string(),
            };
        }
    }
    let with_stderr = |message: String| {
        let tail = outcome.stderr_tail(STDERR_TAIL_LINES);
        if tail.is_empty() {
            message
        } else {
            format!("{message}\nstderr:\n{tail}")
        }
    };
    match error.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => Failure::Trap(with_stderr(
            "stack overflow: the guest recursed deeper than the wasm stack allows".into(),
        )),
        Some(trap) => Failure::Trap(with_stderr(trap.to_string())),
        None => Failure::Host(format!("{error:#}")),
    }
}
