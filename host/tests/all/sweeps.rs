//! Sweeps beyond grids, through the real binary: random search, successive
//! halving (rungs added by the workers, exactly once, the same on every
//! store and with any number of workers), experiment files that extend
//! others, and `djx add --dry-run`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::*;

on_both_stores!(
    random_search_dry_run_add_and_run_agree,
    halving_promotes_the_best_configurations,
    a_metric_no_job_records_stops_the_sweep,
    a_bad_sweep_writes_nothing,
    of_racing_workers_exactly_one_adds_a_rung
);

/// A halving sweep of the `score` guest: 9 samples of `x` on a grid of two
/// offsets, budgets 1, 3 and 9: 18 + 6 + 2 jobs. `metric` is the metric it
/// ranks by (the guest records `score`).
fn halving_experiment(t: &TestDir, name: &str, metric: &str) -> PathBuf {
    let yml = format!(
        "name: {name}
module: {}
job:
  parameter: {{x: 0.0, budget: 0}}
experiment:
  grid:
    - parameter.offset: [0.0, 0.01]
  random:
    samples: 9
    seed: 5
    space:
      parameter.x: {{uniform: [0.0, 1.0]}}
  halving:
    metric: {metric}
    mode: max
    budget: parameter.budget
    min: 1
    max: 9
    eta: 3
",
        djx_fixtures::SCORE
    );
    let path = t.path().join(format!("{name}.yml"));
    std::fs::write(&path, yml).expect("write experiment");
    path
}

fn text(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// What must be the same wherever and however a sweep ran: per job, its
/// position, labels, parameters, key and result digest.
fn outcome(t: &TestDir, exp: &str) -> Vec<Value> {
    jobs_json(t, exp)
        .into_iter()
        .map(|j| {
            serde_json::json!([
                j["position"],
                j["labels"],
                j["parameter"],
                j["key"],
                j["result_digest"]
            ])
        })
        .collect()
}

/// Each rung's number, first position, job count and samples, from
/// `djx ls --json`.
fn rungs(t: &TestDir, exp: i64) -> Vec<Value> {
    let listing = djx_ok(t, &["ls", "--json"]);
    let e: Value = listing
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .find(|e| e["id"] == exp)
        .expect("the experiment is listed");
    e["rungs"]
        .as_array()
        .expect("rungs")
        .iter()
        .map(|r| {
            serde_json::json!([
                r["rung"],
                r["rungs"],
                r["first_position"],
                r["jobs"],
                r["samples"],
                r["stopped"]
            ])
        })
        .collect()
}

fn random_search_dry_run_add_and_run_agree(backend: Backend) {
    let t = TestDir::on(backend.clone());
    let yml = format!(
        "name: random
module: {}
job:
  parameter: {{x: 0.0}}
experiment:
  grid:
    - parameter.offset: [0.0, 0.5]
  random:
    samples: 4
    seed: 11
    space:
      parameter.x: {{uniform: [0.0, 1.0]}}
      parameter.budget: {{intlog: [1, 100]}}
      labels.kind: {{choice: [a, b, {{c: 1}}]}}
",
        djx_fixtures::SCORE
    );
    std::fs::write(t.path().join("random.yml"), yml).expect("write");

    // The dry run writes nothing: no store, no data, no compiled module.
    let dry = run(t.djx().args(["add", "--dry-run", "--json", "random.yml"]));
    assert_exit(&dry, 0);
    let planned = json_lines(&dry);
    assert!(
        stderr(&dry).contains("dry run: 8 jobs; nothing was written"),
        "{}",
        stderr(&dry)
    );
    if let Backend::Sqlite = backend {
        assert!(!t.path().join(".djx").exists(), "the dry run wrote .djx/");
    }
    assert_eq!(djx_ok(&t, &["ls", "--json"]), "", "no experiment was added");
    let table = djx_ok(&t, &["add", "--dry-run", "random.yml"]);
    assert_eq!(table.lines().count(), 9, "8 jobs and the count:\n{table}");
    assert!(
        table.ends_with("dry run: 8 jobs; nothing was written\n"),
        "{table}"
    );

    djx_ok(&t, &["add", "random.yml"]);
    let jobs = jobs_json(&t, "1");
    assert_eq!(planned.len(), 8);
    assert_eq!(jobs.len(), 8);
    for (plan, job) in planned.iter().zip(&jobs) {
        // The format of `djx jobs --json`, with no ids yet.
        let keys = |v: &Value| {
            v.as_object()
                .expect("object")
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(plan), keys(job));
        assert_eq!(plan["id"], Value::Null);
        for field in ["position", "labels", "parameter", "key", "status"] {
            assert_eq!(plan[field], job[field], "{field}");
        }
    }
    // Grid first (slowest), then the samples; ints stay ints, floats floats.
    let seen: Vec<(f64, i64)> = jobs
        .iter()
        .map(|j| {
            (
                j["parameter"]["offset"].as_f64().expect("offset"),
                j["labels"]["sample"].as_i64().expect("sample"),
            )
        })
        .collect();
    let expected: Vec<(f64, i64)> = [0.0, 0.5]
        .iter()
        .flat_map(|&o| (0..4).map(move |s| (o, s)))
        .collect();
    assert_eq!(seen, expected);
    for j in &jobs {
        assert!(j["parameter"]["x"].is_f64(), "{j}");
        assert!(j["parameter"]["budget"].is_i64(), "{j}");
        // The same sample has the same values on every grid point.
        let twin = &jobs[(j["position"].as_u64().expect("position") as usize + 4) % 8];
        assert_eq!(j["parameter"]["x"], twin["parameter"]["x"]);
        assert_eq!(j["labels"]["kind"], twin["labels"]["kind"]);
    }
    let out = run(t.djx().args(["run", "1", "--workers", "2"]));
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("8 finished, 0 failed"),
        "{}",
        stdout(&out)
    );
}

/// The samples each rung runs, from the jobs' labels.
fn samples_by_rung(jobs: &[Value]) -> BTreeMap<u64, BTreeSet<u64>> {
    let mut by_rung: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
    for j in jobs {
        by_rung
            .entry(j["labels"]["rung"].as_u64().expect("rung"))
            .or_default()
            .insert(j["labels"]["sample"].as_u64().expect("sample"));
    }
    by_rung
}

pub fn halving_promotes_the_best_configurations(backend: Backend) {
    let t = TestDir::on(backend);
    let yml = halving_experiment(&t, "halving", "score");
    let out = run(t.djx().args(["add", text(&yml)]));
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("18 jobs in rung 0 of 3 of the halving sweep (budget 1)"),
        "{}",
        stdout(&out)
    );
    let out = run(t.djx().args(["run", "1", "--workers", "2"]));
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("26 finished, 0 failed"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("halving sweep done at rung 2 of rungs 0-2 (budget 9)"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("rung 1 of rungs 0-2 (budget 3) added, 6 jobs"));

    let jobs = jobs_json(&t, "1");
    assert_eq!(jobs.len(), 26);
    let by_rung = samples_by_rung(&jobs);
    assert_eq!(by_rung[&0].len(), 9);
    assert_eq!(by_rung[&1].len(), 3);
    assert_eq!(by_rung[&2].len(), 1);
    for j in &jobs {
        let rung = j["labels"]["rung"].as_u64().expect("rung");
        assert_eq!(j["parameter"]["budget"], [1, 3, 9][rung as usize], "{j}");
        assert_eq!(j["status"], "FINISHED");
    }

    // Each rung promotes the best third by the mean of the last `score` its
    // configuration recorded over the grid, as computed here from records.
    let mut last: BTreeMap<i64, f64> = BTreeMap::new();
    for r in records_json(&t, "1") {
        last.insert(
            r["job_id"].as_i64().expect("job"),
            r["metrics.score"].as_f64().expect("score"),
        );
    }
    for rung in [0u64, 1] {
        let mut means: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
        for j in jobs.iter().filter(|j| j["labels"]["rung"] == rung) {
            means
                .entry(j["labels"]["sample"].as_u64().expect("sample"))
                .or_default()
                .push(last[&j["id"].as_i64().expect("id")]);
        }
        let mut ranked: Vec<(u64, f64)> = means
            .iter()
            .map(|(s, v)| (*s, v.iter().sum::<f64>() / v.len() as f64))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let keep = (ranked.len() / 3).max(1);
        let best: BTreeSet<u64> = ranked[..keep].iter().map(|(s, _)| *s).collect();
        assert_eq!(by_rung[&(rung + 1)], best, "promoted after rung {rung}");
    }
    // And they are the samples whose x is closest to 0.3, the guest's best.
    let mut by_x: Vec<(f64, u64)> = jobs
        .iter()
        .filter(|j| j["labels"]["rung"] == 0 && j["labels"]["offset"] == 0.0)
        .map(|j| {
            let x = j["parameter"]["x"].as_f64().expect("x");
            (
                (x - 0.3).abs(),
                j["labels"]["sample"].as_u64().expect("sample"),
            )
        })
        .collect();
    by_x.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(by_rung[&2], BTreeSet::from([by_x[0].1]));

    // The listings show the rungs.
    let listing = djx_ok(&t, &["ls"]);
    assert!(listing.contains("rung 2, last 2"), "{listing}");
    let table = djx_ok(&t, &["jobs", "1"]);
    assert!(table.contains("rung=1"), "{table}");
    assert!(
        table.contains("rung 1: budget 3, 3 configurations (samples "),
        "{table}"
    );
    assert!(
        table.contains("rung 2: budget 9, 1 configuration (sample "),
        "{table}"
    );
    // A second run has nothing to do and adds no rung.
    let out = run(t.djx().args(["run", "1"]));
    assert_exit(&out, 0);
    assert_eq!(jobs_json(&t, "1").len(), 26);
}

fn a_metric_no_job_records_stops_the_sweep(backend: Backend) {
    let t = TestDir::on(backend);
    let yml = halving_experiment(&t, "typo", "scroe");
    djx_ok(&t, &["add", text(&yml)]);
    let out = run(t.djx().args(["run", "1", "--workers", "2"]));
    assert_exit(&out, 1);
    let reason = "halving stopped after rung 0: no job of the rung recorded the metric `scroe`; \
                  nothing was promoted";
    assert!(stderr(&out).contains(reason), "{}", stderr(&out));
    assert!(stdout(&out).contains(reason), "{}", stdout(&out));
    let jobs = jobs_json(&t, "1");
    assert_eq!(jobs.len(), 18, "nothing was promoted");
    for j in &jobs {
        assert_eq!(j["status"], "FINISHED");
        assert_eq!(
            j["reason"], reason,
            "the reason is on every job of the rung"
        );
    }
    assert!(djx_ok(&t, &["ls"]).contains("stopped at rung 0"));
    assert_eq!(rungs(&t, 1)[0][5], reason);
    // Running again changes nothing.
    let out = run(t.djx().args(["run", "1"]));
    assert_eq!(jobs_json(&t, "1").len(), 18, "{}", stderr(&out));
}

fn a_bad_sweep_writes_nothing(backend: Backend) {
    let t = TestDir::on(backend);
    let good = halving_experiment(&t, "good", "score");
    djx_ok(&t, &["add", text(&good)]);
    let before = djx_ok(&t, &["ls", "--json"]);
    for (body, expected) in [
        (
            "parameter.x: {normal: [0, 1]}",
            "unknown distribution `normal`",
        ),
        ("parameter.x: {int: [1.5, 3]}", "bounds are integers"),
        ("parameter.x: {int: [5, 3]}", "5 is above 3"),
        ("parameter.x: {loguniform: [0.0, 1.0]}", "must be above 0"),
    ] {
        let yml = std::fs::read_to_string(&good)
            .expect("read")
            .replace("parameter.x: {uniform: [0.0, 1.0]}", body);
        std::fs::write(t.path().join("bad.yml"), yml).expect("write");
        let out = run(t.djx().args(["add", "bad.yml"]));
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("bad.yml:12: experiment.random.space.parameter.x: ")
                && stderr(&out).contains(expected),
            "{}",
            stderr(&out)
        );
    }
    for (from, to, expected) in [
        (
            "samples: 9",
            "samples: 0",
            "bad.yml:9: experiment.random.samples",
        ),
        (
            "    budget: parameter.budget\n",
            "",
            "bad.yml:13: experiment.halving: halving needs `budget:`",
        ),
        ("eta: 3", "eta: 1", "bad.yml:19: experiment.halving.eta"),
        (
            "budget: parameter.budget",
            "budget: parameter.offset",
            "is also set by experiment.grid[0]",
        ),
        (
            "budget: parameter.budget",
            "budget: parameter.x",
            "is also set by experiment.random.space",
        ),
    ] {
        let yml = std::fs::read_to_string(&good)
            .expect("read")
            .replace(from, to);
        std::fs::write(t.path().join("bad.yml"), yml).expect("write");
        let out = run(t.djx().args(["add", "bad.yml"]));
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains(expected),
            "{from} → {to}: {}",
            stderr(&out)
        );
    }
    assert_eq!(djx_ok(&t, &["ls", "--json"]), before, "nothing was written");
}

/// Runs the halving sweep in a fresh test dir: `runs` processes of `djx run
/// 1 --workers <workers>` at once (or, with `workers` 0, three `djx worker
/// --until-empty` processes); returns what every job ended as, and the
/// rungs.
fn sweep_on(backend: Backend, runs: usize, workers: usize) -> (Vec<Value>, Vec<Value>) {
    let t = TestDir::on(backend);
    let yml = halving_experiment(&t, "same", "score");
    djx_ok(&t, &["add", text(&yml)]);
    let children: Vec<_> = (0..runs)
        .map(|_| {
            let mut cmd = t.djx();
            if workers == 0 {
                cmd.args(["worker", "--until-empty", "--slots", "2", "--poll", "200ms"]);
            } else {
                cmd.args([
                    "run",
                    "1",
                    "--no-progress",
                    "--workers",
                    &workers.to_string(),
                ]);
            }
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn djx")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert_exit(&out, 0);
    }
    let outcome = outcome(&t, "1");
    assert_eq!(outcome.len(), 26, "each rung was added exactly once");
    let positions: Vec<u64> = outcome
        .iter()
        .map(|o| o[0].as_u64().expect("pos"))
        .collect();
    assert_eq!(positions, (0..26).collect::<Vec<_>>());
    (outcome, rungs(&t, 1))
}

#[test]
fn sweeps_agree_across_stores_runs_and_racing_workers() {
    let (one, rungs_one) = sweep_on(Backend::Sqlite, 1, 1);
    assert_eq!(rungs_one.len(), 3);
    let digests: BTreeSet<String> = one.iter().map(|o| o[4].to_string()).collect();
    assert_eq!(
        digests.len(),
        26,
        "every job has a result digest of its own"
    );
    let racing = sweep_on(Backend::Sqlite, 3, 2);
    assert_eq!(
        (&one, &rungs_one),
        (&racing.0, &racing.1),
        "3 racing runs on SQLite"
    );
    if let Some(pg) = Backend::postgres("sweeps_agree_across_stores_runs_and_racing_workers") {
        let workers = sweep_on(pg.clone(), 3, 0);
        assert_eq!(
            (&one, &rungs_one),
            (&workers.0, &workers.1),
            "3 racing workers on PostgreSQL"
        );
        let single = sweep_on(pg, 1, 4);
        assert_eq!(
            (&one, &rungs_one),
            (&single.0, &single.1),
            "PostgreSQL, 4 slots"
        );
    }

    // Added again to the same store, the sweep runs from the run-cache, rung
    // after rung, and ends the same.
    let t = TestDir::new();
    let yml = halving_experiment(&t, "same", "score");
    djx_ok(&t, &["run", text(&yml)]);
    djx_ok(&t, &["add", text(&yml)]);
    let again = djx_ok(&t, &["run", "2", "--workers", "2"]);
    assert!(again.contains("26 jobs from the run-cache"), "{again}");
    // Keys and all but the result digests, which the cache links.
    let strip = |o: Vec<Value>| -> Vec<Value> {
        o.into_iter()
            .map(|o| Value::from(o.as_array().expect("array")[..4].to_vec()))
            .collect()
    };
    let key_of_first = outcome(&t, "1");
    let key_of_second = outcome(&t, "2");
    assert_eq!(strip(key_of_first.clone()), strip(one.clone()));
    assert_eq!(strip(key_of_second), strip(key_of_first));
}

#[test]
fn extends_resolves_paths_per_file_and_records_every_file() {
    let t = TestDir::new();
    let shared = t.path().join("shared");
    let exps = t.path().join("exps");
    std::fs::create_dir_all(&shared).expect("mkdir");
    std::fs::create_dir_all(&exps).expect("mkdir");
    std::fs::copy(djx_fixtures::SCORE, shared.join("score.wasm")).expect("copy module");
    std::fs::write(shared.join("notes.txt"), "shared data\n").expect("write data");
    std::fs::write(
        shared.join("base.yml"),
        "# The module and data are relative to this file.
module: score.wasm
data:
  notes: notes.txt
job:
  parameter: {x: 0.5, budget: 10}
limits: {timeout: 30s}
",
    )
    .expect("write base");
    std::fs::write(
        exps.join("child.yml"),
        "extends: ../shared/base.yml
name: child
job:
  parameter: {x: 0.25}
experiment:
  grid:
    - parameter.offset: [0.0, 1.0]
",
    )
    .expect("write child");
    let out = run(t.djx().args(["run", "exps/child.yml"]));
    assert_exit(&out, 0);
    let jobs = jobs_json(&t, "1");
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        jobs[0]["parameter"],
        serde_json::json!({"x": 0.25, "budget": 10, "offset": 0.0})
    );
    let show = djx_ok(&t, &["show", "1"]);
    assert!(
        show.contains(&format!(
            "  extends  exps/../shared/base.yml {}",
            b3(&shared.join("base.yml"))
        )),
        "{show}"
    );
    assert!(show.contains(&format!(
        "  file     exps/child.yml {}",
        b3(&exps.join("child.yml"))
    )));
    assert!(
        show.contains(&b3(&shared.join("notes.txt"))),
        "the dataset: {show}"
    );
    let json: Value = serde_json::from_str(&djx_ok(&t, &["show", "1", "--json"])).expect("json");
    let files = json["experiment"]["provenance"]["files"]
        .as_array()
        .expect("files")
        .clone();
    assert_eq!(files.len(), 2);

    // Errors name the file that wrote the key, and write nothing.
    std::fs::write(
        shared.join("bad.yml"),
        "module: score.wasm
experiment:
  random:
    samples: 2
    seed: 1
    space:
      parameter.x: {int: [3, 1]}
",
    )
    .expect("write");
    std::fs::write(
        exps.join("bad.yml"),
        "extends: ../shared/bad.yml\nname: bad\n",
    )
    .expect("write");
    std::fs::write(exps.join("a.yml"), "extends: b.yml\nname: a\n").expect("write");
    std::fs::write(exps.join("b.yml"), "extends: [../shared/base.yml, a.yml]\n").expect("write");
    std::fs::write(exps.join("lost.yml"), "name: lost\nextends: nowhere.yml\n").expect("write");
    for (file, expected) in [
        (
            "exps/bad.yml",
            "exps/../shared/bad.yml:7: experiment.random.space.parameter.x: `int` bounds are [low, high]: 3 is above 1",
        ),
        (
            "exps/a.yml",
            "exps/b.yml:1: extends[1]: the files extend each other in a cycle: exps/a.yml → exps/b.yml → exps/a.yml",
        ),
        (
            "exps/lost.yml",
            "exps/lost.yml:2: extends: cannot read exps/nowhere.yml, which this file extends",
        ),
    ] {
        let out = run(t.djx().args(["add", file]));
        assert_exit(&out, 2);
        assert!(stderr(&out).contains(expected), "{file}: {}", stderr(&out));
    }
    assert_eq!(djx_ok(&t, &["ls", "--json"]).lines().count(), 1);
}

/// Copies the iris example's experiment files into the test dir, the base
/// file's module pointing at the built iris guest.
fn iris_examples(t: &TestDir) {
    iris_experiment(t);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/iris");
    for file in ["iris-random.yml", "iris-halving.yml"] {
        std::fs::copy(dir.join(file), t.path().join(file)).expect("copy example");
    }
}

#[test]
fn the_iris_random_and_halving_examples_run() {
    let t = TestDir::new();
    iris_examples(&t);
    let out = run(t.djx().args(["run", "iris-random.yml", "--workers", "2"]));
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("60 finished, 0 failed"),
        "{}",
        stdout(&out)
    );
    // The base file's keys all count: none is ignored with a warning.
    assert!(!stderr(&out).contains("ignored"), "{}", stderr(&out));
    let out = run(t.djx().args(["run", "iris-halving.yml", "--workers", "2"]));
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("120 finished, 0 failed"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains(
            "halving sweep done at rung 3 of rungs 0-3 (budget 270); best configuration: sample"
        ),
        "{}",
        stdout(&out)
    );
    let jobs = jobs_json(&t, "2");
    let by_rung = samples_by_rung(&jobs);
    let sizes: Vec<usize> = by_rung.values().map(BTreeSet::len).collect();
    assert_eq!(sizes, [27, 9, 3, 1]);
    for j in &jobs {
        let rung = j["labels"]["rung"].as_u64().expect("rung") as usize;
        assert_eq!(
            j["parameter"]["model_args"]["n_estimators"],
            [10, 30, 90, 270][rung]
        );
    }
}

fn of_racing_workers_exactly_one_adds_a_rung(backend: Backend) {
    use djx_host::store::{NewJob, NewRung};
    let t = TestDir::on(backend);
    let yml = halving_experiment(&t, "race", "score");
    djx_ok(&t, &["add", text(&yml)]);
    // Eight workers, each with a store of its own, add rung 1 at once.
    let racers = 8;
    let barrier = std::sync::Barrier::new(racers);
    let added: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..racers)
            .map(|i| {
                let (t, barrier) = (&t, &barrier);
                s.spawn(move || {
                    let store = t.store();
                    let rung = NewRung {
                        experiment_id: 1,
                        rung: 1,
                        rungs: 3,
                        first_position: 18,
                        jobs: 6,
                        samples: vec![1, 4, 7],
                        worker: format!("racer {i}"),
                    };
                    let mut jobs = (0..6).map(|j| {
                        Ok(NewJob {
                            labels: format!("{{\"racer\":{i},\"job\":{j}}}"),
                            parameter: "{}".into(),
                            key: djx_host::content::digest::Digest::of(
                                format!("{i} {j}").as_bytes(),
                            ),
                        })
                    });
                    barrier.wait();
                    store.add_rung(&rung, &mut jobs).expect("add_rung")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("racer"))
            .collect()
    });
    assert_eq!(added.iter().filter(|a| **a).count(), 1, "{added:?}");
    let jobs = jobs_json(&t, "1");
    assert_eq!(jobs.len(), 24, "rung 1's six jobs, once");
    let winner = &jobs[18]["labels"]["racer"];
    assert!(
        jobs[18..].iter().all(|j| j["labels"]["racer"] == *winner),
        "every job of the rung is the winner's"
    );
    assert_eq!(rungs(&t, 1).len(), 2);
}
