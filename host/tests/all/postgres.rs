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
