//! Reproducibility: job keys, result digests, `djx verify`, the run-cache,
//! provenance, lineage and `djx fsck`, through the real binary.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::*;

/// Writes `<name>.yml` for `module` with the given job and grid sections.
fn experiment(t: &TestDir, name: &str, module: &str, body: &str) -> PathBuf {
    let path = t.path().join(format!("{name}.yml"));
    std::fs::write(&path, format!("name: {name}\nmodule: {module}\n{body}")).expect("write");
    path
}

/// (key, result digest) of every job of `exp`, in grid order.
fn keys_and_digests(t: &TestDir, exp: &str) -> Vec<(String, String)> {
    jobs_json(t, exp)
        .iter()
        .map(|j| {
            (
                j["key"].as_str().expect("key").to_owned(),
                j["result_digest"]
                    .as_str()
                    .expect("result digest")
                    .to_owned(),
            )
        })
        .collect()
}

/// The SQLite database of a test dir.
fn db(t: &TestDir) -> rusqlite::Connection {
    rusqlite::Connection::open(t.sqlite_db()).expect("open db")
}

/// Records without the columns that name the job.
fn record_bodies(t: &TestDir, exp: &str) -> Vec<Value> {
    records_json(t, exp)
        .into_iter()
        .map(|mut r| {
            let map = r.as_object_mut().expect("object");
            map.remove("exp_id");
            map.remove("job_id");
            r
        })
        .collect()
}

fn iris_verifies_identical(backend: Backend) {
    let t = TestDir::on(backend);
    let yml = iris_experiment(&t);
    djx_ok(&t, &["run", yml.to_str().expect("utf-8"), "--workers", "2"]);
    let out = djx_ok(&t, &["verify", "1", "--workers", "2"]);
    assert!(
        out.contains("verified 36 jobs") && out.contains("36 identical, 0 different"),
        "{out}"
    );
    assert_eq!(out.matches("  identical  ").count(), 36, "{out}");
    let out = djx_ok(&t, &["verify", "last", "--sample", "5"]);
    assert!(out.contains("verified 5 jobs"), "{out}");
}

fn run_cache_reuses_results_and_reruns_what_changed(backend: Backend) {
    let t = TestDir::on(backend);
    let grid = |records: &str| {
        format!(
            "job:\n  parameter: {{spin: 10}}\nexperiment:\n  grid:\n    - parameter.records: [{records}]\n"
        )
    };
    let first = experiment(&t, "first", djx_fixtures::STEPS, &grid("1, 2, 3"));
    let out = djx_ok(&t, &["run", first.to_str().expect("utf-8")]);
    assert!(out.contains("ran 3 jobs"), "{out}");
    assert!(!out.contains("run-cache"), "{out}");

    // The same experiment again: nothing runs, the records are the same.
    let out = djx_ok(&t, &["run", first.to_str().expect("utf-8")]);
    assert!(out.contains("ran 0 jobs"), "{out}");
    assert!(out.contains("3 jobs from the run-cache"), "{out}");
    assert_eq!(record_bodies(&t, "1"), record_bodies(&t, "2"));
    assert_eq!(keys_and_digests(&t, "1"), keys_and_digests(&t, "2"));
    let jobs = jobs_json(&t, "2");
    let sources: Vec<Value> = jobs.iter().map(|j| j["cached_from"].clone()).collect();
    assert_eq!(
        sources,
        vec![Value::from(1), Value::from(2), Value::from(3)]
    );
    let table = djx_ok(&t, &["jobs", "2"]);
    assert!(table.contains("cached from job 1"), "{table}");
    let show = djx_ok(&t, &["show", "4"]);
    assert!(
        show.contains("from the run-cache: job 1 attempt 1"),
        "{show}"
    );
    assert!(show.contains("records    1"), "{show}");

    // One parameter changed: exactly that job reruns.
    let second = experiment(&t, "second", djx_fixtures::STEPS, &grid("1, 2, 4"));
    let out = djx_ok(&t, &["run", second.to_str().expect("utf-8")]);
    assert!(out.contains("ran 1 jobs"), "{out}");
    assert!(out.contains("2 jobs from the run-cache"), "{out}");
    let jobs = jobs_json(&t, "3");
    assert_eq!(jobs[0]["cached_from"], 1);
    assert_eq!(jobs[1]["cached_from"], 2);
    assert_eq!(jobs[2]["cached_from"], Value::Null);
    let records = records_json(&t, "3");
    assert_eq!(records.len(), 1 + 2 + 4);

    // --no-cache reruns everything, with the same results.
    let out = djx_ok(&t, &["run", second.to_str().expect("utf-8"), "--no-cache"]);
    assert!(out.contains("ran 3 jobs"), "{out}");
    assert!(!out.contains("run-cache"), "{out}");
    assert_eq!(keys_and_digests(&t, "3"), keys_and_digests(&t, "4"));
}

/// The iris example's job keys and result digests as recorded before the
/// one-house refactor (issue 22), so that moving code cannot change what a
/// job is or what it produced. The first line is the blake3 digest of the
/// iris module they were made from: the keys depend on it, so a change of
/// compiler (which changes the module) shows as a change of that line.
/// `DJX_BLESS=1` rewrites the file from a run.
const IRIS_RECORDED: &str = "tests/data/iris-keys-and-digests.txt";

#[test]
fn iris_keys_and_result_digests_are_the_recorded_ones() {
    let t = TestDir::new();
    let yml = iris_experiment(&t);
    djx_ok(&t, &["run", yml.to_str().expect("utf-8"), "--workers", "2"]);
    let module = std::fs::read(djx_fixtures::IRIS_EXAMPLE).expect("read the iris module");
    let mut now = format!("module {}\n", blake3::hash(&module).to_hex());
    for (key, digest) in keys_and_digests(&t, "1") {
        now.push_str(&format!("{key} {digest}\n"));
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(IRIS_RECORDED);
    if std::env::var_os("DJX_BLESS").is_some() {
        std::fs::write(&path, &now).expect("write the recorded keys");
    }
    let recorded = std::fs::read_to_string(&path).expect("read the recorded keys");
    assert_eq!(
        recorded.lines().next(),
        now.lines().next(),
        "the iris module is not the one the keys were recorded from (another compiler?)"
    );
    assert_eq!(recorded, now, "iris job keys or result digests changed");
}

on_both_stores!(
    iris_verifies_identical,
    run_cache_reuses_results_and_reruns_what_changed,
    fsck_reports_exactly_the_damaged_objects,
    lineage_names_producers_and_reusers_with_their_inputs
);

#[test]
fn result_digests_agree_across_stores_and_worker_counts() {
    let run_iris = |backend: Backend, workers: &str| {
        let t = TestDir::on(backend);
        let yml = iris_experiment(&t);
        djx_ok(
            &t,
            &["run", yml.to_str().expect("utf-8"), "--workers", workers],
        );
        keys_and_digests(&t, "1")
    };
    let one = run_iris(Backend::Sqlite, "1");
    assert_eq!(one.len(), 36);
    let four = run_iris(Backend::Sqlite, "4");
    assert_eq!(one, four, "--workers 1 and --workers 4 give the same bits");
    if let Some(pg) = Backend::postgres("result_digests_agree_across_stores_and_worker_counts") {
        assert_eq!(one, run_iris(pg, "2"), "SQLite and PostgreSQL agree");
    }
    // Jobs that differ only in a label still have different keys (the guest
    // can read labels), and the digests are not all one value.
    let keys: std::collections::BTreeSet<_> = one.iter().map(|(k, _)| k).collect();
    assert_eq!(keys.len(), 36);
    let digests: std::collections::BTreeSet<_> = one.iter().map(|(_, d)| d).collect();
    assert!(digests.len() > 1);
}

#[test]
fn verify_catches_a_changed_stored_result() {
    let t = TestDir::new();
    // A nonce in the parameters makes this run's results its own.
    let yml = experiment(
        &t,
        "nonce",
        djx_fixtures::STEPS,
        "job:\n  parameter: {records: 3, nonce: 8086}\nexperiment:\n  grid:\n    - labels.id: [0, 1, 2]\n",
    );
    djx_ok(&t, &["run", yml.to_str().expect("utf-8")]);
    djx_ok(&t, &["verify", "1"]);
    djx_ok(&t, &["fsck"]);

    // A stored metric changed behind djx's back.
    let changed = db(&t)
        .execute(
            "UPDATE record SET metrics = '{\"acc\":999.0}' WHERE job_id = 2 AND seq = 1",
            [],
        )
        .expect("update");
    assert_eq!(changed, 1);
    let out = run(t.djx().args(["verify", "1"]));
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(text.contains("job 1  identical"), "{text}");
    assert!(text.contains("job 3  identical"), "{text}");
    assert!(text.contains("job 2  DIFFERENT"), "{text}");
    assert!(text.contains("record 1 differs"), "{text}");
    assert!(text.contains("\"acc\":999.0"), "{text}");
    assert!(
        text.contains("the stored result no longer hashes to its digest"),
        "{text}"
    );
    assert!(text.contains("2 identical, 1 different"), "{text}");
    let out = run(t.djx().arg("fsck"));
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains("job 2 attempt 1: the stored result hashes to"),
        "{text}"
    );
    assert!(text.contains(": 1 problem"), "{text}");

    // The stored digest itself changed: verify says so.
    db(&t)
        .execute(
            "UPDATE attempt SET result_digest = ?1 WHERE job_id = 3",
            [&"0".repeat(64)],
        )
        .expect("update");
    let out = run(t.djx().args(["verify", "--job", "3"]));
    assert_exit(&out, 1);
    assert!(
        stdout(&out).contains("only the stored digest differs"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_job_whose_inputs_changed_in_the_store_does_not_run() {
    let t = TestDir::new();
    let yml = experiment(
        &t,
        "keyed",
        djx_fixtures::STEPS,
        "job:\n  parameter: {records: 1}\nexperiment:\n  grid:\n    - labels.id: [0, 1]\n",
    );
    djx_ok(&t, &["add", yml.to_str().expect("utf-8")]);
    db(&t)
        .execute(
            "UPDATE job SET parameter = '{\"records\":5}' WHERE id = 2",
            [],
        )
        .expect("update");
    let out = run(t.djx().args(["run", "1"]));
    assert_exit(&out, 1);
    let jobs = jobs_json(&t, "1");
    assert_eq!(jobs[0]["status"], "FINISHED");
    assert_eq!(jobs[1]["status"], "FAILED");
    let reason = jobs[1]["reason"].as_str().expect("reason");
    assert!(reason.contains("does not match its inputs"), "{reason}");
    let out = run(t.djx().arg("fsck"));
    assert_exit(&out, 1);
    assert!(
        stdout(&out).contains("job 2: stored key"),
        "{}",
        stdout(&out)
    );

    // An experiment locked to another engine is refused, not run.
    db(&t)
        .execute(
            "UPDATE experiment SET engine = replace(engine, '48.', '47.')",
            [],
        )
        .expect("update");
    db(&t)
        .execute("UPDATE job SET status = 'UNASSIGNED' WHERE id = 2", [])
        .expect("update");
    let out = run(t.djx().args(["run", "1"]));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("locked to the engine native (wasmtime 47."),
        "{}",
        stderr(&out)
    );
}

fn fsck_reports_exactly_the_damaged_objects(backend: Backend) {
    let t = TestDir::on(backend);
    let yml = experiment(
        &t,
        "artifacts",
        djx_fixtures::NONDET,
        "experiment:\n  grid:\n    - labels.id: [0, 1]\n",
    );
    djx_ok(&t, &["run", yml.to_str().expect("utf-8")]);
    let out = djx_ok(&t, &["fsck"]);
    assert!(out.contains("no problems"), "{out}");
    let records = records_json(&t, "1");
    let digests: Vec<String> = records
        .iter()
        .filter_map(|r| r["artifacts.random"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(digests.len(), 2);
    assert_ne!(
        digests[0], digests[1],
        "jobs with other labels have other keys"
    );

    // Flip one byte of one artifact.
    let path = t.path().join(".djx/artifacts").join(&digests[0]);
    let mut perms = std::fs::metadata(&path).expect("stat").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).expect("chmod");
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[0] ^= 1;
    std::fs::write(&path, bytes).expect("write");
    let out = run(t.djx().arg("fsck"));
    assert_exit(&out, 1);
    let text = stdout(&out);
    let problems: Vec<&str> = text.lines().filter(|l| !l.starts_with("checked")).collect();
    assert_eq!(problems.len(), 2, "{text}");
    assert!(
        problems[0].starts_with(&format!("corrupt artifact {}", digests[0])),
        "{text}"
    );
    // The record that references it now references no intact object.
    assert!(
        problems[1].starts_with(&format!("missing artifact {}", digests[0])),
        "{text}"
    );
    assert!(!text.contains(&digests[1]), "{text}");
}

fn lineage_names_producers_and_reusers_with_their_inputs(backend: Backend) {
    let t = TestDir::on(backend);
    let yml = experiment(&t, "lineage", djx_fixtures::NONDET, "");
    djx_ok(&t, &["run", yml.to_str().expect("utf-8")]);
    djx_ok(&t, &["run", yml.to_str().expect("utf-8")]);
    let records = records_json(&t, "2");
    let digest = records
        .iter()
        .find_map(|r| r["artifacts.random"].as_str())
        .expect("artifact")
        .to_owned();
    let out = djx_ok(&t, &["lineage", &digest[..12]]);
    assert!(out.contains(&format!("artifact {digest}")), "{out}");
    let produced = out.find("produced by").expect("producers");
    let reused = out.find("reused from the run-cache by").expect("reusers");
    assert!(out[produced..reused].contains("job 1 attempt 1"), "{out}");
    assert!(
        out[reused..].contains("job 2 attempt 1")
            && out[reused..].contains("(result of job 1 attempt 1)"),
        "{out}"
    );
    let module = b3(djx_fixtures::NONDET.as_ref());
    assert!(out.contains(&format!("module     {module}")), "{out}");
    // A module digest lists the experiments that used it.
    let out = djx_ok(&t, &["lineage", &module]);
    assert!(out.contains("is an input of experiment 1"), "{out}");
    assert!(out.contains("is an input of experiment 2"), "{out}");
    let out = run(t.djx().args(["lineage", "abc"]));
    assert_exit(&out, 2);
    let out = run(t.djx().args(["lineage", "0123456789abcdef"]));
    assert_exit(&out, 2);
}

#[test]
fn show_prints_the_key_inputs_provenance_and_attempts() {
    let t = TestDir::new();
    let yml = iris_experiment(&t);
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(t.path())
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.org")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.org")
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    git(&["init", "-q"]);
    std::fs::write(t.path().join(".gitignore"), ".djx/\nscratch/\n").expect("write");
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "iris"]);
    let commit = git(&["rev-parse", "HEAD"]);
    djx_ok(&t, &["run", yml.to_str().expect("utf-8")]);
    let job = &jobs_json(&t, "1")[0];
    let out = djx_ok(&t, &["show", "1"]);
    for expected in [
        format!("key        {}", job["key"].as_str().expect("key")),
        format!("module   {}", b3(djx_fixtures::IRIS_EXAMPLE.as_ref())),
        format!("dataset  iris {} (iris.csv)", b3(&iris_csv())),
        format!("file     {} {}", yml.display(), b3(&yml)),
        format!("{commit} (experiment file)"),
        "engine   native (wasmtime 48.".to_owned(),
        "#1 FINISHED".to_owned(),
        job["result_digest"].as_str().expect("digest").to_owned(),
    ] {
        assert!(out.contains(&expected), "{expected:?} not in\n{out}");
    }
    assert!(!out.contains(&format!("{commit} (dirty)")), "{out}");
    let json: Value = serde_json::from_str(&djx_ok(&t, &["show", "1", "--json"])).expect("json");
    assert_eq!(
        json["experiment"]["provenance"]["experiment_git"]["commit"],
        commit.as_str()
    );
    assert_eq!(json["engine"]["determinism"], "native");
}

/// The float kernel gives the same bits in both determinism profiles, and
/// the profile is part of the key.
#[test]
pub fn flops() {
    let t = TestDir::new();
    let body = |determinism: &str| {
        format!("determinism: {determinism}\njob:\n  parameter: {{steps: 20000}}\n")
    };
    let native = experiment(&t, "native", djx_fixtures::FLOPS, &body("native"));
    let portable = experiment(&t, "portable", djx_fixtures::FLOPS, &body("portable"));
    djx_ok(&t, &["run", native.to_str().expect("utf-8")]);
    let out = djx_ok(&t, &["run", portable.to_str().expect("utf-8")]);
    assert!(
        out.contains("ran 1 jobs"),
        "another key: no cache hit\n{out}"
    );
    assert_eq!(record_bodies(&t, "1"), record_bodies(&t, "2"));
    // The same bits as the kernel compiled natively.
    let expected = djx_kernels::nbody(20_000);
    let record = &record_bodies(&t, "1")[0];
    assert_eq!(
        record["context.checksum"],
        format!("{:016x}", expected.checksum)
    );
    assert_eq!(record["metrics.energy_after"], expected.energy_after);
    let (a, b) = (&keys_and_digests(&t, "1")[0], &keys_and_digests(&t, "2")[0]);
    assert_ne!(a.0, b.0, "the profile is part of the key");
    assert_eq!(a.1, b.1, "the same result bits");
    let show = djx_ok(&t, &["show", "2"]);
    assert!(
        show.contains(
            "engine   portable (wasmtime 48.0.8, any architecture, NaNs by djx-nan-canon-1)"
        ),
        "{show}"
    );
    djx_ok(&t, &["verify", "2"]);
}

/// `djx exec` of a stored job's module, parameters, labels, data and limits
/// gives the job's key and result digest: one locked job, however it runs.
#[test]
fn exec_gives_the_stored_key_and_result_digest() {
    let t = TestDir::new();
    let yml = iris_experiment(&t);
    djx_ok(&t, &["run", yml.to_str().expect("utf-8")]);
    // A job that saves its model, so artifacts are part of the digest.
    let job = jobs_json(&t, "1")
        .into_iter()
        .find(|j| j["parameter"]["save"] == true)
        .expect("a job that saves");
    let out = run(t.djx().args([
        "exec",
        djx_fixtures::IRIS_EXAMPLE,
        "--params",
        &job["parameter"].to_string(),
        "--labels",
        &job["labels"].to_string(),
        "--data",
        &format!("iris={}", t.path().join("data/iris.csv").display()),
        "--timeout",
        "60s",
        "--memory",
        "256MiB",
    ]));
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "djx: job key {}",
            job["key"].as_str().expect("key")
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "djx: result digest {}",
            job["result_digest"].as_str().expect("digest")
        )),
        "{err}"
    );

    // A job from the run-cache shows the log of the attempt it reuses.
    djx_ok(&t, &["run", yml.to_str().expect("utf-8")]);
    let original = djx_ok(&t, &["logs", "1"]);
    assert!(original.contains("150 rows"), "{original}");
    assert_eq!(djx_ok(&t, &["logs", "37"]), original);
}
