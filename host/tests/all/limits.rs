//! Every limit ends the job with a message that names it.

use crate::support::*;

fn break_limit(limit: &str, extra: &[&str]) -> String {
    let t = TestDir::new();
    let out = run(t
        .djx()
        .arg("exec")
        .arg(djx_fixtures::LIMITS)
        .args(["--params", &format!(r#"{{"break": "{limit}"}}"#)])
        .args(extra));
    assert_exit(&out, 1);
    stderr(&out)
}

#[test]
pub fn limits() {
    for (limit, extra, expect) in [
        (
            "timeout",
            vec!["--timeout", "300ms"],
            "limit exceeded: timeout = 300ms",
        ),
        (
            "memory",
            vec!["--memory", "64MiB"],
            "limit exceeded: memory = 64MiB",
        ),
        (
            "records",
            vec!["--limit", "records=1000"],
            "limit exceeded: records = 1000",
        ),
        ("record-size", vec![], "limit exceeded: record_size = 1MiB"),
        (
            "artifacts",
            vec!["--limit", "artifact_bytes=8MiB"],
            "limit exceeded: artifact_bytes = 8MiB",
        ),
        (
            "artifact-stream",
            vec!["--limit", "artifact_bytes=8MiB"],
            "limit exceeded: artifact_bytes = 8MiB",
        ),
        (
            "stdout",
            vec!["--limit", "log_bytes=1MiB"],
            "limit exceeded: log_bytes = 1MiB",
        ),
        (
            "log",
            vec!["--limit", "log_bytes=1MiB"],
            "limit exceeded: log_bytes = 1MiB",
        ),
    ] {
        let err = break_limit(limit, &extra);
        assert!(err.contains(expect), "{limit}: {err}");
    }
}

#[test]
fn unbounded_recursion_is_a_stack_overflow() {
    let err = break_limit("stack", &[]);
    assert!(err.contains("guest trapped: stack overflow"), "{err}");
}

#[test]
fn record_bytes_cap_counts_all_records() {
    let err = break_limit("records", &["--limit", "record_bytes=10KiB"]);
    assert!(
        err.contains("limit exceeded: record_bytes = 10KiB"),
        "{err}"
    );
}

#[test]
fn a_flood_of_stdout_does_not_reach_the_host_terminal_unbounded() {
    let t = TestDir::new();
    let out = run(t.djx().arg("exec").arg(djx_fixtures::LIMITS).args([
        "--params",
        r#"{"break": "stdout"}"#,
        "--limit",
        "log_bytes=64KiB",
    ]));
    assert_exit(&out, 1);
    assert!(
        out.stderr.len() < 80 << 10,
        "captured log is capped: {} bytes",
        out.stderr.len()
    );
}
