//! WASI programs as jobs: a `wasi:cli/command` component (Rust, std only)
//! and a preview-1 core module (C, Debian's clang for wasm32-wasi) speak
//! djx's job protocol with no SDK, in the same sandbox and limits as
//! components of the `djx:job` world.

use std::path::PathBuf;
use std::process::Command;

use crate::support::*;

/// Builds `tests/c/protocol_job.c` with clang-19 for wasm32-wasi into the
/// test dir; returns the module's path.
fn c_job(t: &TestDir) -> PathBuf {
    build_c(t, "protocol_job.wasm", &[])
}

/// Builds `tests/c/protocol_job.c` into `name` in the test dir with the
/// extra `flags`.
fn build_c(t: &TestDir, name: &str, flags: &[&str]) -> PathBuf {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/c/protocol_job.c");
    let module = t.path().join(name);
    let clang = std::env::var("DJX_TEST_CLANG").unwrap_or_else(|_| "clang-19".into());
    let out = Command::new(&clang)
        .args(["--target=wasm32-wasi", "-O2", "-Wall", "-Werror"])
        .args(flags)
        .arg("-o")
        .arg(&module)
        .arg(&source)
        .output()
        .unwrap_or_else(|e| {
            panic!("{clang}: {e} (the C job needs clang-19, lld-19 and wasi-libc; `make test` installs them)")
        });
    assert!(
        out.status.success(),
        "{clang} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    module
}

/// `djx exec` of the C job in `mode`, with the iris dataset and `extra`
/// arguments.
fn exec_c(t: &TestDir, module: &PathBuf, mode: &str, extra: &[&str]) -> std::process::Output {
    let data = t.path().join("data");
    run(t
        .djx()
        .arg("exec")
        .arg(module)
        .args(["--params", &format!(r#"{{"mode": "{mode}"}}"#)])
        .arg(format!("--data=iris={}", data.join("iris.csv").display()))
        .args(extra))
}

#[test]
pub fn command() {
    let t = TestDir::new();
    t.iris_dir("data");
    let out_dir = t.path().join("out");
    let out = run(t
        .djx()
        .arg("exec")
        .arg(djx_fixtures::COMMAND)
        .args([
            "--params",
            r#"{"greeting": "héllo", "tcp": "127.0.0.1:5432"}"#,
        ])
        .arg(format!("--data=iris={}", t.path().join("data").display()))
        .arg("--out")
        .arg(&out_dir));
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("I am a WASI command, run as a djx job"),
        "stdout is the job's log: {}",
        stderr(&out)
    );
    let records = json_lines(&out);
    assert_eq!(records.len(), 2, "{records:?}");
    let hello = &records[0]["context"];
    assert_eq!(hello["greeting"], "héllo");
    assert_eq!(hello["argv"], serde_json::json!(["job"]));
    assert_eq!(hello["protocol"], "1");
    let mut env: Vec<String> = serde_json::from_value(hello["env"].clone()).expect("env");
    env.sort();
    assert_eq!(
        env,
        [
            "DJX_ARTIFACTS",
            "DJX_DATASETS",
            "DJX_LABELS",
            "DJX_PARAMS",
            "DJX_PROTOCOL",
            "DJX_RECORDS"
        ],
        "the environment holds the protocol's variables and nothing of the host's"
    );
    assert_eq!(hello["datasets"][0]["name"], "iris");
    assert_eq!(hello["datasets"][0]["path"], "/data/iris");
    assert_eq!(records[0]["metrics"]["answer"], 42.0);
    assert!(
        records[0]["metrics"]["nan"].is_null(),
        "NaN is kept (shown as null)"
    );
    let tcp = records[1]["context"]["outcome"]
        .as_str()
        .unwrap_or_default();
    assert!(tcp.starts_with("refused"), "{tcp}");
    // The artifact no record named is stored at the exit, by content.
    let note = djx_host::content::digest::Digest::of(b"written by a WASI command\n");
    assert!(
        out_dir.join(note.to_hex()).is_file(),
        "note.txt kept by digest"
    );
}

#[test]
fn a_c_job_speaks_the_protocol() {
    let t = TestDir::new();
    t.iris_dir("data");
    let module = c_job(&t);
    let out_dir = t.path().join("out");
    let out = exec_c(
        &t,
        &module,
        "mean",
        &["--out", out_dir.to_str().expect("utf-8")],
    );
    assert_exit(&out, 0);
    let records = json_lines(&out);
    assert_eq!(records.len(), 4, "three progress records and the result");
    assert_eq!(records[0]["context"]["rows"], 50);
    let done = &records[3];
    assert_eq!(done["event"], "done");
    assert_eq!(done["metrics"]["rows"], 150.0);
    // The mean of iris's first column, as C's strtod and %.17g give it.
    let mean = done["metrics"]["mean"].as_f64().expect("mean");
    assert!((mean - 5.843_333_333_333_335).abs() < 1e-12, "{mean}");
    let digest = done["artifacts"]["summary"].as_str().expect("summary ref");
    let summary = std::fs::read_to_string(out_dir.join(digest)).expect("summary");
    assert!(
        summary.starts_with("rows 150 mean 5.84333333333333"),
        "{summary}"
    );
    let left = djx_host::content::digest::Digest::of(b"left without a record\n");
    assert!(
        out_dir.join(left.to_hex()).is_file(),
        "more/left.txt stored at the exit"
    );
    assert!(
        stderr(&out).contains("mean of 150 rows: 5.843333"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn c_job_failures_say_why_and_keep_what_came_before() {
    let t = TestDir::new();
    t.iris_dir("data");
    let module = c_job(&t);
    let cases: [(&str, &[&str], &str); 5] = [
        (
            "exit",
            &[],
            "guest error: the program exited with a non-zero status\nstderr:\nthe model did not converge after 100 iterations",
        ),
        (
            "bad-line",
            &[],
            "guest error: records.jsonl line 2: EOF while parsing an object",
        ),
        (
            "flood",
            &["--limit", "records=1000"],
            "limit exceeded: records = 1000",
        ),
        (
            "big-artifact",
            &["--limit", "artifact_bytes=1MiB"],
            "limit exceeded: artifact_bytes = 1MiB (artifact \"big.bin\"",
        ),
        (
            "memory",
            &["--memory", "64MiB"],
            "limit exceeded: memory = 64MiB",
        ),
    ];
    for (mode, extra, why) in cases {
        let out = exec_c(&t, &module, mode, extra);
        assert_exit(&out, 1);
        assert!(stderr(&out).contains(why), "{mode}: {}", stderr(&out));
    }
    // What a failed program recorded before it failed is kept.
    let out = exec_c(&t, &module, "exit", &[]);
    assert_eq!(json_lines(&out)[0]["event"], "started");
    let out = exec_c(&t, &module, "bad-line", &[]);
    assert_eq!(json_lines(&out).len(), 1, "the line before the bad one");
}

#[test]
fn a_c_job_cannot_get_out() {
    let t = TestDir::new();
    let data = t.iris_dir("data");
    let before = b3(&data.join("iris.csv"));
    let module = c_job(&t);
    let out = exec_c(&t, &module, "sandbox", &[]);
    assert_exit(&out, 0);
    let records = json_lines(&out);
    let outcome = |attempt: &str| {
        records
            .iter()
            .find(|r| r["context"]["attempt"] == attempt)
            .map(|r| {
                r["context"]["outcome"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_else(|| panic!("no probe {attempt}: {records:?}"))
    };
    for attempt in [
        "read-etc-passwd",
        "write-dataset",
        "create-in-dataset",
        "write-params",
        "dotdot",
        "env",
    ] {
        assert_eq!(outcome(attempt), "refused", "{attempt}");
    }
    assert_eq!(outcome("write-tmp"), "allowed", "the control");
    assert_eq!(b3(&data.join("iris.csv")), before, "dataset unchanged");
    assert!(!data.join("new.txt").exists());
}

on_both_stores!(a_c_job_in_an_experiment_runs_verifies_and_is_cached);

fn a_c_job_in_an_experiment_runs_verifies_and_is_cached(backend: Backend) {
    let t = TestDir::on(backend);
    t.iris_dir("data");
    let module = c_job(&t);
    let yml = |name: &str| {
        let path = t.path().join(format!("{name}.yml"));
        std::fs::write(
            &path,
            format!(
                "name: {name}\nmodule: {}\ndata:\n  iris: data/iris.csv\njob:\n  parameter: {{mode: mean}}\nexperiment:\n  grid:\n    - labels.copy: [1, 2, 3]\n",
                module.display()
            ),
        )
        .expect("write experiment");
        path
    };
    let first = yml("first");
    let out = djx_ok(
        &t,
        &["run", first.to_str().expect("utf-8"), "--workers", "2"],
    );
    assert!(out.contains("ran 3 jobs"), "{out}");
    let records = records_json(&t, "1");
    assert_eq!(records.len(), 12, "4 records a job");
    let out = djx_ok(&t, &["verify", "1"]);
    assert!(out.contains("3 identical, 0 different"), "{out}");
    let store = t.store();
    let jobs = jobs_json(&t, "1");
    let job = jobs[0]["id"].as_i64().expect("job id");
    let mut names: Vec<String> = store
        .attempt_artifacts(job, 1)
        .expect("artifacts")
        .into_iter()
        .map(|a| a.name)
        .collect();
    names.sort();
    // Named by their paths, as a component names what it saves.
    assert_eq!(names, ["more/left.txt", "summary.txt"]);
    // The same file added again is served from the run-cache.
    let second = yml("second");
    let out = djx_ok(&t, &["run", second.to_str().expect("utf-8")]);
    assert!(out.contains("run-cache"), "{out}");
}

#[test]
fn a_reactor_program_runs_through_its_run_export() {
    // A WASI CPython is a preview-1 reactor: `_initialize` and `run`, no
    // `_start`. The C job built the same way gives the same records.
    let t = TestDir::new();
    t.iris_dir("data");
    let command = c_job(&t);
    let reactor = build_c(
        &t,
        "reactor_job.wasm",
        &["-mexec-model=reactor", "-DDJX_REACTOR"],
    );
    let as_command = exec_c(&t, &command, "mean", &[]);
    let as_reactor = exec_c(&t, &reactor, "mean", &[]);
    assert_exit(&as_reactor, 0);
    assert_eq!(json_lines(&as_reactor), json_lines(&as_command));
    let failed = exec_c(&t, &reactor, "exit", &[]);
    assert_exit(&failed, 1);
    assert!(
        stderr(&failed).contains(
            "the program exited with a non-zero status\nstderr:\nthe model did not converge"
        ),
        "{}",
        stderr(&failed)
    );
}

/// A preview-1 command module whose `_start` throws a WebAssembly
/// exception, caught by its own `try_table` when `catch` is true.
fn throwing_module(catch: bool) -> Vec<u8> {
    use std::borrow::Cow;
    use wasm_encoder::{
        BlockType, Catch, CodeSection, ExportKind, ExportSection, Function, FunctionSection,
        Instruction, MemorySection, MemoryType, Module, TagKind, TagSection, TagType, TypeSection,
    };
    let mut module = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([], []);
    module.section(&types);
    let mut functions = FunctionSection::new();
    functions.function(0);
    module.section(&functions);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    module.section(&memories);
    let mut tags = TagSection::new();
    tags.tag(TagType {
        kind: TagKind::Exception,
        func_type_idx: 0,
    });
    module.section(&tags);
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export("_start", ExportKind::Func, 0);
    module.section(&exports);
    let mut body = Function::new([]);
    if catch {
        body.instruction(&Instruction::Block(BlockType::Empty));
        body.instruction(&Instruction::TryTable(
            BlockType::Empty,
            Cow::Owned(vec![Catch::One { tag: 0, label: 0 }]),
        ));
        body.instruction(&Instruction::Throw(0));
        body.instruction(&Instruction::End);
        body.instruction(&Instruction::Unreachable);
        body.instruction(&Instruction::End);
    } else {
        body.instruction(&Instruction::Throw(0));
    }
    body.instruction(&Instruction::End);
    let mut code = CodeSection::new();
    code.function(&body);
    module.section(&code);
    module.finish()
}

#[test]
fn exceptions_are_caught_and_an_uncaught_one_fails_the_job() {
    let t = TestDir::new();
    std::fs::write(t.path().join("caught.wasm"), throwing_module(true)).expect("write");
    std::fs::write(t.path().join("uncaught.wasm"), throwing_module(false)).expect("write");
    for determinism in ["native", "portable"] {
        let out = run(t
            .djx()
            .args(["exec", "caught.wasm", "--determinism", determinism]));
        assert_exit(&out, 0);
        let out = run(t
            .djx()
            .args(["exec", "uncaught.wasm", "--determinism", determinism]));
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains("guest trapped: an uncaught WebAssembly exception"),
            "{}",
            stderr(&out)
        );
    }
}
