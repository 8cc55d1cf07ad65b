//! The data and module stores: inputs kept by their digest, so a job can
//! always be rerun from exactly what made it.
//!
//! A single-file dataset is stored as `data/<digest>`; a directory dataset
//! as the tree `data/<digest>/`. A module is `modules/<digest>.wasm`.
//! Stored files are made read-only. Imports copy into a temporary name and
//! rename into place, so a reader never sees a partial object.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::content::dataset::{DatasetKind, digest_dir, digest_file, digest_path};
use crate::content::digest::Digest;

/// An error importing or reading a stored object.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// An I/O error.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// Hashing a dataset failed.
    #[error(transparent)]
    Dataset(#[from] crate::content::dataset::DatasetError),
    /// The object is missing.
    #[error("{what} {digest} is not in the store at {root}")]
    Missing {
        /// What kind of object.
        what: &'static str,
        /// Its digest.
        digest: Digest,
        /// The store.
        root: PathBuf,
    },
    /// The object's bytes no longer match its digest.
    #[error("{what} {expected} is corrupt: its content hashes to {actual}")]
    Corrupt {
        /// What kind of object.
        what: &'static str,
        /// The digest it is stored under.
        expected: Digest,
        /// What it hashes to now.
        actual: Digest,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ContentError {
    let path = path.to_path_buf();
    move |source| ContentError::Io {
        action,
        path,
        source,
    }
}

/// Imports the dataset at `source` into the data store `root`; returns its
/// digest and kind. Already-stored content is not copied again.
pub fn import_dataset(root: &Path, source: &Path) -> Result<(Digest, DatasetKind), ContentError> {
    let (digest, kind) = digest_path(source)?;
    let target = root.join(digest.to_hex());
    if target.exists() {
        return Ok((digest, kind));
    }
    fs::create_dir_all(root).map_err(io("create", root))?;
    let tmp = tempfile::Builder::new()
        .prefix(".import-")
        .tempdir_in(root)
        .map_err(io("create a temporary directory in", root))?;
    let staged = tmp.path().join("object");
    match kind {
        DatasetKind::File => {
            fs::copy(source, &staged).map_err(io("copy", source))?;
            set_readonly(&staged)?;
        }
        DatasetKind::Dir => copy_tree(source, &staged)?,
    }
    // Re-hash the copy: what is stored is exactly what the digest says.
    let copied = match kind {
        DatasetKind::File => digest_file(&staged)?,
        DatasetKind::Dir => digest_dir(&staged)?,
    };
    if copied != digest {
        return Err(ContentError::Corrupt {
            what: "dataset (changed while importing)",
            expected: digest,
            actual: copied,
        });
    }
    match fs::rename(&staged, &target) {
        Ok(()) => {}
        // Another process imported the same content first.
        Err(_) if target.exists() => {}
        Err(e) => return Err(io("rename into", &target)(e)),
    }
    Ok((digest, kind))
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), ContentError> {
    fs::create_dir(to).map_err(io("create", to))?;
    for entry in fs::read_dir(from).map_err(io("read", from))? {
        let entry = entry.map_err(io("read", from))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let meta = fs::symlink_metadata(&src).map_err(io("stat", &src))?;
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&src).map_err(io("read link", &src))?;
            std::os::unix::fs::symlink(&target, &dst).map_err(io("create link", &dst))?;
        } else if meta.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            fs::copy(&src, &dst).map_err(io("copy", &src))?;
            set_readonly(&dst)?;
        }
    }
    Ok(())
}

fn set_readonly(path: &Path) -> Result<(), ContentError> {
    let mut perms = fs::metadata(path).map_err(io("stat", path))?.permissions();
    perms.set_readonly(true);
    fs::set_permissions(path, perms).map_err(io("make read-only", path))
}

/// Where a stored dataset is.
pub fn dataset_path(root: &Path, digest: &Digest) -> PathBuf {
    root.join(digest.to_hex())
}

/// Stores module bytes under their digest; returns the digest.
pub fn store_module(root: &Path, wasm: &[u8]) -> Result<Digest, ContentError> {
    let digest = Digest::of(wasm);
    let target = module_path(root, &digest);
    if target.is_file() {
        return Ok(digest);
    }
    fs::create_dir_all(root).map_err(io("create", root))?;
    let mut tmp = tempfile::NamedTempFile::new_in(root).map_err(io("create in", root))?;
    io::Write::write_all(&mut tmp, wasm).map_err(io("write", &target))?;
    tmp.persist(&target)
        .map_err(|e| io("rename into", &target)(e.error))?;
    set_readonly(&target)?;
    Ok(digest)
}

/// Where a stored module is.
pub fn module_path(root: &Path, digest: &Digest) -> PathBuf {
    root.join(format!("{}.wasm", digest.to_hex()))
}

/// Reads a stored module, checking its digest.
pub fn read_module(root: &Path, digest: &Digest) -> Result<Vec<u8>, ContentError> {
    let path = module_path(root, digest);
    let bytes = fs::read(&path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            ContentError::Missing {
                what: "module",
                digest: *digest,
                root: root.to_path_buf(),
            }
        } else {
            io("read", &path)(e)
        }
    })?;
    let actual = Digest::of(&bytes);
    if actual != *digest {
        return Err(ContentError::Corrupt {
            what: "module",
            expected: *digest,
            actual,
        });
    }
    Ok(bytes)
}
