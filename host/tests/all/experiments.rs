//! Experiments end to end on the embedded store, through the real binary.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::*;

fn iris_end_to_end(backend: Backend) {
    let t = TestDir::on(backend);
    let yml = iris_experiment(&t);
    let out = run(t.djx().args(["add", "--json"]).arg(&yml));
    assert_exit(&out, 0);
    assert_eq!(
        json_lines(&out),
        vec![serde_json::json!({"experiment": 1, "jobs": 36})]
    );
    // The example is a newcomer's first command: it adds without a warning.
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));

    let out = run(t.djx().args(["run", "1", "--workers", "2"]));
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("36 finished, 0 failed"),
        "{}",
        stdout(&out)
    );

    let jobs = jobs_json(&t, "1");
    assert_eq!(jobs.len(), 36);
    for (i, job) in jobs.iter().enumerate() {
        assert_eq!(job["status"], "FINISHED", "{job}");
        assert_eq!(job["position"], i);
        assert_eq!(job["attempt"], 1);
        assert!(job["parameter"]["model_args"]["n_estimators"] == 100);
    }
    // Job order is the original djx's: first dimension slowest.
    assert_eq!(jobs[0]["labels"]["min_samples"], "few_split_only");
    assert_eq!(jobs[1]["labels"]["min_samples"], "many_split_only");
    assert_eq!(jobs[4]["labels"]["max_depth"], 4);
    assert_eq!(jobs[12]["labels"]["cv_itteration"], 1);

    let records = records_json(&t, "1");
    let mut by_job: BTreeMap<i64, Vec<&Value>> = BTreeMap::new();
    for r in &records {
        by_job
            .entry(r["job_id"].as_i64().expect("job id"))
            .or_default()
            .push(r);
    }
    assert_eq!(by_job.len(), 36);
    let mut models = Vec::new();
    for (job_id, recs) in &by_job {
        let job = &jobs[(*job_id - 1) as usize];
        let fits: Vec<&&Value> = recs
            .iter()
            .filter(|r| r["event"] == "cv fit finished")
            .collect();
        assert_eq!(fits.len(), 6, "3 folds x train/test for job {job_id}");
        for set in ["train", "test"] {
            let folds: Vec<i64> = fits
                .iter()
                .filter(|r| r["context.set"] == set)
                .map(|r| r["context.fold"].as_i64().expect("fold"))
                .collect();
            assert_eq!(folds, vec![0, 1, 2], "{set} folds of job {job_id}");
        }
        for r in &fits {
            let acc = r["metrics.accuracy"].as_f64().expect("accuracy");
            assert!((0.0..=1.0).contains(&acc));
            // Every record carries the job's labels.
            assert_eq!(r["labels.max_depth"], job["labels"]["max_depth"]);
        }
        let summary = recs
            .iter()
            .find(|r| r["event"] == "cv finished")
            .expect("summary record");
        let test_acc = summary["metrics.mean_test_accuracy"]
            .as_f64()
            .expect("mean test accuracy");
        assert!(
            test_acc >= 0.9,
            "job {job_id} test accuracy {test_acc}: a random forest gets >= 0.9 on iris"
        );
        let saved = recs.iter().find(|r| r["event"] == "model saved");
        assert_eq!(
            saved.is_some(),
            job["parameter"]["save"] == true,
            "job {job_id}"
        );
        if let Some(saved) = saved {
            models.push(
                saved["artifacts.model"]
                    .as_str()
                    .expect("model digest")
                    .to_owned(),
            );
        }
    }
    assert_eq!(
        models.len(),
        12,
        "save is true for cv_itteration 0: 12 jobs"
    );
    for digest in &models {
        let out = run(t
            .djx()
            .args(["artifact", "get", digest, "-o", "model.json"]));
        assert_exit(&out, 0);
        assert_eq!(b3(&t.path().join("model.json")), *digest);
        let model: Value =
            serde_json::from_slice(&std::fs::read(t.path().join("model.json")).expect("read"))
                .expect("the model is JSON");
        assert_eq!(model["forest"]["trees"].as_array().map(Vec::len), Some(100));
    }

    // CSV: one header plus one row per record, readable with the same columns.
    let csv_text = djx_ok(&t, &["records", "1", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(&header[..3], ["exp_id", "job_id", "event"]);
    assert!(header.contains(&"labels.min_samples".to_owned()));
    assert!(header.contains(&"context.set".to_owned()));
    assert!(header.contains(&"metrics.accuracy".to_owned()));
    assert_eq!(reader.records().count(), records.len());
    let out = run(t
        .djx()
        .args(["records", "last", "--format", "csv", "-o", "records.csv"]));
    assert_exit(&out, 0);
    assert_eq!(
        std::fs::read_to_string(t.path().join("records.csv")).expect("csv file"),
        csv_text
    );

    // show and logs work on a finished job.
    let show = djx_ok(&t, &["show", "1"]);
    assert!(show.contains("status     FINISHED"), "{show}");
    assert!(
        show.contains(&b3(&t.path().join("data/iris.csv"))),
        "dataset digest shown: {show}"
    );
    let listing = djx_ok(&t, &["ls"]);
    assert!(
        listing.contains("try different regularisations"),
        "{listing}"
    );
}

fn run_adds_a_file_and_reports_failures_while_the_others_go_on(backend: Backend) {
    let t = TestDir::on(backend);
    let yml = format!(
        "name: mixed\nmodule: {}\njob:\n  parameter: {{records: 2}}\nexperiment:\n  grid:\n    - - labels.id: ok1\n      - labels.id: bad\n        parameter.fail: true\n      - labels.id: ok2\n",
        djx_fixtures::STEPS
    );
    std::fs::write(t.path().join("mixed.yml"), yml).expect("write");
    let out = run(t.djx().args(["run", "mixed.yml"]));
    assert_exit(&out, 1);
    assert!(
        stdout(&out).contains("2 finished, 1 failed"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("asked to fail after 2 records"),
        "the guest's own message: {}",
        stdout(&out)
    );
    let jobs = jobs_json(&t, "1");
    let status: Vec<&str> = jobs
        .iter()
        .map(|j| j["status"].as_str().expect("status"))
        .collect();
    assert_eq!(status, ["FINISHED", "FAILED", "FINISHED"]);
    assert!(
        jobs[1]["reason"]
            .as_str()
            .expect("reason")
            .contains("guest error: asked to fail")
    );
    // The default view holds only finished jobs' records.
    let records = records_json(&t, "1");
    assert_eq!(records.len(), 4);
    assert!(records.iter().all(|r| r["labels.id"] != "bad"));
    let table = djx_ok(&t, &["jobs", "1"]);
    assert!(
        table.contains("FAILED") && table.contains("guest error: asked to fail"),
        "{table}"
    );
}

fn a_failed_add_leaves_the_store_unchanged(backend: Backend) {
    let t = TestDir::on(backend);
    t.iris_dir("data");
    djx_ok(
        &t,
        &[
            "add",
            steps_experiment(&t, "good", 2, 1, 0, "")
                .to_str()
                .expect("utf-8"),
        ],
    );
    let before = djx_ok(&t, &["ls", "--json"]);
    let module = djx_fixtures::STEPS;
    // A valid component of no world djx runs.
    std::fs::write(t.path().join("empty.wasm"), b"\0asm\x0d\0\x01\0").expect("write");
    let cases: Vec<(String, &str)> = vec![
        (
            "name: x\nmodule: nope.wasm\n".into(),
            "x.yml:2: module: cannot read the module",
        ),
        (
            format!("name: x\nmodule: {module}\ndata:\n  iris: data/missing.csv\n"),
            "x.yml:4: data.iris: dataset \"iris\":",
        ),
        (
            "name: x\nmodule: data/iris.csv\n".into(),
            "x.yml:2: module: ",
        ),
        (
            "name: x\nmodule: empty.wasm\n".into(),
            "does not implement the djx:job@0.1.0 world",
        ),
        (
            format!("name: x\nmodule: {module}\nbogus: 1\n"),
            "x.yml:3: unknown field `bogus`",
        ),
        (
            format!(
                "name: x\nmodule: {module}\nexperiment:\n  grid:\n    - parameter.a: [1, 2]\n      parameter.b: [1]\n"
            ),
            "x.yml:5: experiment.grid[0]: zipped lists must have equal length",
        ),
        // The third job cannot be made, after two were written: all go.
        (
            format!(
                "name: x\nmodule: {module}\nexperiment:\n  grid:\n    - parameter.a: [{{x: 1}}, {{x: 2}}, 5]\n    - parameter.a.y: [1]\n"
            ),
            "x.yml:6: experiment.grid[1].parameter.a.y: cannot set `parameter.a.y`: `parameter.a` is a number",
        ),
        // 10^12 jobs: refused by their count, before any is made.
        (
            format!(
                "name: x\nmodule: {module}\nexperiment:\n  grid:\n{}",
                (0..4)
                    .map(|d| format!(
                        "    - parameter.p{d}: [{}]\n",
                        (0..1000)
                            .map(|i| i.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .collect::<String>()
            ),
            "x.yml:4: experiment.grid: the grid has 1,000,000,000,000 jobs (1000 points of experiment.grid[0] (line 5) × ",
        ),
        (
            format!(
                "name: x\nmodule: {module}\nmax_jobs: 2\nexperiment:\n  grid:\n    - labels.id: [1, 2, 3]\n"
            ),
            "the grid has 3 jobs (3 points of experiment.grid[0] (line 6)), more than the limit of 2",
        ),
        // A parameter nested 100,000 levels deep (a 200 KB file).
        (
            format!(
                "name: x\nmodule: {module}\njob:\n  parameter:\n    deep: {}{}\n",
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
            "x.yml:5: nested more than 100 levels deep",
        ),
    ];
    for (yml, expect) in cases {
        std::fs::write(t.path().join("x.yml"), &yml).expect("write");
        let out = run(t.djx().args(["add", "x.yml"]));
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains(expect),
            "{yml}\n---\n{}",
            stderr(&out)
        );
        assert_eq!(djx_ok(&t, &["ls", "--json"]), before, "nothing was written");
    }
    let out = run(t.djx().args(["add", "x.yml"]));
    assert!(stderr(&out).contains("x.yml:5:"), "{}", stderr(&out));
    // The ceiling can be raised.
    std::fs::write(
        t.path().join("x.yml"),
        format!("name: x\nmodule: {module}\nmax_jobs: 2\nexperiment:\n  grid:\n    - labels.id: [1, 2, 3]\n"),
    )
    .expect("write");
    let out = djx_ok(&t, &["add", "x.yml", "--max-jobs", "3", "--json"]);
    assert!(out.contains(r#""jobs":3"#), "{out}");
}

fn two_runs_on_one_store_never_run_a_job_twice(backend: Backend) {
    let t = TestDir::on(backend);
    let yml = steps_experiment(&t, "shared", 200, 3, 1000, "");
    djx_ok(&t, &["add", yml.to_str().expect("utf-8")]);
    let spawn = || {
        t.djx()
            .args(["run", "1", "--workers", "2"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let jobs = jobs_json(&t, "1");
    assert!(
        jobs.iter()
            .all(|j| j["status"] == "FINISHED" && j["attempt"] == 1),
        "each job claimed once"
    );
    let workers: std::collections::BTreeSet<&str> = jobs
        .iter()
        .map(|j| j["worker"].as_str().expect("worker"))
        .collect();
    assert_eq!(workers.len(), 2, "both processes worked");
    assert_records_exactly_once(&t, 200, 3);
}

/// Every job of experiment 1 has exactly `per_job` records in the default view.
fn assert_records_exactly_once(t: &TestDir, jobs: usize, per_job: usize) {
    let records = records_json(t, "1");
    let mut seen: BTreeMap<(i64, i64), usize> = BTreeMap::new();
    for r in &records {
        *seen
            .entry((
                r["labels.id"].as_i64().expect("id"),
                r["context.i"].as_i64().expect("i"),
            ))
            .or_default() += 1;
    }
    assert_eq!(
        seen.len(),
        jobs * per_job,
        "every record of every job is there"
    );
    assert!(seen.values().all(|&n| n == 1), "no record is duplicated");
}

/// Sends Ctrl-C (SIGINT) to a run; returns its output once it has exited
/// with 130.
fn interrupt(child: std::process::Child) -> std::process::Output {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    assert_exit(&out, 130);
    out
}

/// How many jobs of experiment 1 are finished.
fn finished(t: &TestDir) -> usize {
    jobs_json(t, "1")
        .iter()
        .filter(|j| j["status"] == "FINISHED")
        .count()
}

fn a_killed_run_loses_nothing_and_duplicates_nothing(backend: Backend) {
    let t = TestDir::on(backend);
    let yml = steps_experiment(&t, "killed", 40, 4, 30_000_000, "");
    djx_ok(&t, &["add", yml.to_str().expect("utf-8")]);
    let mut child = spawn_run(&t, 2);
    // Wait until some jobs are done, then kill -9 mid-run.
    wait_for("5 jobs finished", 60, || finished(&t) >= 5);
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let after_kill = jobs_json(&t, "1");
    assert!(
        after_kill.iter().any(|j| j["status"] == "ASSIGNED"),
        "the kill hit running jobs"
    );
    assert!(
        after_kill.iter().any(|j| j["status"] == "UNASSIGNED"),
        "the kill came mid-way"
    );

    // The next run sees the dead worker's jobs at once and finishes them.
    djx_ok(&t, &["run", "1"]);
    let jobs = jobs_json(&t, "1");
    assert!(jobs.iter().all(|j| j["status"] == "FINISHED"), "{jobs:?}");
    assert!(
        jobs.iter().any(|j| j["attempt"] == 2 && j["lost"] == 1),
        "a killed attempt was rerun"
    );
    assert_records_exactly_once(&t, 40, 4);
}

fn ctrl_c_puts_running_jobs_back(backend: Backend) {
    let t = TestDir::on(backend);
    let yml = steps_experiment(&t, "interrupted", 30, 4, 30_000_000, "");
    djx_ok(&t, &["add", yml.to_str().expect("utf-8")]);
    let child = spawn_run(&t, 2);
    wait_for("3 jobs finished", 60, || finished(&t) >= 3);
    let out = interrupt(child);
    assert!(
        stdout(&out).contains("put back unfinished"),
        "{}",
        stdout(&out)
    );
    let jobs = jobs_json(&t, "1");
    assert!(
        jobs.iter().all(|j| j["status"] != "ASSIGNED"),
        "no job is left assigned"
    );
    assert!(jobs.iter().any(|j| j["status"] == "UNASSIGNED"));
    djx_ok(&t, &["run", "1"]);
    let jobs = jobs_json(&t, "1");
    assert!(
        jobs.iter()
            .all(|j| j["status"] == "FINISHED" && j["lost"] == 0)
    );
    assert_records_exactly_once(&t, 30, 4);
}

/// Records a job has streamed into the store (its attempt `attempt`), as
/// the store holds them.
fn streamed(t: &TestDir, job: i64, attempt: i64) -> usize {
    t.store()
        .attempt_records(job, attempt)
        .expect("attempt records")
        .len()
}

/// Starts `djx run 1` of two jobs that each emit 40,000 records slowly
/// (about 5 s each in a release build, so that the checks below and the
/// caller's signal land while job 1 still runs, even on a loaded machine),
/// and waits until job 1 has streamed records into the store while it
/// still runs. Returns the running child.
fn start_streaming_run(t: &TestDir) -> std::process::Child {
    let yml = steps_experiment(t, "streaming", 2, 40_000, 100_000, "");
    djx_ok(t, &["add", yml.to_str().expect("utf-8")]);
    let child = spawn_run(t, 1);
    wait_for("records streamed", 120, || streamed(t, 1, 1) > 0);
    let job = &jobs_json(t, "1")[0];
    assert_eq!(job["status"], "ASSIGNED", "the job still runs: {job}");
    let rows = streamed(t, 1, 1);
    assert!(rows < 40_000, "only whole chunks so far: {rows}");
    // Job 2 runs beside it and may have ended already (its records are
    // then visible); job 1's are not.
    assert!(
        records_json(t, "1").iter().all(|r| r["job_id"] != 1),
        "streamed records stay invisible until their attempt ends"
    );
    child
}

fn a_killed_streaming_job_leaves_no_records_behind(backend: Backend) {
    let t = TestDir::on(backend);
    let mut child = start_streaming_run(&t);
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let job = &jobs_json(&t, "1")[0];
    assert_eq!(job["status"], "ASSIGNED", "job 1 was killed mid-run: {job}");
    let orphans = streamed(&t, 1, 1);
    assert!(orphans > 0, "the killed attempt's streamed rows are there");
    // Nobody else may write into the attempt while it is held.
    let tail = djx_host::records::Records::new();
    assert!(
        !t.store()
            .append_records("someone-else", 1, 1, orphans, &tail)
            .expect("append"),
        "an append is fenced by the lease"
    );

    // The next run puts the dead worker's job back, which deletes what its
    // attempt streamed, and reruns it.
    djx_ok(&t, &["run", "1"]);
    assert_eq!(streamed(&t, 1, 1), 0, "the lost attempt's rows are gone");
    let jobs = jobs_json(&t, "1");
    assert!(jobs.iter().all(|j| j["status"] == "FINISHED"), "{jobs:?}");
    assert_eq!(jobs[0]["attempt"], 2);
    assert_eq!(streamed(&t, 1, 2), 40_000);
    assert_records_exactly_once(&t, 2, 40_000);
    djx_ok(&t, &["verify", "1"]);
}

fn ctrl_c_deletes_what_a_streaming_job_wrote(backend: Backend) {
    let t = TestDir::on(backend);
    let child = start_streaming_run(&t);
    interrupt(child);
    let job = &jobs_json(&t, "1")[0];
    assert_eq!(
        job["status"], "UNASSIGNED",
        "the signal put job 1 back: {job}"
    );
    assert_eq!(
        streamed(&t, 1, 1),
        0,
        "the put-back attempt's rows are gone"
    );
    djx_ok(&t, &["run", "1"]);
    assert_records_exactly_once(&t, 2, 40_000);
}

fn a_store_that_refuses_appends_loses_no_record(backend: Backend) {
    let t = TestDir::on(backend);
    let yml = steps_experiment(&t, "refused", 1, 40_000, 0, "");
    djx_ok(&t, &["add", yml.to_str().expect("utf-8")]);
    // Every insert into `record` while the job runs fails (as a store that
    // has gone away would), so no chunk can be stored and the finish must
    // write every record itself.
    t.sql(
        "CREATE TRIGGER refuse_appends BEFORE INSERT ON record
         WHEN (SELECT status FROM job WHERE id = NEW.job_id) = 'ASSIGNED'
         BEGIN SELECT RAISE(ABORT, 'appends refused by the test'); END;",
        "CREATE FUNCTION refuse_appends() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF (SELECT status FROM job WHERE id = NEW.job_id) = 'ASSIGNED' THEN
                 RAISE EXCEPTION 'appends refused by the test';
             END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER refuse_appends BEFORE INSERT ON record
         FOR EACH ROW EXECUTE FUNCTION refuse_appends();",
    );
    djx_ok(&t, &["run", "1"]);
    assert_records_exactly_once(&t, 1, 40_000);
    djx_ok(&t, &["verify", "1"]);
}

fn a_failed_streaming_job_keeps_its_records(backend: Backend) {
    let t = TestDir::on(backend);
    let yml = steps_experiment(&t, "failing", 1, 40_000, 0, "");
    let text = std::fs::read_to_string(&yml)
        .expect("read")
        .replace("spin: 0}", "spin: 0, fail: true}");
    std::fs::write(&yml, text).expect("write");
    let out = run(t.djx().args(["run", yml.to_str().expect("utf-8")]));
    assert_exit(&out, 1);
    let records = t.store().attempt_records(1, 1).expect("attempt records");
    assert_eq!(
        records.len(),
        40_000,
        "streamed and final records, once each"
    );
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.context["i"], i, "in order");
    }
}

on_both_stores!(
    a_killed_streaming_job_leaves_no_records_behind,
    ctrl_c_deletes_what_a_streaming_job_wrote,
    a_failed_streaming_job_keeps_its_records,
    a_store_that_refuses_appends_loses_no_record,
    iris_end_to_end,
    run_adds_a_file_and_reports_failures_while_the_others_go_on,
    a_failed_add_leaves_the_store_unchanged,
    two_runs_on_one_store_never_run_a_job_twice,
    a_killed_run_loses_nothing_and_duplicates_nothing,
    ctrl_c_puts_running_jobs_back,
);

/// The metric firehose guest: every point is kept, in order, with the bound
/// context.
#[test]
pub fn firehose() {
    let t = TestDir::new();
    let yml = t.path().join("firehose.yml");
    std::fs::write(
        &yml,
        format!(
            "name: firehose\nmodule: {}\nlimits: {{records: 20000}}\njob:\n  parameter: {{points: 20000}}\n",
            djx_fixtures::FIREHOSE
        ),
    )
    .expect("write");
    djx_ok(&t, &["run", yml.to_str().expect("utf-8")]);
    let records = records_json(&t, "1");
    assert_eq!(records.len(), 20_000);
    for (step, r) in records.iter().enumerate() {
        assert_eq!(r["context.step"], step, "{r}");
        assert_eq!(r["context.phase"], "train");
        assert_eq!(r["metrics.loss"], 1.0 / (1.0 + step as f64));
    }
    djx_ok(&t, &["verify", "1"]);
}

#[test]
fn durability_full_runs_and_a_bad_setting_is_refused() {
    let t = TestDir::new();
    let yml = steps_experiment(&t, "durable", 3, 2, 0, "");
    let out = run(t
        .djx()
        .env("DJX_DURABILITY", "full")
        .args(["run", yml.to_str().expect("utf-8")]));
    assert_exit(&out, 0);
    assert_eq!(records_json(&t, "1").len(), 6);
    let out = run(t.djx().env("DJX_DURABILITY", "sometimes").args(["ls"]));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("DJX_DURABILITY=\"sometimes\": expected `normal` or `full`"),
        "{}",
        stderr(&out)
    );
}

/// `djx run` failed with "creating a mount directory ... No such file or
/// directory" when `DJX_DATA_TEMP` named a directory not made yet, after
/// the experiment was already added.
#[test]
fn a_data_temp_that_does_not_exist_yet_is_created() {
    let t = TestDir::new();
    let yml = steps_experiment(&t, "temp", 2, 1, 0, "");
    let temp = t.path().join("not/made/yet");
    let out = run(t
        .djx()
        .env("DJX_DATA_TEMP", &temp)
        .args(["run", yml.to_str().expect("utf-8")]));
    assert_exit(&out, 0);
    assert!(temp.is_dir());
    assert_eq!(records_json(&t, "1").len(), 2);
}

/// Runs `cmd`, failing the test if it has not ended after `seconds`.
fn run_within(cmd: &mut std::process::Command, seconds: u64) -> std::process::Output {
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn djx");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{cmd:?} still running after {seconds} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

/// Issue 21: `djx add /dev/zero` grew to 15 GB in 20 s, and `extends:`
/// naming a FIFO waited forever. Devices, FIFOs and files over the size
/// limit are refused before a byte is read, with `--dry-run` too, and the
/// store is unchanged; the limit can be raised.
#[test]
fn special_and_oversized_experiment_files_are_refused() {
    let t = TestDir::new();
    let fifo = t.path().join("base.fifo");
    let c = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("no NUL");
    // SAFETY: a valid C string; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let extends_fifo = t.path().join("extends_fifo.yml");
    std::fs::write(
        &extends_fifo,
        format!(
            "extends: base.fifo\nname: x\nmodule: {}\n",
            djx_fixtures::STEPS
        ),
    )
    .expect("write");
    let valid = format!(
        "name: big\nmodule: {}\njob:\n  parameter: {{records: 1}}\n",
        djx_fixtures::STEPS
    );
    let big = t.path().join("big.yml");
    let mut text = valid.clone();
    while text.len() <= 5 << 20 {
        text.push_str("# a long comment that makes the file larger than the limit\n");
    }
    std::fs::write(&big, text).expect("write");
    let extends_fifo = extends_fifo.to_str().expect("utf-8");
    let big = big.to_str().expect("utf-8");
    for (args, says) in [
        (vec!["add", "/dev/zero"], "not a regular file"),
        (vec!["add", "--dry-run", "/dev/zero"], "not a regular file"),
        (vec!["add", extends_fifo], "not a regular file"),
        (vec!["add", "--dry-run", extends_fifo], "not a regular file"),
        (vec!["add", big], "DJX_MAX_EXPERIMENT_FILE"),
        (vec!["add", "--dry-run", big], "DJX_MAX_EXPERIMENT_FILE"),
        (vec!["add", "/tmp"], "directory"),
    ] {
        let out = run_within(t.djx().args(&args), 20);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    let ls = djx_ok(&t, &["ls", "--json"]);
    assert!(!ls.contains("\"id\""), "the store is unchanged: {ls}");
    let out = run(t
        .djx()
        .env("DJX_MAX_EXPERIMENT_FILE", "8MiB")
        .args(["add", big]));
    assert_exit(&out, 0);
}
