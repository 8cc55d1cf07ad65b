//! Test support: a temp dir per test, and running the real `djx` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Which store a test runs against.
#[derive(Clone, Debug)]
pub enum Backend {
    /// The embedded SQLite store in the test dir.
    Sqlite,
    /// A PostgreSQL server (`DJX_TEST_DATABASE_URL`), in a schema of the
    /// test's own.
    Postgres(String),
}

impl Backend {
    /// The PostgreSQL backend, or `None` (with a loud message) when no test
    /// server is configured outside CI. In CI a missing server fails.
    pub fn postgres(test: &str) -> Option<Backend> {
        match std::env::var("DJX_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(Backend::Postgres(url)),
            _ if std::env::var_os("CI").is_some() => {
                panic!(
                    "{test}: DJX_TEST_DATABASE_URL is not set; CI must start PostgreSQL (tests/pg/server.sh)"
                )
            }
            _ => {
                eprintln!(
                    "SKIPPED {test} on PostgreSQL: DJX_TEST_DATABASE_URL is not set (run `make test`, which starts a server)"
                );
                None
            }
        }
    }
}

/// A test setting from the environment that `make test` gives (a server
/// it started); `None`, with a loud message, when it is not set outside CI.
/// In CI a missing setting fails.
pub fn configured(test: &str, var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{test}: {var} is not set; CI must start {what}")
        }
        _ => {
            eprintln!("SKIPPED {test}: {var} is not set (run `make test`, which starts {what})");
            None
        }
    }
}

/// A test's own directory, removed at the end.
pub struct TestDir {
    pub dir: tempfile::TempDir,
    backend: Backend,
    schema: String,
}

impl TestDir {
    pub fn new() -> TestDir {
        TestDir::on(Backend::Sqlite)
    }

    /// A test dir whose `djx` uses `backend`.
    pub fn on(backend: Backend) -> TestDir {
        TestDir::at(backend, &std::env::temp_dir())
    }

    /// A test dir on the build's disk (the target directory), not in the
    /// system temp dir: `djx submit` refuses stores on a memory file
    /// system, which the temp dir may be.
    pub fn on_disk(backend: Backend) -> TestDir {
        TestDir::at(backend, Path::new(env!("CARGO_TARGET_TMPDIR")))
    }

    fn at(backend: Backend, parent: &Path) -> TestDir {
        let dir = tempfile::Builder::new()
            .prefix("djx-test-")
            .tempdir_in(parent)
            .expect("create test dir");
        // A schema per test keeps PostgreSQL tests apart.
        let name = dir
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("x");
        let schema = format!(
            "t_{}",
            name.to_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        TestDir {
            dir,
            backend,
            schema,
        }
    }

    /// The PostgreSQL schema of this test dir.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `djx` with its working directory, caches and temp dirs under this
    /// test's directory (the compile cache is shared between tests).
    pub fn djx(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_djx"));
        cmd.current_dir(self.path())
            .env("DJX_CACHE_DIR", shared_cache())
            .env("DJX_DATA_TEMP", self.path().join("scratch"))
            .env_remove("DJX_DATABASE_URL")
            .env_remove("DJX_CONTENT")
            .env_remove("DJX_PG_HOST")
            .env_remove("DJX_PG_DBNAME");
        if let Backend::Postgres(url) = &self.backend {
            cmd.env("DJX_DATABASE_URL", url)
                .env("DJX_PG_SCHEMA", &self.schema);
        }
        std::fs::create_dir_all(self.path().join("scratch")).expect("scratch dir");
        cmd
    }

    /// The embedded SQLite database of this test dir.
    pub fn sqlite_db(&self) -> PathBuf {
        self.path().join(".djx/djx.db")
    }

    /// The store this test dir's `djx` uses, opened through the library
    /// (to look at what the CLI does not show, such as the records of an
    /// attempt still running).
    pub fn store(&self) -> Box<dyn djx_host::store::Store> {
        match &self.backend {
            Backend::Sqlite => Box::new(
                djx_host::store::sqlite::SqliteStore::open(&self.sqlite_db())
                    .expect("open the SQLite store"),
            ),
            Backend::Postgres(url) => Box::new(
                djx_host::store::postgres::PgStore::open(
                    djx_host::store::postgres::PgConfig::from_url(url, &self.schema)
                        .expect("PostgreSQL config"),
                )
                .expect("open the PostgreSQL store"),
            ),
        }
    }

    /// Runs SQL on this test dir's database, in the dialect of its store.
    pub fn sql(&self, sqlite: &str, postgres: &str) {
        match &self.backend {
            Backend::Sqlite => rusqlite::Connection::open(self.sqlite_db())
                .expect("open the SQLite database")
                .execute_batch(sqlite)
                .expect("SQLite statements"),
            Backend::Postgres(url) => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                rt.block_on(async {
                    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                        .await
                        .expect("connect to PostgreSQL");
                    tokio::spawn(connection);
                    client
                        .batch_execute(&format!("SET search_path TO {};\n{postgres}", self.schema))
                        .await
                        .expect("PostgreSQL statements");
                });
            }
        }
    }

    /// Copies the iris CSV into `<test dir>/<sub>/iris.csv`; returns the dir.
    pub fn iris_dir(&self, sub: &str) -> PathBuf {
        let dir = self.path().join(sub);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::copy(iris_csv(), dir.join("iris.csv")).expect("copy iris");
        dir
    }
}

/// The compile cache all tests share (writes are atomic).
pub fn shared_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("djx-compile-cache")
}

/// The iris CSV shipped with the example.
pub fn iris_csv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/iris/data/iris.csv")
}

/// Runs the command, returning its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run djx")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The JSON lines of stdout.
pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Asserts the exit code, showing stderr when it differs.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit code; stderr:\n{}\nstdout:\n{}",
        stderr(out),
        stdout(out)
    );
}

/// blake3 of a file, hex.
pub fn b3(path: &Path) -> String {
    blake3::hash(&std::fs::read(path).expect("read"))
        .to_hex()
        .to_string()
}

/// Writes `examples/iris/iris.yml` into the test dir with its module pointing
/// at the built iris guest and its data copied beside it; returns the path.
pub fn iris_experiment(t: &TestDir) -> PathBuf {
    t.iris_dir("data");
    let yml = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/iris/iris.yml"),
    )
    .expect("read iris.yml");
    let yml = yml.replace(
        "module: ../../target/guests/wasm32-wasip2/release/iris.wasm",
        &format!("module: {}", djx_fixtures::IRIS_EXAMPLE),
    );
    assert!(
        yml.contains(djx_fixtures::IRIS_EXAMPLE),
        "the example's module line moved"
    );
    let path = t.path().join("iris.yml");
    std::fs::write(&path, yml).expect("write iris.yml");
    path
}

/// Writes an experiment of the `steps` guest with `jobs` jobs (labels.id =
/// 0..jobs) and returns its path.
pub fn steps_experiment(
    t: &TestDir,
    name: &str,
    jobs: usize,
    records: u64,
    spin: u64,
    extra: &str,
) -> PathBuf {
    let ids: Vec<String> = (0..jobs).map(|i| i.to_string()).collect();
    let yml = format!(
        "name: {name}\nmodule: {}\n{extra}\njob:\n  parameter: {{records: {records}, spin: {spin}}}\nexperiment:\n  grid:\n    - labels.id: [{}]\n",
        djx_fixtures::STEPS,
        ids.join(", ")
    );
    let path = t.path().join(format!("{name}.yml"));
    std::fs::write(&path, yml).expect("write experiment");
    path
}

/// `djx run 1 --workers <workers>` in the background, output piped.
pub fn spawn_run(t: &TestDir, workers: usize) -> std::process::Child {
    t.djx()
        .args(["run", "1", "--workers", &workers.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn djx run")
}

/// Polls `done` every 20 ms until it holds; fails, naming `what`, after
/// `seconds`.
#[track_caller]
pub fn wait_for(what: &str, seconds: u64, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// `djx <args>` in the test dir, asserting exit code 0; returns stdout.
#[track_caller]
pub fn djx_ok(t: &TestDir, args: &[&str]) -> String {
    let out = run(t.djx().args(args));
    assert_exit(&out, 0);
    stdout(&out)
}

/// The JSON lines of `djx jobs <exp> --json`.
pub fn jobs_json(t: &TestDir, exp: &str) -> Vec<serde_json::Value> {
    djx_ok(t, &["jobs", exp, "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("job json"))
        .collect()
}

/// The JSON lines of `djx records <exp> --format json`.
pub fn records_json(t: &TestDir, exp: &str) -> Vec<serde_json::Value> {
    djx_ok(t, &["records", exp, "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("record json"))
        .collect()
}

/// Runs each test on the embedded store and on PostgreSQL.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        pub mod sqlite {
            use crate::support::Backend;
            $(
                #[test]
                pub fn $name() {
                    super::$name(Backend::Sqlite)
                }
            )*
        }
        pub mod postgres {
            use crate::support::Backend;
            $(
                #[test]
                pub fn $name() {
                    if let Some(backend) = Backend::postgres(stringify!($name)) {
                        super::$name(backend)
                    }
                }
            )*
        }
    };
}
