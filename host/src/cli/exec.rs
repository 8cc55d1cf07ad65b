//! `djx exec`: run one job with no database.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value;

use djx_host::content::artifacts::ArtifactStore;
use djx_host::content::dataset::{DatasetKind, digest_path, stage_alone};
use djx_host::content::digest::Digest;
use djx_host::experiment::lock::LockedJob;
use djx_host::experiment::spec::valid_dataset_name;
use djx_host::records::result_digest::records_digest;
use djx_host::runtime::limits::{parse_duration, parse_size};
use djx_host::runtime::{
    DatasetMount, Determinism, JobInput, JobOutcome, Limits, Runtime, job_seed,
};
use djx_host::store::DatasetRef;

use super::{EXIT_JOB_FAILED, Exit};

/// Arguments of `djx exec`.
#[derive(Args)]
pub struct ExecArgs {
    /// The job component (built for wasm32-wasip2).
    module: PathBuf,
    /// Parameters: a JSON object, or @FILE to read it from a file.
    #[arg(long, default_value = "{}")]
    params: String,
    /// Labels: a JSON object, or @FILE.
    #[arg(long, default_value = "{}")]
    labels: String,
    /// A dataset NAME=PATH (a file or directory), mounted read-only at
    /// /data/NAME. Repeatable.
    #[arg(long = "data", value_name = "NAME=PATH")]
    data: Vec<String>,
    /// Write the job's artifacts here, each named by its digest.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Wall-clock limit, e.g. 30s, 5m.
    #[arg(long, value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Memory limit, e.g. 256MiB.
    #[arg(long, value_parser = parse_size)]
    memory: Option<u64>,
    /// Any limit as KEY=VALUE, e.g. `artifact_bytes=10MiB`, `records=1000`
    /// (keys as under `limits:` in an experiment file). Repeatable.
    #[arg(long = "limit", value_name = "KEY=VALUE")]
    limit: Vec<String>,
    /// Floating-point determinism profile.
    #[arg(long, value_enum, default_value = "native")]
    determinism: DeterminismArg,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DeterminismArg {
    Native,
    Portable,
}

/// Runs `djx exec`.
pub fn run(args: ExecArgs) -> anyhow::Result<()> {
    // Validate everything before loading the engine.
    let params = json_object_arg("--params", &args.params)?;
    let labels = json_object_arg("--labels", &args.labels)?;
    let data = args
        .data
        .iter()
        .map(|arg| parse_data_arg(arg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut limits = parse_limits(&args.limit)?;
    if let Some(timeout) = args.timeout {
        limits.timeout = timeout;
    }
    if let Some(memory) = args.memory {
        limits.memory = memory;
    }
    let determinism = match args.determinism {
        DeterminismArg::Native => Determinism::Native,
        DeterminismArg::Portable => Determinism::Portable,
    };

    let scratch = super::common::layout()?.temp;
    let staging = tempfile::Builder::new()
        .prefix("djx-exec-")
        .tempdir_in(&scratch)
        .context("creating a staging directory")?;
    let datasets = data
        .into_iter()
        .map(|(name, path)| mount(&name, &path, staging.path()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (store, keep) = match &args.out {
        Some(dir) => (ArtifactStore::open(dir)?, true),
        None => (
            ArtifactStore::open(staging.path().join("artifacts"))?,
            false,
        ),
    };

    let runtime = Runtime::new(
        determinism,
        djx_host::content::layout::user_cache_dir(),
        scratch,
    )?;
    let module = runtime.load_file(&args.module)?;
    let mut refs: Vec<DatasetRef> = datasets
        .iter()
        .map(|d| DatasetRef {
            name: d.name.clone(),
            digest: d.digest,
            file: d.file.clone(),
        })
        .collect();
    refs.sort_by(|a, b| a.name.cmp(&b.name));
    let key = LockedJob::new(
        module.digest,
        &params,
        &labels,
        &refs,
        &limits,
        runtime.engine().profile(),
    )
    .key();
    let input = JobInput {
        seed: job_seed(&key),
        params,
        labels,
        datasets,
        invocation: Default::default(),
        limits,
    };
    let outcome = runtime.run(&module, &input, &store);

    report(&outcome, &key, keep)
}

/// Prints what the job produced: its log to stderr, its records to stdout
/// as JSON lines, then its key and its result digest (or why it failed).
fn report(outcome: &JobOutcome, key: &Digest, keep: bool) -> anyhow::Result<()> {
    let log = outcome.log_text();
    if !log.is_empty() {
        eprint!("{log}");
        if !log.ends_with('\n') {
            eprintln!();
        }
    }
    let mut stdout = std::io::stdout().lock();
    for record in outcome.records.iter() {
        stdout.write_all(record.to_json_text().as_bytes())?;
        stdout.write_all(b"\n")?;
    }
    stdout.flush()?;
    if !keep && !outcome.artifacts.is_empty() {
        eprintln!(
            "djx: {} artifact(s) not kept; pass --out DIR to keep them",
            outcome.artifacts.len()
        );
    }
    eprintln!("djx: job key {key}");
    match &outcome.failure {
        None => {
            let log = outcome.log_bytes();
            let digest = records_digest(&outcome.records, &outcome.artifacts, Some(&log));
            eprintln!("djx: result digest {digest}");
            Ok(())
        }
        Some(failure) => {
            eprintln!("djx: job failed: {}", failure.reason());
            Err(Exit(EXIT_JOB_FAILED).into())
        }
    }
}

/// Reads a JSON object given inline or as `@file`.
fn json_object_arg(flag: &str, text: &str) -> anyhow::Result<Value> {
    let (source, body) = match text.strip_prefix('@') {
        Some(path) => (
            format!("{flag} file {path}"),
            fs::read_to_string(path).with_context(|| format!("reading {flag} file {path}"))?,
        ),
        None => (flag.to_owned(), text.to_owned()),
    };
    let value: Value =
        serde_json::from_str(&body).with_context(|| format!("{source} is not valid JSON"))?;
    if !value.is_object() {
        bail!("{source} must be a JSON object");
    }
    Ok(value)
}

/// Reads `--limit KEY=VALUE` flags over the default limits.
fn parse_limits(flags: &[String]) -> anyhow::Result<Limits> {
    let mut map = serde_json::Map::new();
    for flag in flags {
        let Some((key, value)) = flag.split_once('=') else {
            bail!("--limit {flag:?}: expected KEY=VALUE");
        };
        map.insert(key.to_owned(), Value::String(value.to_owned()));
    }
    serde_json::from_value(Value::Object(map)).context("--limit")
}

/// Splits `NAME=PATH`, checking the name is a single path segment.
fn parse_data_arg(arg: &str) -> anyhow::Result<(String, PathBuf)> {
    let Some((name, path)) = arg.split_once('=') else {
        bail!("--data {arg:?}: expected NAME=PATH");
    };
    if !valid_dataset_name(name) {
        bail!("--data {arg:?}: the name must be letters, digits, '_', '-' or '.'");
    }
    let path = PathBuf::from(path);
    if !path.exists() {
        bail!("--data {arg:?}: {} does not exist", path.display());
    }
    Ok((name.to_owned(), path))
}

/// Mounts a dataset. A directory is preopened as it is; a single file is
/// linked (or copied) alone into a staging directory, so that the sandbox
/// sees only that file and not its siblings.
fn mount(name: &str, path: &Path, staging: &Path) -> anyhow::Result<DatasetMount> {
    let (digest, kind) = digest_path(path)?;
    match kind {
        DatasetKind::Dir => Ok(DatasetMount {
            name: name.to_owned(),
            host_dir: path.to_path_buf(),
            file: None,
            digest,
        }),
        DatasetKind::File => {
            let file_name = path
                .file_name()
                .and_then(|n| n.to_str())
                .with_context(|| {
                    format!("dataset {name}: {} has no UTF-8 file name", path.display())
                })?
                .to_owned();
            let dir = staging.join("data").join(name);
            stage_alone(path, &dir, &file_name)?;
            Ok(DatasetMount {
                name: name.to_owned(),
                host_dir: dir,
                file: Some(file_name),
                digest,
            })
        }
    }
}
