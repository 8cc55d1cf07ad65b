//! Dataset digests: blake3 of a file's bytes, or a Merkle digest of a
//! directory tree.
//!
//! A directory's digest covers, for each entry sorted by name, its kind, its
//! name and its own digest, so renaming, adding, removing or changing any
//! file changes it. A symbolic link is hashed by its target text; it is not
//! followed (the sandbox does not follow links out of a dataset either).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::content::digest::Digest;

/// An error reading a dataset.
#[derive(Debug, thiserror::Error)]
#[error("dataset {path}: {source}")]
pub struct DatasetError {
    /// The path that failed.
    pub path: PathBuf,
    /// The I/O error.
    pub source: io::Error,
}

fn err(path: &Path) -> impl FnOnce(io::Error) -> DatasetError {
    let path = path.to_path_buf();
    move |source| DatasetError { path, source }
}

/// Whether a dataset is one file or a directory tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatasetKind {
    /// A single file.
    File,
    /// A directory tree.
    Dir,
}

/// The digest and kind of the dataset at `path`.
pub fn digest_path(path: &Path) -> Result<(Digest, DatasetKind), DatasetError> {
    let meta = fs::metadata(path).map_err(err(path))?;
    if meta.is_dir() {
        Ok((digest_dir(path)?, DatasetKind::Dir))
    } else {
        Ok((digest_file(path)?, DatasetKind::File))
    }
}

/// Links (or, across filesystems, copies) the file `source` alone into the
/// directory `dir` as `file_name`, so a sandbox that preopens `dir` sees that
/// file and nothing beside it.
pub fn stage_alone(source: &Path, dir: &Path, file_name: &str) -> Result<(), DatasetError> {
    fs::create_dir_all(dir).map_err(err(dir))?;
    let target = dir.join(file_name);
    if fs::hard_link(source, &target).is_err() {
        fs::copy(source, &target).map_err(err(source))?;
    }
    Ok(())
}

/// blake3 of a file's bytes (the same as `b3sum`).
pub fn digest_file(path: &Path) -> Result<Digest, DatasetError> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_mmap(path).map_err(err(path))?;
    Ok(hasher.finalize().into())
}

/// The Merkle digest of a directory tree.
pub fn digest_dir(path: &Path) -> Result<Digest, DatasetError> {
    let mut entries: Vec<(Vec<u8>, PathBuf)> = fs::read_dir(path)
        .map_err(err(path))?
        .map(|entry| {
            let entry = entry.map_err(err(path))?;
            Ok((entry.file_name().into_encoded_bytes(), entry.path()))
        })
        .collect::<Result<_, DatasetError>>()?;
    entries.sort();
    let mut hasher = blake3::Hasher::new_derive_key("djx dataset directory v1");
    for (name, child) in entries {
        let meta = fs::symlink_metadata(&child).map_err(err(&child))?;
        let (kind, digest) = if meta.file_type().is_symlink() {
            let target = fs::read_link(&child).map_err(err(&child))?;
            (b'l', Digest::of(target.as_os_str().as_encoded_bytes()))
        } else if meta.is_dir() {
            (b'd', digest_dir(&child)?)
        } else {
            (b'f', digest_file(&child)?)
        };
        hasher.update(&[kind]);
        hasher.update(&(name.len() as u64).to_le_bytes());
        hasher.update(&name);
        hasher.update(digest.as_bytes());
    }
    Ok(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_digest_sees_every_change() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("a.csv"), "1,2\n").expect("write");
        fs::create_dir(dir.path().join("sub")).expect("mkdir");
        fs::write(dir.path().join("sub/b.csv"), "3\n").expect("write");
        let first = digest_dir(dir.path()).expect("digest");
        assert_eq!(first, digest_dir(dir.path()).expect("again"), "stable");
        fs::write(dir.path().join("sub/b.csv"), "4\n").expect("change");
        let changed = digest_dir(dir.path()).expect("digest");
        assert_ne!(first, changed);
        fs::rename(dir.path().join("a.csv"), dir.path().join("c.csv")).expect("rename");
        assert_ne!(changed, digest_dir(dir.path()).expect("digest"));
    }

    #[test]
    fn file_digest_is_plain_blake3() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("x");
        fs::write(&file, b"hello").expect("write");
        assert_eq!(digest_file(&file).expect("digest"), Digest::of(b"hello"));
    }
}
