//! The iris-sklearn example's `job.py` under native CPython, through djx's
//! job protocol (the kit's protocol backend), as a user would run it
//! outside djx: what the tests compare the WASI Python with, and what the
//! P9 benchmark times. Shared with `benches/python.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `examples/iris-sklearn/job.py` with `python` (a native Python with
/// pandas, scikit-learn and matplotlib) on `iris` with `params`, in a
/// directory under `scratch`; returns its records and its wall time.
pub fn iris_sklearn(
    python: &str,
    iris: &Path,
    params: &Value,
    scratch: &Path,
) -> (Vec<Value>, Duration) {
    let dir = tempfile::tempdir_in(scratch).expect("temp dir");
    let p = dir.path();
    std::fs::write(p.join("params.json"), params.to_string()).expect("write params");
    std::fs::write(p.join("labels.json"), "{}").expect("write labels");
    let datasets = serde_json::json!([{"name": "iris", "path": iris, "digest": ""}]);
    std::fs::write(p.join("datasets.json"), datasets.to_string()).expect("write datasets");
    std::fs::create_dir(p.join("artifacts")).expect("mkdir");
    let started = Instant::now();
    let out = Command::new(python)
        .arg(repo().join("examples/iris-sklearn/job.py"))
        .env_clear()
        .env("DJX_PROTOCOL", "1")
        .env("DJX_PARAMS", p.join("params.json"))
        .env("DJX_LABELS", p.join("labels.json"))
        .env("DJX_DATASETS", p.join("datasets.json"))
        .env("DJX_RECORDS", p.join("records.jsonl"))
        .env("DJX_ARTIFACTS", p.join("artifacts"))
        .env("PYTHONPATH", repo().join("guest-sdk/python"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("MPLBACKEND", "Agg")
        .env("MPLCONFIGDIR", p.join("mpl"))
        .output()
        .expect("run native python");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "the job under native CPython failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = std::fs::read_to_string(p.join("records.jsonl"))
        .expect("records")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a record line"))
        .collect();
    (records, took)
}
