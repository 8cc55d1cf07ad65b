//! Artifacts a WASI program leaves in `/djx/out/artifacts/` without naming
//! them in a record: stored when it exits 0, in path order.

use std::path::Path;

use crate::runtime::ctx::JobView;

use super::RecordTail;

/// Stores every regular file under the artifacts directory that no record
/// named, named by its path there (`/`-separated). Symbolic links and
/// other non-regular files are left alone. Errors trap (a broken artifact
/// limit, or the host failing to read or store).
pub fn store_left_artifacts(view: &mut JobView<'_>, tail: &mut RecordTail) -> wasmtime::Result<()> {
    let root = tail.artifacts_dir().to_path_buf();
    let mut files = Vec::new();
    list(&root, "", &mut files).map_err(wasmtime::Error::new)?;
    files.sort();
    for relative in files {
        if tail.stored.contains_key(&relative) {
            continue;
        }
        match view.ctx.store_file(&relative, &root, &relative)? {
            Ok(digest) => {
                tail.stored.insert(relative, digest);
            }
            Err(message) => return Err(wasmtime::Error::msg(message)),
        }
    }
    Ok(())
}

/// Adds the regular files under `dir` (at `prefix`) to `files`.
fn list(dir: &Path, prefix: &str, files: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let relative = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if kind.is_dir() {
            list(&entry.path(), &relative, files)?;
        } else if kind.is_file() {
            files.push(relative);
        }
    }
    Ok(())
}
