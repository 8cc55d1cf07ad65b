//! The experiment file: its typed form, and parsing it from YAML.
//!
//! This module knows serde and YAML, not wasmtime or the store. Parsing
//! checks everything that can be checked from the text; the loader
//! ([`crate::experiment::resolve`]) then checks files and the module.
//!
//! ```yaml
//! project: fit a random forest to the iris dataset
//! name: try different regularisations
//! module: ../../target/guests/wasm32-wasip2/release/iris.wasm   # relative to this file
//! # or, for a Python script run by a WASI Python ([`program`]):
//! # python: job.py
//! data:
//!   iris: data/iris.csv            # a file or a directory
//! limits: {timeout: 60s, memory: 256MiB}
//! job:
//!   labels: {itteration: 1}
//!   parameter: {model_args: {max_depth: 2}}
//! experiment:
//!   grid:
//!     - parameter.model_args.max_depth: [2, 4, 6]
//! ```

pub mod depth;
pub mod error;
pub mod extends;
pub mod grid;
pub mod halving;
pub mod locate;
pub mod program;
pub mod random;
pub mod read;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::runtime::{Determinism, Limits};

pub use self::error::SpecError;
pub use self::extends::Source;
pub use self::grid::{DEFAULT_MAX_JOBS, ExpandedJob, Grid, expand};
pub use self::halving::{Halving, Mode};
use self::locate::{Seg, locate};
pub use self::random::Space;

/// An experiment file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentFile {
    /// What the experiments of this project are about.
    #[serde(default)]
    pub project: Option<String>,
    /// The experiment's name.
    pub name: String,
    /// A longer description.
    #[serde(default)]
    pub description: Option<String>,
    /// The job's module, relative to the experiment file: a component of
    /// the `djx:job` world, or a WASI program. (The original djx's
    /// `source:` block, a Python module to run, is refused with a message
    /// that says to write this, or `python:`, instead.)
    #[serde(default)]
    pub module: Option<PathBuf>,
    /// A Python script run by a WASI Python, instead of `module:`.
    #[serde(default)]
    pub python: Option<program::PythonSpec>,
    /// A WASI program's arguments (for `python:`, after the script's path).
    #[serde(default)]
    pub args: Vec<String>,
    /// A WASI program's environment, besides the job protocol's `DJX_*`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Read-only files and directories mounted at absolute paths in the
    /// sandbox, by the path there; content-addressed like datasets.
    #[serde(default)]
    pub files: BTreeMap<String, PathBuf>,
    /// Datasets by name: a file or directory, relative to the file.
    #[serde(default)]
    pub data: BTreeMap<String, DataSpec>,
    /// Limits of every job.
    #[serde(default)]
    pub limits: Limits,
    /// Floating-point determinism profile.
    #[serde(default)]
    pub determinism: Determinism,
    /// How often a job whose worker died is retried before it fails.
    #[serde(default)]
    pub retries: u32,
    /// The most jobs the grid may have (default
    /// [`grid::DEFAULT_MAX_JOBS`]); a larger grid is refused before any
    /// job is made. `djx add --max-jobs` overrides it.
    #[serde(default)]
    pub max_jobs: Option<u64>,
    /// Whether a job's log (stdout, stderr, log messages) is part of its
    /// result digest, so `djx verify` compares it too. Default true.
    #[serde(default = "yes")]
    pub digest_log: bool,
    /// The base job.
    #[serde(default)]
    pub job: JobSection,
    /// The grid over the base job.
    #[serde(default)]
    pub experiment: Option<ExperimentSection>,
}

fn yes() -> bool {
    true
}

/// A dataset: `name: path` or `name: {source: path}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSpec {
    /// The file or directory, relative to the experiment file.
    pub source: PathBuf,
    /// Whether the original djx's `timestamp:` key was given. It versioned
    /// a dataset by time; djx versions datasets by content, so it is
    /// ignored with a warning.
    pub timestamp: bool,
}

impl<'de> Deserialize<'de> for DataSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DataSpec, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Long {
            source: PathBuf,
            #[serde(default)]
            timestamp: Option<serde_yaml::Value>,
        }
        match serde_yaml::Value::deserialize(d)? {
            serde_yaml::Value::String(path) => Ok(DataSpec {
                source: path.into(),
                timestamp: false,
            }),
            other @ serde_yaml::Value::Mapping(_) => serde_yaml::from_value::<Long>(other)
                .map(|l| DataSpec {
                    source: l.source,
                    timestamp: l.timestamp.is_some(),
                })
                .map_err(serde::de::Error::custom),
            _ => Err(serde::de::Error::custom(
                "a dataset is a path, or a mapping with `source: path`",
            )),
        }
    }
}

/// The `job` section: the base job's labels and parameters.
#[derive(Debug, Default, Deserialize)]
pub struct JobSection {
    /// Labels: descriptive values that identify the job in tables.
    #[serde(default)]
    pub labels: serde_yaml::Mapping,
    /// Parameters: what the job computes with.
    #[serde(default)]
    pub parameter: serde_yaml::Mapping,
    /// Any other key. The original djx allowed them (its iris example has a
    /// stray `save: false` here); djx warns and ignores them.
    #[serde(flatten)]
    pub other: serde_yaml::Mapping,
}

/// The `experiment` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSection {
    /// The dimensions of the grid; their product is the job list.
    #[serde(default)]
    pub grid: Vec<serde_yaml::Value>,
    /// Random search: samples drawn once and crossed with the grid.
    #[serde(default)]
    pub random: Option<random::RandomSection>,
    /// Successive halving over the sampled configurations.
    #[serde(default)]
    pub halving: Option<halving::HalvingSection>,
}

/// A parsed experiment file with its text, for locating errors.
#[derive(Debug)]
pub struct ParsedFile {
    /// The file's path.
    pub path: PathBuf,
    /// The file's bytes (for the experiment's source digest).
    pub text: String,
    /// The typed form.
    pub file: ExperimentFile,
    /// Non-fatal findings, e.g. ignored keys.
    pub warnings: Vec<SpecError>,
    /// Every file that went into the experiment, in precedence order: this
    /// file first, then the files it extends ([`extends`]).
    pub sources: Vec<Source>,
    /// The experiment as one YAML document: the file's text, or, when it
    /// extends others, the merged files. Parsing it again gives the same
    /// experiment (later rungs of a halving sweep are made from it).
    pub document: String,
}

impl ParsedFile {
    /// An error at `path` (a key path), in the file that wrote it.
    pub fn error(&self, path: &[Seg<'_>], message: impl Into<String>) -> SpecError {
        error_in(&self.sources, path, message)
    }

    /// The line of `path` in the file that wrote it.
    pub fn line_of(&self, path: &[Seg<'_>]) -> Option<usize> {
        origin(&self.sources, path).and_then(|s| locate(&s.text, path))
    }

    /// The directory the file's relative paths start from.
    pub fn base_dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

/// An error at `path` in the one of `sources` (in precedence order) that
/// wrote it.
fn error_in(sources: &[Source], path: &[Seg<'_>], message: impl Into<String>) -> SpecError {
    let source = origin(sources, path);
    SpecError {
        file: source.map(|s| s.path.clone()).unwrap_or_default(),
        line: source.and_then(|s| locate(&s.text, path)),
        key: key_text(path),
        message: message.into(),
    }
}

/// The file that wrote the value at `path`: the first file, in precedence
/// order, that has all of it, or else the one with the deepest part of it
/// (the first file when none has any).
fn origin<'s>(sources: &'s [Source], path: &[Seg<'_>]) -> Option<&'s Source> {
    let mut best: Option<(&Source, usize)> = None;
    for source in sources {
        let depth = extends::depth_in(&source.value, path);
        if depth == path.len() {
            return Some(source);
        }
        if depth > 0 && best.is_none_or(|(_, d)| depth > d) {
            best = Some((source, depth));
        }
    }
    best.map(|(s, _)| s).or(sources.first())
}

/// `a.b[2].c` for a key path.
pub fn key_text(path: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Reads and parses an experiment file.
pub fn parse_file(path: &Path) -> Result<ParsedFile, SpecError> {
    let text = read::read_text(path).map_err(|e| SpecError {
        file: path.to_path_buf(),
        line: None,
        key: String::new(),
        message: format!("cannot read the experiment file: {e}"),
    })?;
    parse_str(path, text)
}

/// Parses experiment text that came from `path`, with the files it
/// extends (read relative to `path`).
pub fn parse_str(path: &Path, text: String) -> Result<ParsedFile, SpecError> {
    depth::check(path, &text)?;
    let loaded = extends::load(path, &text)?;
    let (file, document) = match &loaded.merged {
        None => {
            let file: ExperimentFile =
                serde_yaml::from_str(&text).map_err(|e| yaml_error(path, &e))?;
            (file, text.clone())
        }
        Some(merged) => {
            let document = serde_yaml::to_string(merged).map_err(|e| SpecError {
                file: path.to_path_buf(),
                line: None,
                key: String::new(),
                message: format!("merging the files it extends: {e}"),
            })?;
            match serde_yaml::from_str::<ExperimentFile>(&document) {
                Ok(file) => (file, document),
                Err(e) => {
                    // Lines of the merged document mean nothing to the
                    // user: find the key in the file that wrote it.
                    let e = yaml_error(path, &e);
                    let mut segs = segs_of(&e.key);
                    // An unknown key is found in the file that wrote it.
                    if let Some(unknown) = e
                        .message
                        .strip_prefix("unknown field `")
                        .and_then(|rest| rest.split('`').next())
                    {
                        segs.push(Seg::Key(unknown));
                    }
                    return Err(error_in(&loaded.sources, &segs, e.message.clone()));
                }
            }
        }
    };
    let sources = loaded.sources;
    let mut parsed = ParsedFile {
        path: path.to_path_buf(),
        text,
        file,
        warnings: Vec::new(),
        sources,
        document,
    };
    let ignored: Vec<String> = parsed.file.job.other.keys().map(yaml_key).collect();
    for key in ignored {
        let warning = parsed.error(
            &[Seg::Key("job"), Seg::Key(&key)],
            "ignored: a job has only `labels` and `parameter` (did you mean `parameter.",
        );
        parsed.warnings.push(SpecError {
            message: format!("{}{key}`?)", warning.message),
            ..warning
        });
    }
    let mut warnings = Vec::new();
    for (name, data) in &parsed.file.data {
        let key = [Seg::Key("data"), Seg::Key(name)];
        if !valid_dataset_name(name) {
            return Err(parsed.error(
                &key,
                "a dataset name must be letters, digits, '_', '-' or '.', and not `.` or `..`",
            ));
        }
        let source = data.source.to_string_lossy();
        if source.starts_with("http://") || source.starts_with("https://") {
            return Err(parsed.error(
                &[Seg::Key("data"), Seg::Key(name), Seg::Key("source")],
                format!(
                    "djx reads datasets from local paths only: download {source} first \
                     (e.g. `curl -o {name}.csv '{source}'`) and write its path here, \
                     relative to this file"
                ),
            ));
        }
        if data.timestamp {
            let warning = parsed.error(
                &[Seg::Key("data"), Seg::Key(name), Seg::Key("timestamp")],
                "ignored: the original djx versioned a dataset by its timestamp; djx \
                 versions a dataset by its content (a blake3 digest, in every job key), \
                 so the key has no meaning here",
            );
            warnings.push(warning);
        }
    }
    parsed.warnings.extend(warnings);
    program::check(&parsed)?;
    if parsed.file.name.trim().is_empty() {
        return Err(parsed.error(&[Seg::Key("name")], "the experiment needs a name"));
    }
    Ok(parsed)
}

/// Whether `name` can be a directory name under `/data`.
pub fn valid_dataset_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The key path a key text names (`a.b[2].c`); dotted keys split at
/// every dot, which [`locate`] forgives (it stops at the deepest key it
/// finds).
fn segs_of(key: &str) -> Vec<Seg<'_>> {
    let mut segs = Vec::new();
    for part in key.split('.').filter(|p| !p.is_empty()) {
        let (name, mut rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
        if !name.is_empty() {
            segs.push(Seg::Key(name));
        }
        while let Some((index, after)) = rest.split_once(']') {
            if let Ok(i) = index.parse() {
                segs.push(Seg::Index(i));
            }
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    segs
}

/// Turns a serde_yaml error into one naming file, line and key.
pub(crate) fn yaml_error(path: &Path, e: &serde_yaml::Error) -> SpecError {
    let mut message = e.to_string();
    // serde_yaml appends " at line L column C"; the line goes in front.
    if let Some(at) = message.rfind(" at line ") {
        message.truncate(at);
    }
    // …and prefixes the key path, "experiment.grid: …".
    let (key, message) = match message.split_once(": ") {
        Some((key, rest)) if !key.contains(' ') && !key.is_empty() => {
            (key.to_owned(), rest.to_owned())
        }
        _ => (String::new(), message),
    };
    let (key, message) = match (key.as_str(), message) {
        ("", m) if m.starts_with("unknown field `source`") => (
            "source".to_owned(),
            "djx runs a WebAssembly program, not a Python module from a repository: replace \
             the `source:` block with `python: job.py` (the script, relative to this file, run \
             by a WASI Python with numpy, pandas and scikit-learn) or `module: path/to/job.wasm`"
                .to_owned(),
        ),
        (_, m) => (key, explain_wide_integer(m)),
    };
    SpecError {
        file: path.to_path_buf(),
        line: e.location().map(|l| l.line()),
        key,
        message,
    }
}

/// serde_yaml reads an integer beyond 64 bits as `i128`/`u128`, which no
/// YAML value holds, and says so in its own terms; this says what to do.
fn explain_wide_integer(message: String) -> String {
    match message.split('`').nth(1) {
        Some(number) if is_wide_integer(&message) => format!(
            "the integer {number} does not fit in 64 bits: djx keeps every digit of an \
             integer from -2^63 to 2^64-1; write a larger number as a float (a decimal \
             point or an exponent, e.g. 1.5e20) or as a string"
        ),
        _ => message,
    }
}

/// Whether serde_yaml's `message` (with or without its key path in front)
/// is about an integer beyond 64 bits.
fn is_wide_integer(message: &str) -> bool {
    message.contains("invalid type: integer `")
        && (message.contains("` as u128") || message.contains("` as i128"))
}

/// A YAML mapping key as text.
pub fn yaml_key(key: &serde_yaml::Value) -> String {
    match key {
        serde_yaml::Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default(),
    }
}

/// A YAML value as JSON, every number with the type it was written with
/// (`1` an integer, `1.0` and `1e3` floats). YAML that JSON cannot express
/// (a non-string key, a tag, NaN or infinity) is an error message.
pub fn to_json(value: &serde_yaml::Value) -> Result<Value, String> {
    match value {
        serde_yaml::Value::Null => Ok(Value::Null),
        serde_yaml::Value::Bool(b) => Ok(Value::Bool(*b)),
        serde_yaml::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Value::from(i))
            } else if let Some(u) = n.as_u64() {
                Ok(Value::from(u))
            } else {
                // A float stays a float, even with an integral value: `1.0`
                // reaches the guest as `1.0`. Negative zero is zero.
                let f = n.as_f64().unwrap_or(f64::NAN);
                let f = if f == 0.0 { 0.0 } else { f };
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| {
                        format!("{f} cannot be a parameter: JSON has no NaN or infinity")
                    })
            }
        }
        serde_yaml::Value::String(s) => Ok(Value::String(s.clone())),
        serde_yaml::Value::Sequence(items) => items
            .iter()
            .map(to_json)
            .collect::<Result<_, _>>()
            .map(Value::Array),
        serde_yaml::Value::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let serde_yaml::Value::String(key) = k else {
                    return Err(format!(
                        "mapping keys must be strings, found {}",
                        yaml_key(k)
                    ));
                };
                out.insert(key.clone(), to_json(v)?);
            }
            Ok(Value::Object(out))
        }
        serde_yaml::Value::Tagged(t) => Err(format!("YAML tags are not supported ({})", t.tag)),
    }
}
