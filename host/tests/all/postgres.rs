//! Many processes on one PostgreSQL store.

use std::collections::BTreeSet;
use std::process::{Child, Stdio};

use crate::support::*;

fn spawn(t: &TestDir, args: &[&str]) -> Child {
    t.djx()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn djx")
}

#[track_caller]
fn wait_ok(child: Child) -> String {
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn claim_storm_eight_workers_drain_five_thousand_jobs_exactly_once() {
    let Some(backend) = Backend::postgres("claim_storm") else {
        return;
    };
    let t = TestDir::on(backend);
    let yml = steps_experiment(&t, "storm", 5000, 1, 0, "");
    djx_ok(&t, &["add", yml.to_str().expect("utf-8")]);
    let workers: Vec<Child> = (0..8)
        .map(|_| spawn(&t, &["run", "1", "--no-progress"]))
        .collect();
    for w in workers {
        wait_ok(w);
    }
    let jobs = jobs_json(&t, "1");
    assert_eq!(jobs.len(), 5000);
    assert!(
        jobs.iter()
            .all(|j| j["status"] == "FINISHED" && j["attempt"] == 1),
        "every job was claimed once and finished"
    );
    let owners: BTreeSet<&str> = jobs
        .iter()
        .map(|j| j["worker"].as_str().expect("worker"))
        .collect();
    assert!(owners.len() > 1, "the work was shared: {owners:?}");
    // The per-job side effect: each job's record names its id, once.
    let records = records_json(&t, "1");
    assert_eq!(records.len(), 5000);
    let ids: BTreeSet<i64> = records
        .iter()
        .map(|r| r["labels.id"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids.len(), 5000, "no job lost, none duplicated");
}

#[test]
fn concurrent_adds_and_migrations() {
    let Some(backend) = Backend::postgres("concurrent_adds") else {
        return;
    };
    // A fresh schema: the first processes race to migrate it.
    let t = TestDir::on(backend);
    let a = steps_experiment(&t, "a", 10, 1, 0, "");
    let b = steps_experiment(&t, "b", 20, 1, 0, "");
    let adds: Vec<Child> = [&a, &a, &a, &b, &b, &a]
        .iter()
        .map(|f| spawn(&t, &["add", "--json", f.to_str().expect("utf-8")]))
        .collect();
    let ids: BTreeSet<i64> = adds
        .into_iter()
        .map(|c| {
            let out: serde_json::Value = serde_json::from_str(wait_ok(c).trim()).expect("json");
            out["experiment"].as_i64().expect("id")
        })
        .collect();
    assert_eq!(ids, (1..=6).collect(), "six experiments, distinct ids");
    let listing: Vec<serde_json::Value> = djx_ok(&t, &["ls", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let sizes: Vec<u64> = listing
        .iter()
        .map(|e| e["jobs"]["unassigned"].as_u64().expect("n"))
        .collect();
    assert_eq!(sizes.iter().filter(|&&n| n == 10).count(), 4);
    assert_eq!(sizes.iter().filter(|&&n| n == 20).count(), 2);
    // Opening again migrates nothing and changes nothing.
    assert_eq!(djx_ok(&t, &["ls", "--json"]).lines().count(), 6);
}

fn signal(child: &Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill {sig}");
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_frozen_worker_loses_its_lease_and_cannot_finish() {
    let Some(backend) = Backend::postgres("lease_expiry") else {
        return;
    };
    let t = TestDir::on(backend);
    let yml = steps_experiment(&t, "leases", 12, 4, 30_000_000, "");
    djx_ok(&t, &["add", yml.to_str().expect("utf-8")]);
    // Worker A holds a short lease; freeze it mid-job so its heartbeat stops.
    let a = spawn(
        &t,
        &[
            "run",
            "1",
            "--workers",
            "2",
            "--lease",
            "2s",
            "--no-progress",
        ],
    );
    wait_until("worker A to start jobs", || {
        jobs_json(&t, "1")
            .iter()
            .filter(|j| j["status"] == "FINISHED")
            .count()
            >= 2
    });
    signal(&a, "-STOP");
    let frozen: Vec<i64> = jobs_json(&t, "1")
        .iter()
        .filter(|j| j["status"] == "ASSIGNED")
        .map(|j| j["id"].as_i64().expect("id"))
        .collect();
    assert!(!frozen.is_empty(), "worker A was frozen mid-job");
    // Worker B reclaims A's jobs once their lease expires, and finishes all.
    let b = spawn(&t, &["run", "1", "--workers", "2", "--no-progress"]);
    wait_ok(b);
    let jobs = jobs_json(&t, "1");
    for id in &frozen {
        let job = &jobs[(*id - 1) as usize];
        assert_eq!(job["status"], "FINISHED");
        assert_eq!(
            job["lost"], 1,
            "job {id} was reclaimed after its lease expired"
        );
        assert_eq!(job["attempt"], 2);
    }
    // A wakes up: its finishes are fenced out, so nothing is written twice.
    signal(&a, "-CONT");
    let out = a.wait_with_output().expect("wait A");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(jobs_json(&t, "1").iter().all(|j| j["status"] == "FINISHED"));
    let records = records_json(&t, "1");
    assert_eq!(
        records.len(),
        12 * 4,
        "no duplicated records in the default view"
    );
    let keys: BTreeSet<(i64, i64)> = records
        .iter()
        .map(|r| {
            (
                r["labels.id"].as_i64().expect("id"),
                r["context.i"].as_i64().expect("i"),
            )
        })
        .collect();
    assert_eq!(keys.len(), 12 * 4);
}

#[test]
fn a_worker_wakes_on_notify_and_stops_on_sigterm() {
    let Some(backend) = Backend::postgres("worker_notify") else {
        return;
    };
    let t = TestDir::on(backend);
    // Migrate the schema first, so the worker starts on an empty store.
    djx_ok(&t, &["ls"]);
    // A long poll: only a notification can wake the worker in time.
    let worker = spawn(&t, &["worker", "--slots", "2", "--poll", "600s"]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    let yml = steps_experiment(&t, "late", 6, 2, 0, "");
    let added = std::time::Instant::now();
    djx_ok(&t, &["add", yml.to_str().expect("utf-8")]);
    wait_until("the worker to run the new jobs", || {
        jobs_json(&t, "1").iter().all(|j| j["status"] == "FINISHED")
    });
    assert!(
        added.elapsed() < std::time::Duration::from_secs(60),
        "woken by NOTIFY, not the poll"
    );
    signal(&worker, "-TERM");
    let out = worker.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("worker done: 6 finished, 0 failed"));
}

/// Restarts the shared server, so `make test` runs it alone after the rest
/// (`cargo test -- --ignored postgres_restart`).
#[test]
#[ignore = "restarts the shared PostgreSQL server; make test runs it alone"]
fn postgres_restart_while_workers_run() {
    let Some(backend) = Backend::postgres("postgres_restart") else {
        return;
    };
    let t = TestDir::on(backend);
    let yml = steps_experiment(&t, "restart", 20, 4, 20_000_000, "");
    djx_ok(&t, &["add", yml.to_str().expect("utf-8")]);
    let run = spawn(&t, &["run", "1", "--workers", "2", "--no-progress"]);
    wait_until("some jobs to finish", || {
        jobs_json(&t, "1")
            .iter()
            .filter(|j| j["status"] == "FINISHED")
            .count()
            >= 3
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/pg/server.sh");
    let ok = std::process::Command::new(script)
        .arg("restart")
        .status()
        .expect("restart")
        .success();
    assert!(ok, "restarting PostgreSQL");
    let out = wait_ok(run);
    assert!(
        out.contains("20 finished, 0 failed") || out.contains("0 failed"),
        "{out}"
    );
    let jobs = jobs_json(&t, "1");
    assert!(
        jobs.iter().all(|j| j["status"] == "FINISHED"),
        "the experiment completed"
    );
    assert_eq!(records_json(&t, "1").len(), 20 * 4);
}

#[test]
fn a_worker_elsewhere_needs_only_the_database_and_the_shared_stores() {
    let Some(backend) = Backend::postgres("worker_elsewhere") else {
        return;
    };
    let t = TestDir::on(backend);
    let yml = iris_experiment(&t);
    let shared = t.path().join("shared");
    let machine2 = t.path().join("machine2");
    std::fs::create_dir_all(&machine2).expect("mkdir");
    let with_shared = |cmd: &mut std::process::Command| {
        cmd.env("DJX_DATA_STORE", shared.join("data"))
            .env("DJX_ARTIFACT_STORE", shared.join("artifacts"));
    };
    let mut add = t.djx();
    with_shared(add.args(["add", yml.to_str().expect("utf-8")]));
    assert_exit(&run(&mut add), 0);
    // Another working directory: no .djx of its own, no copy of the module.
    let mut work = t.djx();
    with_shared(
        work.current_dir(&machine2)
            .args(["run", "1", "--workers", "2"]),
    );
    let out = run(&mut work);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("36 finished, 0 failed"),
        "{}",
        stdout(&out)
    );
    assert!(
        machine2.join(".djx/modules").is_dir(),
        "the module was fetched from the database"
    );
    assert!(
        !t.path().join("machine2/.djx/data").exists(),
        "data came from the shared store"
    );
}
