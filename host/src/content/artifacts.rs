//! The content-addressed artifact store: a directory of files named by the
//! blake3 digest of their bytes.
//!
//! Writes go to a temporary file `<root>/.tmp-*` while being hashed, then
//! are renamed into place, so a reader never sees a partial artifact and
//! storing the same bytes twice keeps one copy.
//!
//! With remote content ([`crate::content::remote`]) the directory is this
//! machine's copy: what jobs write is uploaded ([`ArtifactStore::publish`])
//! before their records commit, and what is not here is fetched, checked,
//! on first read.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::content::digest::Digest;
use crate::content::remote::{Kind, PackRef, Remote, RemoteError};

/// An error of the artifact store.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactStoreError {
    /// An I/O error on a path of the store.
    #[error("artifact store: {action} {path}: {source}")]
    Io {
        /// What the store was doing.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// No artifact with this digest is stored.
    #[error("artifact {digest} is not in the store at {root}")]
    Missing {
        /// The digest asked for.
        digest: Digest,
        /// The store's root.
        root: PathBuf,
    },
    /// The stored bytes no longer hash to their name.
    #[error("artifact {expected} is corrupt: its bytes hash to {actual}")]
    Corrupt {
        /// The digest the file is stored under.
        expected: Digest,
        /// What its bytes hash to now.
        actual: Digest,
    },
    /// The remote content store failed, or refused what it held.
    #[error(transparent)]
    Remote(#[from] RemoteError),
}

type Result<T> = std::result::Result<T, ArtifactStoreError>;

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ArtifactStoreError {
    let path = path.to_path_buf();
    move |source| ArtifactStoreError::Io {
        action,
        path,
        source,
    }
}

/// A directory of artifacts named by digest.
#[derive(Clone, Debug)]
pub struct ArtifactStore {
    root: PathBuf,
    sync: bool,
    remote: Option<Arc<Remote>>,
}

impl ArtifactStore {
    /// Opens (creating if needed) the store at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<ArtifactStore> {
        let store = ArtifactStore::at(root);
        fs::create_dir_all(&store.root).map_err(io_err("create", &store.root))?;
        Ok(store)
    }

    /// The store at `root`, not created until something is written to it
    /// (for readers: `djx ui` starts whether or not it exists yet).
    pub fn at(root: impl Into<PathBuf>) -> ArtifactStore {
        ArtifactStore {
            root: root.into(),
            sync: false,
            remote: None,
        }
    }

    /// This store, backed by `remote` (when it is some): reads fall back to
    /// it and [`ArtifactStore::publish`] uploads to it.
    pub fn with_remote(mut self, remote: Option<Arc<Remote>>) -> ArtifactStore {
        self.remote = remote;
        self
    }

    /// The remote store behind this one, if any.
    pub fn remote(&self) -> Option<&Remote> {
        self.remote.as_deref()
    }

    /// Uploads the artifacts `digests` (written to this store) to the
    /// remote store; nothing without one. Artifacts of up to
    /// [`PACK_MAX`] bytes go together in one pack object (one request for
    /// a whole commit); larger ones each as their own object, many at once,
    /// skipping those there already. Requests are retried with backoff.
    pub fn publish(&self, digests: &[Digest]) -> Published {
        let mut published = Published::default();
        let Some(remote) = &self.remote else {
            return published;
        };
        let mut small: Vec<Digest> = Vec::new();
        let mut large: Vec<(Digest, PathBuf)> = Vec::new();
        for d in digests {
            match fs::metadata(self.path_of(d)) {
                Ok(meta) if meta.len() <= PACK_MAX => small.push(*d),
                _ => large.push((*d, self.path_of(d))),
            }
        }
        let puts = remote.put_files(Kind::Artifact, &large);
        for (put, (digest, _)) in puts.into_iter().zip(&large) {
            if let Err(e) = put {
                published.failed.push((*digest, e));
            }
        }
        if small.is_empty() {
            return published;
        }
        let mut pack = Vec::new();
        let mut refs = Vec::new();
        for digest in &small {
            match fs::read(self.path_of(digest)) {
                Ok(bytes) => {
                    refs.push((*digest, pack.len() as u64, bytes.len() as u64));
                    pack.extend_from_slice(&bytes);
                }
                Err(e) => published.failed.push((
                    *digest,
                    RemoteError::Io {
                        action: "read",
                        path: self.path_of(digest),
                        source: e,
                    },
                )),
            }
        }
        let pack_digest = Digest::of(&pack);
        match remote.put_new(Kind::Pack, &pack_digest, pack) {
            Ok(()) => {
                published.packed = refs
                    .into_iter()
                    .map(|(digest, offset, len)| {
                        let at = PackRef {
                            pack: pack_digest,
                            offset,
                            len,
                        };
                        (digest, at)
                    })
                    .collect();
            }
            Err(e) => {
                let message = e.to_string();
                published
                    .failed
                    .extend(refs.into_iter().map(|(digest, _, _)| {
                        (
                            digest,
                            RemoteError::Config {
                                url: remote.url().to_owned(),
                                message: message.clone(),
                            },
                        )
                    }));
            }
        }
        published
    }

    /// The size of artifact `digest`, here or in the remote store; `None`
    /// if it is in neither.
    pub fn size(&self, digest: &Digest) -> Result<Option<u64>> {
        if let Ok(meta) = fs::metadata(self.path_of(digest)) {
            return Ok(Some(meta.len()));
        }
        match &self.remote {
            Some(remote) => Ok(remote.size(Kind::Artifact, digest)?),
            None => Ok(None),
        }
    }

    /// This store, syncing every artifact (file and directory) to disk
    /// before `put` or `finish` returns when `sync` is true.
    pub fn synced(mut self, sync: bool) -> ArtifactStore {
        self.sync = sync;
        self
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the artifact `digest` lives (whether or not it exists).
    pub fn path_of(&self, digest: &Digest) -> PathBuf {
        self.root.join(digest.to_hex())
    }

    /// Whether the artifact `digest` is stored.
    pub fn contains(&self, digest: &Digest) -> bool {
        self.path_of(digest).is_file()
    }

    /// Starts a streaming write. The temporary file lives in the store's
    /// own directory, so moving it into place renames within one directory
    /// (renaming across two locks both: measurably slower with many
    /// writers).
    pub fn writer(&self) -> Result<ArtifactWriter> {
        let file = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&self.root)
            .map_err(io_err("create in", &self.root))?;
        Ok(ArtifactWriter {
            store: self.clone(),
            file,
            hasher: blake3::Hasher::new(),
            len: 0,
        })
    }

    /// Stores `bytes` and returns their digest. Bytes already stored are
    /// not written again.
    pub fn put(&self, bytes: &[u8]) -> Result<Digest> {
        let digest = Digest::of(bytes);
        if self.contains(&digest) {
            return Ok(digest);
        }
        let mut writer = self.writer()?;
        writer.write(bytes)?;
        Ok(writer.finish()?.0)
    }

    /// Reads the artifact `digest`, checking that its bytes still match;
    /// one that is only in the remote store is fetched here first.
    pub fn get(&self, digest: &Digest) -> Result<Vec<u8>> {
        self.get_from(digest, None)
    }

    /// As [`ArtifactStore::get`], for an artifact that may be in the pack
    /// `packed` (the store says where: [`crate::store::Store::artifact_pack`]).
    pub fn get_from(&self, digest: &Digest, packed: Option<PackRef>) -> Result<Vec<u8>> {
        let path = self.path_of(digest);
        if let Some(remote) = &self.remote
            && !path.is_file()
        {
            match packed {
                Some(at) => {
                    let bytes = remote.get_range(Kind::Pack, &at.pack, at.offset, at.len)?;
                    let actual = Digest::of(&bytes);
                    if actual != *digest {
                        return Err(RemoteError::Corrupt {
                            location: format!(
                                "{} (at {} of pack)",
                                remote.location(Kind::Pack, &at.pack),
                                at.offset
                            ),
                            expected: *digest,
                            actual,
                        }
                        .into());
                    }
                    fs::create_dir_all(&self.root).map_err(io_err("create", &self.root))?;
                    self.put(&bytes)?;
                }
                None => remote.download(Kind::Artifact, digest, &path)?,
            }
        }
        let bytes = fs::read(&path).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                ArtifactStoreError::Missing {
                    digest: *digest,
                    root: self.root.clone(),
                }
            } else {
                io_err("read", &path)(source)
            }
        })?;
        let actual = Digest::of(&bytes);
        if actual != *digest {
            return Err(ArtifactStoreError::Corrupt {
                expected: *digest,
                actual,
            });
        }
        Ok(bytes)
    }
}

/// The largest artifact a commit packs with others.
pub const PACK_MAX: u64 = 64 << 10;

/// What [`ArtifactStore::publish`] did.
#[derive(Debug, Default)]
pub struct Published {
    /// Where the artifacts it packed are.
    pub packed: HashMap<Digest, PackRef>,
    /// The artifacts that are not in the remote store, with why.
    pub failed: Vec<(Digest, RemoteError)>,
}

/// An artifact being written: bytes are hashed as they arrive and the file
/// is moved into place under its digest by [`ArtifactWriter::finish`].
/// Dropping a writer without finishing removes its temporary file.
pub struct ArtifactWriter {
    store: ArtifactStore,
    file: tempfile::NamedTempFile,
    hasher: blake3::Hasher,
    len: u64,
}

impl ArtifactWriter {
    /// Appends `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
        let path = self.file.path().to_path_buf();
        self.file.write_all(bytes).map_err(io_err("write", &path))
    }

    /// Copies everything from `reader` into the artifact; returns the count.
    pub fn copy_from(&mut self, reader: &mut impl Read) -> io::Result<u64> {
        let mut buf = vec![0u8; 256 << 10];
        let mut total = 0u64;
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                return Ok(total);
            }
            self.write(&buf[..n]).map_err(io::Error::other)?;
            total += n as u64;
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing has been written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Moves the artifact into place; returns its digest and size.
    pub fn finish(self) -> Result<(Digest, u64)> {
        let digest = Digest::from(self.hasher.finalize());
        let target = self.store.path_of(&digest);
        if target.is_file() {
            // Same bytes already stored; the temporary file is dropped.
            return Ok((digest, self.len));
        }
        let tmp = self.file.path().to_path_buf();
        let mut file = self.file;
        file.flush().map_err(io_err("flush", &tmp))?;
        if self.store.sync {
            file.as_file().sync_all().map_err(io_err("sync", &tmp))?;
        }
        file.persist(&target)
            .map_err(|e| io_err("rename into", &target)(e.error))?;
        if self.store.sync {
            fs::File::open(&self.store.root)
                .and_then(|dir| dir.sync_all())
                .map_err(io_err("sync", &self.store.root))?;
        }
        Ok((digest, self.len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_and_dedup() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ArtifactStore::open(dir.path()).expect("open");
        let a = store.put(b"model bytes").expect("put");
        let b = store.put(b"model bytes").expect("put again");
        assert_eq!(a, b);
        assert_eq!(a, Digest::of(b"model bytes"));
        assert_eq!(store.get(&a).expect("get"), b"model bytes");
        let mut streamed = store.writer().expect("writer");
        streamed.write(b"model bytes").expect("write");
        assert_eq!(streamed.finish().expect("finish").0, a);
        let names: Vec<String> = fs::read_dir(dir.path())
            .expect("read")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![a.to_hex()], "temporary files are cleaned up");
    }

    #[test]
    fn detects_corruption() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ArtifactStore::open(dir.path()).expect("open");
        let d = store.put(b"abc").expect("put");
        fs::write(store.path_of(&d), b"abd").expect("corrupt it");
        assert!(matches!(
            store.get(&d),
            Err(ArtifactStoreError::Corrupt { .. })
        ));
    }
}
