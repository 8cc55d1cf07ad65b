//! Remote content: modules, datasets and artifacts kept by digest in an
//! S3-compatible bucket (`DJX_CONTENT=s3://bucket/prefix`), so that machines
//! that share only the database and the bucket can run each other's jobs.
//!
//! The bucket holds, under the prefix:
//!
//! | object | what |
//! |---|---|
//! | `modules/<digest>.wasm` | a module |
//! | `data/<digest>` | a single-file dataset, or one file of a tree |
//! | `trees/<digest>` | a directory dataset's listing ([`tree`]) |
//! | `artifacts/<digest>` | an artifact |
//! | `packs/<digest>` | small artifacts one commit uploaded together ([`PackRef`]) |
//!
//! Every object is named by the blake3 digest of what it holds, and every
//! read checks it: a corrupted or substituted object is refused, never used.
//! A put is one request (or a multipart upload completed at its end), so a
//! half-written object is never visible under its name. Requests are retried
//! with exponential backoff for `DJX_CONTENT_RETRY` (default 60 s).
//!
//! The local stores stay the working copy: a worker fetches into them once
//! per machine and runs from them ([`fetch`]), and uploads what its jobs
//! wrote before their records commit.

pub mod config;
pub mod fetch;
pub mod tree;

use std::fmt;
use std::future::Future;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

use crate::content::digest::Digest;

/// Objects up to this size go in one request; larger ones in parts of it.
const PART_BYTES: usize = 16 << 20;
/// Parts of one multipart upload in flight at once.
const PARTS_IN_FLIGHT: usize = 4;
/// Files of one batch uploaded at once.
const UPLOADS_IN_FLIGHT: usize = 32;
/// Objects up to this size are put without asking first whether they are
/// there.
const SMALL_BYTES: u64 = 64 << 10;

/// An error of the remote content store.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// `DJX_CONTENT` (or the AWS settings) could not be used.
    #[error("DJX_CONTENT={url:?}: {message}")]
    Config {
        /// The URL.
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// A request failed (after its retries).
    #[error("{action} {location}: {source}")]
    Request {
        /// What was being done.
        action: &'static str,
        /// The object's URL.
        location: String,
        /// The client's error.
        source: object_store::Error,
    },
    /// An object is not in the bucket.
    #[error("{location} is not in the bucket")]
    Missing {
        /// The object's URL.
        location: String,
    },
    /// An object's bytes do not hash to its name.
    #[error("{location} is corrupt: its content hashes to {actual}, not to {expected}")]
    Corrupt {
        /// The object's URL.
        location: String,
        /// The digest it is named by.
        expected: Digest,
        /// What it hashes to.
        actual: Digest,
    },
    /// A local file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A directory listing is malformed.
    #[error("{location}: {message}")]
    BadTree {
        /// The listing's URL.
        location: String,
        /// What is wrong.
        message: String,
    },
}

impl RemoteError {
    /// Whether the object was refused because its bytes do not match.
    pub fn is_corrupt(&self) -> bool {
        matches!(self, RemoteError::Corrupt { .. })
    }
}

/// A short alias.
pub type Result<T> = std::result::Result<T, RemoteError>;

pub(crate) fn io_err(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> RemoteError {
    let path = path.to_path_buf();
    move |source| RemoteError::Io {
        action,
        path,
        source,
    }
}

/// The kinds of object the bucket holds, each under its own prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `modules/<digest>.wasm`.
    Module,
    /// `data/<digest>`: a file of a dataset.
    Data,
    /// `trees/<digest>`: a directory dataset's listing.
    Tree,
    /// `artifacts/<digest>`.
    Artifact,
    /// `packs/<digest>`: small artifacts uploaded together.
    Pack,
}

impl Kind {
    /// Every kind, in listing order (a tree's listing before the files it
    /// lists).
    pub const ALL: [Kind; 5] = [
        Kind::Module,
        Kind::Tree,
        Kind::Data,
        Kind::Artifact,
        Kind::Pack,
    ];

    /// The folder of this kind under the prefix.
    pub fn folder(self) -> &'static str {
        match self {
            Kind::Module => "modules",
            Kind::Data => "data",
            Kind::Tree => "trees",
            Kind::Artifact => "artifacts",
            Kind::Pack => "packs",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Kind::Module => ".wasm",
            _ => "",
        }
    }

    /// The digest an object name of this kind stands for, if it is one.
    pub fn digest_of(self, name: &str) -> Option<Digest> {
        name.strip_suffix(self.suffix())?.parse().ok()
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Module => "module",
            Kind::Data => "dataset file",
            Kind::Tree => "dataset tree",
            Kind::Artifact => "artifact",
            Kind::Pack => "artifact pack",
        })
    }
}

/// Where a small artifact is when a commit uploaded it with others: at
/// `offset` in the object `packs/<pack>` (its size is the artifact's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackRef {
    /// The pack's digest (of all its bytes).
    pub pack: Digest,
    /// Where the artifact starts in it.
    pub offset: u64,
    /// The artifact's size.
    pub len: u64,
}

/// One object listed in the bucket.
#[derive(Clone, Debug)]
pub struct Listed {
    /// Its kind.
    pub kind: Kind,
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// When it was written.
    pub modified: SystemTime,
}

/// A bucket (and prefix) holding content by digest.
pub struct Remote {
    store: Box<dyn ObjectStore>,
    prefix: String,
    url: String,
    /// Always some until dropped (see the `Drop` impl).
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Remote {
    fn drop(&mut self) {
        // A runtime dropped the usual way blocks, which tokio refuses
        // inside another runtime (the UI's, say): let it end on its own.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Remote").field("url", &self.url).finish()
    }
}

impl Remote {
    /// The remote store `DJX_CONTENT` names, if it names one.
    pub fn from_env() -> Result<Option<Remote>> {
        match std::env::var("DJX_CONTENT") {
            Ok(url) if !url.trim().is_empty() => Remote::open(url.trim()).map(Some),
            _ => Ok(None),
        }
    }

    /// Opens the bucket at `url` (`s3://bucket/prefix`), with the endpoint,
    /// region and credentials of the standard AWS variables and files.
    pub fn open(url: &str) -> Result<Remote> {
        let opened = config::build(url)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("djx-content")
            .enable_all()
            .build()
            .map_err(|e| RemoteError::Config {
                url: url.to_owned(),
                message: format!("starting its client: {e}"),
            })?;
        Ok(Remote {
            store: opened.store,
            prefix: opened.prefix,
            url: url.trim_end_matches('/').to_owned(),
            runtime: Some(runtime),
        })
    }

    /// The URL it was opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn path(&self, kind: Kind, digest: &Digest) -> ObjectPath {
        ObjectPath::from(format!(
            "{}{}/{}{}",
            self.prefix,
            kind.folder(),
            digest.to_hex(),
            kind.suffix()
        ))
    }

    /// The URL of object `digest` of `kind`, for messages.
    pub fn location(&self, kind: Kind, digest: &Digest) -> String {
        format!(
            "{}/{}/{}{}",
            self.url,
            kind.folder(),
            digest.to_hex(),
            kind.suffix()
        )
    }

    /// Runs `f` to completion on this store's runtime, from any thread:
    /// from inside another runtime (the UI's), on a thread of its own.
    fn block<F>(&self, f: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        let Some(runtime) = &self.runtime else {
            unreachable!("a Remote's runtime lives as long as it does")
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return runtime.block_on(f);
        }
        std::thread::scope(|s| {
            s.spawn(|| runtime.block_on(f))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    fn request_err(
        &self,
        action: &'static str,
        kind: Kind,
        digest: &Digest,
    ) -> impl FnOnce(object_store::Error) -> RemoteError {
        let location = self.location(kind, digest);
        move |source| match source {
            object_store::Error::NotFound { .. } => RemoteError::Missing { location },
            source => RemoteError::Request {
                action,
                location,
                source,
            },
        }
    }

    /// The size of object `digest` of `kind`, or `None` if it is not there.
    pub fn size(&self, kind: Kind, digest: &Digest) -> Result<Option<u64>> {
        let path = self.path(kind, digest);
        match self.block(self.store.head(&path)) {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.request_err("checking", kind, digest)(e)),
        }
    }

    /// Whether object `digest` of `kind` is there.
    pub fn contains(&self, kind: Kind, digest: &Digest) -> Result<bool> {
        Ok(self.size(kind, digest)?.is_some())
    }

    /// Stores `bytes` as object `digest` of `kind` unless it is there;
    /// returns whether it uploaded. `digest` must be the digest of `bytes`
    /// (a tree listing's is the tree's).
    pub fn put_bytes(&self, kind: Kind, digest: &Digest, bytes: Vec<u8>) -> Result<bool> {
        if self.contains(kind, digest)? {
            return Ok(false);
        }
        let path = self.path(kind, digest);
        self.block(self.store.put(&path, PutPayload::from(bytes)))
            .map_err(self.request_err("uploading", kind, digest))?;
        Ok(true)
    }

    /// Stores `bytes` as object `digest` of `kind`, without asking first
    /// (for objects that are new by construction, such as packs).
    pub fn put_new(&self, kind: Kind, digest: &Digest, bytes: Vec<u8>) -> Result<()> {
        let path = self.path(kind, digest);
        self.block(self.store.put(&path, PutPayload::from(bytes)))
            .map_err(self.request_err("uploading", kind, digest))?;
        Ok(())
    }

    /// Uploads the file at `file`, whose content has `digest`, as object
    /// `digest` of `kind` unless it is there; large files in parts. Returns
    /// whether it uploaded.
    pub fn put_file(&self, kind: Kind, digest: &Digest, file: &Path) -> Result<bool> {
        self.block(self.put_file_async(kind, digest, file))
    }

    /// Uploads many files as [`Remote::put_file`] does, up to
    /// `UPLOADS_IN_FLIGHT` at once; one result per file, in order.
    pub fn put_files(&self, kind: Kind, files: &[(Digest, PathBuf)]) -> Vec<Result<bool>> {
        self.block(
            futures_util::stream::iter(
                files
                    .iter()
                    .map(|(digest, file)| self.put_file_async(kind, digest, file)),
            )
            .buffered(UPLOADS_IN_FLIGHT)
            .collect(),
        )
    }

    async fn put_file_async(&self, kind: Kind, digest: &Digest, file: &Path) -> Result<bool> {
        let path = self.path(kind, digest);
        let failed = self.request_err("uploading", kind, digest);
        let mut reader = std::fs::File::open(file).map_err(io_err("open", file))?;
        let len = reader.metadata().map_err(io_err("stat", file))?.len();
        // A small object is put again rather than asked about first: the
        // same bytes under the same name, in one request instead of two.
        if len > SMALL_BYTES {
            match self.store.head(&path).await {
                Ok(_) => return Ok(false),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.request_err("checking", kind, digest)(e)),
            }
        }
        if len <= PART_BYTES as u64 {
            let mut bytes = Vec::with_capacity(len as usize);
            reader
                .read_to_end(&mut bytes)
                .map_err(io_err("read", file))?;
            self.store
                .put(&path, PutPayload::from(bytes))
                .await
                .map_err(failed)?;
            return Ok(true);
        }
        let upload = self.store.put_multipart(&path).await.map_err(failed)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut buf = vec![0u8; PART_BYTES];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(io_err("read", file)(e));
                }
            };
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = writer.abort().await;
                return Err(self.request_err("uploading", kind, digest)(e));
            }
            writer.write(&buf[..n]);
        }
        writer
            .finish()
            .await
            .map_err(self.request_err("uploading", kind, digest))?;
        Ok(true)
    }

    /// Reads object `digest` of `kind` whole, checking it hashes to
    /// `digest`. For tree listings, which are named by their tree's digest,
    /// use [`Remote::get_unchecked`].
    pub fn get(&self, kind: Kind, digest: &Digest) -> Result<Vec<u8>> {
        let bytes = self.get_unchecked(kind, digest)?;
        let actual = Digest::of(&bytes);
        if actual != *digest {
            return Err(RemoteError::Corrupt {
                location: self.location(kind, digest),
                expected: *digest,
                actual,
            });
        }
        Ok(bytes)
    }

    /// Reads `len` bytes at `offset` of object `digest` of `kind`, unchecked.
    pub fn get_range(&self, kind: Kind, digest: &Digest, offset: u64, len: u64) -> Result<Vec<u8>> {
        let path = self.path(kind, digest);
        if len == 0 {
            return Ok(Vec::new());
        }
        let bytes = self
            .block(self.store.get_range(&path, offset..offset + len))
            .map_err(self.request_err("downloading", kind, digest))?;
        Ok(bytes.to_vec())
    }

    /// Reads object `digest` of `kind` whole, unchecked.
    pub fn get_unchecked(&self, kind: Kind, digest: &Digest) -> Result<Vec<u8>> {
        let path = self.path(kind, digest);
        let bytes = self
            .block(async { self.store.get(&path).await?.bytes().await })
            .map_err(self.request_err("downloading", kind, digest))?;
        Ok(bytes.to_vec())
    }

    /// Downloads object `digest` of `kind` into a new file `target`,
    /// streaming and hashing it: the file appears (by rename) only when its
    /// content hashes to `digest`.
    pub fn download(&self, kind: Kind, digest: &Digest, target: &Path) -> Result<()> {
        let dir = target.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io_err("create", dir))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".fetch-")
            .tempfile_in(dir)
            .map_err(io_err("create in", dir))?;
        let path = self.path(kind, digest);
        let tmp_path = tmp.path().to_path_buf();
        let actual = self
            .block(async {
                let mut stream = self.store.get(&path).await?.into_stream();
                let mut hasher = blake3::Hasher::new();
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk?;
                    hasher.update(&chunk);
                    if let Err(e) = tmp.write_all(&chunk) {
                        return Ok(Err(io_err("write", &tmp_path)(e)));
                    }
                }
                Ok(Ok(Digest::from(hasher.finalize())))
            })
            .map_err(self.request_err("downloading", kind, digest))??;
        if actual != *digest {
            return Err(RemoteError::Corrupt {
                location: self.location(kind, digest),
                expected: *digest,
                actual,
            });
        }
        tmp.persist(target)
            .map_err(|e| io_err("rename into", target)(e.error))?;
        Ok(())
    }

    /// Every object of `kind` in the bucket (names that are not digests
    /// are skipped).
    pub fn list(&self, kind: Kind) -> Result<Vec<Listed>> {
        let folder = ObjectPath::from(format!("{}{}", self.prefix, kind.folder()));
        let location = format!("{}/{}/", self.url, kind.folder());
        let metas = self
            .block(async {
                let mut out = Vec::new();
                let mut stream = self.store.list(Some(&folder));
                while let Some(meta) = stream.next().await {
                    out.push(meta?);
                }
                Ok::<_, object_store::Error>(out)
            })
            .map_err(|source| RemoteError::Request {
                action: "listing",
                location,
                source,
            })?;
        Ok(metas
            .into_iter()
            .filter_map(|meta| {
                let digest = kind.digest_of(meta.location.filename()?)?;
                Some(Listed {
                    kind,
                    digest,
                    size: meta.size,
                    modified: meta.last_modified.into(),
                })
            })
            .collect())
    }

    /// Deletes object `digest` of `kind`.
    pub fn delete(&self, kind: Kind, digest: &Digest) -> Result<()> {
        let path = self.path(kind, digest);
        self.block(self.store.delete(&path))
            .map_err(self.request_err("deleting", kind, digest))
    }
}

/// How long a request is retried (`DJX_CONTENT_RETRY`, a duration such as
/// `60s`; default 60 s).
pub fn retry_timeout() -> std::result::Result<Duration, String> {
    match std::env::var("DJX_CONTENT_RETRY") {
        Ok(v) if !v.trim().is_empty() => crate::runtime::limits::parse_duration(v.trim())
            .map_err(|e| format!("DJX_CONTENT_RETRY={v:?}: {e}")),
        _ => Ok(Duration::from_secs(60)),
    }
}
