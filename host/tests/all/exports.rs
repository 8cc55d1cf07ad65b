//! Exports stream: `djx records` and `djx jobs` read the store one row at a
//! time, with the columns known first from the key sets workers store.

use crate::support::*;

/// Two experiments with different keys: `roundtrip` (contexts bound and
/// unbound, several artifacts, a dataset) and `steps` (per-record context).
fn two_experiments(t: &TestDir) -> (String, String) {
    t.iris_dir("data");
    let roundtrip = t.path().join("roundtrip.yml");
    std::fs::write(
        &roundtrip,
        format!(
            "name: roundtrip\nmodule: {}\ndata:\n  iris: data/iris.csv\njob:\n  parameter: {{greeting: hi, repeat: 3, nested: {{scale: 0.5}}}}\nexperiment:\n  grid:\n    - labels.fold: [0, 1]\n      labels.note: [\"a,b\", \"say \\\"hi\\\"\"]\n",
            djx_fixtures::ROUNDTRIP
        ),
    )
    .expect("write");
    let steps = steps_experiment(t, "steps", 3, 4, 0, "");
    djx_ok(t, &["run", roundtrip.to_str().expect("utf-8")]);
    djx_ok(t, &["run", steps.to_str().expect("utf-8")]);
    let csv = djx_ok(t, &["records", "1", "2", "--format", "csv"]);
    let json = djx_ok(t, &["records", "1", "2", "--format", "json"]);
    (csv, json)
}

fn records_use_stored_key_sets_and_agree_with_reading_every_record(backend: Backend) {
    let t = TestDir::on(backend);
    let (csv, json) = two_experiments(&t);
    let header = csv.lines().next().expect("header");
    assert_eq!(
        header,
        "exp_id,job_id,event,labels.fold,labels.id,labels.note,context.datasets,context.digest,\
         context.i,context.id,context.labels,context.model,context.path,context.phase,\
         metrics.acc,metrics.rows,metrics.value,artifacts.from-file,artifacts.streamed,\
         artifacts.whole"
    );
    assert_eq!(csv.lines().count(), 1 + 2 * 5 + 3 * 4, "{csv}");
    assert!(csv.contains(r#","say ""hi""","#), "a quoted label: {csv}");
    // JSON lines: every column, in column order, null where missing.
    let first: serde_json::Value =
        serde_json::from_str(json.lines().next().expect("line")).expect("json");
    assert_eq!(first["labels.note"], "a,b");
    assert!(first["metrics.acc"].is_null());
    let line = json.lines().next().expect("line");
    assert!(
        line.starts_with(r#"{"exp_id":1,"job_id":1,"event":"dataset read","labels.fold":0,"#),
        "{line}"
    );

    // A store whose attempts have no key sets (written before djx kept
    // them) exports the same, by reading every record for the columns.
    t.sql(
        "UPDATE attempt SET key_set = NULL;",
        "UPDATE attempt SET key_set = NULL;",
    );
    assert_eq!(djx_ok(&t, &["records", "1", "2", "--format", "csv"]), csv);
    assert_eq!(djx_ok(&t, &["records", "1", "2", "--format", "json"]), json);
}

fn jobs_from_the_run_cache_share_their_sources_key_sets(backend: Backend) {
    let t = TestDir::on(backend);
    let steps = steps_experiment(&t, "steps", 3, 4, 0, "");
    djx_ok(&t, &["run", steps.to_str().expect("utf-8")]);
    djx_ok(&t, &["run", steps.to_str().expect("utf-8")]);
    let jobs = jobs_json(&t, "2");
    assert!(jobs.iter().all(|j| !j["cached_from"].is_null()), "{jobs:?}");
    let one = djx_ok(&t, &["records", "1", "--format", "csv"]);
    let two = djx_ok(&t, &["records", "2", "--format", "csv"]);
    assert_eq!(one.lines().next(), two.lines().next(), "same columns");
    assert_eq!(two.lines().count(), 1 + 12);
}

on_both_stores!(
    records_use_stored_key_sets_and_agree_with_reading_every_record,
    jobs_from_the_run_cache_share_their_sources_key_sets,
    parquet_exports_read_in_pandas_as_the_csv_exports_do,
);

/// `djx jobs` writes its first rows before it has read the last, and a
/// table stays aligned on its first thousand rows.
#[test]
fn a_long_jobs_listing_streams() {
    let t = TestDir::new();
    let ids: Vec<String> = (0..1500).map(|i| i.to_string()).collect();
    let yml = t.path().join("many.yml");
    std::fs::write(
        &yml,
        format!(
            "name: many\nmodule: {}\nexperiment:\n  grid:\n    - labels.id: [{}]\n",
            djx_fixtures::NOOP,
            ids.join(", ")
        ),
    )
    .expect("write");
    djx_ok(&t, &["add", yml.to_str().expect("utf-8")]);
    let table = djx_ok(&t, &["jobs", "1"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 1501);
    // The widths come from the first thousand rows: job 1500's key starts
    // where job 1's does (ids up to 1000 are as wide as 1500).
    let second_column = |line: &str| {
        let gap = line.find(' ').expect("a gap");
        gap + line[gap..]
            .find(|c: char| c != ' ')
            .expect("a second column")
    };
    assert_eq!(second_column(lines[1]), second_column(lines[1500]));
    assert_eq!(second_column(lines[0]), second_column(lines[1]));
    let json = jobs_json(&t, "1");
    assert_eq!(json.len(), 1500);
    assert_eq!(json[1499]["labels"]["id"], 1499);
}

/// A Python with pandas and pyarrow (`make python-tools` installs them), or
/// `None`, loudly, outside CI.
fn pandas(test: &str) -> Option<std::path::PathBuf> {
    let python = std::env::var_os("DJX_TEST_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target/python-tools/bin/python")
        });
    let works = std::process::Command::new(&python)
        .args(["-c", "import pandas, pyarrow"])
        .output()
        .is_ok_and(|o| o.status.success());
    match works {
        true => Some(python),
        false
            if std::env::var_os("CI").is_some()
                || std::env::var_os("DJX_TEST_PYTHON").is_some() =>
        {
            panic!(
                "{test}: {} cannot import pandas and pyarrow (`make python-tools`)",
                python.display()
            )
        }
        false => {
            eprintln!(
                "SKIPPED {test}: no Python with pandas and pyarrow (`make python-tools`, or set DJX_TEST_PYTHON)"
            );
            None
        }
    }
}

/// Exports `args` as CSV and as Parquet, reads both with pandas, and
/// returns the Parquet file's Arrow type per column and its JSON columns,
/// after checking that every cell agrees.
fn parquet_against_csv(
    t: &TestDir,
    python: &std::path::Path,
    name: &str,
    args: &[&str],
) -> serde_json::Value {
    let csv = t.path().join(format!("{name}.csv"));
    let parquet = t.path().join(format!("{name}.parquet"));
    for (format, file) in [("csv", &csv), ("parquet", &parquet)] {
        let mut all = args.to_vec();
        all.extend(["--format", format, "-o", file.to_str().expect("utf-8")]);
        djx_ok(t, &all);
    }
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/compare_parquet.py");
    let out = run(std::process::Command::new(python)
        .arg(script)
        .arg(&csv)
        .arg(&parquet));
    assert_exit(&out, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("the script's JSON");
    assert_eq!(
        report["mismatches"],
        serde_json::json!([]),
        "{name}: {report}"
    );
    report
}

fn parquet_exports_read_in_pandas_as_the_csv_exports_do(backend: Backend) {
    let test = "parquet_exports_read_in_pandas_as_the_csv_exports_do";
    let t = TestDir::on(backend);
    two_experiments(&t);
    // A third with values of several types in one column.
    let mixed = t.path().join("mixed.yml");
    std::fs::write(
        &mixed,
        format!(
            "name: mixed\nmodule: {}\njob:\n  parameter: {{records: 2, spin: 0}}\nexperiment:\n  grid:\n    - labels.tag: [1, x, [1, 2]]\n      parameter.lr: [1, 0.5, 1.0]\n      labels.ok: [true, false, true]\n",
            djx_fixtures::STEPS
        ),
    )
    .expect("write");
    djx_ok(&t, &["run", mixed.to_str().expect("utf-8")]);
    let Some(python) = pandas(test) else { return };

    let records = parquet_against_csv(&t, &python, "records", &["records", "1", "2", "3"]);
    let arrow = &records["arrow"];
    assert_eq!(records["rows"], 2 * 5 + 3 * 4 + 3 * 2, "{records}");
    for (column, ty) in [
        ("exp_id", "int64"),
        ("job_id", "int64"),
        ("event", "string"),
        ("labels.fold", "int64"),
        ("labels.note", "string"),
        ("labels.ok", "bool"),
        ("labels.tag", "string"),
    ] {
        assert_eq!(arrow[column], ty, "{column}: {records}");
    }
    let metrics: Vec<_> = arrow
        .as_object()
        .expect("types")
        .iter()
        .filter(|(c, _)| c.starts_with("metrics."))
        .collect();
    assert!(!metrics.is_empty());
    assert!(metrics.iter().all(|(_, ty)| *ty == "double"), "{records}");
    // Mixed values, and mappings (the roundtrip guest's context.labels),
    // are JSON text.
    assert_eq!(
        records["json_columns"],
        serde_json::json!(["context.labels", "labels.tag"]),
        "{records}"
    );
    assert_eq!(records["pandas"]["exp_id"], "int64");
    assert_eq!(records["pandas"]["metrics.value"], "float64");

    let jobs = parquet_against_csv(&t, &python, "jobs-3", &["jobs", "3"]);
    for (column, ty) in [
        ("id", "int64"),
        ("position", "int64"),
        ("key", "string"),
        ("status", "string"),
        ("duration_ms", "int64"),
        ("parameter.lr", "double"),
        ("parameter.records", "int64"),
        ("labels.tag", "string"),
    ] {
        assert_eq!(jobs["arrow"][column], ty, "{column}: {jobs}");
    }
    assert_eq!(
        jobs["json_columns"],
        serde_json::json!(["labels.tag"]),
        "{jobs}"
    );
    let jobs = parquet_against_csv(&t, &python, "jobs-1", &["jobs", "1"]);
    for (column, ty) in [
        ("parameter.greeting", "string"),
        ("parameter.repeat", "int64"),
        ("parameter.nested.scale", "double"),
        ("labels.note", "string"),
    ] {
        assert_eq!(jobs["arrow"][column], ty, "{column}: {jobs}");
    }
}

/// Runs `djx args` in `t` under a file size limit of 64 KiB (`ulimit -f
/// 64`, with SIGXFSZ ignored, so a write past it fails with EFBIG): room
/// for SQLite's 32 KiB shared-memory file, not for the exports.
fn djx_with_file_size_limit(t: &TestDir, args: &[&str]) -> std::process::Output {
    let djx = t.djx();
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["-c", "trap '' XFSZ; ulimit -f 64; exec \"$@\"", "bash"])
        .arg(djx.get_program())
        .args(args);
    for (name, value) in djx.get_envs() {
        match value {
            Some(value) => cmd.env(name, value),
            None => cmd.env_remove(name),
        };
    }
    if let Some(dir) = djx.get_current_dir() {
        cmd.current_dir(dir);
    }
    run(&mut cmd)
}

/// Issue 21: an export that failed part-way (here at a file size limit)
/// left the target cut short: a Parquet file of 2,048 bytes with no
/// footer. Every command that writes a user's file now writes a temporary
/// file beside it and renames it over the target only when it is complete.
#[test]
fn a_failed_export_leaves_the_old_file_as_it_was() {
    let t = TestDir::new();
    let steps = steps_experiment(&t, "big", 2, 20_000, 0, "");
    djx_ok(&t, &["run", steps.to_str().expect("utf-8")]);
    for (args, name) in [
        (
            &["records", "1", "--format", "parquet", "-o"][..],
            "r.parquet",
        ),
        (&["records", "1", "--format", "csv", "-o"][..], "r.csv"),
        (&["records", "1", "--format", "json", "-o"][..], "r.jsonl"),
        (&["report", "1", "-o"][..], "r.html"),
    ] {
        let target = t.path().join(name);
        std::fs::write(&target, "the old file, complete\n").expect("write");
        let mut args = args.to_vec();
        args.push(name);
        let out = djx_with_file_size_limit(&t, &args);
        assert_ne!(out.status.code(), Some(0), "{args:?} fit in 64 KiB?");
        assert!(
            stderr(&out).contains("File too large"),
            "{args:?} failed at the limit, not elsewhere: {}",
            stderr(&out)
        );
        assert_eq!(
            std::fs::read_to_string(&target).expect("read"),
            "the old file, complete\n",
            "{args:?} changed the target: {}",
            stderr(&out)
        );
        let left: Vec<String> = std::fs::read_dir(t.path())
            .expect("list")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".part"))
            .collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
        // Without the limit, the same command replaces it.
        djx_ok(&t, &args);
        let written = std::fs::read(&target).expect("read");
        assert!(
            written.len() > 64 << 10,
            "{args:?}: {} bytes",
            written.len()
        );
    }
    // `-o -` is standard output for the report too, as for the exports.
    let html = djx_ok(&t, &["report", "1", "-o", "-"]);
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "{}",
        &html[..html.len().min(80)]
    );
    assert!(!t.path().join("-").exists(), "a file named -");
}
