//! The same guest with the same params gives byte-identical records and
//! artifacts in separate processes, even when it reads HashMap order, the
//! clocks and random.

use crate::support::*;

fn run_nondet(t: &TestDir, params: &str, out_dir: &str) -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
    let out = run(t
        .djx()
        .arg("exec")
        .arg(djx_fixtures::NONDET)
        .args(["--params", params, "--out", out_dir]));
    assert_exit(&out, 0);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(t.path().join(out_dir))
        .expect("out dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    files.sort();
    (out.stdout, files)
}

#[test]
pub fn nondet() {
    let t = TestDir::new();
    let first = run_nondet(&t, "{}", "a");
    let second = run_nondet(&t, "{}", "b");
    assert_eq!(
        String::from_utf8_lossy(&first.0),
        String::from_utf8_lossy(&second.0),
        "records are byte-identical"
    );
    assert_eq!(first.1, second.1, "artifacts are byte-identical");
    assert!(!first.1.is_empty());

    // The seed comes from the job, not a constant: other params, other random.
    let other = run_nondet(&t, r#"{"nonce": 1}"#, "c");
    let random = |stdout: &[u8]| -> serde_json::Value {
        let first = String::from_utf8_lossy(stdout)
            .lines()
            .next()
            .map(str::to_owned)
            .unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(&first).expect("json")["context"]["random"]
            .clone()
    };
    assert_ne!(random(&first.0), random(&other.0));
}

#[test]
fn roundtrip_is_identical_across_processes() {
    let t = TestDir::new();
    let data = t.iris_dir("data");
    let go = || {
        let out = run(t
            .djx()
            .arg("exec")
            .arg(djx_fixtures::ROUNDTRIP)
            .args([
                "--params",
                r#"{"greeting": "x", "repeat": 5, "nested": {"scale": 0.1}}"#,
            ])
            .arg(format!("--data=iris={}", data.join("iris.csv").display())));
        assert_exit(&out, 0);
        out.stdout
    };
    assert_eq!(go(), go());
}

/// File metadata a guest reads (times, link count) does not depend on the
/// host: touching a dataset or hard-linking it changes nothing the guest
/// sees.
#[test]
fn file_metadata_is_pinned() {
    let t = TestDir::new();
    let data = t.path().join("data.csv");
    std::fs::write(&data, "a,b\n1,2\n").expect("write");
    let go = |out_dir: &str| {
        let out = run(t
            .djx()
            .arg("exec")
            .arg(djx_fixtures::NONDET)
            .args(["--out", out_dir])
            .arg(format!("--data=data={}", data.display())));
        assert_exit(&out, 0);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = go("a");
    assert!(first.contains("size=8"), "{first}");
    assert!(first.contains("mtim=946684800000000000"), "{first}");
    // Another modification time and another link: the host's view changes.
    let file = std::fs::File::options()
        .write(true)
        .open(&data)
        .expect("open");
    file.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(12345))
        .expect("set mtime");
    std::fs::hard_link(&data, t.path().join("link.csv")).expect("link");
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(go("b"), first, "the guest sees the same metadata");
}

/// The bits the `nans` guest sees in each case, under `determinism`.
fn nan_bits(t: &TestDir, determinism: &str) -> serde_json::Value {
    // R's NA: a NaN whose payload is data, 0x7ff00000000007a2.
    let params = r#"{"zero": 0.0, "payload": 9218868437227407266, "steps": 5}"#;
    let out = run(t.djx().arg("exec").arg(djx_fixtures::NANS).args([
        "--determinism",
        determinism,
        "--params",
        params,
    ]));
    assert_exit(&out, 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().next().expect("a record");
    serde_json::from_str::<serde_json::Value>(line).expect("json")["context"].clone()
}

/// The portable profile: every NaN the program makes and then looks at is
/// the canonical one (positive, quiet, no payload) however it was made and
/// wherever it is seen, while a NaN it only copies keeps its payload.
#[test]
pub fn nans() {
    let t = TestDir::new();
    let portable = nan_bits(&t, "portable");
    let made = [
        "div",
        "neg_div",
        "propagate",
        "stored",
        "returned",
        "argument",
        "loop",
        "sqrt",
        "simd_lane0",
        "simd_lane1",
        "simd_extract",
    ];
    for case in made {
        assert_eq!(portable[case], "7ff8000000000000", "{case}: {portable:#}");
    }
    assert_eq!(portable["f32_div"], "7fc00000", "{portable:#}");
    // Copying is not arithmetic: NaN data (here R's NA) stays as it was.
    assert_eq!(portable["copied"], "7ff00000000007a2", "{portable:#}");
    assert_eq!(portable["copied_through_memory"], "7ff00000000007a2");
    // A canonical NaN is positive, so copysign takes a plus from it.
    assert_eq!(portable["copysign"], "3ff0000000000000", "{portable:#}");
    // Same bits in another process (and on another architecture).
    assert_eq!(nan_bits(&t, "portable"), portable);

    // What the profile hides: x86-64 makes negative NaNs and keeps
    // payloads, and the native profile shows them.
    #[cfg(target_arch = "x86_64")]
    {
        let native = nan_bits(&t, "native");
        assert_eq!(native["div"], "fff8000000000000", "{native:#}");
        assert_eq!(native["propagate"], "7ff80000000007a2", "{native:#}");
        assert_eq!(native["copysign"], "bff0000000000000", "{native:#}");
        assert_eq!(native["copied"], "7ff00000000007a2");
    }
}

/// `djx exec` stdout of an iris guest (`module`) under `determinism`.
pub fn iris_records(t: &TestDir, module: &str, params: &str, determinism: &str) -> String {
    let data = t.iris_dir("data");
    let out = run(t
        .djx()
        .arg("exec")
        .arg(module)
        .args(["--determinism", determinism, "--params", params])
        .arg(format!("--data=iris={}", data.join("iris.csv").display())));
    assert_exit(&out, 0);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The portable profile's rewrite changes nothing but NaN bits: a real
/// program (the `forest` guest's random forest, trees and scores) gives the
/// same records.
#[test]
pub fn the_portable_profile_changes_no_result_without_nans() {
    let t = TestDir::new();
    let params = r#"{"cross_val_args": {"n_splits": 3, "shuffle": true, "random_state": 0},
        "model_args": {"n_estimators": 20, "max_depth": 4, "random_state": 0},
        "dataset_args": {"target_column": "species",
          "feature_columns": ["sepal_length", "sepal_width", "petal_length", "petal_width"]},
        "save": true}"#;
    let native = iris_records(&t, djx_fixtures::FOREST, params, "native");
    let portable = iris_records(&t, djx_fixtures::FOREST, params, "portable");
    assert!(native.contains("mean_test_accuracy"), "{native}");
    assert_eq!(native, portable);
}
