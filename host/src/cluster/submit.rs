//! Handing a script to `sbatch`, after the checks that can be made before:
//! `sbatch` is there, and the stores are on paths the nodes can share.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::ClusterError;
use super::local_paths::why_not_shared;
use crate::content::layout::Layout;

/// The `sbatch` on `PATH`.
pub fn find_sbatch() -> Result<PathBuf, ClusterError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("sbatch"))
        .find(|p| p.is_file())
        .ok_or(ClusterError::NoSbatch)
}

/// The paths every task must see as `djx submit` does: the data store, the
/// artifact store and the working directory (where the logs go). None with
/// remote content: a task fetches its inputs from the bucket into its own
/// node's stores, and uploads its artifacts there.
pub fn shared_paths(layout: &Layout, workdir: &Path) -> Vec<(String, PathBuf)> {
    if layout.content.is_some() {
        return Vec::new();
    }
    let absolute = |p: &Path| workdir.join(p);
    vec![
        ("the data store".into(), absolute(&layout.data)),
        ("the artifact store".into(), absolute(&layout.artifacts)),
        ("the working directory".into(), workdir.to_path_buf()),
    ]
}

/// Refuses `paths` (see [`shared_paths`]) that the nodes of a cluster of
/// `nodes` nodes surely cannot share (see [`super::local_paths`]), and, on
/// a cluster of more than one node, a database on this machine's loopback
/// address.
pub fn check_shared(
    paths: &[(String, PathBuf)],
    nodes: Option<usize>,
    database_hosts: &[String],
) -> Result<(), ClusterError> {
    for (what, path) in paths {
        if let Some(why) = why_not_shared(path, nodes) {
            return Err(ClusterError::NotShared {
                what: what.clone(),
                path: path.display().to_string(),
                why,
                hint: "Put the data and artifact stores (DJX_DATA_STORE, DJX_ARTIFACT_STORE) and \
                       the directory you submit from on a file system every node mounts (NFS, \
                       Lustre, ...)",
            });
        }
    }
    if nodes.is_some_and(|n| n > 1) {
        let local = |h: &&String| {
            h.starts_with('/') || matches!(h.as_str(), "localhost" | "127.0.0.1" | "::1")
        };
        if let Some(host) = database_hosts.iter().find(local) {
            return Err(ClusterError::NotShared {
                what: "the database host".into(),
                path: host.clone(),
                why: format!(
                    "is this machine, and the cluster has {} nodes",
                    nodes.unwrap_or(0)
                ),
                hint: "Give the database's network name in DJX_DATABASE_URL",
            });
        }
    }
    Ok(())
}

/// Submits `script` with `sbatch --parsable`; returns the Slurm job id.
/// `password` goes to sbatch in its environment (as `DJX_PG_PASSWORD`),
/// which it passes on to the tasks: never in a file.
pub fn sbatch(
    sbatch: &PathBuf,
    script: &str,
    password: Option<&str>,
) -> Result<String, ClusterError> {
    let command = format!("{} --parsable", sbatch.display());
    let io = |source| ClusterError::Io {
        command: command.clone(),
        source,
    };
    let mut cmd = Command::new(sbatch);
    cmd.arg("--parsable")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(password) = password {
        cmd.env("DJX_PG_PASSWORD", password);
    }
    let mut child = cmd.spawn().map_err(io)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(script.as_bytes()).map_err(io)?;
    }
    let out = child.wait_with_output().map_err(io)?;
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if !out.status.success() {
        return Err(ClusterError::Sbatch {
            status: out.status.to_string(),
            stderr,
        });
    }
    // `--parsable` prints `jobid` or `jobid;cluster`.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let id = stdout
        .trim()
        .split(';')
        .next()
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| ClusterError::Sbatch {
            status: "no job id".into(),
            stderr: format!("sbatch printed {:?}; {stderr}", stdout.trim()),
        })?;
    Ok(id.to_owned())
}
