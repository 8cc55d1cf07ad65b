//! A file's identity as a job sees it, derived from the data, not the host.
//!
//! WASI's `metadata-hash` (which wasi-libc turns into `st_ino` and `st_dev`,
//! and Python into `os.stat().st_ino`) is a hash of the host's device and
//! inode numbers, so it differs between machines and between two imports
//! of one dataset. djx replaces `metadata-hash` and `metadata-hash-at`: the
//! value is a blake3 of the path inside the sandbox and, for a file under
//! `/data/<name>`, the dataset's content digest. Two files with equal
//! content at different paths stay two files; the same path of the same
//! dataset is the same file on every machine. A file and a hard link to it
//! (or a symbolic link) have different paths and so look like different
//! files: a job that needs to know must compare contents.
//!
//! To know the path of a descriptor, djx follows where descriptors come
//! from: the preopened directories (`get-directories`) and `open-at`.

use std::collections::HashMap;

use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::bindings::filesystem::preopens;
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    self as fs, Descriptor, DescriptorFlags, MetadataHashValue, OpenFlags, PathFlags,
};

use super::{FILESYSTEM_PREOPENS, FILESYSTEM_TYPES, parts};
use crate::runtime::ctx::JobState;
use crate::runtime::job::DatasetMount;

/// The path inside the sandbox of each open descriptor, by its resource
/// index. Every descriptor comes from a preopen or `open-at`, which record
/// it, so an index always maps to the descriptor that holds it now.
#[derive(Default)]
pub struct SandboxPaths(HashMap<u32, String>);

impl SandboxPaths {
    /// The path of the descriptor at `rep` ("" if unknown).
    fn of(&self, rep: u32) -> &str {
        self.0.get(&rep).map_or("", String::as_str)
    }
}

/// Replaces `get-directories`, `open-at`, `metadata-hash` and
/// `metadata-hash-at` in `linker` (shadowing allowed).
pub fn add_to_linker(linker: &mut Linker<JobState>) -> wasmtime::Result<()> {
    linker
        .instance(FILESYSTEM_PREOPENS)?
        .func_wrap("get-directories", |mut store, (): ()| {
            let (mut view, pins, _) = parts(store.data_mut());
            let dirs = preopens::Host::get_directories(&mut view)?;
            for (fd, path) in &dirs {
                pins.paths.0.insert(fd.rep(), normalize(path));
            }
            Ok((dirs,))
        })?;
    let mut types = linker.instance(FILESYSTEM_TYPES)?;
    types.func_wrap(
        "[method]descriptor.open-at",
        |mut store,
         (fd, path_flags, path, open_flags, flags): (
            Resource<Descriptor>,
            PathFlags,
            String,
            OpenFlags,
            DescriptorFlags,
        )| {
            let (mut view, pins, _) = parts(store.data_mut());
            let inside = join(pins.paths.of(fd.rep()), &path);
            let opened =
                fs::HostDescriptor::open_at(&mut view, fd, path_flags, path, open_flags, flags);
            Ok((match opened {
                Ok(new) => {
                    pins.paths.0.insert(new.rep(), inside);
                    Ok(new)
                }
                Err(e) => Err(fs::Host::convert_error_code(&mut view, e)?),
            },))
        },
    )?;
    types.func_wrap(
        "[method]descriptor.metadata-hash",
        |mut store, (fd,): (Resource<Descriptor>,)| {
            let (mut view, pins, datasets) = parts(store.data_mut());
            let inside = pins.paths.of(fd.rep()).to_owned();
            Ok((match fs::HostDescriptor::metadata_hash(&mut view, fd) {
                Ok(_) => Ok(identity(datasets, &inside)),
                Err(e) => Err(fs::Host::convert_error_code(&mut view, e)?),
            },))
        },
    )?;
    types.func_wrap(
        "[method]descriptor.metadata-hash-at",
        |mut store, (fd, flags, path): (Resource<Descriptor>, PathFlags, String)| {
            let (mut view, pins, datasets) = parts(store.data_mut());
            let inside = join(pins.paths.of(fd.rep()), &path);
            Ok((
                match fs::HostDescriptor::metadata_hash_at(&mut view, fd, flags, path) {
                    Ok(_) => Ok(identity(datasets, &inside)),
                    Err(e) => Err(fs::Host::convert_error_code(&mut view, e)?),
                },
            ))
        },
    )?;
    Ok(())
}

/// The identity of the file at `path` inside the sandbox.
fn identity(datasets: &[DatasetMount], path: &str) -> MetadataHashValue {
    let mut hasher = blake3::Hasher::new_derive_key("djx metadata-hash v1");
    let dataset = datasets.iter().find(|d| {
        let dir = d.guest_dir();
        path == dir || path.strip_prefix(&dir).is_some_and(|r| r.starts_with('/'))
    });
    match dataset {
        Some(d) => hasher.update(b"d").update(d.digest.as_bytes()),
        None => hasher.update(b"-"),
    };
    hasher.update(path.as_bytes());
    let bytes = hasher.finalize();
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes.as_bytes()[i..i + 8]);
        u64::from_le_bytes(w)
    };
    MetadataHashValue {
        lower: word(0),
        upper: word(8),
    }
}

/// `path` resolved against the directory `base`, both inside the sandbox:
/// `.` and empty segments dropped, `..` taken back (it cannot leave a
/// preopen; wasmtime-wasi refuses that before a path is recorded).
fn join(base: &str, path: &str) -> String {
    normalize(&format!("{base}/{path}"))
}

/// An absolute path with `.`, `..` and repeated or trailing `/` resolved.
fn normalize(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            seg => segments.push(seg),
        }
    }
    let mut out = String::with_capacity(path.len());
    for seg in segments {
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::digest::Digest;

    #[test]
    fn paths_resolve_inside_the_sandbox() {
        assert_eq!(join("/data/iris", "iris.csv"), "/data/iris/iris.csv");
        assert_eq!(join("/data/iris", "./a//b/../c/"), "/data/iris/a/c");
        assert_eq!(join("/tmp", "."), "/tmp");
        assert_eq!(normalize("/"), "/");
    }

    #[test]
    fn identity_follows_the_dataset_and_the_path() {
        let mount = |digest: &[u8]| DatasetMount {
            name: "d".into(),
            host_dir: "/host/one".into(),
            file: None,
            digest: Digest::of(digest),
        };
        let a = [mount(b"a")];
        let b = [mount(b"b")];
        let id = |datasets: &[DatasetMount], path| {
            let v = identity(datasets, path);
            (v.lower, v.upper)
        };
        assert_eq!(id(&a, "/data/d/x"), id(&a, "/data/d/x"));
        assert_ne!(id(&a, "/data/d/x"), id(&a, "/data/d/y"), "two paths");
        assert_ne!(id(&a, "/data/d/x"), id(&b, "/data/d/x"), "two datasets");
        // `/data/dx` is not inside `/data/d`: no dataset digest in it.
        assert_eq!(id(&a, "/data/dx"), id(&b, "/data/dx"));
    }
}
