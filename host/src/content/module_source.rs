//! The source a module was built from, carried inside the module.
//!
//! Some toolchains do not build byte-identical components from the same
//! source (componentize-py's pre-initialised CPython snapshot differs from
//! build to build). The module digest then pins the binary but not its
//! source, so `djx build` appends a custom section, `djx-source`, holding
//! the digest of the source it built from; `djx add` reads it into the
//! experiment's provenance. The section is part of the module's bytes, so
//! the module digest covers it too.

use serde::{Deserialize, Serialize};

/// The custom section's name.
pub const SECTION: &str = "djx-source";

/// What a module was built from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleSource {
    /// The guest language, e.g. `python`.
    pub language: String,
    /// The module the build started from, e.g. `app`.
    pub entry: String,
    /// The digest of the source directory (see `djx build`).
    pub source: String,
    /// The digest of the djx guest kit built in.
    pub kit: String,
    /// The digest of the WIT contract built against.
    pub wit: String,
    /// The tool and version that built it, e.g. `componentize-py 0.25.1`.
    pub builder: String,
}

fn leb128(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_leb128(bytes: &[u8], at: &mut usize) -> Option<usize> {
    let mut n = 0usize;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        n |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}

/// `wasm` with a `djx-source` custom section appended.
pub fn append(wasm: &[u8], source: &ModuleSource) -> Vec<u8> {
    // Serialising plain strings cannot fail.
    let data = serde_json::to_vec(source).unwrap_or_default();
    let mut payload = Vec::new();
    leb128(SECTION.len(), &mut payload);
    payload.extend_from_slice(SECTION.as_bytes());
    payload.extend_from_slice(&data);
    let mut out = wasm.to_vec();
    out.push(0); // custom section
    leb128(payload.len(), &mut out);
    out.extend_from_slice(&payload);
    out
}

/// The `djx-source` section of a module or component, if it has one. Only
/// top-level sections are read; a malformed binary gives `None`.
pub fn read(wasm: &[u8]) -> Option<ModuleSource> {
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return None;
    }
    let mut at = 8;
    let mut found = None;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = read_leb128(wasm, &mut at)?;
        let end = at.checked_add(size).filter(|&e| e <= wasm.len())?;
        if id == 0 {
            let mut name_at = at;
            let len = read_leb128(wasm, &mut name_at)?;
            let name_end = name_at.checked_add(len).filter(|&e| e <= end)?;
            if &wasm[name_at..name_end] == SECTION.as_bytes() {
                found = serde_json::from_slice(&wasm[name_end..end]).ok();
            }
        }
        at = end;
    }
    found
}

/// The files of a guest's source directory that make its source: every
/// file but hidden ones, `__pycache__` and `.wasm` files, as (path relative
/// to `dir`, path), sorted by relative path. `djx build` builds from a copy
/// of exactly these.
pub fn source_files(dir: &std::path::Path) -> std::io::Result<Vec<(String, std::path::PathBuf)>> {
    fn walk(
        root: &std::path::Path,
        dir: &std::path::Path,
        files: &mut Vec<(String, std::path::PathBuf)>,
    ) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name == "__pycache__" || name.ends_with(".wasm") {
                continue;
            }
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                walk(root, &path, files)?;
            } else {
                let rel = path
                    .strip_prefix(root)
                    .map_or_else(|_| name.clone(), |p| p.to_string_lossy().into_owned());
                files.push((rel, path));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    files.sort();
    Ok(files)
}

/// The digest of a guest's source directory: its [`source_files`], each by
/// relative path and blake3.
pub fn source_digest(dir: &std::path::Path) -> std::io::Result<crate::content::digest::Digest> {
    let mut hasher = blake3::Hasher::new_derive_key("djx source digest v1");
    for (rel, path) in source_files(dir)? {
        hasher.update(&(rel.len() as u64).to_le_bytes());
        hasher.update(rel.as_bytes());
        hasher.update(blake3::hash(&std::fs::read(&path)?).as_bytes());
    }
    Ok(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_a_binary() {
        // The smallest component: the header alone.
        let empty = b"\0asm\x0d\0\x01\0".to_vec();
        assert_eq!(read(&empty), None);
        let source = ModuleSource {
            language: "python".into(),
            entry: "app".into(),
            source: "a".repeat(64),
            kit: "b".repeat(64),
            wit: "c".repeat(64),
            builder: "componentize-py 0.25.1".into(),
        };
        let with = append(&empty, &source);
        assert_eq!(read(&with), Some(source));
        assert_eq!(read(&with[..with.len() - 1]), None, "truncated");
    }
}
