//! Python guests: built from source with `djx build` (componentize-py) and
//! run through the real `djx`. Without componentize-py these tests skip
//! loudly; in CI they fail (`make test` installs it).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use djx_host::runtime::{Determinism, Runtime};
use serde_json::Value;

use crate::support::*;

/// componentize-py, or `None` (with a loud message) when it is missing
/// outside CI.
fn componentize_py(test: &str) -> Option<PathBuf> {
    let tool = std::env::var_os("DJX_COMPONENTIZE_PY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("componentize-py"));
    let works = Command::new(&tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    match works {
        true => Some(tool),
        false if std::env::var_os("CI").is_some() => panic!(
            "{test}: componentize-py is not installed; CI must install it (`make python-tools`)"
        ),
        false => {
            eprintln!(
                "SKIPPED {test}: componentize-py is not installed (`make python-tools`, or set DJX_COMPONENTIZE_PY)"
            );
            None
        }
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python guest in `dir` (relative to the repository), built once per
/// test process with `djx build` and compiled into the shared compile
/// cache, so the tests that use it do not each compile 19 MB.
pub(crate) fn python_guest(test: &str, dir: &str) -> Option<PathBuf> {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let tool = componentize_py(test)?;
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(path) = built.get(dir) {
        return Some(path.clone());
    }
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("python-guests");
    std::fs::create_dir_all(&out_dir).expect("mkdir");
    let out = out_dir.join(format!("{}.wasm", dir.replace('/', "_")));
    let status = Command::new(env!("CARGO_BIN_EXE_djx"))
        .arg("build")
        .arg(repo().join(dir))
        .arg("-o")
        .arg(&out)
        .env("DJX_COMPONENTIZE_PY", &tool)
        .status()
        .expect("run djx build");
    assert!(status.success(), "djx build {dir} failed");
    let rt =
        Runtime::new(Determinism::Native, shared_cache(), std::env::temp_dir()).expect("runtime");
    rt.load_file(&out).expect("the Python guest is a djx job");
    built.insert(dir.to_owned(), out.clone());
    Some(out)
}

/// An experiment of the probe guest with the given grid over `mode`.
fn probe_experiment(t: &TestDir, module: &Path, modes: &str) -> PathBuf {
    std::fs::write(t.path().join("d.txt"), "hello\n").expect("write");
    let path = t.path().join("probe.yml");
    std::fs::write(
        &path,
        format!(
            "name: probe\nmodule: {}\ndata:\n  data: d.txt\nexperiment:\n  grid:\n    - parameter.mode: [{modes}]\n",
            module.display()
        ),
    )
    .expect("write");
    path
}

#[test]
fn python_iris_end_to_end() {
    let Some(module) = python_guest("python_iris_end_to_end", "examples/iris-python/job") else {
        return;
    };
    let t = TestDir::new();
    t.iris_dir("data");
    let yml = std::fs::read_to_string(repo().join("examples/iris-python/iris.yml"))
        .expect("read iris.yml")
        .replace(
            "module: ../../target/python/iris.wasm",
            &format!("module: {}", module.display()),
        )
        .replace("iris: ../iris/data/iris.csv", "iris: data/iris.csv");
    assert!(
        yml.contains(&module.display().to_string()),
        "the module line moved"
    );
    std::fs::write(t.path().join("iris.yml"), yml).expect("write");
    let out = djx_ok(&t, &["run", "iris.yml", "--workers", "2"]);
    assert!(out.contains("18 finished, 0 failed"), "{out}");

    let records = records_json(&t, "1");
    let mut by_job: BTreeMap<i64, Vec<&Value>> = BTreeMap::new();
    for r in &records {
        by_job
            .entry(r["job_id"].as_i64().expect("job"))
            .or_default()
            .push(r);
    }
    assert_eq!(by_job.len(), 18);
    for (job, recs) in &by_job {
        for set in ["train", "test"] {
            let folds: Vec<i64> = recs
                .iter()
                .filter(|r| r["event"] == "cv fit finished" && r["context.set"] == set)
                .map(|r| r["context.fold"].as_i64().expect("fold"))
                .collect();
            assert_eq!(folds, vec![0, 1, 2], "{set} folds of job {job}");
        }
        let summary = recs
            .iter()
            .find(|r| r["event"] == "cv finished")
            .expect("summary");
        let test = summary["metrics.mean_test_accuracy"]
            .as_f64()
            .expect("test");
        assert!(test >= 0.85, "job {job}: k-NN test accuracy {test}");
        assert!(summary["context.fold"].is_null(), "fold was unbound");
    }
    // The records' labels come from the grid, as in the Rust example.
    assert!(records.iter().any(|r| r["labels.n_neighbors"] == 15));

    // Reruns give the same bits, and the source is in the provenance.
    let out = djx_ok(&t, &["verify", "1", "--workers", "2"]);
    assert!(out.contains("18 identical, 0 different"), "{out}");
    let show = djx_ok(&t, &["show", "1"]);
    assert!(show.contains("built    from python source"), "{show}");
    assert!(show.contains("by componentize-py 0.25"), "{show}");
}

#[test]
fn python_sandbox_refuses_what_the_sandbox_suite_refuses() {
    let Some(module) = python_guest(
        "python_sandbox_refuses_what_the_sandbox_suite_refuses",
        "tests/guests-python/probe",
    ) else {
        return;
    };
    let t = TestDir::new();
    let yml = probe_experiment(&t, &module, "sandbox");
    djx_ok(&t, &["run", yml.to_str().expect("utf-8")]);
    let records = records_json(&t, "1");
    let outcome = |key: &str| {
        records[0][format!("context.{key}")]
            .as_str()
            .unwrap_or_else(|| panic!("no {key} in {}", records[0]))
            .to_owned()
    };
    for refused in [
        "etc_passwd",
        "list_root",
        "socket",
        "write_dataset",
        "escape_dataset",
    ] {
        assert!(
            outcome(refused).starts_with("refused: "),
            "{refused}: {}",
            outcome(refused)
        );
    }
    assert_eq!(outcome("environ"), "allowed: {}", "no environment");
    assert_eq!(outcome("read_dataset"), "allowed: 'hello'");
    assert_eq!(outcome("write_tmp"), "allowed: 'ok'");
    assert_eq!(
        std::fs::read_to_string(t.path().join("d.txt")).expect("read"),
        "hello\n",
        "the dataset is untouched"
    );
}

#[test]
fn python_runs_are_deterministic() {
    let Some(module) = python_guest("python_runs_are_deterministic", "tests/guests-python/probe")
    else {
        return;
    };
    let t = TestDir::new();
    let yml = probe_experiment(&t, &module, "nondet");
    let yml = yml.to_str().expect("utf-8");
    djx_ok(&t, &["run", yml]);
    djx_ok(&t, &["run", yml, "--no-cache"]);
    let digest = |exp: &str| jobs_json(&t, exp)[0]["result_digest"].clone();
    assert!(digest("1").is_string());
    assert_eq!(digest("1"), digest("2"), "two runs, one result digest");
    let observed = records_json(&t, "1");
    assert_eq!(observed, {
        let mut second = records_json(&t, "2");
        for r in &mut second {
            r["exp_id"] = 1.into();
            r["job_id"] = 1.into();
        }
        second
    });
    // The pinned clock, not the host's, and pinned file metadata.
    assert_eq!(observed[0]["context.time"], 946_684_800.0);
    assert_eq!(
        observed[0]["context.stat"],
        serde_json::json!([946_684_800.0, 946_684_800.0, 946_684_800.0, 1, 6])
    );
    let out = djx_ok(&t, &["verify", "1"]);
    assert!(out.contains("1 identical, 0 different"), "{out}");
}

#[test]
fn a_python_exception_fails_the_job_with_its_traceback() {
    let Some(module) = python_guest(
        "a_python_exception_fails_the_job_with_its_traceback",
        "tests/guests-python/probe",
    ) else {
        return;
    };
    let t = TestDir::new();
    let yml = probe_experiment(&t, &module, "fail, nondet");
    let out = run(t.djx().args(["run", yml.to_str().expect("utf-8")]));
    assert_exit(&out, 1);
    let jobs = jobs_json(&t, "1");
    assert_eq!(jobs[0]["status"], "FAILED");
    assert_eq!(jobs[1]["status"], "FINISHED", "the other job goes on");
    let reason = jobs[0]["reason"].as_str().expect("reason");
    for expected in [
        "Traceback (most recent call last)",
        "in fail",
        "in divide",
        "ZeroDivisionError: division by zero",
    ] {
        assert!(reason.contains(expected), "{expected:?} not in {reason}");
    }
    assert!(
        stderr(&out).contains("Traceback (most recent call last)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_python_module_compiles_once() {
    let Some(module) = python_guest("a_python_module_compiles_once", "tests/guests-python/probe")
    else {
        return;
    };
    let cache = tempfile::tempdir().expect("tempdir");
    let load = || {
        Runtime::new(
            Determinism::Native,
            cache.path().to_path_buf(),
            std::env::temp_dir(),
        )
        .expect("runtime")
        .load_file(&module)
        .expect("load")
    };
    let first = std::time::Instant::now();
    assert!(!load().cache_hit, "the first load compiles");
    let compiled = first.elapsed();
    let second = std::time::Instant::now();
    assert!(load().cache_hit, "later loads come from the compile cache");
    eprintln!(
        "the {:.1} MB Python component: compiled in {compiled:?}, loaded from the cache in {:?}",
        std::fs::metadata(&module).expect("stat").len() as f64 / 1e6,
        second.elapsed()
    );
}

/// CPython itself goes through the portable profile's NaN rewrite: the
/// Python iris job gives the same records in both profiles.
#[test]
fn python_iris_is_the_same_in_the_portable_profile() {
    let Some(module) = python_guest(
        "python_iris_is_the_same_in_the_portable_profile",
        "examples/iris-python/job",
    ) else {
        return;
    };
    let t = TestDir::new();
    let module = module.to_str().expect("utf-8");
    let params = r#"{"cross_val_args": {"n_splits": 3, "shuffle": true, "random_state": 0},
        "model_args": {"n_neighbors": 5, "weights": "distance"},
        "dataset_args": {"target_column": "species",
          "feature_columns": ["sepal_length", "sepal_width", "petal_length", "petal_width"]}}"#;
    let native = crate::determinism::iris_records(&t, module, params, "native");
    let portable = crate::determinism::iris_records(&t, module, params, "portable");
    assert!(native.contains("accuracy"), "{native}");
    assert_eq!(native, portable);
}

/// Every file under `dir` with its size, sorted.
fn tree(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            let len = std::fs::metadata(&path).expect("stat").len();
            out.push((path, len));
        }
    }
    out.sort();
    out
}

/// Building once wrote Python's byte-code cache (`__pycache__`) into the
/// source directory, so a checkout was dirty after a build and every
/// experiment added from it was recorded as built from changed code.
#[test]
fn building_a_python_guest_writes_nothing_into_its_source() {
    let Some(tool) = componentize_py("building_a_python_guest_writes_nothing_into_its_source")
    else {
        return;
    };
    let t = TestDir::new();
    let source = t.path().join("job");
    std::fs::create_dir_all(source.join("helpers")).expect("mkdir");
    std::fs::write(
        source.join("helpers/__init__.py"),
        "def answer():\n    return 42\n",
    )
    .expect("write");
    std::fs::write(
        source.join("app.py"),
        "import djx\nfrom helpers import answer\n\n\ndef main():\n    djx.record(\"answer\", metrics={\"value\": answer()})\n\n\nWitWorld = djx.job(main)\n",
    )
    .expect("write");
    let before = tree(&source);
    let out = run(t
        .djx()
        .arg("build")
        .arg(&source)
        .arg("-o")
        .arg(t.path().join("job.wasm"))
        .env("DJX_COMPONENTIZE_PY", &tool));
    assert_exit(&out, 0);
    assert_eq!(tree(&source), before, "djx build wrote into the source");
    let out = run(t.djx().arg("exec").arg(t.path().join("job.wasm")));
    assert_exit(&out, 0);
    assert!(stdout(&out).contains(r#""value":42"#), "{}", stdout(&out));
}
