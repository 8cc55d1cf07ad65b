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
