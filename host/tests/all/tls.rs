//! PostgreSQL over TLS, against a server that takes only TLS and a
//! password (`tests/pg/server.sh start-tls`; `DJX_TEST_TLS_URL`).

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::support::*;

/// The TLS server: its URL without TLS parameters or password, the
/// password, and the directory of its CA files.
struct TlsServer {
    /// `postgres://djx_tls@localhost:PORT/postgres`
    base: String,
    password: String,
    ca: PathBuf,
    wrong_ca: PathBuf,
    port: String,
}

impl TlsServer {
    fn get(test: &str) -> Option<TlsServer> {
        let url = configured(test, "DJX_TEST_TLS_URL", "the TLS PostgreSQL server")?;
        // postgres://djx_tls:PASSWORD@localhost:PORT/postgres?sslrootcert=DIR/ca.pem
        let (base, query) = url.split_once('?').expect("the URL names its CA");
        let ca = PathBuf::from(query.strip_prefix("sslrootcert=").expect("sslrootcert"));
        let rest = base.strip_prefix("postgres://djx_tls:").expect("user");
        let (password, host) = rest.split_once('@').expect("password");
        let port = host.split(['/', ':']).nth(1).expect("a port").to_owned();
        Some(TlsServer {
            base: format!("postgres://djx_tls@{host}"),
            password: password.to_owned(),
            wrong_ca: ca.with_file_name("wrong-ca.pem"),
            ca,
            port,
        })
    }

    /// The URL with the password and `query`.
    fn url(&self, query: &str) -> String {
        let with_password =
            self.base
                .replacen("djx_tls@", &format!("djx_tls:{}@", self.password), 1);
        format!("{with_password}?{query}")
    }

    /// `djx` in `t` on this server, with `url` as DJX_DATABASE_URL.
    fn djx(&self, t: &TestDir, url: &str) -> Command {
        let mut cmd = t.djx();
        cmd.env("DJX_DATABASE_URL", url)
            .env("DJX_PG_SCHEMA", t.schema())
            .env("HOME", t.path());
        cmd
    }

    /// Runs `cmd`; checks the password is in none of its output.
    #[track_caller]
    fn run(&self, cmd: &mut Command) -> Output {
        let out = run(cmd);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            !all.contains(&self.password),
            "the password appeared in the output:\n{all}"
        );
        out
    }
}

#[test]
fn verify_full_with_the_right_ca_works_for_add_run_and_worker() {
    let Some(server) = TlsServer::get("tls_verify_full") else {
        return;
    };
    let t = TestDir::new();
    let url = server.url(&format!(
        "sslmode=verify-full&sslrootcert={}",
        server.ca.display()
    ));
    let first = steps_experiment(&t, "first", 4, 2, 0, "");
    // Other jobs than the first's (the run-cache would finish equal ones).
    let second = steps_experiment(&t, "second", 3, 3, 0, "");
    let out = server.run(
        server
            .djx(&t, &url)
            .args(["add", first.to_str().expect("utf-8")]),
    );
    assert_exit(&out, 0);
    let out = server.run(server.djx(&t, &url).args(["run", "1"]));
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("4 finished, 0 failed"),
        "{}",
        stdout(&out)
    );
    // The original djx's variables, TLS from DJX_PG_SSLMODE/SSLROOTCERT.
    let by_vars = |cmd: &mut Command| {
        cmd.env_remove("DJX_DATABASE_URL")
            .env("DJX_PG_HOST", "localhost")
            .env("DJX_PG_PORT", &server.port)
            .env("DJX_PG_USER", "djx_tls")
            .env("DJX_PG_PASSWORD", &server.password)
            .env("DJX_PG_DBNAME", "postgres")
            .env("DJX_PG_SSLMODE", "verify-full")
            .env("DJX_PG_SSLROOTCERT", &server.ca);
    };
    let mut add = server.djx(&t, &url);
    by_vars(add.args(["add", second.to_str().expect("utf-8")]));
    assert_exit(&server.run(&mut add), 0);
    let mut worker = server.djx(&t, &url);
    by_vars(worker.args(["worker", "--until-empty"]));
    let out = server.run(&mut worker);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("worker done: 3 finished, 0 failed"),
        "{}",
        stdout(&out)
    );
    let out = server.run(server.djx(&t, &url).args(["ls"]));
    assert_exit(&out, 0);
}

#[test]
fn a_wrong_ca_is_refused_with_a_clear_error() {
    let Some(server) = TlsServer::get("tls_wrong_ca") else {
        return;
    };
    let t = TestDir::new();
    let url = server.url(&format!(
        "sslmode=verify-full&sslrootcert={}",
        server.wrong_ca.display()
    ));
    let out = server.run(server.djx(&t, &url).args(["ls"]));
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("not signed by the CA in sslrootcert=") && err.contains("wrong-ca.pem"),
        "{err}"
    );
    // verify-ca checks the chain just the same.
    let url = server.url(&format!(
        "sslmode=verify-ca&sslrootcert={}",
        server.wrong_ca.display()
    ));
    let out = server.run(server.djx(&t, &url).args(["ls"]));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("not signed by the CA"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn verify_full_checks_the_host_name_and_verify_ca_does_not() {
    let Some(server) = TlsServer::get("tls_host_name") else {
        return;
    };
    let t = TestDir::new();
    // The certificate names `localhost` only.
    let by_ip = |mode: &str| {
        server
            .url(&format!(
                "sslmode={mode}&sslrootcert={}",
                server.ca.display()
            ))
            .replacen("@localhost:", "@127.0.0.1:", 1)
    };
    let out = server.run(server.djx(&t, &by_ip("verify-full")).args(["ls"]));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("does not name the host"),
        "{}",
        stderr(&out)
    );
    let out = server.run(server.djx(&t, &by_ip("verify-ca")).args(["ls"]));
    assert_exit(&out, 0);
}

#[test]
fn sslmode_disable_is_refused_by_the_server() {
    let Some(server) = TlsServer::get("tls_disable") else {
        return;
    };
    let t = TestDir::new();
    let out = server.run(server.djx(&t, &server.url("sslmode=disable")).args(["ls"]));
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("no encryption"), "{err}");
    assert!(
        err.contains("the server requires TLS, and sslmode is disable"),
        "{err}"
    );
}

#[test]
fn the_default_prefer_and_require_encrypt_without_checking() {
    let Some(server) = TlsServer::get("tls_prefer") else {
        return;
    };
    let t = TestDir::new();
    // No sslmode: libpq's `prefer`, which the server's hostssl-only rules
    // accept only because the connection is encrypted.
    let out = server.run(server.djx(&t, &server.url("")).args(["ls"]));
    assert_exit(&out, 0);
    let out = server.run(server.djx(&t, &server.url("sslmode=require")).args(["ls"]));
    assert_exit(&out, 0);
}

#[test]
fn a_wrong_password_is_refused_without_showing_either() {
    let Some(server) = TlsServer::get("tls_password") else {
        return;
    };
    let t = TestDir::new();
    let url = server
        .url("sslmode=require")
        .replacen(&server.password, "not-the-password-8271", 1);
    let out = server.run(server.djx(&t, &url).args(["ls"]));
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(!err.contains("not-the-password-8271"), "{err}");
    assert!(err.contains("password authentication failed"), "{err}");
}

#[test]
fn bad_tls_settings_name_themselves() {
    let t = TestDir::new();
    let out = run(t.djx().args(["ls"]).env(
        "DJX_DATABASE_URL",
        "postgres://a@127.0.0.1:1/d?sslmode=verify-fully",
    ));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("\"verify-fully\" is not an sslmode"),
        "{}",
        stderr(&out)
    );
    let out = run(t
        .djx()
        .args(["ls"])
        .env("DJX_DATABASE_URL", "postgres://a@127.0.0.1:1/d")
        .env("DJX_PG_SSLMODE", "verify-full")
        .env("HOME", t.path()));
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("sslrootcert"), "{}", stderr(&out));
    let out = run(t.djx().args(["ls"]).env(
        "DJX_DATABASE_URL",
        "postgres://a@127.0.0.1:1/d?sslmode=require&sslrootcert=/nonexistent/ca.pem",
    ));
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("/nonexistent/ca.pem"),
        "{}",
        stderr(&out)
    );
}
