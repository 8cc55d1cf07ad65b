//! `djx submit --slurm` on a real single-node Slurm cluster
//! (`tests/slurm/cluster.sh`, whose slurm.conf is `DJX_TEST_SLURM_CONF`)
//! with the PostgreSQL store; and its refusals, which need neither.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::support::*;

/// The test cluster.
struct Slurm {
    conf: String,
}

/// The cluster and a PostgreSQL backend, or `None` (loudly) when either is
/// not configured outside CI.
fn cluster(test: &str) -> Option<(Slurm, Backend)> {
    let conf = configured(
        test,
        "DJX_TEST_SLURM_CONF",
        "a Slurm cluster (tests/slurm/cluster.sh)",
    )?;
    let backend = Backend::postgres(test)?;
    Some((Slurm { conf }, backend))
}

/// One task of a job array, as `scontrol` shows it.
#[derive(Debug)]
struct Task {
    state: String,
    exit: String,
}

impl Slurm {
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("SLURM_CONF", &self.conf);
        cmd
    }

    /// `djx <args>` in `dir` with this cluster; returns the Slurm job id.
    #[track_caller]
    fn submit(&self, dir: &Path, cmd: &mut Command) -> String {
        let out = run(cmd.env("SLURM_CONF", &self.conf));
        assert_exit(&out, 0);
        let id = stdout(&out).trim().to_owned();
        assert!(
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
            "djx submit prints the job id: {id:?}"
        );
        assert!(
            dir.join(format!(".djx/slurm/{id}.sbatch")).is_file(),
            "the script is kept"
        );
        id
    }

    /// Waits until no task of `job` is pending or running.
    #[track_caller]
    fn wait_done(&self, job: &str, seconds: u64) {
        wait_for(&format!("Slurm job {job} to end"), seconds, || {
            let out = self
                .command("squeue")
                .args(["--noheader", "--jobs", job])
                .output()
                .expect("squeue");
            // Once ended and purged, squeue calls the id invalid.
            String::from_utf8_lossy(&out.stdout).trim().is_empty()
        });
    }

    /// The tasks of `job` by array index.
    fn tasks(&self, job: &str) -> BTreeMap<u32, Task> {
        let out = self
            .command("scontrol")
            .args(["show", "job", "--oneliner", job])
            .output()
            .expect("scontrol");
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .filter_map(|line| {
                let field = |name: &str| {
                    line.split_whitespace()
                        .find_map(|f| f.strip_prefix(name))
                        .map(str::to_owned)
                };
                Some((
                    field("ArrayTaskId=")?.parse().ok()?,
                    Task {
                        state: field("JobState=")?,
                        exit: field("ExitCode=")?,
                    },
                ))
            })
            .collect()
    }

    /// Sends SIGTERM to one task, as preemption would (`scancel --signal`).
    fn term(&self, job: &str, task: u32) {
        let ok = self
            .command("scancel")
            .args(["--signal=TERM", &format!("{job}_{task}")])
            .status()
            .expect("scancel")
            .success();
        assert!(ok, "scancel --signal=TERM {job}_{task}");
    }
}

/// The log of task `task` of `job` submitted from `dir`.
fn task_log(dir: &Path, job: &str, task: u32) -> String {
    std::fs::read_to_string(dir.join(format!(".djx/slurm/{job}_{task}.log"))).unwrap_or_default()
}

/// The worker identity a task's log names (`djx: worker ID with …`).
fn worker_of(log: &str) -> Option<String> {
    log.lines()
        .find_map(|l| l.strip_prefix("djx: worker "))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
}

/// A `steps` experiment whose jobs each take a while (`spin` per record).
fn slow_experiment(t: &TestDir, name: &str, jobs: usize, spin: u64) -> String {
    steps_experiment(t, name, jobs, 3, spin, "limits: {memory: 64MiB}")
        .to_str()
        .expect("utf-8")
        .to_owned()
}

/// Iterations of the `steps` guest's loop per second, measured here and
/// now with `djx exec` (its second run, the first compiles): the tests
/// below need work of a known length, and a job's speed depends on the
/// machine and its load (a constant once gave half the work it meant to).
fn spin_per_second(t: &TestDir) -> u64 {
    let spin: u64 = 200_000_000;
    let params = format!("{{\"records\": 1, \"spin\": {spin}}}");
    let run = || {
        let started = std::time::Instant::now();
        djx_ok(t, &["exec", djx_fixtures::STEPS, "--params", &params]);
        started.elapsed()
    };
    run();
    let took = run().as_secs_f64().max(0.01);
    (spin as f64 / took) as u64
}

#[test]
fn iris_on_three_workers_finishes_every_job_once_with_the_digests_of_a_local_run() {
    let Some((slurm, backend)) = cluster("slurm_iris") else {
        return;
    };
    let local = TestDir::new();
    let yml = iris_experiment(&local);
    djx_ok(
        &local,
        &["run", yml.to_str().expect("utf-8"), "--workers", "2"],
    );
    let want: Vec<serde_json::Value> = jobs_json(&local, "1")
        .iter()
        .map(|j| j["result_digest"].clone())
        .collect();

    let Backend::Postgres(url) = backend.clone() else {
        unreachable!("a PostgreSQL backend")
    };
    let t = TestDir::on_disk(backend);
    // A password in the URL (the test server trusts every login): it must
    // reach the workers without being written anywhere.
    let secret = "iris-secret-3141";
    let with_password = url.replacen("://djx@", &format!("://djx:{secret}@"), 1);
    assert!(with_password.contains(secret), "{url}");
    let yml = iris_experiment(&t);
    // Issue 21: submitted from a directory whose name has a space, a `#`,
    // a quote and a word sbatch would read as an option, the script's
    // #SBATCH lines broke; every task must still run and log there.
    let dir = t.path().join("my study --sig=BOGUS #1 'q'");
    std::fs::create_dir(&dir).expect("mkdir");
    let djx = |args: &[&str]| {
        let mut cmd = t.djx();
        cmd.current_dir(&dir)
            .env("DJX_DATABASE_URL", &with_password)
            .args(args);
        cmd
    };
    assert_exit(&run(&mut djx(&["add", yml.to_str().expect("utf-8")])), 0);
    let job = slurm.submit(
        &dir,
        &mut djx(&["submit", "1", "--slurm", "--workers", "3"]),
    );
    slurm.wait_done(&job, 600);

    let tasks = slurm.tasks(&job);
    assert_eq!(tasks.len(), 3, "{tasks:?}");
    for (i, task) in &tasks {
        assert_eq!(
            (task.state.as_str(), task.exit.as_str()),
            ("COMPLETED", "0:0"),
            "task {i}; its log:\n{}",
            task_log(&dir, &job, *i)
        );
        assert!(task_log(&dir, &job, *i).contains("worker done"), "task {i}");
    }
    let jobs = jobs_json(&t, "1");
    assert_eq!(jobs.len(), 36);
    assert!(
        jobs.iter()
            .all(|j| j["status"] == "FINISHED" && j["attempt"] == 1),
        "every job ran once: {jobs:?}"
    );
    let got: Vec<serde_json::Value> = jobs.iter().map(|j| j["result_digest"].clone()).collect();
    assert_eq!(
        got, want,
        "the cluster's result digests are the local run's"
    );
    assert_eq!(
        records_json(&t, "1"),
        records_json(&local, "1"),
        "the same records, none twice"
    );

    // The submission is recorded, and the password is nowhere.
    let ls = stdout(&run(&mut djx(&["ls"])));
    assert!(ls.contains(&format!("slurm {job}")), "{ls}");
    let show = stdout(&run(&mut djx(&["show", "1"])));
    assert!(
        show.contains(&format!("submitted  slurm job {job}"))
            && show.contains("djx submit 1 --slurm --workers 3 --slots 1"),
        "{show}"
    );
    for entry in std::fs::read_dir(dir.join(".djx/slurm")).expect("logs") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            !text.contains(secret),
            "the password is in {}",
            path.display()
        );
    }
    assert!(!show.contains(secret) && !ls.contains(secret));
}

#[test]
fn a_preempted_task_puts_its_jobs_back_and_the_other_tasks_finish_them() {
    let Some((slurm, backend)) = cluster("slurm_preemption") else {
        return;
    };
    let t = TestDir::on_disk(backend);
    let yml = slow_experiment(&t, "preempt", 12, spin_per_second(&t) / 2);
    djx_ok(&t, &["add", &yml]);
    let job = slurm.submit(
        t.path(),
        t.djx().args(["submit", "1", "--slurm", "--workers", "3"]),
    );
    // Wait until a task's worker holds a job, and the job has run a while.
    let mut victim = None;
    wait_for("a task's worker to be running a job", 300, || {
        let assigned: Vec<String> = jobs_json(&t, "1")
            .iter()
            .filter(|j| j["status"] == "ASSIGNED")
            .filter_map(|j| j["worker"].as_str().map(str::to_owned))
            .collect();
        victim = (0..3).find_map(|task| {
            let worker = worker_of(&task_log(t.path(), &job, task))?;
            assigned.contains(&worker).then_some((task, worker))
        });
        victim.is_some()
    });
    let (task, worker) = victim.expect("found");
    std::thread::sleep(std::time::Duration::from_millis(300));
    slurm.term(&job, task);
    slurm.wait_done(&job, 600);

    let log = task_log(t.path(), &job, task);
    let put_back: Vec<i64> = log
        .lines()
        .filter_map(|l| {
            l.strip_prefix("djx: job ")?
                .strip_suffix(" put back")?
                .parse()
                .ok()
        })
        .collect();
    assert!(
        !put_back.is_empty(),
        "the signalled worker put its running job back:\n{log}"
    );
    let tasks = slurm.tasks(&job);
    assert_eq!(
        (tasks[&task].state.as_str(), tasks[&task].exit.as_str()),
        ("COMPLETED", "0:0"),
        "the signalled task exits 0:\n{log}"
    );
    let jobs = jobs_json(&t, "1");
    assert!(
        jobs.iter().all(|j| j["status"] == "FINISHED"),
        "every job finished: {jobs:?}"
    );
    for id in &put_back {
        let j = &jobs[(*id - 1) as usize];
        assert_ne!(
            j["worker"].as_str(),
            Some(worker.as_str()),
            "job {id} was finished by another task"
        );
    }
    let records = records_json(&t, "1");
    let keys: BTreeSet<(i64, i64)> = records
        .iter()
        .map(|r| {
            (
                r["labels.id"].as_i64().expect("id"),
                r["context.i"].as_i64().expect("i"),
            )
        })
        .collect();
    assert_eq!(records.len(), 12 * 3, "no record twice");
    assert_eq!(keys.len(), 12 * 3, "none lost");
}

#[test]
fn a_task_that_reaches_its_time_limit_loses_nothing() {
    let Some((slurm, backend)) = cluster("slurm_time_limit") else {
        return;
    };
    let t = TestDir::on_disk(backend);
    // About 100 s of work (24 jobs of 3 records) for one worker with a
    // minute: the task is cut short however late Slurm's warning (90 s
    // ahead, at its first check, within about 30 s) comes, and the test's
    // own run of the rest stays short.
    let yml = slow_experiment(&t, "slow", 24, spin_per_second(&t) * 100 / 72);
    djx_ok(&t, &["add", &yml]);
    let job = slurm.submit(
        t.path(),
        t.djx()
            .args(["submit", "1", "--slurm", "--workers", "1", "--time", "1m"]),
    );
    slurm.wait_done(&job, 300);
    let jobs = jobs_json(&t, "1");
    let count = |status: &str| jobs.iter().filter(|j| j["status"] == status).count();
    assert_eq!(count("ASSIGNED"), 0, "no job is left held: {jobs:?}");
    assert_eq!(count("FAILED"), 0, "no job failed: {jobs:?}");
    let finished = count("FINISHED");
    assert!(
        finished < 24,
        "the time limit cut the task short; its log:\n{}",
        task_log(t.path(), &job, 0)
    );
    assert_eq!(
        records_json(&t, "1").len(),
        finished * 3,
        "finished jobs have all their records, the others none"
    );
    // The rest runs anywhere else, and nothing runs twice.
    djx_ok(&t, &["run", "1", "--workers", "2"]);
    let jobs = jobs_json(&t, "1");
    assert!(jobs.iter().all(|j| j["status"] == "FINISHED"));
    let records = records_json(&t, "1");
    let keys: BTreeSet<(i64, i64)> = records
        .iter()
        .map(|r| {
            (
                r["labels.id"].as_i64().expect("id"),
                r["context.i"].as_i64().expect("i"),
            )
        })
        .collect();
    assert_eq!((records.len(), keys.len()), (24 * 3, 24 * 3));
}

#[test]
fn a_dry_run_prints_a_script_bash_accepts_and_submits_nothing() {
    let Some(backend) = Backend::postgres("slurm_dry_run") else {
        return;
    };
    let Backend::Postgres(url) = backend.clone() else {
        unreachable!("a PostgreSQL backend")
    };
    let t = TestDir::on_disk(backend);
    // Issue 21: a password as a query parameter reached the script.
    assert!(!url.contains('?'), "{url}");
    let with_password = format!("{url}?password=dry-secret-2718");
    let yml = iris_experiment(&t);
    djx_ok(&t, &["add", yml.to_str().expect("utf-8")]);
    // No sbatch on PATH: a dry run needs none, and could not submit.
    let out = run(t
        .djx()
        .env("DJX_DATABASE_URL", &with_password)
        .env("PATH", "/nonexistent")
        .args([
            "submit",
            "last",
            "--slurm",
            "--workers",
            "4",
            "--slots",
            "2",
            "--time",
            "2h",
            "--partition",
            "debug",
            "--sbatch=--qos=normal",
            "--dry-run",
        ]));
    assert_exit(&out, 0);
    let script = stdout(&out);
    for line in [
        "#!/bin/bash",
        "#SBATCH --array=0-3",
        "#SBATCH --cpus-per-task=2",
        // iris: 256 MiB x 2 slots + 512 MiB
        "#SBATCH --mem=1024M",
        "#SBATCH --time=0-02:00:00",
        "#SBATCH --partition=debug",
        "#SBATCH --signal=TERM@90",
        "#SBATCH --qos=normal",
        "--until-empty",
        "export DJX_PG_SCHEMA=",
        "DJX_PG_PASSWORD",
    ] {
        assert!(script.contains(line), "{line:?} in\n{script}");
    }
    assert!(
        script.contains(&format!(
            "#SBATCH --output={}/.djx/slurm/%A_%a.log",
            t.path().display()
        )),
        "{script}"
    );
    assert!(
        !script.contains("dry-secret-2718"),
        "no password:\n{script}"
    );
    let path = t.path().join("job.sbatch");
    std::fs::write(&path, &script).expect("write");
    let checked = Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("bash");
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(
        !t.path().join(".djx/slurm").exists(),
        "nothing was submitted"
    );
    let ls = djx_ok(&t, &["ls", "--json"]);
    assert!(ls.contains("\"submissions\":[]"), "{ls}");

    // Issue 21: a working directory with a line break in its name left a
    // bare command line in the script; it cannot be written into an
    // #SBATCH line, so it is refused.
    let pwned = t.path().join("pwned");
    let nl = t.path().join(format!("nl\ntouch {}\n#", pwned.display()));
    std::fs::create_dir_all(&nl).expect("mkdir");
    let out = run(t.djx().current_dir(&nl).env("PATH", "/nonexistent").args([
        "submit",
        "last",
        "--slurm",
        "--dry-run",
    ]));
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("the working directory") && err.contains("line break"),
        "{err}"
    );
    assert!(stdout(&out).is_empty(), "no script: {}", stdout(&out));
    assert!(!pwned.exists());
}

#[test]
fn submit_refuses_the_embedded_store() {
    let t = TestDir::new();
    let out = run(t.djx().args(["submit", "1", "--slurm"]));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("the nodes of a cluster cannot share one SQLite file"),
        "{}",
        stderr(&out)
    );
    assert!(!t.sqlite_db().exists(), "nothing was opened");
}

#[test]
fn submit_refuses_without_sbatch() {
    let t = TestDir::new();
    let out = run(t
        .djx()
        .env("DJX_DATABASE_URL", "postgres://djx@127.0.0.1:1/none")
        .env("PATH", "/nonexistent")
        .args(["submit", "1", "--slurm"]));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("sbatch is not on PATH"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn submit_refuses_stores_in_this_machines_memory_and_options_djx_sets() {
    let t = TestDir::new();
    let shm = Path::new("/dev/shm");
    let fs = Command::new("stat")
        .args(["-f", "-c", "%T"])
        .arg(shm)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    if fs == "tmpfs" {
        let out = run(t
            .djx()
            .env("DJX_DATABASE_URL", "postgres://djx@127.0.0.1:1/none")
            .env("DJX_ARTIFACT_STORE", shm.join("djx-artifacts"))
            .args(["submit", "1", "--slurm", "--dry-run"]));
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("the artifact store /dev/shm/djx-artifacts is on tmpfs"),
            "{}",
            stderr(&out)
        );
    } else {
        eprintln!("SKIPPED the tmpfs refusal: /dev/shm is {fs:?}, not tmpfs");
    }
    let out = run(t
        .djx()
        .env("DJX_DATABASE_URL", "postgres://djx@127.0.0.1:1/none")
        .args([
            "submit",
            "1",
            "--slurm",
            "--sbatch=--array=0-9",
            "--dry-run",
        ]));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("which djx sets itself; use --workers"),
        "{}",
        stderr(&out)
    );
    let out = run(t
        .djx()
        .env("DJX_DATABASE_URL", "postgres://djx@127.0.0.1:1/none")
        .args(["submit", "1", "--slurm", "--time", "90", "--dry-run"]));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("say the unit: 90m"),
        "{}",
        stderr(&out)
    );
}
