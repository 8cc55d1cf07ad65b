//! The sandbox suite: every way out is refused, the dataset is unchanged,
//! and the host goes on.

use std::os::unix::fs::symlink;

use crate::support::*;

/// Runs the sandbox guest's `attempt` against a dataset directory holding
/// iris.csv and a symlink to /etc/passwd; returns (outcome, detail).
fn attempt(t: &TestDir, name: &str) -> (String, String) {
    let data = t.path().join("data");
    let out = run(t
        .djx()
        .arg("exec")
        .arg(djx_fixtures::SANDBOX)
        .args(["--params", &format!(r#"{{"attempt": "{name}"}}"#)])
        .arg(format!("--data=iris={}", data.display())));
    assert_exit(&out, 0);
    let records = json_lines(&out);
    assert_eq!(records.len(), 1, "{name}: {records:?}");
    let ctx = &records[0]["context"];
    assert_eq!(ctx["attempt"], name);
    (
        ctx["outcome"].as_str().unwrap_or_default().to_owned(),
        ctx["detail"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
pub fn sandbox() {
    let t = TestDir::new();
    let data = t.iris_dir("data");
    symlink("/etc/passwd", data.join("escape")).expect("symlink");
    let before = djx_host::content::dataset::digest_dir(&data).expect("digest");
    let csv_before = b3(&data.join("iris.csv"));

    for name in [
        "read-etc-passwd",
        "list-root",
        "dotdot",
        "dotdot-sibling",
        "symlink",
        "write",
        "overwrite",
        "append",
        "truncate",
        "rename",
        "delete",
        "mkdir",
        "tcp",
        "dns",
        "env",
    ] {
        let (outcome, detail) = attempt(&t, name);
        assert_eq!(outcome, "refused", "{name} was allowed: {detail}");
    }
    // The control: the same guest can tell when something is allowed.
    let (outcome, detail) = attempt(&t, "write-tmp");
    assert_eq!(
        (outcome.as_str(), detail.as_str()),
        ("allowed", "scratch is writable")
    );

    assert_eq!(
        djx_host::content::dataset::digest_dir(&data).expect("digest"),
        before,
        "dataset unchanged"
    );
    assert_eq!(b3(&data.join("iris.csv")), csv_before);
    assert!(!data.join("new.txt").exists() && !data.join("moved.csv").exists());
}

#[test]
fn a_single_file_dataset_shows_no_siblings() {
    let t = TestDir::new();
    let data = t.iris_dir("data");
    std::fs::write(data.join("secret.txt"), "not part of the dataset").expect("write");
    // The guest lists /data/iris via `dotdot-sibling`'s first step; with a
    // single-file dataset only iris.csv may be visible. Check it directly
    // through the runtime's mount instead: the staged directory is private.
    let out = run(t
        .djx()
        .arg("exec")
        .arg(djx_fixtures::SANDBOX)
        .args(["--params", r#"{"attempt": "list-dataset"}"#])
        .arg(format!("--data=iris={}", data.join("iris.csv").display())));
    assert_exit(&out, 0);
    let records = json_lines(&out);
    assert_eq!(records[0]["context"]["outcome"], "allowed");
    assert_eq!(records[0]["context"]["detail"], "iris.csv");
}
