//! The iris-sklearn example's `job.py` under native CPython, through djx's
//! job protocol (the kit's protocol backend), as a user would run it
//! outside djx: what the tests compare the WASI Python with, and what the
//! P9 benchmark times. Shared with `benches/python.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs the job once per entry of `params` in one process (one import of
/// pandas and scikit-learn), one after another, each as `python job.py`
/// would run it.
const DRIVER: &str = "\
import json, os, runpy, sys
job, runs = sys.argv[1], json.load(open(sys.argv[2]))
for env in runs:
    os.environ.update(env)
    try:
        runpy.run_path(job, run_name='__main__')
    except SystemExit as e:
        if e.code:
            raise
";

/// Runs `examples/iris-sklearn/job.py` with `python` (a native Python with
/// pandas, scikit-learn and matplotlib) on `iris`, once per entry of
/// `params`, in one process (`DRIVER`) when there are several; returns each
/// run's records, and the wall time of them all.
pub fn iris_sklearn(
    python: &str,
    iris: &Path,
    params: &[&Value],
    scratch: &Path,
) -> (Vec<Vec<Value>>, Duration) {
    let dir = tempfile::tempdir_in(scratch).expect("temp dir");
    let datasets = json!([{"name": "iris", "path": iris, "digest": ""}]);
    let mut runs = Vec::new();
    for (i, p) in params.iter().enumerate() {
        let run = dir.path().join(i.to_string());
        std::fs::create_dir_all(run.join("artifacts")).expect("mkdir");
        std::fs::write(run.join("params.json"), p.to_string()).expect("write params");
        std::fs::write(run.join("labels.json"), "{}").expect("write labels");
        std::fs::write(run.join("datasets.json"), datasets.to_string()).expect("write datasets");
        runs.push(json!({
            "DJX_PARAMS": run.join("params.json"),
            "DJX_LABELS": run.join("labels.json"),
            "DJX_DATASETS": run.join("datasets.json"),
            "DJX_RECORDS": run.join("records.jsonl"),
            "DJX_ARTIFACTS": run.join("artifacts"),
        }));
    }
    let job = repo().join("examples/iris-sklearn/job.py");
    let mut cmd = Command::new(python);
    if let [only] = runs.as_slice() {
        cmd.arg(&job);
        for (name, value) in only.as_object().expect("an object") {
            cmd.env(name, value.as_str().expect("a path"));
        }
    } else {
        std::fs::write(dir.path().join("runs.json"), Value::from(runs).to_string())
            .expect("write runs");
        cmd.args(["-c", DRIVER])
            .arg(&job)
            .arg(dir.path().join("runs.json"));
    }
    let started = Instant::now();
    let out = cmd
        .env("DJX_PROTOCOL", "1")
        .env("PYTHONPATH", repo().join("guest-sdk/python"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("MPLBACKEND", "Agg")
        .env("MPLCONFIGDIR", dir.path().join("mpl"))
        .output()
        .expect("run native python");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "the job under native CPython failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = (0..params.len())
        .map(|i| {
            std::fs::read_to_string(dir.path().join(i.to_string()).join("records.jsonl"))
                .expect("records")
                .lines()
                .map(|l| serde_json::from_str(l).expect("a record line"))
                .collect()
        })
        .collect();
    (records, took)
}
