//! Jobs that fail say why: the guest's own message, its panic, or what is
//! wrong with the module.

use crate::support::*;

fn fail_with(how: &str) -> std::process::Output {
    let t = TestDir::new();
    run(t
        .djx()
        .arg("exec")
        .arg(djx_fixtures::FAIL)
        .args(["--params", &format!(r#"{{"how": "{how}"}}"#)]))
}

#[test]
pub fn fail() {
    let out = fail_with("error");
    assert_exit(&out, 1);
    assert!(
        stderr(&out)
            .contains("job failed: guest error: the model did not converge after 3 iterations"),
        "{}",
        stderr(&out)
    );
    // Records made before the failure are still shown.
    assert_eq!(json_lines(&out)[0]["event"], "before failing");
}

#[test]
fn a_panic_is_reported_with_its_message() {
    let out = fail_with("panic");
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("job failed: guest trapped"), "{err}");
    assert!(err.contains("index out of range in fold 2"), "{err}");
}

#[test]
fn guest_visible_errors_come_back_as_results() {
    for (how, expect) in [
        ("bad-context", "bound context must be a JSON object"),
        ("unknown-artifact", "which this job has not stored"),
        ("missing-dataset", "the job has no dataset \"nope\""),
    ] {
        let out = fail_with(how);
        assert_exit(&out, 1);
        assert!(stderr(&out).contains(expect), "{how}: {}", stderr(&out));
    }
}

#[test]
fn a_component_of_another_world_is_refused() {
    let t = TestDir::new();
    // A valid component with no exports: neither the djx:job world nor a
    // WASI program.
    std::fs::write(t.path().join("empty.wasm"), b"\0asm\x0d\0\x01\0").expect("write");
    let out = run(t.djx().args(["exec", "empty.wasm"]));
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("does not implement the djx:job@0.1.0 world")
            && err.contains("nor is it a WASI program (a `wasi:cli/command`)"),
        "{err}"
    );
}

#[test]
fn a_file_that_is_no_job_module_is_refused() {
    let t = TestDir::new();
    // A core module that is no WASI program (no memory, no `_start`) and a
    // text file.
    std::fs::write(t.path().join("core.wasm"), b"\0asm\x01\0\0\0").expect("write");
    std::fs::write(t.path().join("text.wasm"), b"hello").expect("write");
    let out = run(t.djx().args(["exec", "core.wasm"]));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(
            "core.wasm cannot run as a djx job: a core module is run as a WASI preview-1 program, and this one cannot be"
        ),
        "{}",
        stderr(&out)
    );
    let out = run(t.djx().args(["exec", "text.wasm"]));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(
            "text.wasm cannot run as a djx job: it does not start with the WebAssembly magic bytes"
        ),
        "{}",
        stderr(&out)
    );
}
