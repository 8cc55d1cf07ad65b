//! `djx exec`: params, labels, datasets, records, bind/unbind, artifacts
//! and the log round-trip through the real binary.

use serde_json::json;

use crate::support::*;

#[test]
pub fn roundtrip() {
    let t = TestDir::new();
    let data = t.iris_dir("data");
    let out = run(t
        .djx()
        .arg("exec")
        .arg(djx_fixtures::ROUNDTRIP)
        .args([
            "--params",
            r#"{"greeting": "hi", "repeat": 3, "nested": {"scale": 0.5}}"#,
        ])
        .args(["--labels", r#"{"fold": 1}"#])
        .arg(format!("--data=iris={}", data.join("iris.csv").display()))
        .args(["--out", "artifacts"]));
    assert_exit(&out, 0);
    let records = json_lines(&out);
    assert_eq!(records.len(), 5, "{records:#?}");

    let read = &records[0];
    assert_eq!(read["event"], "dataset read");
    assert_eq!(read["context"]["path"], "/data/iris/iris.csv");
    assert_eq!(read["context"]["digest"], b3(&data.join("iris.csv")));
    assert_eq!(read["context"]["labels"], json!({"fold": 1}));
    assert_eq!(read["context"]["datasets"], 1);
    assert_eq!(read["metrics"]["rows"], 150.0);
    assert!(read["context"].get("phase").is_none(), "nothing bound yet");

    for (i, step) in records[1..4].iter().enumerate() {
        assert_eq!(step["event"], "step");
        assert_eq!(
            step["context"],
            json!({"i": i, "phase": "train", "model": "demo"})
        );
        assert_eq!(step["metrics"]["value"], 0.5 * i as f64);
    }

    let saved = &records[4];
    // `phase` was unbound, then set by the record itself; `model` stays bound.
    assert_eq!(saved["context"], json!({"phase": "save", "model": "demo"}));
    let artifacts = saved["artifacts"].as_object().expect("artifact refs");
    let expect: [(&str, Vec<u8>); 3] = [
        ("whole", b"hi".to_vec()),
        ("from-file", vec![1, 2, 3, 4]),
        ("streamed", (0..4u8).flat_map(|c| [c; 1000]).collect()),
    ];
    for (name, bytes) in expect {
        let digest = artifacts[name].as_str().expect("digest string");
        assert_eq!(digest, blake3::hash(&bytes).to_hex().as_str(), "{name}");
        let stored = std::fs::read(t.path().join("artifacts").join(digest)).expect("artifact file");
        assert_eq!(stored, bytes, "{name} stored under its digest");
    }

    let log = stderr(&out);
    assert!(log.contains("hello from stdout: hi"), "{log}");
    assert!(log.contains("hello from stderr"), "{log}");
    assert!(log.contains("[INFO] repeat=3"), "{log}");
    // The scratch dir is gone after the job.
    let left = std::fs::read_dir(t.path().join("scratch"))
        .expect("scratch")
        .count();
    assert_eq!(left, 0, "scratch directories are removed");
}

#[test]
pub fn noop() {
    let t = TestDir::new();
    let out = run(t.djx().arg("exec").arg(djx_fixtures::NOOP));
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), "", "a no-op job records nothing");
}

#[test]
fn params_from_a_file_and_a_dataset_directory() {
    let t = TestDir::new();
    let data = t.iris_dir("irisdir");
    std::fs::write(
        t.path().join("params.json"),
        r#"{"greeting": "file", "repeat": 0, "nested": {"scale": 1}}"#,
    )
    .expect("write params");
    // A directory dataset: the job reads /data/iris, and its digest is the
    // directory's Merkle digest, not the file's.
    let out = run(t
        .djx()
        .arg("exec")
        .arg(djx_fixtures::SANDBOX)
        .args(["--params", r#"{"attempt": "dotdot"}"#])
        .arg(format!("--data=iris={}", data.display())));
    assert_exit(&out, 0);
    let out = run(t
        .djx()
        .arg("exec")
        .arg(djx_fixtures::ROUNDTRIP)
        .args(["--params", "@params.json"])
        .arg(format!("--data=iris={}", data.join("iris.csv").display())));
    assert_exit(&out, 0);
    let records = json_lines(&out);
    assert_eq!(records.len(), 2, "repeat 0 gives no steps: {records:#?}");
    assert!(
        stderr(&out).contains("3 artifact(s) not kept; pass --out DIR"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_arguments_fail_before_running() {
    let t = TestDir::new();
    for (args, expect) in [
        (vec!["--params", "{not json"], "--params is not valid JSON"),
        (vec!["--params", "[1, 2]"], "--params must be a JSON object"),
        (
            vec!["--params", "@missing.json"],
            "reading --params file missing.json",
        ),
        (vec!["--data", "iris"], "expected NAME=PATH"),
        (vec!["--data", "../x=/tmp"], "the name must be"),
        (vec!["--data", "iris=/no/such/file.csv"], "does not exist"),
        (vec!["--limit", "cpu=2"], "unknown field `cpu`"),
        (vec!["--timeout", "soon"], "invalid duration"),
        (vec!["--memory", "lots"], "invalid size"),
    ] {
        let out = run(t.djx().arg("exec").arg(djx_fixtures::NOOP).args(&args));
        assert_exit(&out, 2);
        assert!(stderr(&out).contains(expect), "{args:?}: {}", stderr(&out));
    }
}

#[test]
pub fn bookkeeping() {
    let t = TestDir::new();
    let out = run(t.djx().arg("exec").arg(djx_fixtures::BOOKKEEPING).args([
        "--labels",
        r#"{"id": 3}"#,
        "--out",
        "a",
    ]));
    assert_exit(&out, 0);
    let records = json_lines(&out);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["metrics"].as_object().map(|m| m.len()), Some(10));
    assert_eq!(records[0]["metrics"]["m0"], 3.0 / 7.0);
    let digest = records[0]["artifacts"]["model"].as_str().expect("digest");
    assert_eq!(
        std::fs::metadata(t.path().join("a").join(digest))
            .expect("artifact")
            .len(),
        1024
    );
}
