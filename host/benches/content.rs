//! P10 and P11: the content in a real S3 server (`make bench-s3` starts
//! Ceph's radosgw with `tests/s3/server.sh` and sets
//! `DJX_BENCH_S3_ENDPOINT`).
//!
//! | row | what | target |
//! |---|---|---|
//! | P10 | P1 (`djx add` + `djx run --workers 2` of N bookkeeping jobs, each with a 1 KiB artifact, SQLite) with the content in the bucket, against the same without | ≥ 0.5× local |
//! | P11 | a 1 GiB dataset: uploaded by `djx add`; a run of 8 jobs on a machine without it (fetched once); the same again with it (no fetch) | fetched once per machine, not per job |
//!
//! `DJX_BENCH_RUNS` (default 3) runs P10 several times (median, min–max);
//! `DJX_BENCH_JOBS` sets its job count (default 10,000).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `djx <args>` in `dir`, on its embedded store, with the content in
/// `bucket` (a prefix of it) when given; seconds it took.
fn djx(dir: &Path, args: &[&str], bucket: Option<(&str, &str)>) -> f64 {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_djx"));
    cmd.current_dir(dir)
        .args(args)
        .env("DJX_DATA_TEMP", dir)
        .env_remove("DJX_DATABASE_URL")
        .env_remove("DJX_CONTENT");
    if let Some((endpoint, prefix)) = bucket {
        cmd.env("DJX_CONTENT", format!("s3://djx-test/{prefix}"))
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", "djx-test-key")
            .env("AWS_SECRET_ACCESS_KEY", "djx-test-secret");
    }
    let started = Instant::now();
    let out = cmd.output().expect("run djx");
    assert!(
        out.status.success(),
        "djx {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed().as_secs_f64()
}

fn experiment(dir: &Path, jobs: usize, data: Option<&str>) {
    let ids: Vec<String> = (0..jobs).map(|i| i.to_string()).collect();
    let data = data.map_or(String::new(), |d| format!("data:\n  big: {d}\n"));
    let yml = format!(
        "name: bookkeeping\nmodule: {}\n{data}job:\n  labels: {{model: rf, data: iris}}\n  parameter: {{alpha: 0.5}}\nexperiment:\n  grid:\n    - labels.id: [{}]\n",
        djx_fixtures::BOOKKEEPING,
        ids.join(", ")
    );
    std::fs::write(dir.join("exp.yml"), yml).expect("write");
}

/// P1's jobs/s, with the content in the bucket or not.
fn p1(jobs: usize, bucket: Option<(&str, &str)>) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    experiment(dir.path(), jobs, None);
    let add = djx(dir.path(), &["add", "exp.yml"], bucket);
    let run = djx(
        dir.path(),
        &["run", "1", "--workers", "2", "--no-progress"],
        bucket,
    );
    jobs as f64 / (add + run)
}

fn median(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    (xs[xs.len() / 2], xs[0], xs[xs.len() - 1])
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let Some(endpoint) = std::env::var("DJX_BENCH_S3_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        eprintln!("SKIPPED P10, P11: DJX_BENCH_S3_ENDPOINT is not set (run `make bench-s3`)");
        return;
    };
    let runs = env_usize("DJX_BENCH_RUNS", 3).max(1);
    let jobs = env_usize("DJX_BENCH_JOBS", 10_000).max(1);
    let (mut local, mut remote, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let l = p1(jobs, None);
        let r = p1(
            jobs,
            Some((
                &endpoint,
                &format!("bench-p10-{}-{run}", std::process::id()),
            )),
        );
        eprintln!("P10 run {run}: local {l:.0} jobs/s, S3 {r:.0} jobs/s");
        local.push(l);
        remote.push(r);
        ratio.push(r / l);
    }
    println!("| row | what | median | min–max | target |");
    println!("|---|---|---|---|---|");
    for (what, xs, unit, target) in [
        (
            format!("P1, {jobs} jobs, content local"),
            local,
            "jobs/s",
            "",
        ),
        (
            format!("P1, {jobs} jobs, content in S3"),
            remote,
            "jobs/s",
            "",
        ),
        ("S3 / local".to_owned(), ratio, "×", "≥ 0.5×"),
    ] {
        let (m, lo, hi) = median(xs);
        println!("| P10 | {what} | {m:.2} {unit} | {lo:.2}–{hi:.2} | {target} |");
    }

    // P11: one 1 GiB file (incompressible: blake3's output stream).
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.bin");
    let mut reader = blake3::Hasher::new().update(b"djx P11").finalize_xof();
    let mut file = std::io::BufWriter::new(std::fs::File::create(&big).expect("create"));
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        reader.fill(&mut block);
        std::io::Write::write_all(&mut file, &block).expect("write");
    }
    drop(file);
    let prefix = format!("bench-p11-{}", std::process::id());
    let bucket = Some((endpoint.as_str(), prefix.as_str()));
    experiment(dir.path(), 8, Some("big.bin"));
    let upload = djx(dir.path(), &["add", "exp.yml"], bucket);
    // Another machine's view: its data store does not have the file.
    std::fs::remove_dir_all(dir.path().join(".djx/data")).expect("drop the local copy");
    let first = djx(
        dir.path(),
        &["run", "1", "--workers", "2", "--no-progress"],
        bucket,
    );
    let copies = std::fs::read_dir(dir.path().join(".djx/data"))
        .expect("data store")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| !e.file_name().to_string_lossy().starts_with('.'))
        })
        .count();
    assert_eq!(copies, 1, "one local copy");
    djx(dir.path(), &["add", "exp.yml"], bucket);
    let again = djx(
        dir.path(),
        &["run", "2", "--workers", "2", "--no-progress", "--no-cache"],
        bucket,
    );
    println!("| P11 | 1 GiB dataset: `djx add` (upload, in 16 MiB parts) | {upload:.2} s | | |");
    println!("| P11 | 8 jobs on a machine without it (one fetch, checked) | {first:.2} s | | |");
    println!(
        "| P11 | 8 more jobs on the same machine (no fetch) | {again:.2} s | | fetched once per machine |"
    );
}
