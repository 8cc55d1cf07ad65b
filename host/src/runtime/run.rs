//! Running one job: a fresh store, the sandbox, the limits, and turning
//! whatever happens into a [`JobOutcome`].

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Instant;

use serde_json::Map;
use wasmtime::component::ResourceTable;
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi::I32Exit;

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
use crate::runtime::program::Entry;
use crate::runtime::protocol::{ProtocolDirs, ProtocolError, RecordTail};
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
        curves: Vec::new(),
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
    let params_json = canonical::to_string(&input.params);
    let labels_json = canonical::to_string(&input.labels);
    let wasi_program = module.is_wasi_program();
    let protocol = if wasi_program {
        match ProtocolDirs::new(
            &runtime.inputs,
            &runtime.scratch,
            &params_json,
            &labels_json,
            &input.datasets,
        ) {
            Ok(dirs) => Some(dirs),
            Err(e) => return host_failure(format!("setting up the job protocol's files: {e}")),
        }
    } else {
        None
    };
    let wasi = match sandbox::wasi_ctx(input, scratch.path(), protocol.as_ref(), &log) {
        Ok(wasi) => wasi,
        Err(e) => return host_failure(format!("{e:#}")),
    };
    let mut datasets = input.datasets.clone();
    datasets.sort_by(|a, b| a.name.cmp(&b.name));
    let state = JobState {
        wasi,
        table: ResourceTable::new(),
        job: JobCtx {
            params_json,
            labels_json,
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
        tail: protocol
            .as_ref()
            .map(|dirs| RecordTail::new(dirs.records(), dirs.artifacts())),
    };
    let mut store = Store::new(runtime.engine.engine(), state);
    store.limiter(|state| &mut state.limiter);
    watch(&mut store, started, input, cancel);

    let result = enter(&module.entry, &mut store);
    let duration = started.elapsed();
    let state = store.into_data();
    let mut outcome = JobOutcome {
        failure: None,
        records: state.job.records,
        record_keys: state.job.record_keys,
        curves: state.job.stream.map(Stream::curves).unwrap_or_default(),
        artifacts: state.job.artifacts,
        log: log.chunks(),
        duration,
    };
    outcome.failure = match result {
        Ok(Ok(())) => None,
        Ok(Err(message)) if wasi_program => Some(Failure::Guest(with_stderr(&outcome, message))),
        Ok(Err(message)) => Some(Failure::Guest(message)),
        Err(error) => Some(classify(&error, &outcome)),
    };
    outcome
}

/// Every epoch tick the job checks its deadline and the cancel flag (the
/// check costs nothing between ticks), and a WASI program's new records
/// are read.
fn watch(
    store: &mut Store<JobState>,
    started: Instant,
    input: &JobInput,
    cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
) {
    let deadline = started + input.limits.timeout;
    let timeout = input.limits.timeout;
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |mut ctx| {
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
        ctx.data_mut().read_records(false)?;
        Ok(UpdateDeadline::Continue(1))
    });
}

/// Runs the module to its end: `Ok(Err(message))` is the job's own
/// failure, `Err` a trap, a broken limit or a host fault.
fn enter(entry: &Entry, store: &mut Store<JobState>) -> wasmtime::Result<Result<(), String>> {
    let ran = match entry {
        Entry::Job(pre) => return pre.instantiate(&mut *store)?.call_run(&mut *store),
        Entry::Command(pre) => pre
            .instantiate(&mut *store)
            .and_then(|command| command.wasi_cli_run().call_run(&mut *store)),
        Entry::Reactor(pre) => pre.instantiate(&mut *store).and_then(|instance| {
            let run = instance.get_typed_func::<(), (i32,)>(&mut *store, "run")?;
            let (status,) = run.call(&mut *store, ())?;
            Ok(if status == 0 { Ok(()) } else { Err(()) })
        }),
    };
    let status = match ran {
        Ok(Ok(())) => 0,
        Ok(Err(())) => 1,
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(exit) => exit.0,
            None => return Err(e),
        },
    };
    // The records written before the end count, whatever the status.
    store.data_mut().read_records(true)?;
    match status {
        0 => {}
        // WASI preview 2 (and the preview-1 adapter) tell failure, not
        // which status.
        1 => return Ok(Err("the program exited with a non-zero status".into())),
        _ => return Ok(Err(format!("the program exited with status {status}"))),
    }
    store.data_mut().store_left_artifacts()?;
    Ok(Ok(()))
}

/// `message` with the last lines of the job's stderr, if it wrote any.
fn with_stderr(outcome: &JobOutcome, message: String) -> String {
    let tail = outcome.stderr_tail(STDERR_TAIL_LINES);
    if tail.is_empty() {
        message
    } else {
        format!("{message}\nstderr:\n{tail}")
    }
}

/// Turns a trap or host error into a failure that says why.
fn classify(error: &wasmtime::Error, outcome: &JobOutcome) -> Failure {
    for cause in error.chain() {
        if cause.downcast_ref::<Cancelled>().is_some() {
            return Failure::Cancelled;
        }
        if let Some(protocol) = cause.downcast_ref::<ProtocolError>() {
            return Failure::Guest(protocol.to_string());
        }
        if let Some(limit) = cause.downcast_ref::<LimitExceeded>() {
            return Failure::Limit {
                kind: limit.kind,
                message: limit.to_string(),
            };
        }
    }
    if error.downcast_ref::<wasmtime::ThrownException>().is_some() {
        return Failure::Trap(with_stderr(
            outcome,
            "an uncaught WebAssembly exception reached the host".into(),
        ));
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => Failure::Trap(with_stderr(
            outcome,
            "stack overflow: the guest recursed deeper than the wasm stack allows".into(),
        )),
        Some(trap) => Failure::Trap(with_stderr(outcome, trap.to_string())),
        None => Failure::Host(format!("{error:#}")),
    }
}
