//! The djx benchmark suite: `make bench` (it starts a throwaway PostgreSQL
//! for P6), or `cargo bench -p djx-host --bench suite` (P6 then needs
//! `DJX_BENCH_DATABASE_URL`).
//!
//! Each workload runs several times (`DJX_BENCH_RUNS`, default 5; P3's jobs
//! five times more, interleaved with their native counterparts); the table
//! shows the median, the min–max spread, the target and the peak resident
//! memory of the djx processes (`VmHWM`, see [`PeakWatch`]). `DJX_BENCH_ONLY=P1,P4` runs
//! some workloads only; `DJX_BENCH_JOBS` sets the job count of P1, P5 and P6
//! (default 10,000). Workloads run the real `djx` binary (release build) on
//! real guests; nothing is mocked.
//!
//! | id | workload | target |
//! |---|---|---|
//! | P1 | `djx add` + `djx run --workers 2` of N jobs that each record 10 metrics with 5 labels/params and store a 1 KiB artifact, embedded SQLite | ≥ 3,000 jobs/s |
//! | P2 | one job records 1,000,000 points (`step` context, `loss` metric): `djx run` until committed | ≥ 1,000,000 points/s, < 200 MiB |
//! | P3 | one compute job under djx (wasm, each determinism profile) vs the same Rust natively: the tuned iris random-forest cross-validation (`djx_kernels::forest`, the `forest` guest), and an n-body float kernel | wasm ≤ 1.3× native |
//! | P4 | instantiate + call a no-op job from a cached component (library, in process); and a WASI program that reads its parameters and exits | p50 ≤ 50 µs; the WASI program ≤ 250 µs |
//! | P5 | `djx records <exp> --format csv -o FILE` of P1's experiment | ≤ 0.5 s |
//! | P6 | PostgreSQL: P1's jobs run by 2 `djx run --workers 1` processes vs 1; and P1 itself on PostgreSQL | ≥ 1.7× |
//! | W1 | `djx ui` on P1's store: the experiment page of N jobs, drawn completely in headless Chromium | ≤ 1 s |
//! | W2 | `djx ui` on P1's store: a page of 100 jobs sorted by a metric from the jobs API | ≤ 50 ms |
//! | W3 | `djx ui` on P2's store: a 1,000,000-point curve reaches the browser downsampled to ≤ 5,000 points | ≤ 300 ms |
//! | W4 | `djx ui`: N jobs of a seed × rate grid grouped by the rate (N/100 groups) from the groups API | ≤ 200 ms |
//! | W5 | `djx ui`: the compare page of 10 jobs with 1,000-point curves, drawn completely in headless Chromium | ≤ 1 s |
//!
//! W1, W3 and W5 need Chromium and chromedriver (Debian's `chromium` and
//! `chromium-driver`); without them they are skipped with a message.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use djx_host::content::artifacts::ArtifactStore;
use djx_host::content::digest::Digest;
use djx_host::runtime::{DatasetMount, Determinism, JobInput, Limits, Module, Runtime, job_seed};
use djx_kernels::forest;
use serde_json::{Value, json};

#[path = "suite/baselines.rs"]
mod baselines;
#[path = "../tests/all/browser.rs"]
mod browser;
#[path = "suite/scale.rs"]
mod scale;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Median, min and max of `samples`.
fn stats(samples: &[f64]) -> (f64, f64, f64) {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    (median, s[0], s[n - 1])
}

/// A `djx` command in `dir`, on the embedded store unless `database`.
fn djx_cmd(dir: &Path, args: &[&str], database: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_djx"));
    cmd.current_dir(dir)
        .args(args)
        .env("DJX_DATA_TEMP", dir)
        .env_remove("DJX_DATABASE_URL")
        .env_remove("DJX_PG_HOST")
        .stdout(Stdio::null());
    if let Some(url) = database {
        cmd.env("DJX_DATABASE_URL", url)
            .env("DJX_PG_SCHEMA", schema_of(dir));
    }
    cmd
}

/// A PostgreSQL schema of the run's own.
fn schema_of(dir: &Path) -> String {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("x");
    format!(
        "bench_{}",
        name.to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    )
}

/// Runs `commands` at once; returns the wall time until all ended and the
/// largest peak RSS (KiB) of any of them.
fn timed(commands: Vec<Command>) -> (Duration, u64) {
    let started = Instant::now();
    let mut children = Vec::new();
    for mut cmd in commands {
        let log = tempfile::NamedTempFile::new().expect("stderr file");
        cmd.stderr(log.reopen().expect("reopen"));
        let child = cmd.spawn().expect("spawn djx");
        let peak = PeakWatch::start(child.id());
        children.push((child, peak, log, format!("{cmd:?}")));
    }
    let mut peak = 0;
    for (child, watch, log, what) in children {
        let (status, rss) = wait_with_rusage(child.id(), watch);
        assert!(
            status == 0,
            "{what} exited with {status}:\n{}",
            std::fs::read_to_string(log.path()).unwrap_or_default()
        );
        peak = peak.max(rss);
    }
    (started.elapsed(), peak)
}

/// A child's peak resident memory, read from `/proc/PID/status` (`VmHWM`)
/// every few milliseconds until it exits.
///
/// `ru_maxrss` from `wait4` cannot serve: Rust spawns with `vfork`, and
/// Linux carries the parent's high-water mark into the child's at `exec`,
/// so every child of a bench process that once held 300 MiB reported 300
/// MiB. The high-water mark of the child's own address space is exact; the
/// last few milliseconds before it exits are the only ones not seen.
struct PeakWatch(std::thread::JoinHandle<u64>);

impl PeakWatch {
    fn start(pid: u32) -> PeakWatch {
        PeakWatch(std::thread::spawn(move || {
            let path = format!("/proc/{pid}/status");
            let mut peak = 0;
            // An exited child, not yet reaped, has no `VmHWM` line: then
            // stop. Its pid is not reused before `waitpid` reaps it.
            while let Some(kib) = std::fs::read_to_string(&path).ok().and_then(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            }) {
                peak = peak.max(kib);
                std::thread::sleep(Duration::from_millis(2));
            }
            peak
        }))
    }

    fn finish(self) -> u64 {
        self.0.join().unwrap_or(0)
    }
}

/// Waits for process `pid`, after `watch` saw it end; returns its exit code
/// and peak RSS in KiB.
fn wait_with_rusage(pid: u32, watch: PeakWatch) -> (i32, u64) {
    let peak = watch.finish();
    let mut status = 0;
    // SAFETY: pid is our child, which nothing else waits for.
    let reaped = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
    assert_eq!(reaped, pid as libc::pid_t, "waitpid");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, peak)
}

/// Peak RSS of this process so far, in KiB.
fn own_peak_rss() -> u64 {
    // SAFETY: an all-zero rusage is a valid value, and getrusage writes it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss as u64
}

/// Writes P1's experiment (`jobs` jobs of the bookkeeping guest) in `dir`.
fn bookkeeping_experiment(dir: &Path, jobs: usize) {
    let ids: Vec<String> = (0..jobs).map(|i| i.to_string()).collect();
    let yml = format!(
        "name: bookkeeping\nmodule: {}\njob:\n  labels: {{model: rf, data: iris}}\n  parameter: {{alpha: 0.5}}\nexperiment:\n  grid:\n    - labels.id: [{}]\n",
        djx_fixtures::BOOKKEEPING,
        ids.join(", ")
    );
    std::fs::write(dir.join("exp.yml"), yml).expect("write");
}

/// One measured row of the table.
#[derive(Default)]
struct Row {
    id: &'static str,
    what: String,
    unit: &'static str,
    target: String,
    samples: Vec<f64>,
    rss_kib: u64,
}

impl Row {
    fn new(id: &'static str, what: impl Into<String>, unit: &'static str, target: &str) -> Row {
        Row {
            id,
            what: what.into(),
            unit,
            target: target.into(),
            ..Row::default()
        }
    }

    fn add(&mut self, sample: f64, rss_kib: u64) {
        self.samples.push(sample);
        self.rss_kib = self.rss_kib.max(rss_kib);
    }

    fn print(&self) {
        if self.samples.is_empty() {
            return;
        }
        let (median, min, max) = stats(&self.samples);
        // Ratios with two decimals; other figures as people read them.
        let number = |x: f64| match self.unit {
            "×" => format!("{x:.2}"),
            _ => number(x),
        };
        let rss = match self.rss_kib {
            0 => "".to_owned(),
            kib => format!("{:.0} MiB", kib as f64 / 1024.0),
        };
        println!(
            "| {} | {} | {} {} | {}–{} | {} | {rss} |",
            self.id,
            self.what,
            number(median),
            self.unit,
            number(min),
            number(max),
            self.target
        );
    }
}

/// A measurement as people read it: one decimal below 100, else whole and
/// in groups of three digits (1,074,351).
fn number(x: f64) -> String {
    if x.abs() < 100.0 {
        return format!("{x:.1}");
    }
    let digits = format!("{:.0}", x.abs());
    let mut grouped = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(d);
    }
    if x < 0.0 {
        grouped.insert(0, '-');
    }
    grouped
}

/// P1 and P5 for one run.
fn bookkeeping(jobs: usize, p1: &mut Row, p5: &mut Row) {
    let dir = tempfile::tempdir().expect("tempdir");
    bookkeeping_experiment(dir.path(), jobs);
    let (add, add_rss) = timed(vec![djx_cmd(dir.path(), &["add", "exp.yml"], None)]);
    let (run, run_rss) = timed(vec![djx_cmd(
        dir.path(),
        &["run", "1", "--workers", "2", "--no-progress"],
        None,
    )]);
    p1.add(
        jobs as f64 / (add + run).as_secs_f64(),
        add_rss.max(run_rss),
    );
    let (export, export_rss) = timed(vec![djx_cmd(
        dir.path(),
        &["records", "1", "--format", "csv", "-o", "records.csv"],
        None,
    )]);
    let rows = std::fs::read_to_string(dir.path().join("records.csv"))
        .expect("csv")
        .lines()
        .count();
    assert_eq!(rows, jobs + 1, "one record per job plus the header");
    p5.add(export.as_secs_f64() * 1000.0, export_rss);
}

/// Points of P2.
const POINTS: u64 = 1_000_000;

/// P2 for one run: points per second, from `djx run` start to exit; and
/// the same records inserted by a bare rusqlite loop (the limit), and
/// djx's fraction of it.
fn firehose(p2: &mut Row, limit: &mut Row, fraction: &mut Row) {
    let dir = tempfile::tempdir().expect("tempdir");
    let yml = format!(
        "name: firehose\nmodule: {}\nlimits: {{records: {POINTS}}}\njob:\n  parameter: {{points: {POINTS}}}\n",
        djx_fixtures::FIREHOSE
    );
    std::fs::write(dir.path().join("exp.yml"), yml).expect("write");
    timed(vec![djx_cmd(dir.path(), &["add", "exp.yml"], None)]);
    let (run, rss) = timed(vec![djx_cmd(
        dir.path(),
        &["run", "1", "--no-progress"],
        None,
    )]);
    let djx = POINTS as f64 / run.as_secs_f64();
    p2.add(djx, rss);
    let bare = baselines::sqlite_records_per_s(&dir.path().join(".djx/djx.db"), dir.path());
    limit.add(bare, 0);
    fraction.add(djx / bare, 0);
}

/// P6 for one run: P1 on PostgreSQL, and jobs/s of 1 and of 2 processes.
fn postgres(
    url: &str,
    jobs: usize,
    p1_pg: &mut Row,
    one: &mut Row,
    two: &mut Row,
    ratio: &mut Row,
) {
    let run_with = |processes: usize| -> (f64, u64) {
        let dir = tempfile::tempdir().expect("tempdir");
        bookkeeping_experiment(dir.path(), jobs);
        timed(vec![djx_cmd(dir.path(), &["add", "exp.yml"], Some(url))]);
        let commands = (0..processes)
            .map(|_| {
                djx_cmd(
                    dir.path(),
                    &["run", "1", "--workers", "1", "--no-progress"],
                    Some(url),
                )
            })
            .collect();
        let (elapsed, rss) = timed(commands);
        (jobs as f64 / elapsed.as_secs_f64(), rss)
    };
    let (a, rss_a) = run_with(1);
    let (b, rss_b) = run_with(2);
    one.add(a, rss_a);
    two.add(b, rss_b);
    ratio.add(b / a, 0);

    let dir = tempfile::tempdir().expect("tempdir");
    bookkeeping_experiment(dir.path(), jobs);
    let (add, add_rss) = timed(vec![djx_cmd(dir.path(), &["add", "exp.yml"], Some(url))]);
    let (run, run_rss) = timed(vec![djx_cmd(
        dir.path(),
        &["run", "1", "--workers", "2", "--no-progress"],
        Some(url),
    )]);
    p1_pg.add(
        jobs as f64 / (add + run).as_secs_f64(),
        add_rss.max(run_rss),
    );
}

/// A `djx ui --no-token` on any free port in `dir`; its base URL.
fn start_ui(dir: &Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = djx_cmd(dir, &["ui", "--no-token", "--port", "0"], None)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn djx ui");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the URL");
    (child, line.trim().trim_end_matches('/').to_owned())
}

/// Requests timed per W2 run.
const W2_REQUESTS: usize = 20;

/// W1 and W2 for one run, on a P1 store of `jobs` jobs: the experiment
/// page drawn in the browser (ms from navigation to every chart drawn),
/// and pages of 100 jobs sorted by a metric from the API (the first one,
/// which builds the experiment's summary, and the median of the others).
fn ui_table(
    jobs: usize,
    b: Option<&browser::Session>,
    w1: &mut Row,
    w2: &mut Row,
    w2_cold: &mut Row,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    bookkeeping_experiment(dir.path(), jobs);
    timed(vec![djx_cmd(dir.path(), &["add", "exp.yml"], None)]);
    timed(vec![djx_cmd(
        dir.path(),
        &["run", "1", "--workers", "2", "--no-progress"],
        None,
    )]);
    let (mut ui, base) = start_ui(dir.path());
    let get = |path: &str| -> f64 {
        let started = Instant::now();
        let (status, _, body) = browser::http("GET", &format!("{base}{path}"), &[], None);
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        let page: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(page["rows"].as_array().map(Vec::len), Some(100.min(jobs)));
        ms
    };
    w2_cold.add(get("/api/experiments/1/jobs?sort=-metrics.m3&limit=100"), 0);
    let times: Vec<f64> = (0..W2_REQUESTS)
        .map(|i| {
            let sign = if i % 2 == 0 { "-" } else { "" };
            get(&format!(
                "/api/experiments/1/jobs?sort={sign}metrics.m{}&limit=100&offset={}",
                i % 10,
                (i * 100) % jobs.max(1)
            ))
        })
        .collect();
    w2.add(stats(&times).0, 0);
    if let Some(b) = b {
        // One visit first: the assets are then cached, as for a reader
        // who has the UI open.
        let render = || -> f64 {
            b.goto(&format!("{base}/experiments/1"));
            b.wait_for(
                "the page drawn",
                60,
                "document.documentElement.dataset.ready",
            );
            b.js("return window.djxReadyAt")
                .as_f64()
                .expect("djxReadyAt")
        };
        render();
        w1.add(render(), 0);
    }
    let _ = ui.kill();
    let _ = ui.wait();
}

/// A temporary store with experiment `yml` added and run by `djx run 1`
/// (with `args` more).
fn ran_experiment(yml: &str, args: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("exp.yml"), yml).expect("write");
    timed(vec![djx_cmd(dir.path(), &["add", "exp.yml"], None)]);
    let mut run = vec!["run", "1", "--no-progress"];
    run.extend_from_slice(args);
    timed(vec![djx_cmd(dir.path(), &run, None)]);
    dir
}

/// W3 for one run: a million-point curve (P2's job), fetched and parsed by
/// the browser's `fetch`: the first request, and a second one.
fn ui_curve(b: &browser::Session, w3: &mut Row, w3_kept: &mut Row) {
    let yml = format!(
        "name: firehose\nmodule: {}\nlimits: {{records: {POINTS}}}\njob:\n  parameter: {{points: {POINTS}}}\n",
        djx_fixtures::FIREHOSE
    );
    let dir = ran_experiment(&yml, &[]);
    let (mut ui, base) = start_ui(dir.path());
    b.goto(&format!("{base}/"));
    let fetch = || -> (f64, u64) {
        let v = b.js_async(
            "const done = arguments[arguments.length - 1];
             const t0 = performance.now();
             fetch('/api/jobs/1/metrics?name=loss&points=5000').then(r => r.json())
               .then(c => done([performance.now() - t0, c.points.length, c.total]));",
        );
        assert_eq!(v[2].as_u64(), Some(POINTS), "{v}");
        (v[0].as_f64().expect("ms"), v[1].as_u64().expect("points"))
    };
    // The first request reads the store; the second is served from the
    // curves kept in memory (a finished attempt's records never change).
    let (ms, points) = fetch();
    assert!(points <= 5000, "{points} points reached the browser");
    w3.add(ms, 0);
    w3_kept.add(fetch().0, 0);
    let _ = ui.kill();
    let _ = ui.wait();
}

/// Requests timed per W4 run.
const W4_REQUESTS: usize = 10;

/// W4 for one run: `jobs` jobs of a grid of 100 seeds × `jobs / 100`
/// rates, grouped by the rate from the API (the first request, which
/// builds the summary, and the median of the others).
fn ui_groups(jobs: usize, w4: &mut Row, w4_cold: &mut Row) {
    let rates: Vec<String> = (0..(jobs / 100).max(1)).map(|i| i.to_string()).collect();
    let seeds: Vec<String> = (0..100.min(jobs)).map(|i| i.to_string()).collect();
    let yml = format!(
        "name: groups\nmodule: {}\njob:\n  labels: {{model: rf}}\nexperiment:\n  grid:\n    - labels.seed: [{}]\n    - labels.rate: [{}]\n",
        djx_fixtures::BOOKKEEPING,
        seeds.join(", "),
        rates.join(", ")
    );
    let dir = ran_experiment(&yml, &["--workers", "2"]);
    let (mut ui, base) = start_ui(dir.path());
    let get = || -> f64 {
        let started = Instant::now();
        let url = format!("{base}/api/experiments/1/groups?by=labels.rate&metric=m3");
        let (status, _, body) = browser::http("GET", &url, &[], None);
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let groups: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(groups["groups"].as_array().map(Vec::len), Some(rates.len()));
        ms
    };
    w4_cold.add(get(), 0);
    let times: Vec<f64> = (0..W4_REQUESTS).map(|_| get()).collect();
    w4.add(stats(&times).0, 0);
    let _ = ui.kill();
    let _ = ui.wait();
}

/// W5 for one run: the compare page of 10 jobs, each with a 1,000-point
/// curve, from navigation until its curves are drawn (the second visit:
/// assets cached).
fn ui_compare(b: &browser::Session, w5: &mut Row) {
    let ids: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    let yml = format!(
        "name: compare\nmodule: {}\njob:\n  parameter: {{records: 1000}}\nexperiment:\n  grid:\n    - labels.id: [{}]\n",
        djx_fixtures::STEPS,
        ids.join(", ")
    );
    let dir = ran_experiment(&yml, &[]);
    let (mut ui, base) = start_ui(dir.path());
    let render = || -> f64 {
        b.goto(&format!("{base}/compare?jobs=1,2,3,4,5,6,7,8,9,10"));
        b.wait_for(
            "the page drawn",
            60,
            "document.documentElement.dataset.ready",
        );
        let series = b.js(
            "return echarts.getInstanceByDom(document.querySelector('.chart.curve')).getOption().series.length",
        );
        assert_eq!(series, 10, "a curve per job");
        b.js("return window.djxReadyAt")
            .as_f64()
            .expect("djxReadyAt")
    };
    render();
    w5.add(render(), 0);
    let _ = ui.kill();
    let _ = ui.wait();
}

/// P4 for one run: the median of many no-op jobs of `module` with
/// `params`, in microseconds.
fn sandbox_overhead(
    rt: &Runtime,
    store: &ArtifactStore,
    calls: usize,
    module: &str,
    params: serde_json::Value,
) -> f64 {
    let module = rt.load_file(module.as_ref()).expect("load the no-op job");
    let input = JobInput {
        seed: job_seed(&module.digest), // any digest serves as a key here
        params,
        labels: json!({}),
        datasets: vec![],
        invocation: Default::default(),
        limits: Limits::default(),
    };
    let samples: Vec<f64> = (0..calls)
        .map(|_| {
            let started = Instant::now();
            let outcome = rt.run(&module, &input, store);
            let us = started.elapsed().as_secs_f64() * 1e6;
            assert!(outcome.is_finished(), "{:?}", outcome.failure);
            us
        })
        .collect();
    stats(&samples).0
}

/// Milliseconds `f` takes.
fn time_ms(f: impl FnOnce()) -> f64 {
    let started = Instant::now();
    f();
    started.elapsed().as_secs_f64() * 1000.0
}

/// The iris CSV of the example.
fn iris_csv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/iris/data/iris.csv")
}

/// The iris job of P3 (the `forest` guest): the example's parameters with
/// deeper trees.
fn iris_params() -> Value {
    json!({
        "cross_val_args": {"n_splits": 3, "shuffle": true, "random_state": 0},
        "model_args": {"n_estimators": 100, "max_depth": 6, "min_samples_leaf": 1,
                       "min_samples_split": 2, "random_state": 0},
        "dataset_args": {"target_column": "species",
                         "feature_columns": ["sepal_length", "sepal_width", "petal_length", "petal_width"]},
    })
}

/// How many times each P3 job runs per round.
const P3_REPEATS: usize = 5;

/// Repetitions of P6 in all, at least (each runs 1 process, then 2).
const P6_REPEATS: usize = 5;

/// Steps of P3's n-body kernel.
const NBODY_STEPS: u64 = 1_000_000;

/// P3's two jobs natively: the same library code the guests run.
fn compute_native() -> (f64, f64) {
    let params: forest::Params = serde_json::from_value(iris_params()).expect("iris params");
    let iris_ms = time_ms(|| {
        let text = std::fs::read_to_string(iris_csv()).expect("iris csv");
        let data = forest::load_dataset(&text, &params.dataset_args).expect("load");
        let scores = forest::cross_validate(&data, &params).expect("cv");
        std::hint::black_box(scores);
    });
    let nbody_ms = time_ms(|| {
        std::hint::black_box(djx_kernels::nbody(std::hint::black_box(NBODY_STEPS)));
    });
    (iris_ms, nbody_ms)
}

/// The wasm side of P3 in one profile.
struct ComputeJobs {
    rt: Runtime,
    iris: Module,
    flops: Module,
    iris_input: JobInput,
    flops_input: JobInput,
}

impl ComputeJobs {
    fn new(determinism: Determinism, scratch: &Path) -> ComputeJobs {
        let rt =
            Runtime::new(determinism, scratch.join("cache"), scratch.join("tmp")).expect("runtime");
        let iris = rt.load_file(djx_fixtures::FOREST.as_ref()).expect("iris");
        let flops = rt.load_file(djx_fixtures::FLOPS.as_ref()).expect("flops");
        let data = scratch.join(format!("data-{determinism}"));
        std::fs::create_dir_all(&data).expect("mkdir");
        std::fs::copy(iris_csv(), data.join("iris.csv")).expect("copy iris");
        let input = |params: Value, datasets: Vec<DatasetMount>| JobInput {
            seed: job_seed(&Digest::of(params.to_string().as_bytes())),
            params,
            labels: json!({}),
            datasets,
            invocation: Default::default(),
            limits: Limits::default(),
        };
        let mount = DatasetMount {
            name: "iris".into(),
            host_dir: data.clone(),
            file: Some("iris.csv".into()),
            digest: Digest::of(&std::fs::read(iris_csv()).expect("iris csv")),
        };
        ComputeJobs {
            iris_input: input(iris_params(), vec![mount]),
            flops_input: input(json!({"steps": NBODY_STEPS}), vec![]),
            rt,
            iris,
            flops,
        }
    }

    /// (iris job ms, n-body job ms), each the wall time of `Runtime::run`:
    /// instantiate, run, collect records.
    fn run(&self, store: &ArtifactStore) -> (f64, f64) {
        let job = |module: &Module, input: &JobInput| {
            time_ms(|| {
                let outcome = self.rt.run(module, input, store);
                assert!(outcome.is_finished(), "{:?}", outcome.failure);
            })
        };
        (
            job(&self.iris, &self.iris_input),
            job(&self.flops, &self.flops_input),
        )
    }
}

/// The machine, for the table's header: CPU model, cores, memory.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1048576.0);
    format!("Machine: {model}, {cores} cores, {mem_gib:.0} GiB")
}

/// Whether P7 and following run: unless `DJX_BENCH_ONLY` names others only.
fn scale_wanted(only: &str) -> bool {
    scale_rows_from(only, 7)
}

/// Whether `DJX_BENCH_ONLY` is unset or names a row from `P<first>` on:
/// `DJX_BENCH_ONLY=P7,P8` runs the two `djx add` rows without the
/// minutes-long rows after them.
fn scale_rows_from(only: &str, first: u32) -> bool {
    only.is_empty()
        || only.split(',').any(|w| {
            w.trim()
                .strip_prefix('P')
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| n >= first)
        })
}

fn main() {
    // `cargo test --benches` runs this with --bench absent: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runs = env_usize("DJX_BENCH_RUNS", 5).max(1);
    let jobs = env_usize("DJX_BENCH_JOBS", 10_000).max(1);
    let only = std::env::var("DJX_BENCH_ONLY").unwrap_or_default();
    let wanted = |id: &str| only.is_empty() || only.split(',').any(|w| w.trim() == id);
    let database = std::env::var("DJX_BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());

    eprintln!("{}", machine());
    let scratch = tempfile::tempdir().expect("tempdir");
    let rt = Runtime::new(
        Determinism::Native,
        scratch.path().join("cache"),
        scratch.path().join("tmp"),
    )
    .expect("runtime");
    // WASI programs' files churn their own directory, not the no-op's.
    let rt_wasi = Runtime::new(
        Determinism::Native,
        scratch.path().join("cache"),
        scratch.path().join("tmp-wasi"),
    )
    .expect("runtime");
    let store = ArtifactStore::open(scratch.path().join("artifacts")).expect("store");
    // Warm the compile cache and the CPU.
    sandbox_overhead(&rt, &store, 200, djx_fixtures::NOOP, json!({}));
    let compute = wanted("P3").then(|| {
        (
            ComputeJobs::new(Determinism::Native, &scratch.path().join("native")),
            ComputeJobs::new(Determinism::Portable, &scratch.path().join("portable")),
        )
    });

    let mut p1 = Row::new(
        "P1",
        format!("add + run {jobs} jobs, SQLite, 2 workers"),
        "jobs/s",
        "≥ 3,000 jobs/s",
    );
    let mut p2 = Row::new(
        "P2",
        "one job records 1,000,000 points (run until committed)",
        "points/s",
        "≥ 1,000,000 points/s, < 200 MiB",
    );
    let mut p2_limit = Row::new(
        "P2",
        "the limit: the same records, bare rusqlite loop (same schema, batching, durability)",
        "points/s",
        "",
    );
    let mut p2_fraction = Row::new("P2", "djx / the limit", "×", "≥ 0.7");
    let mut p4 = Row::new(
        "P4",
        "no-op job from a cached component (p50 of 2,000, in process)",
        "µs",
        "≤ 50 µs",
    );
    let mut p4_limit = Row::new(
        "P4",
        "the limit: bare wasmtime, the same component from an InstancePre (p50 of 2,000)",
        "µs",
        "",
    );
    let mut p4_ratio = Row::new("P4", "djx / the limit", "×", "≤ 1.5×");
    let mut p4_wasi = Row::new(
        "P4",
        "a WASI program (job protocol; Rust std, wasi:cli/command) that reads its parameters and exits (p50 of 2,000)",
        "µs",
        "≤ 250 µs",
    );
    let mut p5 = Row::new(
        "P5",
        format!("records --format csv of {jobs} jobs"),
        "ms",
        "≤ 500 ms",
    );
    let mut p6_1 = Row::new(
        "P6",
        format!("PostgreSQL, {jobs} jobs, 1 process × 1 worker"),
        "jobs/s",
        "",
    );
    let mut p6_2 = Row::new(
        "P6",
        format!("PostgreSQL, {jobs} jobs, 2 processes × 1 worker"),
        "jobs/s",
        "",
    );
    let mut p6_ratio = Row::new("P6", "2 processes / 1 process", "×", "≥ 1.7×");
    let mut p6_p1 = Row::new(
        "P6",
        format!("P1 on PostgreSQL: add + run {jobs} jobs, 2 workers"),
        "jobs/s",
        "",
    );
    let mut w1 = Row::new(
        "W1",
        format!("djx ui: experiment page of {jobs} jobs drawn in headless Chromium"),
        "ms",
        "≤ 1 s",
    );
    let mut w2 = Row::new(
        "W2",
        format!("djx ui: jobs API, 100 of {jobs} sorted by a metric (median of {W2_REQUESTS})"),
        "ms",
        "≤ 50 ms",
    );
    let mut w2_cold = Row::new(
        "W2",
        "the same, first request (reads the experiment's summary)",
        "ms",
        "",
    );
    let mut w3 = Row::new(
        "W3",
        "djx ui: a 1,000,000-point curve fetched by the browser as ≤ 5,000 points",
        "ms",
        "≤ 300 ms",
    );
    let mut w3_kept = Row::new(
        "W3",
        "the same, asked again (served from the curves kept in memory)",
        "ms",
        "",
    );
    let mut w4 = Row::new(
        "W4",
        format!(
            "djx ui: groups API, {jobs} jobs grouped by one dimension ({} groups; median of {W4_REQUESTS})",
            (jobs / 100).max(1)
        ),
        "ms",
        "≤ 200 ms",
    );
    let mut w4_cold = Row::new(
        "W4",
        "the same, first request (reads the experiment's summary)",
        "ms",
        "",
    );
    let mut w5 = Row::new(
        "W5",
        "djx ui: compare page of 10 jobs with their curves, drawn in headless Chromium",
        "ms",
        "≤ 1 s",
    );
    let wants_ui = wanted("W1") || wanted("W2") || wanted("W3") || wanted("W4") || wanted("W5");
    let session = if wanted("W1") || wanted("W3") || wanted("W5") {
        browser::browser("W1, W3, W5")
    } else {
        None
    };
    let names = [
        "iris random forest, 3-fold CV, 100 trees",
        "n-body, 1,000,000 steps",
    ];
    let mut p3: Vec<[Row; 3]> = names
        .iter()
        .map(|name| {
            [
                Row::new("P3", format!("{name}: native Rust"), "ms", ""),
                Row::new(
                    "P3",
                    format!("{name}: wasm, native profile"),
                    "ms",
                    "≤ 1.3× native",
                ),
                Row::new(
                    "P3",
                    format!("{name}: wasm, portable profile"),
                    "ms",
                    "≤ 1.3× native",
                ),
            ]
        })
        .collect();

    for run in 0..runs {
        eprintln!("run {}/{runs}", run + 1);
        if wanted("P1") || wanted("P5") {
            bookkeeping(jobs, &mut p1, &mut p5);
        }
        if wanted("P2") {
            firehose(&mut p2, &mut p2_limit, &mut p2_fraction);
        }
        if wanted("P4") {
            let djx = sandbox_overhead(&rt, &store, 2000, djx_fixtures::NOOP, json!({}));
            let bare = baselines::wasmtime_noop_us(djx_fixtures::NOOP.as_ref(), 2000);
            let noop = json!({"noop": true});
            let wasi = sandbox_overhead(&rt_wasi, &store, 2000, djx_fixtures::COMMAND, noop);
            p4.add(djx, 0);
            p4_limit.add(bare, 0);
            p4_ratio.add(djx / bare, 0);
            p4_wasi.add(wasi, 0);
        }
        if let Some((native, portable)) = &compute {
            // P3 times compute, not I/O: let the kernel write back what P1
            // and P2 left dirty first (on two cores its flusher would share
            // them with the timed job). Each side runs several times per
            // round, interleaved, so one timer tick or page-cache hiccup
            // moves one sample of many.
            let _ = Command::new("sync").status();
            for _ in 0..P3_REPEATS {
                let timings = [compute_native(), native.run(&store), portable.run(&store)];
                for (column, (iris_ms, nbody_ms)) in timings.into_iter().enumerate() {
                    p3[0][column].add(iris_ms, 0);
                    p3[1][column].add(nbody_ms, 0);
                }
            }
        }
        if wants_ui {
            if wanted("W1") || wanted("W2") {
                ui_table(jobs, session.as_ref(), &mut w1, &mut w2, &mut w2_cold);
            }
            if let (true, Some(b)) = (wanted("W3"), session.as_ref()) {
                ui_curve(b, &mut w3, &mut w3_kept);
            }
            if wanted("W4") {
                ui_groups(jobs, &mut w4, &mut w4_cold);
            }
            if let (true, Some(b)) = (wanted("W5"), session.as_ref()) {
                ui_compare(b, &mut w5);
            }
        }
        if wanted("P6") {
            match &database {
                // At least five interleaved repetitions of 1 and 2
                // processes in all, whatever DJX_BENCH_RUNS is.
                Some(url) => {
                    for _ in 0..P6_REPEATS.div_ceil(runs) {
                        postgres(url, jobs, &mut p6_p1, &mut p6_1, &mut p6_2, &mut p6_ratio);
                    }
                }
                None if run == 0 => eprintln!(
                    "P6 skipped: set DJX_BENCH_DATABASE_URL (`make bench` starts a server)"
                ),
                None => {}
            }
        }
    }
    // P3's ratios, once the medians are known.
    for rows in p3.iter_mut().filter(|rows| !rows[0].samples.is_empty()) {
        let native = stats(&rows[0].samples).0;
        for row in rows.iter_mut().skip(1) {
            if !row.samples.is_empty() {
                row.what = format!(
                    "{} ({:.2}× native)",
                    row.what,
                    stats(&row.samples).0 / native
                );
            }
        }
    }
    let scale = (scale_wanted(&only)).then(|| {
        let p1_rate = (!p1.samples.is_empty()).then(|| stats(&p1.samples).0);
        scale::measure(database.as_deref(), p1_rate, scale_rows_from(&only, 9))
    });
    println!("\n{}", machine());
    println!("\n| id | workload | median | min–max | target | peak RSS |");
    println!("|---|---|---|---|---|---|");
    for row in [&p1, &p2, &p2_limit, &p2_fraction]
        .into_iter()
        .chain(p3.iter().flatten())
        .chain([
            &p4, &p4_limit, &p4_ratio, &p4_wasi, &p5, &p6_1, &p6_2, &p6_ratio, &p6_p1, &w1, &w2,
            &w2_cold, &w3, &w3_kept, &w4, &w4_cold, &w5,
        ])
        .chain(scale.iter().flat_map(|s| s.rows()))
    {
        row.print();
    }
    for note in scale.iter().flat_map(|s| s.notes()) {
        println!("\n{note}");
    }
    println!(
        "\nPeak RSS is of the djx processes (the largest of a workload's runs). In-process \
         workloads (P3, P4) share the bench process: {:.0} MiB at the end.",
        own_peak_rss() as f64 / 1024.0
    );
}
