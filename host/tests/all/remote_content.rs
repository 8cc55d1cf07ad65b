//! Remote content (`DJX_CONTENT=s3://…`) against a real S3 server: Ceph's
//! radosgw, single node, started by `tests/s3/server.sh` (`make test` sets
//! `DJX_TEST_S3_ENDPOINT`). No mock: every request goes to the gateway.
//!
//! The tests share one gateway, and one of them stops it: they take a lock
//! so that they run one at a time.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};

use crate::browser::http;
use crate::support::*;

/// The gateway user `tests/s3/server.sh` creates.
const KEY: &str = "djx-test-key";
const SECRET: &str = "djx-test-secret";
/// The bucket it creates.
const BUCKET: &str = "djx-test";

static GATEWAY: Mutex<()> = Mutex::new(());

/// The test server, with a prefix of this test's own in its bucket.
struct S3 {
    endpoint: String,
    prefix: String,
    _serial: std::sync::MutexGuard<'static, ()>,
}

impl S3 {
    fn for_test(test: &str, t: &TestDir) -> Option<S3> {
        let endpoint = configured(
            test,
            "DJX_TEST_S3_ENDPOINT",
            "the S3 server (tests/s3/server.sh)",
        )?;
        Some(S3 {
            endpoint,
            prefix: t.schema().to_owned(),
            _serial: GATEWAY.lock().unwrap_or_else(|e| e.into_inner()),
        })
    }

    fn url(&self) -> String {
        format!("s3://{BUCKET}/{}", self.prefix)
    }

    /// `cmd` with the content in the bucket and the standard AWS settings.
    fn env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.env("DJX_CONTENT", self.url())
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_REGION", "us-east-1")
            .env("DJX_CONTENT_RETRY", "2s")
    }

    /// `djx <args>` in `t` with the bucket; asserts success, returns stdout.
    #[track_caller]
    fn djx_ok(&self, t: &TestDir, args: &[&str]) -> String {
        let out = run(self.env(&mut t.djx()).args(args));
        assert_exit(&out, 0);
        stdout(&out)
    }

    /// `djx artifact get` of `digest` in `t`: what it writes hashes to it.
    #[track_caller]
    fn artifact_get(&self, t: &TestDir, digest: &str) {
        let got = t.path().join("artifact.out");
        self.djx_ok(
            t,
            &[
                "artifact",
                "get",
                digest,
                "-o",
                got.to_str().expect("utf-8"),
            ],
        );
        assert_eq!(b3(&got), digest);
    }

    /// The bucket, opened directly (to look at it, and to damage it).
    fn bucket(&self) -> object_store::aws::AmazonS3 {
        // The TLS provider djx installs for itself (the test asks over
        // plain HTTP, but the client is built with TLS).
        let _ = rustls::crypto::ring::default_provider().install_default();
        AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_bucket_name(BUCKET)
            .with_region("us-east-1")
            .with_access_key_id(KEY)
            .with_secret_access_key(SECRET)
            .build()
            .expect("open the test bucket")
    }

    fn object(&self, folder: &str, name: &str) -> ObjectPath {
        ObjectPath::from(format!("{}/{folder}/{name}", self.prefix))
    }

    fn put(&self, folder: &str, name: &str, bytes: &[u8]) {
        let bucket = self.bucket();
        let path = self.object(folder, name);
        block(async { bucket.put(&path, PutPayload::from(bytes.to_vec())).await })
            .expect("put an object");
    }

    fn exists(&self, folder: &str, name: &str) -> bool {
        let bucket = self.bucket();
        let path = self.object(folder, name);
        block(async { bucket.head(&path).await }).is_ok()
    }

    /// The script that runs the server.
    fn script(&self, action: &str) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/s3/server.sh");
        let out = Command::new("bash")
            .arg(script)
            .arg(action)
            .output()
            .expect("run server.sh");
        assert!(
            out.status.success(),
            "tests/s3/server.sh {action}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// Result digests by job key.
fn results_by_key(jobs: &[serde_json::Value]) -> BTreeMap<String, String> {
    jobs.iter()
        .map(|j| {
            (
                j["key"].as_str().expect("key").to_owned(),
                j["result_digest"]
                    .as_str()
                    .expect("a result digest")
                    .to_owned(),
            )
        })
        .collect()
}

/// A directory for the worker "machine", owned by `uid`.
fn worker_home(uid: u32) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("djx-worker-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("worker dir");
    std::os::unix::fs::chown(dir.path(), Some(uid), Some(uid)).expect("chown the worker dir");
    dir
}

/// `program` as user `uid` (when this test runs as root), in `dir`, with
/// nothing of this process's environment but `PATH`.
fn as_other_user(program: &Path, uid: u32, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir);
    if uid != current_uid() {
        // std drops the supplementary groups when it changes the user.
        cmd.uid(uid).gid(uid);
    }
    cmd
}

fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

#[test]
fn iris_runs_where_only_postgres_and_the_bucket_are_shared() {
    const TEST: &str = "iris_runs_where_only_postgres_and_the_bucket_are_shared";
    let Some(pg) = Backend::postgres(TEST) else {
        return;
    };
    let adder = TestDir::on(pg.clone());
    let Some(s3) = S3::for_test(TEST, &adder) else {
        return;
    };
    // What a local run gives, to compare with.
    let local = TestDir::new();
    let yml = iris_experiment(&local);
    djx_ok(&local, &["add", yml.to_str().expect("utf-8")]);
    djx_ok(&local, &["run", "1", "--workers", "2"]);
    let expected = results_by_key(&jobs_json(&local, "1"));

    // The adding machine uploads the inputs.
    let yml = iris_experiment(&adder);
    let out = run(s3
        .env(&mut adder.djx())
        .args(["add", yml.to_str().expect("utf-8")]));
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("object(s) uploaded"),
        "{}",
        stderr(&out)
    );

    // The worker machine: another user (nobody) when this runs as root, in
    // a directory and with a HOME of its own; it cannot even list the
    // adding directory. It has the djx binary, the database URL and the
    // bucket: nothing else.
    let uid = if current_uid() == 0 {
        65534
    } else {
        current_uid()
    };
    let home = worker_home(uid);
    let bin = home.path().join("djx");
    std::fs::copy(env!("CARGO_BIN_EXE_djx"), &bin).expect("copy djx");
    std::os::unix::fs::chown(&bin, Some(uid), Some(uid)).expect("chown djx");
    if uid != current_uid() {
        // The adding machine's directory is its owner's alone.
        std::fs::set_permissions(
            adder.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .expect("chmod the adding directory");
        let ls = as_other_user(Path::new("/bin/ls"), uid, home.path())
            .arg(adder.path())
            .output()
            .expect("ls");
        assert!(
            !ls.status.success(),
            "the worker's user can list the adding directory {}: {}",
            adder.path().display(),
            String::from_utf8_lossy(&ls.stdout)
        );
    } else {
        eprintln!("{TEST}: not root, so the worker runs as this user (in its own directory)");
    }
    let Backend::Postgres(url) = &pg else {
        unreachable!("a PostgreSQL backend")
    };
    let mut worker = as_other_user(&bin, uid, home.path());
    s3.env(&mut worker)
        .env("DJX_DATABASE_URL", url)
        .env("DJX_PG_SCHEMA", adder.schema())
        .args(["worker", "--until-empty", "--slots", "2"]);
    let out = worker.output().expect("run the worker");
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("36 finished"), "{}", stdout(&out));
    assert!(
        home.path()
            .join(".djx/data")
            .read_dir()
            .expect("its data cache")
            .count()
            >= 1,
        "the worker fetched the dataset into its own store"
    );

    // Back on the adding machine: every job, bit for bit what the local run
    // gave; rerun, identical; every reference in the bucket.
    let jobs = jobs_json(&adder, "1");
    assert_eq!(jobs.len(), 36);
    assert!(jobs.iter().all(|j| j["status"] == "FINISHED"));
    assert_eq!(
        results_by_key(&jobs),
        expected,
        "result digests differ from a local run"
    );
    let verify = s3.djx_ok(&adder, &["verify", "1"]);
    assert!(verify.contains("36 identical"), "{verify}");
    let fsck = s3.djx_ok(&adder, &["fsck", "--content"]);
    assert!(fsck.contains("no problems"), "{fsck}");

    // An artifact the worker wrote comes from the bucket, checked: through
    // `djx artifact get` and through `djx ui`.
    let saved = jobs
        .iter()
        .find(|j| j["parameter"]["save"] == true)
        .expect("a job that saves its model");
    let show: serde_json::Value =
        serde_json::from_str(&s3.djx_ok(&adder, &["show", &saved["id"].to_string(), "--json"]))
            .expect("show json");
    let digest = show["artifacts"][0]["digest"]
        .as_str()
        .expect("an artifact digest")
        .to_owned();
    assert!(!adder.path().join(".djx/artifacts").join(&digest).exists());
    let packed = adder
        .store()
        .artifact_pack(&digest.parse().expect("a digest"))
        .expect("artifact_pack");
    // A forest of 100 trees is more than a pack takes: its own object.
    assert!(show["artifacts"][0]["size"].as_u64() > Some(64 << 10));
    assert!(packed.is_none() && s3.exists("artifacts", &digest));
    s3.artifact_get(&adder, &digest);
    std::fs::remove_file(adder.path().join(".djx/artifacts").join(&digest)).expect("drop the copy");
    let mut ui = s3
        .env(&mut adder.djx())
        .args(["ui", "--port", "0", "--no-token"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("djx ui");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(ui.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("the URL");
    let (status, _, body) = http(
        "GET",
        &format!("{}artifacts/{digest}", line.trim()),
        &[],
        None,
    );
    let _ = ui.kill();
    let _ = ui.wait();
    assert_eq!(status, 200);
    assert_eq!(blake3::hash(&body).to_hex().as_str(), digest);

    // Garbage: nothing referenced is listed; a stray object is, and goes.
    let stray = b"no experiment references this";
    let stray_digest = blake3::hash(stray).to_hex().to_string();
    s3.put("artifacts", &stray_digest, stray);
    let listed = s3.djx_ok(&adder, &["gc", "--min-age", "0s"]);
    assert_eq!(
        listed.lines().count(),
        2,
        "one object and the summary: {listed}"
    );
    assert!(listed.contains(&stray_digest), "{listed}");
    assert!(
        s3.exists("artifacts", &stray_digest),
        "a dry run removes nothing"
    );
    s3.djx_ok(&adder, &["gc", "--min-age", "0s", "--delete"]);
    assert!(!s3.exists("artifacts", &stray_digest));
    let fsck = s3.djx_ok(&adder, &["fsck"]);
    assert!(fsck.contains("no problems"), "{fsck}");
}

#[test]
fn a_corrupted_object_in_the_bucket_is_refused() {
    const TEST: &str = "a_corrupted_object_in_the_bucket_is_refused";
    let t = TestDir::new();
    let Some(s3) = S3::for_test(TEST, &t) else {
        return;
    };
    let yml = iris_experiment(&t);
    s3.djx_ok(&t, &["add", yml.to_str().expect("utf-8")]);
    let iris = b3(&iris_csv());
    assert!(s3.exists("data", &iris), "the dataset was uploaded");
    // The bucket's copy is overwritten, and this machine's copy is gone (as
    // on a machine that never had it).
    s3.put("data", &iris, b"sepal_length\n1\n");
    let local = t.path().join(".djx/data").join(&iris);
    std::fs::remove_file(&local).expect("remove the local copy");

    let out = run(s3.env(&mut t.djx()).args(["run", "1"]));
    assert_ne!(out.status.code(), Some(0), "the run must not succeed");
    let err = stderr(&out);
    assert!(
        err.contains("is corrupt") && err.contains(&format!("data/{iris}")),
        "{err}"
    );
    assert!(!local.exists(), "the corrupt copy was not kept");
    let jobs = jobs_json(&t, "1");
    assert!(
        jobs.iter()
            .all(|j| j["status"] == "UNASSIGNED" && j["result_digest"].is_null()),
        "nothing recorded as a success"
    );
    let out = run(s3.env(&mut t.djx()).args(["fsck", "--content"]));
    assert_exit(&out, 1);
    assert!(
        stdout(&out).contains(&format!("corrupt dataset {iris}")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn jobs_put_back_while_the_gateway_is_down_finish_when_it_is_back() {
    const TEST: &str = "jobs_put_back_while_the_gateway_is_down_finish_when_it_is_back";
    let t = TestDir::new();
    let Some(s3) = S3::for_test(TEST, &t) else {
        return;
    };
    let jobs = 12;
    // Each job computes for a while (about half a second here), so that
    // the gateway stops while jobs run.
    let yml = steps_experiment(&t, "steps", jobs, 2, 300_000_000, "");
    let text = std::fs::read_to_string(&yml)
        .expect("read")
        .replace("parameter: {", "parameter: {artifact: true, ");
    std::fs::write(&yml, text).expect("write");
    s3.djx_ok(&t, &["add", yml.to_str().expect("utf-8")]);
    let child = s3
        .env(&mut t.djx())
        .args(["run", "1", "--workers", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("djx run");
    let finished = || {
        jobs_json(&t, "1")
            .iter()
            .filter(|j| j["status"] == "FINISHED")
            .count()
    };
    wait_for("a first job to finish", 60, || finished() >= 1);
    s3.script("stop-gateway");
    // While it is down, jobs end but cannot commit: they are put back, with
    // the error in the log of their attempt.
    let put_back = || {
        t.store()
            .jobs(1)
            .expect("jobs")
            .iter()
            .any(|j| j.attempt >= 2)
    };
    wait_for("a job put back", 60, put_back);
    let during = finished();
    assert!(
        during < jobs,
        "every job finished while the gateway was down"
    );
    s3.script("start-gateway");
    let out = child.wait_with_output().expect("wait for the run");
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("put back: its artifacts could not be uploaded"),
        "{}",
        stderr(&out)
    );

    let rows = jobs_json(&t, "1");
    assert!(rows.iter().all(|j| j["status"] == "FINISHED"), "{rows:?}");
    // Each job's records once, however often it was put back; one finished
    // attempt each.
    let records = records_json(&t, "1");
    assert_eq!(
        records.len(),
        jobs * 3,
        "2 steps and 1 saved record per job"
    );
    let store = t.store();
    let retried = rows
        .iter()
        .find(|j| j["attempt"].as_i64() > Some(1))
        .expect("a job that ran twice");
    let id = retried["id"].as_i64().expect("id");
    let attempts = store.attempts(id).expect("attempts");
    assert_eq!(attempts.len(), 1, "one ended attempt: {attempts:?}");
    let log = store.attempt_log(id, 1).expect("the first attempt's log");
    assert!(
        String::from_utf8_lossy(&log).contains("could not be uploaded"),
        "{}",
        String::from_utf8_lossy(&log)
    );
    // Every artifact a record names is in the bucket: these small ones in
    // their commit's pack, read back from it, checked.
    let fsck = s3.djx_ok(&t, &["fsck", "--content"]);
    assert!(fsck.contains("no problems"), "{fsck}");
    let show: serde_json::Value =
        serde_json::from_str(&s3.djx_ok(&t, &["show", &id.to_string(), "--json"])).expect("show");
    let digest = show["artifacts"][0]["digest"]
        .as_str()
        .expect("a digest")
        .to_owned();
    let packed = store
        .artifact_pack(&digest.parse().expect("a digest"))
        .expect("pack");
    assert!(
        packed.is_some(),
        "a small artifact is uploaded in its commit's pack"
    );
    assert!(!s3.exists("artifacts", &digest));
    std::fs::remove_file(t.path().join(".djx/artifacts").join(&digest)).expect("drop the copy");
    s3.artifact_get(&t, &digest);
}
