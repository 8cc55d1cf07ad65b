//! Record lines: the host side of `/djx/out/records.jsonl`, read as the
//! program appends to it, each line checked and recorded as a
//! `djx:job/records.record` call would be.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::content::digest::Digest;
use crate::runtime::bindings::records::Host as _;
use crate::runtime::bindings::types::{ArtifactRef, Metric};
use crate::runtime::ctx::JobView;
use crate::runtime::limits::{LimitExceeded, LimitKind};

use super::{ARTIFACTS_DIR, OUT_DIR, RECORDS_FILE};

/// A record line the host cannot take: the job fails with this message.
#[derive(Debug, thiserror::Error)]
#[error("{RECORDS_FILE} line {line}: {message}")]
pub struct ProtocolError {
    /// The line's number, from 1.
    pub line: u64,
    /// What is wrong with it.
    pub message: String,
}

/// One record line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    event: String,
    #[serde(default)]
    context: Map<String, Value>,
    #[serde(default)]
    metrics: Map<String, Value>,
    #[serde(default)]
    artifacts: Map<String, Value>,
}

/// Where the host is in the records file.
pub struct RecordTail {
    path: PathBuf,
    artifacts: PathBuf,
    file: Option<File>,
    /// Bytes of a line not yet ended.
    partial: Vec<u8>,
    /// Lines read so far.
    lines: u64,
    /// Artifact files stored so far, by their path under the artifacts
    /// directory.
    pub stored: HashMap<String, Digest>,
}

impl RecordTail {
    /// The tail of `records`, whose artifacts are in `artifacts` (host paths).
    pub fn new(records: PathBuf, artifacts: PathBuf) -> RecordTail {
        RecordTail {
            path: records,
            artifacts,
            file: None,
            partial: Vec::new(),
            lines: 0,
            stored: HashMap::new(),
        }
    }

    /// The host directory of the artifacts.
    pub fn artifacts_dir(&self) -> &std::path::Path {
        &self.artifacts
    }

    /// Records every line ended since the last call; at the `end`, the
    /// last line too, ended or not. Errors trap: a broken limit, or a
    /// [`ProtocolError`].
    pub fn read(&mut self, view: &mut JobView<'_>, end: bool) -> wasmtime::Result<()> {
        if self.file.is_none() {
            match File::open(&self.path) {
                Ok(file) => self.file = Some(file),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(wasmtime::Error::new(e)),
            }
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        // A line may be as long as a record may be, and a little more.
        let most = view.ctx.limits.record_size.saturating_mul(2) + 65_536;
        let mut chunk = Vec::new();
        file.by_ref()
            .take(most + 1)
            .read_to_end(&mut chunk)
            .map_err(wasmtime::Error::new)?;
        let mut start = 0;
        while let Some(n) = chunk[start..].iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&chunk[start..start + n]);
            start += n + 1;
            let line = std::mem::take(&mut self.partial);
            self.line(view, &line)?;
        }
        self.partial.extend_from_slice(&chunk[start..]);
        if self.partial.len() as u64 > most {
            return Err(wasmtime::Error::new(LimitExceeded::bytes(
                LimitKind::RecordSize,
                view.ctx.limits.record_size,
                format!("{RECORDS_FILE} line {} is longer", self.lines + 1),
            )));
        }
        if chunk.len() as u64 > most {
            // More is waiting: the next tick reads on.
            return if end { self.read(view, end) } else { Ok(()) };
        }
        if end && !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(view, &line)?;
        }
        Ok(())
    }

    /// Records one line.
    fn line(&mut self, view: &mut JobView<'_>, text: &[u8]) -> wasmtime::Result<()> {
        self.lines += 1;
        let fail =
            |line: u64, message: String| wasmtime::Error::new(ProtocolError { line, message });
        if text.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let parsed: Line =
            serde_json::from_slice(text).map_err(|e| fail(self.lines, e.to_string()))?;
        let metrics = parsed
            .metrics
            .into_iter()
            .map(|(name, value)| {
                Ok(Metric {
                    value: number(&name, &value)?,
                    name,
                })
            })
            .collect::<Result<Vec<Metric>, String>>()
            .map_err(|m| fail(self.lines, m))?;
        let mut refs = Vec::with_capacity(parsed.artifacts.len());
        for (name, path) in parsed.artifacts {
            let Value::String(path) = path else {
                return Err(fail(
                    self.lines,
                    format!("artifact {name:?}: not a path (a string)"),
                ));
            };
            let digest = match self.store(view, &path)? {
                Ok(digest) => digest,
                Err(message) => return Err(fail(self.lines, message)),
            };
            refs.push(ArtifactRef {
                name,
                digest: digest.to_hex(),
            });
        }
        let context = Value::Object(parsed.context).to_string();
        match view.record(parsed.event, context, metrics, refs)? {
            Ok(()) => Ok(()),
            Err(message) => Err(fail(self.lines, message)),
        }
    }

    /// Stores the artifact file at `path` (under the artifacts directory)
    /// once, named by that path as a component's `artifacts.save` names
    /// it (a record's key for it is the record's own); its digest.
    fn store(
        &mut self,
        view: &mut JobView<'_>,
        path: &str,
    ) -> wasmtime::Result<Result<Digest, String>> {
        let prefix = format!("{OUT_DIR}/{ARTIFACTS_DIR}/");
        let relative = path.strip_prefix(&prefix).unwrap_or(path);
        if let Some(digest) = self.stored.get(relative) {
            return Ok(Ok(*digest));
        }
        let stored = view.ctx.store_file(relative, &self.artifacts, relative)?;
        if let Ok(digest) = stored {
            self.stored.insert(relative.to_owned(), digest);
        }
        Ok(stored)
    }
}

/// A metric's value: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
fn number(name: &str, value: &Value) -> Result<f64, String> {
    match value {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("metric {name:?}: {n} is not a number djx can keep")),
        Value::String(s) if s == "NaN" => Ok(f64::NAN),
        Value::String(s) if s == "Infinity" => Ok(f64::INFINITY),
        Value::String(s) if s == "-Infinity" => Ok(f64::NEG_INFINITY),
        other => Err(format!(
            "metric {name:?}: {other} is not a number (nor \"NaN\", \"Infinity\", \"-Infinity\")"
        )),
    }
}
