//! P7 and following: a million jobs and ten million records, on the real
//! binary. Each is measured once per suite run (a million-job `djx run`
//! takes minutes); `DJX_BENCH_SCALE_SIDE` sets the grid's side (default
//! 100: 100 × 100 × 100 jobs) and `DJX_BENCH_SCALE_RECORDS` the records of
//! P13 and P14 (default 10,000,000, in ten jobs).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::{PeakWatch, Row, bookkeeping_experiment, djx_cmd, env_usize, timed, wait_with_rusage};

/// The rows of P7 and following.
pub struct ScaleRows {
    add: Row,
    add_pg: Row,
    first_line: Row,
    jobs_json: Row,
    ls: Row,
    run: Row,
    csv: Row,
    parquet: Row,
    fresh_warm: Row,
    fresh_cold: Row,
    /// What the rows measured besides their medians (file sizes).
    notes: Vec<String>,
}

impl ScaleRows {
    /// The rows for a grid of `jobs` jobs and `records` records.
    fn new(jobs: usize, records: u64) -> ScaleRows {
        let j = super::number(jobs as f64);
        let r = super::number(records as f64);
        ScaleRows {
            add: Row::new(
                "P7",
                format!("`djx add` of a {j}-job grid, SQLite"),
                "s",
                "≤ 15 s, ≤ 256 MiB",
            ),
            add_pg: Row::new(
                "P8",
                format!("`djx add` of the {j}-job grid, PostgreSQL"),
                "s",
                "≤ 30 s, ≤ 256 MiB",
            ),
            first_line: Row::new(
                "P9",
                format!("`djx jobs` of {j} jobs: first line"),
                "ms",
                "≤ 500 ms, ≤ 64 MiB",
            ),
            jobs_json: Row::new(
                "P10",
                format!("`djx jobs --json` of {j} jobs, to the end"),
                "s",
                "≤ 10 s, ≤ 64 MiB",
            ),
            ls: Row::new(
                "P11",
                format!("`djx ls` with {j} jobs in the store (median of 5)"),
                "ms",
                "≤ 200 ms",
            ),
            run: Row::new(
                "P12",
                format!("`djx run --workers 2` of the {j} bookkeeping jobs"),
                "jobs/s",
                "≥ P1's rate, ≤ 256 MiB",
            ),
            csv: Row::new(
                "P13",
                format!("`djx records --format csv` of {r} records"),
                "records/s",
                "≥ 1,000,000/s, ≤ 128 MiB",
            ),
            parquet: Row::new(
                "P14",
                format!("`djx records --format parquet` of the {r} records"),
                "records/s",
                "(size and time against P13)",
            ),
            fresh_warm: Row::new(
                "P15",
                "add + run 1,000 bookkeeping jobs in a new directory, compile cache warm",
                "s",
                "",
            ),
            fresh_cold: Row::new("P15", "the same with an empty compile cache", "s", ""),
            notes: Vec::new(),
        }
    }

    /// The rows, in table order.
    pub fn rows(&self) -> [&Row; 10] {
        [
            &self.add,
            &self.add_pg,
            &self.first_line,
            &self.jobs_json,
            &self.ls,
            &self.run,
            &self.csv,
            &self.parquet,
            &self.fresh_warm,
            &self.fresh_cold,
        ]
    }

    /// Notes to print under the table.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
}

/// Writes a `side`³-job grid of the bookkeeping guest (P1's job) in `dir`.
fn grid_experiment(dir: &Path, side: usize) {
    let values: Vec<String> = (0..side).map(|i| i.to_string()).collect();
    let values = values.join(", ");
    let yml = format!(
        "name: scale\nmodule: {}\nmax_jobs: {}\njob:\n  labels: {{model: rf, data: iris}}\n  parameter: {{alpha: 0.5}}\nexperiment:\n  grid:\n    - labels.a: [{values}]\n    - labels.b: [{values}]\n    - labels.id: [{values}]\n",
        djx_fixtures::BOOKKEEPING,
        side * side * side,
    );
    std::fs::write(dir.join("grid.yml"), yml).expect("write");
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Runs P7 and following once; `p1_rate` is P1's median, for P12's target.
pub fn measure(database: Option<&str>, p1_rate: Option<f64>, beyond_p8: bool) -> ScaleRows {
    let side = env_usize("DJX_BENCH_SCALE_SIDE", 100).max(2);
    let records = env_usize("DJX_BENCH_SCALE_RECORDS", 10_000_000).max(10) as u64;
    let jobs = side * side * side;
    let mut rows = ScaleRows::new(jobs, records);
    if let Some(rate) = p1_rate {
        rows.run.target = format!("≥ {} jobs/s (P1), ≤ 256 MiB", super::number(rate));
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    grid_experiment(d, side);
    eprintln!("P7: djx add of {jobs} jobs");
    let (add, rss) = timed(vec![djx_cmd(d, &["add", "grid.yml"], None)]);
    rows.add.add(secs(add), rss);

    if let Some(url) = database {
        eprintln!("P8: the same on PostgreSQL");
        let pg = tempfile::tempdir().expect("tempdir");
        grid_experiment(pg.path(), side);
        let (add, rss) = timed(vec![djx_cmd(pg.path(), &["add", "grid.yml"], Some(url))]);
        rows.add_pg.add(secs(add), rss);
    }
    if !beyond_p8 {
        return rows;
    }

    eprintln!("P9: djx jobs, first line");
    let started = Instant::now();
    // Reaped by `wait_with_rusage` (wait4), for its peak memory.
    #[allow(clippy::zombie_processes)]
    let mut child = djx_cmd(d, &["jobs", "1"], None)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn djx jobs");
    let watch = PeakWatch::start(child.id());
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("read the first line");
    let elapsed = started.elapsed();
    let _ = child.kill();
    let (_, rss) = wait_with_rusage(child.id(), watch);
    assert!(first.starts_with("id"), "the header: {first}");
    rows.first_line.add(secs(elapsed) * 1000.0, rss);

    eprintln!("P10: djx jobs --json to the end");
    let (all, rss) = timed(vec![djx_cmd(
        d,
        &["jobs", "1", "--json", "-o", "/dev/null"],
        None,
    )]);
    rows.jobs_json.add(secs(all), rss);

    eprintln!("P11: djx ls");
    let mut ls: Vec<f64> = (0..5)
        .map(|_| secs(timed(vec![djx_cmd(d, &["ls"], None)]).0))
        .collect();
    ls.sort_by(f64::total_cmp);
    rows.ls.add(ls[2] * 1000.0, 0);

    eprintln!("P12: djx run of {jobs} jobs (minutes)");
    let (run, rss) = timed(vec![djx_cmd(
        d,
        &["run", "1", "--workers", "2", "--no-progress"],
        None,
    )]);
    rows.run.add(jobs as f64 / secs(run), rss);
    drop(dir);

    eprintln!("P13, P14: {records} records");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let per_job = records / 10;
    let yml = format!(
        "name: firehose\nmodule: {}\nlimits: {{records: {per_job}}}\njob:\n  parameter: {{points: {per_job}}}\nexperiment:\n  grid:\n    - labels.id: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n",
        djx_fixtures::FIREHOSE
    );
    std::fs::write(d.join("exp.yml"), yml).expect("write");
    timed(vec![djx_cmd(
        d,
        &["run", "exp.yml", "--workers", "2", "--no-progress"],
        None,
    )]);
    let total = (per_job * 10) as f64;
    let mut sizes = Vec::new();
    for (format, row) in [("csv", &mut rows.csv), ("parquet", &mut rows.parquet)] {
        let file = d.join(format!("records.{format}"));
        let file_arg = file.to_str().expect("utf-8");
        let (took, rss) = timed(vec![djx_cmd(
            d,
            &["records", "1", "--format", format, "-o", file_arg],
            None,
        )]);
        row.add(total / secs(took), rss);
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        sizes.push(format!(
            "{format} {:.0} MiB in {:.1} s",
            size as f64 / 1048576.0,
            secs(took)
        ));
        let _ = std::fs::remove_file(&file);
    }
    rows.notes
        .push(format!("P13/P14 files: {}", sizes.join(", ")));
    drop(dir);

    eprintln!("P15: a new directory, warm and cold compile cache");
    for (row, cold) in [(&mut rows.fresh_warm, false), (&mut rows.fresh_cold, true)] {
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("tempdir");
            bookkeeping_experiment(dir.path(), 1000);
            let empty = dir.path().join("empty-cache");
            let mut cmd = djx_cmd(
                dir.path(),
                &["run", "exp.yml", "--workers", "2", "--no-progress"],
                None,
            );
            if cold {
                cmd.env("DJX_CACHE_DIR", &empty);
            }
            let (took, rss) = timed(vec![cmd]);
            row.add(secs(took), rss);
        }
    }
    rows
}
