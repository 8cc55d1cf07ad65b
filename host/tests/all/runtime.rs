//! The runtime as a library: one process runs failing and good jobs in turn.

use std::time::Duration;

use djx_host::content::artifacts::ArtifactStore;
use djx_host::runtime::{Failure, JobInput, LimitKind, Limits, Module, Runtime, job_seed};
use serde_json::{Value, json};

/// A job of `module` with `params` and no datasets.
pub fn input(module: &Module, params: Value) -> JobInput {
    JobInput {
        seed: job_seed(&module.digest), // any digest serves as a key here
        params,
        labels: json!({}),
        datasets: vec![],
        invocation: Default::default(),
        limits: Limits::default(),
    }
}

/// A runtime and artifact store under a fresh temp dir (scratch dirs in
/// `<dir>/scratch`), sharing the tests' compile cache.
fn runtime_in_temp_dir() -> (tempfile::TempDir, Runtime, ArtifactStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = Runtime::new(
        djx_host::runtime::Determinism::Native,
        crate::support::shared_cache(),
        dir.path().join("scratch"),
    )
    .expect("runtime");
    let store = ArtifactStore::open(dir.path().join("artifacts")).expect("store");
    (dir, rt, store)
}

#[test]
fn the_host_survives_every_failure_and_runs_the_next_job() {
    let (dir, rt, store) = runtime_in_temp_dir();
    let limits = rt
        .load_file(djx_fixtures::LIMITS.as_ref())
        .expect("load limits");
    let fail = rt
        .load_file(djx_fixtures::FAIL.as_ref())
        .expect("load fail");
    let noop = rt
        .load_file(djx_fixtures::NOOP.as_ref())
        .expect("load noop");

    let mut timeout = input(&limits, json!({"break": "timeout"}));
    timeout.limits.timeout = Duration::from_millis(200);
    let mut memory = input(&limits, json!({"break": "memory"}));
    memory.limits.memory = 32 << 20;
    let jobs = [
        (&limits, timeout, "timeout"),
        (&limits, memory, "memory"),
        (&limits, input(&limits, json!({"break": "stack"})), "stack"),
        (&fail, input(&fail, json!({"how": "panic"})), "panic"),
        (&fail, input(&fail, json!({"how": "error"})), "error"),
    ];
    for (module, job, what) in jobs {
        let outcome = rt.run(module, &job, &store);
        match (what, &outcome.failure) {
            (
                "timeout",
                Some(Failure::Limit {
                    kind: LimitKind::Timeout,
                    ..
                }),
            )
            | (
                "memory",
                Some(Failure::Limit {
                    kind: LimitKind::Memory,
                    ..
                }),
            )
            | ("stack", Some(Failure::Trap(_)))
            | ("panic", Some(Failure::Trap(_)))
            | ("error", Some(Failure::Guest(_))) => {}
            (what, other) => panic!("{what}: unexpected outcome {other:?}"),
        }
        let good = rt.run(&noop, &input(&noop, json!({})), &store);
        assert!(good.is_finished(), "after {what}: {:?}", good.failure);
    }
    // One job at a time: one scratch directory, reused, and empty between
    // jobs whatever the job left in it.
    let left: Vec<_> = std::fs::read_dir(dir.path().join("scratch"))
        .expect("scratch")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(std::fs::read_dir(&left[0]).expect("read").count(), 0);
    drop(rt);
    let left = std::fs::read_dir(dir.path().join("scratch"))
        .expect("scratch")
        .count();
    assert_eq!(left, 0, "the runtime removes its scratch directories");
}

#[test]
fn jobs_run_concurrently_from_one_module() {
    let (_dir, rt, store) = runtime_in_temp_dir();
    let module = rt.load_file(djx_fixtures::NONDET.as_ref()).expect("load");
    let outputs: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let outcome = rt.run(&module, &input(&module, json!({})), &store);
                    assert!(outcome.is_finished(), "{:?}", outcome.failure);
                    serde_json::to_string(&outcome.records).expect("json")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert!(
        outputs.windows(2).all(|w| w[0] == w[1]),
        "same job, same records on every thread"
    );
}
