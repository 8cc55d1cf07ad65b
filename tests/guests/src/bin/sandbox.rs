//! Tries one way out of the sandbox, named by the `attempt` parameter, and
//! records whether it was refused. It never panics: the host test reads the
//! record.

use std::fs;
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};

use serde::Deserialize;

#[derive(Deserialize)]
struct Params {
    attempt: String,
}

fn attempt(name: &str, data: &str) -> Result<String, String> {
    let err = |e: std::io::Error| e.to_string();
    match name {
        "read-etc-passwd" => fs::read_to_string("/etc/passwd").map_err(err),
        "list-root" => fs::read_dir("/").map_err(err).map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().display().to_string())
                .collect::<Vec<_>>()
                .join(",")
        }),
        "dotdot" => fs::read_to_string(format!("{data}/../../../../etc/passwd")).map_err(err),
        "dotdot-sibling" => fs::read_dir(format!("{data}/.."))
            .map_err(err)
            .and_then(|d| {
                let names: Vec<String> = d
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                // Listing /data itself is allowed only if it shows no host paths.
                fs::read_to_string(format!("{data}/../../etc/passwd"))
                    .map_err(err)
                    .map(|s| format!("{names:?} {s}"))
            }),
        "symlink" => fs::read_to_string(format!("{data}/escape")).map_err(err),
        "write" => fs::write(format!("{data}/new.txt"), b"x")
            .map(|()| "wrote".into())
            .map_err(err),
        "overwrite" => fs::OpenOptions::new()
            .write(true)
            .open(format!("{data}/iris.csv"))
            .and_then(|mut f| f.write_all(b"corrupted"))
            .map(|()| "overwrote".into())
            .map_err(err),
        "append" => fs::OpenOptions::new()
            .append(true)
            .open(format!("{data}/iris.csv"))
            .and_then(|mut f| f.write_all(b"more"))
            .map(|()| "appended".into())
            .map_err(err),
        "truncate" => fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(format!("{data}/iris.csv"))
            .map(|_| "truncated".into())
            .map_err(err),
        "rename" => fs::rename(format!("{data}/iris.csv"), format!("{data}/moved.csv"))
            .map(|()| "renamed".into())
            .map_err(err),
        "delete" => fs::remove_file(format!("{data}/iris.csv"))
            .map(|()| "deleted".into())
            .map_err(err),
        "mkdir" => fs::create_dir(format!("{data}/sub"))
            .map(|()| "created".into())
            .map_err(err),
        "tcp" => TcpStream::connect("127.0.0.1:5432")
            .map(|_| "connected".into())
            .map_err(err),
        "dns" => "localhost:80"
            .to_socket_addrs()
            .map(|a| format!("{:?}", a.collect::<Vec<_>>()))
            .map_err(err),
        "env" => {
            let vars: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
            let args: Vec<String> = std::env::args().collect();
            if vars.is_empty() && args.is_empty() {
                Err("no environment and no arguments".into())
            } else {
                Ok(format!("vars={vars:?} args={args:?}"))
            }
        }
        "list-dataset" => fs::read_dir(data).map_err(err).map(|d| {
            let mut names: Vec<String> = d
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names.join(",")
        }),
        "write-tmp" => fs::write("/tmp/ok.txt", b"scratch is writable")
            .and_then(|()| fs::read_to_string("/tmp/ok.txt"))
            .map_err(err),
        other => Err(format!("unknown attempt {other:?}")),
    }
}

fn run() -> djx::Result<()> {
    let p: Params = djx::params()?;
    let data = djx::dataset_info("iris")
        .map(|d| format!("/data/{}", d.name))
        .unwrap_or_else(|_| "/data/iris".into());
    let (outcome, detail) = match attempt(&p.attempt, &data) {
        Ok(got) => ("allowed", got.chars().take(200).collect()),
        Err(e) => ("refused", e),
    };
    djx::record("attempt")
        .context("attempt", &p.attempt)
        .context("outcome", outcome)
        .context("detail", detail)
        .emit()?;
    Ok(())
}

djx::main!(run);
