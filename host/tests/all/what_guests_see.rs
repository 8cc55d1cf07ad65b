//! What a guest sees is exactly what was written, and the same on every
//! machine: a number keeps the type it was written with (`1.0` once reached
//! guests as `1`), a directory lists in one order, and a file's identity
//! comes from the data, not the host's inode.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::python::python_guest;
use crate::support::*;

/// Floats and integers at every level: the base job, a zipped dimension
/// into a path that does not exist yet, merged points, created paths,
/// `1e3` and negative zero.
fn types_experiment(t: &TestDir, module: &Path) -> PathBuf {
    let yml = format!(
        r#"name: types
module: {}
job:
  labels: {{scale: 1.0, fold: 1}}
  parameter:
    mode: types
    momentum: 0.0
    lr: 0.5
    epochs: 10
    big: 9007199254740993
    thousand: 1e3
    negative_zero: -0.0
    nested: {{alpha: 2.0, list: [1, 1.0]}}
experiment:
  grid:
    - parameter.model.max_features: [1, 1.0]
    - - parameter.nested: {{alpha: 3.0}}
      - parameter.created.x: 1.0
        labels.created: 2.5
"#,
        module.display()
    );
    let path = t.path().join("types.yml");
    std::fs::write(&path, yml).expect("write types.yml");
    path
}

/// What every job of [`types_experiment`] must see, by grid position.
fn expected_types() -> Vec<Value> {
    let common = json!({
        "parameter.mode": "str types",
        "parameter.momentum": "float 0.0",
        "parameter.lr": "float 0.5",
        "parameter.epochs": "int 10",
        "parameter.big": "int 9007199254740993",
        "parameter.thousand": "float 1000.0",
        "parameter.negative_zero": "float 0.0",
        "parameter.nested.list[0]": "int 1",
        "parameter.nested.list[1]": "float 1.0",
        "labels.scale": "float 1.0",
        "labels.fold": "int 1",
    });
    let mut jobs = Vec::new();
    for max_features in ["int 1", "float 1.0"] {
        for point in 0..2 {
            let mut seen = common.clone();
            let map = seen.as_object_mut().expect("object");
            map.insert("parameter.model.max_features".into(), max_features.into());
            map.insert("labels.max_features".into(), max_features.into());
            if point == 0 {
                map.insert("parameter.nested.alpha".into(), "float 3.0".into());
            } else {
                map.insert("parameter.nested.alpha".into(), "float 2.0".into());
                map.insert("parameter.created.x".into(), "float 1.0".into());
                map.insert("labels.created".into(), "float 2.5".into());
            }
            jobs.push(seen);
        }
    }
    jobs
}

/// Adds and runs the types experiment of `module`; checks what each job saw
/// and how the CLI prints it.
fn check_types(t: &TestDir, module: &Path) {
    let yml = types_experiment(t, module);
    let out = run(t.djx().arg("run").arg(&yml));
    assert_exit(&out, 0);
    let seen: Vec<Value> = records_json(t, "last")
        .into_iter()
        .filter(|r| r["event"] == "types")
        .map(|r| r["context.seen"].clone())
        .collect();
    assert_eq!(seen, expected_types(), "what the guest read");

    // Keys follow types: four jobs, four keys (max_features 1 and 1.0 differ).
    let jobs = jobs_json(t, "last");
    let mut keys: Vec<&str> = jobs
        .iter()
        .map(|j| j["key"].as_str().expect("key"))
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 4, "{jobs:?}");

    // The CLI prints every number as written.
    let jobs_text = djx_ok(t, &["jobs", "last", "--json"]);
    assert!(jobs_text.contains(r#""max_features":1.0"#), "{jobs_text}");
    assert!(jobs_text.contains(r#""max_features":1}"#), "{jobs_text}");
    assert!(jobs_text.contains(r#""thousand":1000.0"#), "{jobs_text}");
    assert!(jobs_text.contains(r#""momentum":0.0"#), "{jobs_text}");
    let first = jobs[2]["id"].to_string();
    let show = djx_ok(t, &["show", &first]);
    assert!(show.contains(r#""max_features": 1.0"#), "{show}");
    assert!(show.contains(r#""negative_zero": 0.0"#), "{show}");
    let csv = djx_ok(t, &["records", "last", "--format", "csv"]);
    let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
    let column = header
        .iter()
        .position(|h| *h == "labels.max_features")
        .expect("labels.max_features column");
    let values: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(column).unwrap_or_default().to_owned())
        .collect();
    assert_eq!(values, ["1", "1", "1.0", "1.0"], "{csv}");
}

/// Each store this test run has.
fn backends(test: &str) -> Vec<Backend> {
    std::iter::once(Backend::Sqlite)
        .chain(Backend::postgres(test))
        .collect()
}

/// The Rust guest `sees`: number types on both stores.
#[test]
pub fn sees() {
    for backend in backends("sees") {
        check_types(&TestDir::on(backend), Path::new(djx_fixtures::SEES));
    }
}

#[test]
fn a_python_guest_gets_a_float_for_every_float_written() {
    let Some(module) = python_guest(
        "a_python_guest_gets_a_float_for_every_float_written",
        "tests/guests-python/probe",
    ) else {
        return;
    };
    for backend in backends("a_python_guest_gets_a_float_for_every_float_written") {
        check_types(&TestDir::on(backend), &module);
    }
}

/// A dataset directory of `n` files and a subdirectory, created in
/// `reverse` order or not.
fn dataset_dir(at: &Path, reverse: bool) {
    let mut names: Vec<String> = (0..24)
        .map(|i| format!("f{:02}-{}.csv", i, i * 7 % 5))
        .collect();
    names.push("sub".into());
    if reverse {
        names.reverse();
    }
    std::fs::create_dir_all(at).expect("mkdir");
    for name in names {
        if name == "sub" {
            std::fs::create_dir(at.join("sub")).expect("mkdir sub");
            std::fs::write(at.join("sub/inner.csv"), "1\n").expect("write");
        } else {
            // Equal content in several files: identity must still differ.
            std::fs::write(at.join(&name), format!("{}\n", name.len() % 3)).expect("write");
        }
    }
}

/// The entries of `dir` in the host's order.
fn host_order(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// Runs the `listing` mode of `module` on a dataset created in `reverse`
/// order under `base`, with its data store there too; returns what the
/// guest listed, the job's result digest, and the host's order of the
/// stored dataset.
fn listing_run(module: &Path, base: &Path, reverse: bool) -> (Vec<String>, String, Vec<String>) {
    let t = TestDir::new();
    let source = base.join("dataset");
    let data_store = base.join("store");
    dataset_dir(&source, reverse);
    let yml = t.path().join("listing.yml");
    std::fs::write(
        &yml,
        format!(
            "name: listing\nmodule: {}\ndata:\n  data: {}\njob:\n  parameter: {{mode: listing}}\n",
            module.display(),
            source.display()
        ),
    )
    .expect("write");
    let out = run(t
        .djx()
        .arg("run")
        .arg(&yml)
        .env("DJX_DATA_STORE", &data_store));
    assert_exit(&out, 0);
    let records = records_json(&t, "last");
    let entries: Vec<String> = records[0]["context.entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e.as_str().expect("entry").to_owned())
        .collect();
    let digest = jobs_json(&t, "last")[0]["result_digest"]
        .as_str()
        .expect("result digest")
        .to_owned();
    let stored = std::fs::read_dir(&data_store)
        .expect("data store")
        .map(|e| e.expect("entry").path())
        .find(|p| {
            p.is_dir()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .expect("the stored dataset");
    (entries, digest, host_order(&stored))
}

/// Where the two datasets of a listing test and their data stores live:
/// one on tmpfs, which lists entries in reverse creation order and gives a
/// directory the size of its entries, and one on the temp dir's file
/// system (ext4 here: hash order, 4096-byte directories). The datasets are
/// created in opposite orders too.
fn listing_stores() -> (tempfile::TempDir, tempfile::TempDir) {
    let shm = Path::new("/dev/shm");
    let on_tmpfs = match shm.is_dir() {
        true => tempfile::Builder::new()
            .prefix("djx-listing-")
            .tempdir_in(shm),
        false => tempfile::Builder::new().prefix("djx-listing-").tempdir(),
    };
    let on_disk = tempfile::Builder::new().prefix("djx-listing-").tempdir();
    (on_tmpfs.expect("store dir"), on_disk.expect("store dir"))
}

fn check_listing(module: &Path) {
    let (a, b) = listing_stores();
    let (seen_a, digest_a, host_a) = listing_run(module, a.path(), false);
    let (seen_b, digest_b, host_b) = listing_run(module, b.path(), true);
    // The test means something only if the host gives two orders (and two
    // sets of inodes: the stores are separate copies).
    assert_ne!(host_a, host_b, "the host lists both imports in one order");
    assert_eq!(seen_a, seen_b, "the guest saw another listing");
    assert_eq!(digest_a, digest_b, "another result digest");
    // Sorted byte-wise, depth first; identities differ for equal contents.
    let paths: Vec<&str> = seen_a
        .iter()
        .map(|e| e.split(' ').next().unwrap_or(""))
        .collect();
    let mut top: Vec<&str> = paths
        .iter()
        .copied()
        .filter(|p| !p.contains("/sub/"))
        .collect();
    let listed = top.clone();
    top.sort();
    assert_eq!(listed, top, "listed in name order");
    assert_eq!(paths.len(), 26, "{seen_a:?}");
    let mut inodes: Vec<&str> = seen_a
        .iter()
        .map(|e| e.split(' ').nth(1).unwrap_or(""))
        .collect();
    inodes.sort();
    inodes.dedup();
    assert_eq!(inodes.len(), 26, "every path its own identity: {seen_a:?}");
}

#[test]
fn a_rust_guest_lists_a_dataset_the_same_on_every_host() {
    check_listing(Path::new(djx_fixtures::SEES));
}

#[test]
fn a_python_guest_lists_a_dataset_the_same_on_every_host() {
    let Some(module) = python_guest(
        "a_python_guest_lists_a_dataset_the_same_on_every_host",
        "tests/guests-python/probe",
    ) else {
        return;
    };
    check_listing(&module);
}

/// The experiment of the store file `tests/data/store-before-typed-numbers.db`,
/// with `one` and `zero` for its `1.0` and `-0.0`: djx 0.1.0 added it
/// twice (`labels.id` 0..3, then 3..5) with floats, running only the first.
fn old_store_experiment(t: &TestDir, module: &Path, one: &str, zero: &str) -> PathBuf {
    let path = t.path().join(format!("old-{one}.yml"));
    let yml = format!(
        "name: before typed numbers\nmodule: {}\njob:\n  labels: {{scale: {one}}}\n  parameter: {{records: 2, spin: 0, alpha: {one}, beta: 0.5, gamma: {zero}, big: 1000}}\nexperiment:\n  grid:\n    - labels.id: [0, 1, 2]\n",
        module.display()
    );
    std::fs::write(&path, yml).expect("write");
    path
}

/// A store written by djx 0.1.0, before numbers kept their types (it stored
/// and hashed `1.0` as `1`): its keys still match their stored inputs, its
/// unfinished jobs run, its results verify, and they stay run-cache entries
/// for new jobs of the same values, but not for jobs with floats.
#[test]
fn a_store_written_before_typed_numbers_stays_valid() {
    let t = TestDir::new();
    std::fs::create_dir_all(t.path().join(".djx")).expect("mkdir");
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/store-before-typed-numbers.db");
    std::fs::copy(&fixture, t.sqlite_db()).expect("copy the old store");

    let out = run(t.djx().arg("fsck"));
    assert_exit(&out, 0);
    let out = run(t.djx().args(["verify", "1"]));
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("3 identical, 0 different"),
        "{}",
        stdout(&out)
    );
    // The jobs added but never run: no worker refuses them as edited.
    let out = run(t.djx().args(["run", "2"]));
    assert_exit(&out, 0);
    for job in jobs_json(&t, "2") {
        assert_eq!(job["status"], "FINISHED", "{job}");
        // Stored as that version wrote them.
        assert_eq!(job["parameter"]["alpha"], json!(1), "{job}");
        assert!(job["parameter"]["alpha"].is_u64(), "{job}");
    }
    let out = run(t.djx().arg("fsck"));
    assert_exit(&out, 0);

    // The same experiment added now. With integers the guest sees what the
    // old jobs' guests saw: same keys, results reused. With `1.0` it sees
    // floats: new keys, run again.
    let store = t.store();
    let digest = store
        .experiment(1)
        .expect("experiment 1")
        .locked
        .module_digest;
    let wasm = store
        .module(&digest)
        .expect("read module")
        .expect("module stored");
    let module = t.path().join("old-steps.wasm");
    std::fs::write(&module, wasm).expect("write module");
    let ints = old_store_experiment(&t, &module, "1", "0");
    assert_exit(&run(t.djx().arg("run").arg(&ints)), 0);
    let cached: Vec<Value> = jobs_json(&t, "last")
        .iter()
        .map(|j| j["cached_from"].clone())
        .collect();
    assert_eq!(
        cached,
        [json!(1), json!(2), json!(3)],
        "reused from experiment 1"
    );
    let floats = old_store_experiment(&t, &module, "1.0", "-0.0");
    assert_exit(&run(t.djx().arg("run").arg(&floats)), 0);
    for job in jobs_json(&t, "last") {
        assert!(
            job["cached_from"].is_null(),
            "a float job reused an int result: {job}"
        );
        assert_eq!(job["status"], "FINISHED", "{job}");
        assert!(job["parameter"]["alpha"].is_f64(), "{job}");
    }
}
