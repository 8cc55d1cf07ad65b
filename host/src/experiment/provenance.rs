//! Where an experiment came from: the git state of the files that define
//! it, the djx that added it and the machine it was added on.

use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

/// The provenance of an experiment, captured by `djx add`. Experiments
/// added before djx captured it have the empty default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Provenance {
    /// The djx version that added it.
    pub djx_version: String,
    /// The machine it was added on.
    pub host: HostInfo,
    /// The git repository holding the experiment file, if any.
    pub experiment_git: Option<GitState>,
    /// The git repository holding the module file, if any.
    pub module_git: Option<GitState>,
    /// What the module says it was built from (its `djx-source` section,
    /// written by `djx build`), if anything.
    pub module_source: Option<crate::content::module_source::ModuleSource>,
    /// Every file that went into the experiment: the experiment file, then
    /// the files it extends (`extends:`), each with its digest.
    pub files: Vec<SourceFile>,
}

/// A file that went into an experiment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// Its path, as it was reached from the experiment file.
    pub path: String,
    /// blake3 of its bytes.
    pub digest: crate::content::digest::Digest,
}

/// A machine.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HostInfo {
    /// Its host name.
    pub hostname: String,
    /// The operating system, and its kernel release where known.
    pub os: String,
    /// The CPU architecture.
    pub arch: String,
}

/// The state of a git work tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitState {
    /// The work tree's root.
    pub root: String,
    /// The commit checked out.
    pub commit: String,
    /// Whether any tracked file differs from the commit, or an untracked,
    /// unignored file exists.
    pub dirty: bool,
}

impl Provenance {
    /// Captures provenance for an experiment file and its module (whose
    /// bytes are `wasm`).
    pub fn capture(experiment_file: &Path, module_file: &Path, wasm: &[u8]) -> Provenance {
        Provenance {
            djx_version: env!("CARGO_PKG_VERSION").to_owned(),
            host: HostInfo::this(),
            experiment_git: GitState::of(experiment_file),
            module_git: GitState::of(module_file),
            module_source: crate::content::module_source::read(wasm),
            files: Vec::new(),
        }
    }
}

impl HostInfo {
    /// This machine.
    pub fn this() -> HostInfo {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        HostInfo {
            hostname: crate::run::worker_id::hostname(),
            os: if release.is_empty() {
                std::env::consts::OS.to_owned()
            } else {
                format!("{} {release}", std::env::consts::OS)
            },
            arch: std::env::consts::ARCH.to_owned(),
        }
    }
}

impl GitState {
    /// The git state of the work tree holding `file`, or `None` when it is
    /// in none (or git is not installed).
    pub fn of(file: &Path) -> Option<GitState> {
        let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
        let dir = dir.unwrap_or(Path::new("."));
        let git = |args: &[&str]| -> Option<String> {
            let out = Command::new("git")
                .arg("-C")
                .arg(dir)
                .args(args)
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        };
        let root = git(&["rev-parse", "--show-toplevel"])?;
        // A repository without commits has no HEAD: nothing to pin.
        let commit = git(&["rev-parse", "--verify", "HEAD"])?;
        let status = git(&["status", "--porcelain"])?;
        Some(GitState {
            root,
            commit,
            dirty: !status.is_empty(),
        })
    }
}

impl std::fmt::Display for GitState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}{}",
            self.root,
            self.commit,
            if self.dirty { " (dirty)" } else { "" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_state_of_a_fresh_repository() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("exp.yml");
        std::fs::write(&file, "name: x\n").expect("write");
        assert_eq!(GitState::of(&file), None, "not in a work tree");
        let git = |args: &[&str]| {
            let ok = Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(args)
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@example.org")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@example.org")
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"]);
        git(&["add", "exp.yml"]);
        git(&["commit", "-q", "-m", "one"]);
        let clean = GitState::of(&file).expect("in a work tree");
        assert_eq!(clean.commit.len(), 40);
        assert!(!clean.dirty);
        std::fs::write(&file, "name: y\n").expect("write");
        let dirty = GitState::of(&file).expect("in a work tree");
        assert_eq!(dirty.commit, clean.commit);
        assert!(dirty.dirty);
    }
}
