//! An experiment's program, resolved from its file: the module to run,
//! and for a WASI program the read-only files it is given (pinned by
//! digest with the datasets, so they are in every job key), its arguments
//! and its environment.
//!
//! `python: job.py` resolves to the WASI Python runtime as the module,
//! with its standard library, djx's Python kit and the script (or its
//! code directory) as read-only files, and the script's path as the first
//! argument.

use std::path::{Path, PathBuf};

use crate::content::python_kit;
use crate::experiment::python_runtime::{self, PythonRuntime};
use crate::experiment::spec::locate::Seg;
use crate::experiment::spec::program::PythonSpec;
use crate::experiment::spec::{ParsedFile, SpecError};
use crate::runtime::Invocation;

/// Where a Python job's code is.
pub const CODE_DIR: &str = "/djx/code";
/// `KIT_DIR` as a literal, for the prelude.
macro_rules! kit_dir {
    () => {
        "/djx/lib"
    };
}
/// Where djx's Python kit is (on `sys.path`, after the script's directory).
pub const KIT_DIR: &str = kit_dir!();
/// How a Python job starts: the WASI Python runs isolated (no
/// `PYTHONPATH`, no site-packages, `sys.path` only its zip), so this puts
/// the script's directory and djx's kit in front, makes stdout and stderr
/// line-buffered (what a job printed reaches its log even when a limit
/// stops it), and runs the script as `__main__` with its own arguments.
pub const PYTHON_PRELUDE: &str = concat!(
    "import runpy, sys; \
     sys.argv = sys.argv[1:]; \
     sys.path[:0] = [sys.argv[0].rpartition('/')[0], '",
    kit_dir!(),
    "']; \
     sys.stdout.reconfigure(line_buffering=True); \
     sys.stderr.reconfigure(line_buffering=True); \
     runpy.run_path(sys.argv[0], run_name='__main__')"
);

/// A read-only file or directory of the program, to pin.
#[derive(Debug)]
pub struct ProgramFile {
    /// Where the program sees it: a directory, or a file.
    pub guest: String,
    /// Where it is on this machine.
    pub source: PathBuf,
    /// The key of the experiment file that named it (for errors).
    pub key: Vec<String>,
}

/// An experiment's program, resolved.
#[derive(Debug)]
pub struct Program {
    /// The module's path.
    pub module: PathBuf,
    /// The file whose git state is the module's provenance: the module,
    /// or a Python job's script.
    pub origin: PathBuf,
    /// Its read-only files.
    pub files: Vec<ProgramFile>,
    /// Its arguments and environment.
    pub invocation: Invocation,
    /// The key of the experiment file that named the module.
    pub key: &'static str,
    /// Where the kit and the runtime's data were written, kept until the
    /// files are pinned.
    _scratch: Option<tempfile::TempDir>,
}

/// Resolves the program `parsed` names. `temp` is where djx's Python kit
/// is written before it is pinned.
pub fn resolve(parsed: &ParsedFile, temp: &Path) -> Result<Program, SpecError> {
    let file = &parsed.file;
    let base = parsed.base_dir();
    let mut program = match (&file.module, &file.python) {
        (Some(module), _) => Program {
            module: base.join(module),
            origin: base.join(module),
            files: Vec::new(),
            invocation: Invocation::default(),
            key: "module",
            _scratch: None,
        },
        (None, Some(python)) => python_program(parsed, python, temp)?,
        (None, None) => {
            return Err(parsed.error(&[], "the experiment needs `module:` or `python:`"));
        }
    };
    program
        .files
        .extend(file.files.iter().map(|(guest, source)| ProgramFile {
            guest: guest.clone(),
            source: base.join(source),
            key: vec!["files".into(), guest.clone()],
        }));
    let invocation = &mut program.invocation;
    invocation.args.extend(file.args.iter().cloned());
    invocation
        .env
        .extend(file.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(program)
}

/// The program of `python:`: the runtime, its files and the script's, and
/// the prelude that runs the script.
fn python_program(
    parsed: &ParsedFile,
    python: &PythonSpec,
    temp: &Path,
) -> Result<Program, SpecError> {
    let base = parsed.base_dir();
    let err =
        |key: &str, message: String| parsed.error(&[Seg::Key("python"), Seg::Key(key)], message);
    let runtime = PythonRuntime::find(base, python.runtime.as_deref(), temp)
        .map_err(|m| err("runtime", m))?;
    let (code, script_guest, script_host) = match &python.code {
        Some(code) => {
            let dir = base.join(code);
            let script = dir.join(&python.script);
            let guest = format!("{CODE_DIR}/{}", python.script.display());
            (
                ProgramFile {
                    guest: CODE_DIR.into(),
                    source: dir,
                    key: vec!["python".into(), "code".into()],
                },
                guest,
                script,
            )
        }
        None => {
            let script = base.join(&python.script);
            let name = script
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| err("script", "the script's file name is not UTF-8".into()))?
                .to_owned();
            let guest = format!("{CODE_DIR}/{name}");
            (
                ProgramFile {
                    guest: guest.clone(),
                    source: script.clone(),
                    key: vec!["python".into(), "script".into()],
                },
                guest,
                script,
            )
        }
    };
    if !script_host.is_file() {
        return Err(err(
            "script",
            format!("the script {} is not a file", script_host.display()),
        ));
    }
    let kit = runtime.scratch.path().join("kit");
    python_kit::write_package(&kit)
        .map_err(|e| err("script", format!("writing djx's Python kit: {e}")))?;
    let runtime_key = || vec!["python".into(), "runtime".into()];
    let mut files = vec![
        code,
        ProgramFile {
            guest: python_runtime::STDLIB_GUEST.into(),
            source: runtime.stdlib.clone(),
            key: runtime_key(),
        },
        ProgramFile {
            guest: KIT_DIR.into(),
            source: kit,
            key: runtime_key(),
        },
    ];
    if let Some(data) = &runtime.matplotlib_data {
        files.push(ProgramFile {
            guest: python_runtime::MPL_DATA_GUEST.into(),
            source: data.clone(),
            key: runtime_key(),
        });
    }
    let invocation = Invocation {
        args: vec!["-c".into(), PYTHON_PRELUDE.into(), script_guest],
        env: [("MPLBACKEND", "Agg"), ("MPLCONFIGDIR", "/tmp/matplotlib")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into(),
    };
    Ok(Program {
        module: runtime.module.clone(),
        origin: script_host,
        files,
        invocation,
        key: "python",
        _scratch: Some(runtime.scratch),
    })
}
