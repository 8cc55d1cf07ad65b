//! Golden files for experiment parsing and grid expansion: each
//! `tests/specs/<case>.yml` has a `<case>.json` (the expanded jobs) or a
//! `<case>.err` (the error) beside it, and a `<case>.warn` (the warnings,
//! one per line) when parsing warns. A new case is two new files. Files
//! that cases extend live in `tests/specs/extends/`.
//! `DJX_BLESS=1 cargo test spec_golden` rewrites the expected files.

use std::path::{Path, PathBuf};

use djx_host::experiment::spec::{expand, parse_str};

fn specs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/specs")
}

/// The expanded jobs as pretty JSON, or the error text; and the warnings.
fn evaluate(name: &str, text: String) -> (String, &'static str, String) {
    // Paths relative to the specs directory, so expected errors do not
    // depend on the checkout.
    let dir = format!("{}/", specs_dir().display());
    let show = |e: &dyn std::fmt::Display| format!("{e}\n").replace(&dir, "");
    let parsed = match parse_str(&specs_dir().join(name), text) {
        Ok(parsed) => parsed,
        Err(e) => return (show(&e), "err", String::new()),
    };
    let warnings: String = parsed.warnings.iter().map(|w| show(w)).collect();
    match expand(&parsed) {
        Ok(jobs) => (
            serde_json::to_string_pretty(&jobs).expect("jobs serialise") + "\n",
            "json",
            warnings,
        ),
        Err(e) => (show(&e), "err", warnings),
    }
}

#[test]
fn golden_files() {
    let bless = std::env::var_os("DJX_BLESS").is_some();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(specs_dir())
        .expect("tests/specs")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "golden cases are missing");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        let text = std::fs::read_to_string(case).expect("read case");
        let (actual, kind, warnings) = evaluate(&name, text);
        let expected_path = case.with_extension(kind);
        let other = case.with_extension(if kind == "json" { "err" } else { "json" });
        let warn_path = case.with_extension("warn");
        if bless {
            std::fs::write(&expected_path, &actual).expect("bless");
            let _ = std::fs::remove_file(&other);
            if warnings.is_empty() {
                let _ = std::fs::remove_file(&warn_path);
            } else {
                std::fs::write(&warn_path, &warnings).expect("bless");
            }
            continue;
        }
        let expected_warnings = std::fs::read_to_string(&warn_path).unwrap_or_default();
        if expected_warnings != warnings {
            failures.push(format!(
                "{name}: expected warnings\n{expected_warnings}\ngot\n{warnings}"
            ));
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!("{name}: expected\n{expected}\ngot\n{actual}")),
            Err(_) => failures.push(format!(
                "{name}: gave a .{kind} result but {} does not exist (other kind exists: {})\n{actual}",
                expected_path.display(),
                other.exists()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n----\n"));
}

#[test]
fn the_original_iris_example_expands_to_36_jobs_in_order() {
    let text = std::fs::read_to_string(specs_dir().join("original_iris.yml")).expect("read");
    let parsed = parse_str(Path::new("original_iris.yml"), text).expect("parses");
    let jobs = expand(&parsed).expect("expands");
    assert_eq!(jobs.len(), 36);
    // First dimension slowest, last fastest.
    let key = |j: &djx_host::experiment::spec::ExpandedJob| {
        (
            j.parameter["cross_val_args"]["random_state"]
                .as_i64()
                .expect("int"),
            j.parameter["model_args"]["max_depth"]
                .as_i64()
                .expect("int"),
            j.labels["min_samples"].as_str().expect("str").to_owned(),
        )
    };
    assert_eq!(key(&jobs[0]), (0, 2, "few_split_only".into()));
    assert_eq!(key(&jobs[1]), (0, 2, "many_split_only".into()));
    assert_eq!(key(&jobs[4]), (0, 4, "few_split_only".into()));
    assert_eq!(key(&jobs[12]), (1, 2, "few_split_only".into()));
    assert_eq!(key(&jobs[35]), (2, 6, "many_both".into()));
    // The single-key dimension labels itself; the zipped one does not.
    assert_eq!(jobs[5].labels["max_depth"], 4);
    assert!(jobs[0].labels.get("random_state").is_none());
    // The list dimension merges: n_estimators and random_state stay.
    let model = &jobs[35].parameter["model_args"];
    assert_eq!(model["n_estimators"], 100);
    assert_eq!(model["min_samples_split"], 40);
    assert_eq!(model["min_samples_leaf"], 20);
    assert_eq!(model["max_depth"], 6);
    assert_eq!(jobs[0].parameter["save"], true);
    assert_eq!(jobs[12].parameter["save"], false);
    // The stray `save: false` under `job` is a warning, not a parameter.
    assert_eq!(parsed.warnings.len(), 1);
    assert!(
        parsed.warnings[0]
            .to_string()
            .contains("original_iris.yml:29: job.save: ignored"),
        "{}",
        parsed.warnings[0]
    );
}
