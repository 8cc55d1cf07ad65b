//! djx's job protocol, version 1: how a WASI program that links no djx
//! SDK is a job. It is a contract, versioned with the WIT (`wit/`), and
//! spelled out in the README ("Any language: the job protocol").
//!
//! Besides the sandbox every job has (datasets read-only under
//! `/data/<name>`, a private `/tmp`, no network, deterministic clocks and
//! random sources), a WASI program gets:
//!
//! | path (environment variable) | what |
//! |---|---|
//! | `/djx/in/params.json` (`DJX_PARAMS`) | the job's parameters, canonical JSON |
//! | `/djx/in/labels.json` (`DJX_LABELS`) | its labels, canonical JSON |
//! | `/djx/in/datasets.json` (`DJX_DATASETS`) | its datasets: `[{"name", "path", "digest"}]`, by name |
//! | `/djx/out/records.jsonl` (`DJX_RECORDS`) | where it appends its records, one JSON object a line |
//! | `/djx/out/artifacts/` (`DJX_ARTIFACTS`) | where it writes its artifacts |
//!
//! `DJX_PROTOCOL` is `1`, and the environment holds nothing else. `/djx/in`
//! is read-only. stdout and stderr are the job's log; exit status 0 is a
//! finished job, any other a failed one (with the tail of stderr).
//!
//! A record line is `{"event": "...", "context": {...}, "metrics": {...},
//! "artifacts": {...}}`: `event` a string; `context` an object; `metrics`
//! an object of numbers (or the strings `"NaN"`, `"Infinity"`,
//! `"-Infinity"`); `artifacts` an object naming, for each reference, a
//! file under `/djx/out/artifacts/` (relative, or the full path), stored
//! as an artifact named by that path. Only
//! `event` is required; any other key is an error. The host reads the lines
//! as they are written (every epoch tick) and when the program exits,
//! applying the record limits; a line that does not parse fails the job,
//! naming the line. A file a record names is stored (content-addressed)
//! when the record is read; every other regular file left under
//! `/djx/out/artifacts/` is stored when the program exits 0, named by its
//! path there, in path order.

mod lines;
mod outputs;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

pub use self::lines::{ProtocolError, RecordTail};
pub use self::outputs::store_left_artifacts;
use crate::runtime::job::DatasetMount;
use crate::runtime::scratch::{Scratch, ScratchPool};

/// The protocol's version, in `DJX_PROTOCOL`.
pub const VERSION: &str = "1";
/// The read-only inputs inside the sandbox.
pub const IN_DIR: &str = "/djx/in";
/// The outputs inside the sandbox.
pub const OUT_DIR: &str = "/djx/out";
/// The records file, under [`OUT_DIR`].
pub const RECORDS_FILE: &str = "records.jsonl";
/// The artifacts directory, under [`OUT_DIR`].
pub const ARTIFACTS_DIR: &str = "artifacts";

/// The host directories of one WASI program's run. The artifacts
/// directory is a preopen of its own (at `/djx/out/artifacts`, the longest
/// matching preopen wins), so that no job pays for making and removing a
/// directory: pooled directories are emptied, not removed.
pub struct ProtocolDirs<'a> {
    input: Scratch<'a>,
    output: Scratch<'a>,
    artifacts: Scratch<'a>,
}

/// Writes `text` over the file at `path` in place, then cuts it to
/// length. Never truncated to zero first: ext4 takes that for a file being
/// replaced and writes its blocks out at the close.
fn overwrite(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.set_len(text.len() as u64)
}

impl<'a> ProtocolDirs<'a> {
    /// Takes an input directory from `inputs` (a pool of
    /// [reused](ScratchPool::reused) directories) and two from `pool`, and
    /// writes the inputs over the last job's.
    pub fn new(
        inputs: &'a ScratchPool,
        pool: &'a ScratchPool,
        params_json: &str,
        labels_json: &str,
        datasets: &[DatasetMount],
    ) -> std::io::Result<ProtocolDirs<'a>> {
        let input = inputs.take()?;
        let (output, artifacts) = (pool.take()?, pool.take()?);
        let listed: Vec<Value> = datasets
            .iter()
            .filter(|d| !d.is_program_file())
            .map(|d| json!({"name": d.name, "path": d.guest_path(), "digest": d.digest.to_hex()}))
            .collect();
        overwrite(&input.path().join("params.json"), params_json)?;
        overwrite(&input.path().join("labels.json"), labels_json)?;
        overwrite(
            &input.path().join("datasets.json"),
            &Value::Array(listed).to_string(),
        )?;
        Ok(ProtocolDirs {
            input,
            output,
            artifacts,
        })
    }

    /// The host directory that is [`IN_DIR`].
    pub fn input(&self) -> &Path {
        self.input.path()
    }

    /// The host directory that is [`OUT_DIR`].
    pub fn output(&self) -> &Path {
        self.output.path()
    }

    /// The host path of the records file.
    pub fn records(&self) -> PathBuf {
        self.output().join(RECORDS_FILE)
    }

    /// The host directory that is the artifacts directory.
    pub fn artifacts(&self) -> PathBuf {
        self.artifacts.path().to_path_buf()
    }

    /// The environment of the program.
    pub fn env() -> [(&'static str, String); 6] {
        [
            ("DJX_PROTOCOL", VERSION.to_owned()),
            ("DJX_PARAMS", format!("{IN_DIR}/params.json")),
            ("DJX_LABELS", format!("{IN_DIR}/labels.json")),
            ("DJX_DATASETS", format!("{IN_DIR}/datasets.json")),
            ("DJX_RECORDS", format!("{OUT_DIR}/{RECORDS_FILE}")),
            ("DJX_ARTIFACTS", format!("{OUT_DIR}/{ARTIFACTS_DIR}")),
        ]
    }
}
