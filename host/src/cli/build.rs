//! `djx build`: build a Python guest into a djx job component with
//! componentize-py, with the djx guest kit and WIT contract built in, and
//! the digest of its source recorded inside the component.
//!
//! It builds from a copy of the source files it digests, in a temporary
//! directory, so the build writes nothing into the source tree (Python's
//! byte-code cache among others) and what it builds is what it digests.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::Args;
use djx_host::content::digest::Digest;
use djx_host::content::module_source::{ModuleSource, append, source_digest, source_files};
use djx_host::content::python_kit;

use super::output::Output;

/// The WIT contract, as built into this djx.
const WIT: &str = include_str!("../../../wit/job.wit");

/// Arguments of `djx build`.
#[derive(Args)]
pub struct BuildArgs {
    /// The guest's source directory; its `<module>.py` defines `WitWorld`.
    dir: PathBuf,
    /// The component to write.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// The Python module that defines `WitWorld`.
    #[arg(long, default_value = "app")]
    module: String,
}

/// Runs `djx build`.
pub fn run(args: BuildArgs) -> anyhow::Result<()> {
    let entry = args.dir.join(format!("{}.py", args.module));
    if !entry.is_file() {
        bail!(
            "{} does not exist: djx build builds a Python guest whose module `{}` defines \
             `WitWorld = djx.job(main)` (Rust guests build with `cargo build --target wasm32-wasip2`)",
            entry.display(),
            args.module
        );
    }
    let tool = componentize_py();
    let version = version_of(&tool)?;
    let source = source_digest(&args.dir)
        .with_context(|| format!("reading the source in {}", args.dir.display()))?;

    let work = tempfile::tempdir().context("creating a build directory")?;
    let src_dir = work.path().join("src");
    copy_source(&args.dir, &src_dir)
        .with_context(|| format!("copying the source in {}", args.dir.display()))?;
    let wit_dir = work.path().join("wit");
    let kit_dir = work.path().join("kit");
    std::fs::create_dir_all(&wit_dir)?;
    std::fs::write(wit_dir.join("job.wit"), WIT)?;
    python_kit::write_package(&kit_dir)?;
    let built = work.path().join("out.wasm");
    let status = Command::new(&tool)
        .arg("-d")
        .arg(&wit_dir)
        .args(["-w", "job", "componentize", "-p"])
        .arg(&src_dir)
        .arg("-p")
        .arg(&kit_dir)
        .arg(&args.module)
        .arg("-o")
        .arg(&built)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .status()
        .with_context(|| format!("running {}", tool.display()))?;
    if !status.success() {
        bail!("{} failed ({status})", tool.display());
    }
    let wasm = std::fs::read(&built).context("reading componentize-py's output")?;
    let stamped = append(
        &wasm,
        &ModuleSource {
            language: "python".into(),
            entry: args.module.clone(),
            source: source.to_hex(),
            kit: python_kit::digest().to_hex(),
            wit: Digest::of(WIT.as_bytes()).to_hex(),
            builder: version,
        },
    );
    Output::write_whole(&args.output, &stamped)?;
    eprintln!(
        "djx: built {} ({:.1} MB) from {} (source {source})",
        args.output.display(),
        stamped.len() as f64 / 1e6,
        args.dir.display()
    );
    Ok(())
}

/// Copies the source files of `dir` (see [`source_files`]) into `to`.
fn copy_source(dir: &Path, to: &Path) -> std::io::Result<()> {
    for (rel, path) in source_files(dir)? {
        let target = to.join(rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&path, &target)?;
    }
    Ok(())
}

/// componentize-py: `DJX_COMPONENTIZE_PY`, else from `PATH`.
fn componentize_py() -> PathBuf {
    std::env::var_os("DJX_COMPONENTIZE_PY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("componentize-py"))
}

fn version_of(tool: &Path) -> anyhow::Result<String> {
    let out = Command::new(tool)
        .arg("--version")
        .output()
        .with_context(|| {
            format!(
                "running {}: install it with `pip install componentize-py==0.25.1` \
             (or set DJX_COMPONENTIZE_PY to its path)",
                tool.display()
            )
        })?;
    if !out.status.success() {
        bail!("{} --version failed", tool.display());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
