//! Records what a job sees, for the tests that check it is exactly what was
//! written and the same on every machine. `mode` picks:
//!
//! - `types`: the type and text of every parameter and label, as the guest
//!   reads them (`int` or `float` for a number);
//! - `listing`: the `data` dataset's directory tree as `read_dir` lists it,
//!   without sorting, with each entry's inode number (`st_ino`) and size.

use serde_json::Value;

fn run() -> djx::Result<()> {
    let params: Value = djx::params()?;
    match params["mode"].as_str() {
        Some("types") => {
            let labels: Value = djx::labels()?;
            let mut seen = serde_json::Map::new();
            describe("parameter", &params, &mut seen);
            describe("labels", &labels, &mut seen);
            djx::record("types")
                .context("seen", Value::Object(seen))
                .emit()?;
        }
        Some("listing") => {
            let mut entries = Vec::new();
            list(&djx::dataset("data")?.display().to_string(), &mut entries)?;
            djx::record("listing").context("entries", entries).emit()?;
        }
        other => return Err(djx::Error::msg(format!("unknown mode {other:?}"))),
    }
    Ok(())
}

/// Adds `path: "type text"` for every leaf of `value` to `out`.
fn describe(path: &str, value: &Value, out: &mut serde_json::Map<String, Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                describe(&format!("{path}.{k}"), v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                describe(&format!("{path}[{i}]"), v, out);
            }
        }
        Value::Number(n) => {
            let kind = if n.is_f64() { "float" } else { "int" };
            out.insert(path.to_owned(), format!("{kind} {n}").into());
        }
        Value::String(s) => {
            out.insert(path.to_owned(), format!("str {s}").into());
        }
        Value::Bool(b) => {
            out.insert(path.to_owned(), format!("bool {b}").into());
        }
        Value::Null => {
            out.insert(path.to_owned(), "null".into());
        }
    }
}

/// Appends `"path inode size"` for every entry under `dir`, depth first, in
/// the order `read_dir` gives them.
fn list(dir: &str, out: &mut Vec<String>) -> djx::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path().display().to_string();
        let (inode, size, is_dir) = stat(&path)?;
        out.push(format!("{path} {inode} {size}"));
        if is_dir {
            list(&path, out)?;
        }
    }
    Ok(())
}

/// `st_ino`, `st_size` and whether it is a directory, from wasi-libc's
/// `stat` (std has no stable way to read the inode on WASI).
fn stat(path: &str) -> djx::Result<(u64, i64, bool)> {
    let c_path = std::ffi::CString::new(path).map_err(|e| djx::Error::msg(e.to_string()))?;
    // SAFETY: `stat` is plain data, which libc fills in; all zeroes is valid.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a pointer to a live `stat`.
    if unsafe { libc::stat(c_path.as_ptr(), &mut st) } != 0 {
        return Err(djx::Error::msg(format!("stat {path} failed")));
    }
    let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
    Ok((st.st_ino, st.st_size, is_dir))
}

djx::main!(run);
