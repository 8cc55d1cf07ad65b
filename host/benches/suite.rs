//! The djx benchmark suite: `cargo bench -p djx-host --bench suite`.
//!
//! Each workload runs several times (`DJX_BENCH_RUNS`, default 5) and the
//! table shows the median, the min–max spread and the target. Workloads run
//! the real `djx` binary (release build) on real guests; nothing is mocked.
//!
//! | id | workload | target |
//! |---|---|---|
//! | P1 | `djx add` + `djx run --workers 2` of N jobs (default 10,000) that each record 10 metrics with 5 labels/params and store a 1 KiB artifact, embedded SQLite | ≥ 3,000 jobs/s |
//! | P4 | instantiate + call a no-op job from a cached component (library, in process) | p50 ≤ 50 µs |
//! | P5 | `djx records <exp> --format csv -o FILE` of P1's experiment | ≤ 0.5 s |

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use djx_host::artifact_store::ArtifactStore;
use djx_host::runtime::{Determinism, JobSpec, Limits, Runtime, job_seed};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Median, min and max of `samples`.
fn stats(samples: &mut [f64]) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    let median = if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    };
    (median, samples[0], samples[n - 1])
}

fn djx(dir: &Path, args: &[&str]) -> Duration {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_djx"))
        .current_dir(dir)
        .args(args)
        .env("DJX_DATA_TEMP", dir)
        .env_remove("DJX_DATABASE_URL")
        .output()
        .expect("run djx");
    let elapsed = started.elapsed();
    assert!(
        out.status.success(),
        "djx {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    elapsed
}

/// P1 and P5 for one run: (jobs/s, seconds to export the CSV).
fn bookkeeping(jobs: usize) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let ids: Vec<String> = (0..jobs).map(|i| i.to_string()).collect();
    let yml = format!(
        "name: bookkeeping\nmodule: {}\njob:\n  labels: {{model: rf, data: iris}}\n  parameter: {{alpha: 0.5}}\nexperiment:\n  grid:\n    - labels.id: [{}]\n",
        djx_fixtures::BOOKKEEPING,
        ids.join(", ")
    );
    std::fs::write(dir.path().join("exp.yml"), yml).expect("write");
    let add = djx(dir.path(), &["add", "exp.yml"]);
    let run = djx(dir.path(), &["run", "1", "--workers", "2", "--no-progress"]);
    let export = djx(
        dir.path(),
        &["records", "1", "--format", "csv", "-o", "records.csv"],
    );
    let rows = std::fs::read_to_string(dir.path().join("records.csv"))
        .expect("csv")
        .lines()
        .count();
    assert_eq!(rows, jobs + 1, "one record per job plus the header");
    (
        jobs as f64 / (add + run).as_secs_f64(),
        export.as_secs_f64(),
    )
}

/// P4 for one run: the median of many no-op jobs, in microseconds.
fn sandbox_overhead(rt: &Runtime, store: &ArtifactStore, calls: usize) -> f64 {
    let module = rt
        .load_file(djx_fixtures::NOOP.as_ref())
        .expect("load noop");
    let params = serde_json::json!({});
    let spec = JobSpec {
        seed: job_seed(&module.digest), // any digest serves as a key here
        params,
        labels: serde_json::json!({}),
        datasets: vec![],
        limits: Limits::default(),
    };
    let mut samples: Vec<f64> = (0..calls)
        .map(|_| {
            let started = Instant::now();
            let outcome = rt.run(&module, &spec, store);
            let us = started.elapsed().as_secs_f64() * 1e6;
            assert!(outcome.is_finished(), "{:?}", outcome.failure);
            us
        })
        .collect();
    stats(&mut samples).0
}

fn main() {
    // `cargo test --benches` runs this with --bench absent: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runs = env_usize("DJX_BENCH_RUNS", 5).max(1);
    let jobs = env_usize("DJX_BENCH_JOBS", 10_000).max(1);
    let scratch = tempfile::tempdir().expect("tempdir");
    let rt = Runtime::new(
        Determinism::Native,
        scratch.path().join("cache"),
        scratch.path().join("tmp"),
    )
    .expect("runtime");
    let store = ArtifactStore::open(scratch.path().join("artifacts")).expect("store");
    // Warm the compile cache and the CPU.
    sandbox_overhead(&rt, &store, 200);

    let (mut p1, mut p4, mut p5) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        eprintln!("run {}/{runs}", run + 1);
        let (jobs_per_s, export_s) = bookkeeping(jobs);
        p1.push(jobs_per_s);
        p5.push(export_s);
        p4.push(sandbox_overhead(&rt, &store, 2000));
    }
    let row = |id: &str, what: &str, samples: &mut Vec<f64>, unit: &str, target: &str| {
        let (median, min, max) = stats(samples);
        println!("| {id} | {what} | {median:.1} {unit} | {min:.1}–{max:.1} | {target} |");
    };
    println!("\n| id | workload | median | min–max | target |");
    println!("|---|---|---|---|---|");
    row(
        "P1",
        &format!("add + run {jobs} jobs, SQLite, 2 workers"),
        &mut p1,
        "jobs/s",
        "≥ 3,000 jobs/s",
    );
    row(
        "P4",
        "no-op job from a cached component (p50 of 2,000)",
        &mut p4,
        "µs",
        "≤ 50 µs",
    );
    let mut p5_ms: Vec<f64> = p5.iter().map(|s| s * 1000.0).collect();
    row(
        "P5",
        &format!("records --format csv of {jobs} jobs"),
        &mut p5_ms,
        "ms",
        "≤ 500 ms",
    );
}
