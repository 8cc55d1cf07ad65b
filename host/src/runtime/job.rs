//! What the runtime needs to run one job, and what comes out of it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::content::digest::Digest;
use crate::records::keys::RecordKeys;
use crate::records::{ArtifactInfo, Records};
use crate::runtime::limits::{LimitKind, Limits};
use crate::runtime::log::{LogChunk, Stream};
use crate::views::curve_sketch::StoredCurve;

/// A dataset as the sandbox shows it: a host directory preopened read-only
/// at `/data/<name>`. A WASI program's read-only file (its code, its
/// runtime's library) is one too, named by its absolute path in the
/// sandbox ([`DatasetMount::is_program_file`]): a directory preopened
/// there, or a file alone in a directory preopened at its parent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetMount {
    /// The dataset's name, e.g. `iris`.
    pub name: String,
    /// The host directory that becomes `/data/<name>`. It must hold nothing
    /// but the dataset.
    pub host_dir: PathBuf,
    /// For a single-file dataset, the file's name inside `host_dir`.
    pub file: Option<String>,
    /// The dataset's content digest.
    pub digest: Digest,
}

impl DatasetMount {
    /// Whether this is a program's file rather than a dataset
    /// ([`is_program_file`]).
    pub fn is_program_file(&self) -> bool {
        is_program_file(&self.name)
    }

    /// The directory inside the sandbox.
    pub fn guest_dir(&self) -> String {
        guest_dir(&self.name, self.file.as_deref())
    }

    /// The path a guest opens: the file of a single-file dataset, or the
    /// directory.
    pub fn guest_path(&self) -> String {
        match (self.is_program_file(), &self.file) {
            (true, _) => self.name.clone(),
            (false, Some(file)) => format!("/data/{}/{file}", self.name),
            (false, None) => self.guest_dir(),
        }
    }
}

/// Whether the dataset named `name` is a WASI program's read-only file,
/// mounted where its name says: dataset names have no `/`, a program
/// file's name is its absolute path in the sandbox.
pub fn is_program_file(name: &str) -> bool {
    name.starts_with('/')
}

/// The directory the sandbox preopens for the dataset or program file
/// `name` (a single file: named `file`): `/data/<name>` for a dataset; for
/// a program file, the name, or a file's parent.
pub fn guest_dir(name: &str, file: Option<&str>) -> String {
    match (is_program_file(name), file) {
        (false, _) => format!("/data/{name}"),
        (true, None) => name.to_owned(),
        (true, Some(_)) => match name.rsplit_once('/') {
            Some(("", _)) | None => "/".to_owned(),
            Some((dir, _)) => dir.to_owned(),
        },
    }
}

/// What a WASI program is started with besides the job protocol's own:
/// the arguments after its name, and environment variables. A component
/// of the `djx:job` world gets neither.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invocation {
    /// The arguments after `argv[0]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Environment variables (no `DJX_` ones: those are the protocol's).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
}

/// No arguments, no environment.
static NO_INVOCATION: Invocation = Invocation {
    args: Vec::new(),
    env: BTreeMap::new(),
};

impl Invocation {
    /// No arguments and no environment, for as long as needed.
    pub fn none() -> &'static Invocation {
        &NO_INVOCATION
    }

    /// Whether it has no arguments and no environment.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty() && self.env.is_empty()
    }
}

/// One job, resolved: everything the sandbox will see.
#[derive(Clone, Debug)]
pub struct JobInput {
    /// The `parameter` subtree (a JSON object).
    pub params: Value,
    /// The `labels` subtree (a JSON object).
    pub labels: Value,
    /// The job's datasets, and a WASI program's read-only files.
    pub datasets: Vec<DatasetMount>,
    /// A WASI program's arguments and environment.
    pub invocation: Invocation,
    /// The job's limits.
    pub limits: Limits,
    /// The seed of the job's clocks and random sources. Derive it from what
    /// defines the job (see [`crate::runtime::job_seed`]) so reruns match.
    pub seed: [u8; 32],
}

/// Why a job failed.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// The guest returned `err(message)` from `run`.
    Guest(String),
    /// The job broke a limit.
    Limit {
        /// Which limit.
        kind: LimitKind,
        /// What happened, naming the limit.
        message: String,
    },
    /// The guest trapped (a panic, a stack overflow, an unreachable).
    Trap(String),
    /// The host failed to set up or run the job.
    Host(String),
    /// The run was cancelled (Ctrl-C) before the job ended.
    Cancelled,
}

impl Failure {
    /// The failure reason shown to users.
    pub fn reason(&self) -> String {
        match self {
            Failure::Guest(message) => format!("guest error: {message}"),
            Failure::Limit { message, .. } => message.clone(),
            Failure::Trap(message) => format!("guest trapped: {message}"),
            Failure::Host(message) => format!("host error: {message}"),
            Failure::Cancelled => "cancelled".into(),
        }
    }
}

/// What running a job produced. Records and artifacts are kept even for a
/// failed job, for debugging; a store decides what to keep.
#[derive(Clone, Debug)]
pub struct JobOutcome {
    /// `None` when the job finished, else why it failed.
    pub failure: Option<Failure>,
    /// The records, in order: all of them, or with a record sink (see
    /// [`RunHooks`](crate::runtime::RunHooks)) those after the last chunk
    /// it was given.
    pub records: Records,
    /// The keys all its records use (streamed ones too).
    pub record_keys: RecordKeys,
    /// The sketches of its curves, when it streamed its records.
    pub curves: Vec<StoredCurve>,
    /// The artifacts, in the order they were stored.
    pub artifacts: Vec<ArtifactInfo>,
    /// The job's log.
    pub log: Vec<LogChunk>,
    /// Wall-clock time of instantiation and `run`.
    pub duration: Duration,
}

impl JobOutcome {
    /// Whether the job finished without failing.
    pub fn is_finished(&self) -> bool {
        self.failure.is_none()
    }

    /// The whole log's bytes, streams interleaved as written.
    pub fn log_bytes(&self) -> Vec<u8> {
        self.log
            .iter()
            .flat_map(|c| c.bytes.iter().copied())
            .collect()
    }

    /// The whole log as text (invalid UTF-8 replaced).
    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&self.log_bytes()).into_owned()
    }

    /// The last `max_lines` non-empty lines of stderr.
    pub fn stderr_tail(&self, max_lines: usize) -> String {
        let bytes: Vec<u8> = self
            .log
            .iter()
            .filter(|c| c.stream == Stream::Stderr)
            .flat_map(|c| c.bytes.iter().copied())
            .collect();
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(max_lines)..].join("\n")
    }
}
