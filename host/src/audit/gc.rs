//! `djx gc`: the objects no experiment references, in the local stores and
//! the bucket, listed (the default) or removed.
//!
//! In use are: each experiment's module and datasets (a directory
//! dataset's files too, in the bucket), and every artifact an attempt
//! stored. An object younger than the grace period (`--min-age`, default
//! one hour) is kept whatever it is: `djx add` uploads its inputs before
//! its experiment commits, and a worker its artifacts before its job does,
//! so a young unreferenced object may be about to be referenced.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::content::digest::Digest;
use crate::content::layout::Layout;
use crate::content::remote::{Kind, Remote, RemoteError, tree};
use crate::store::{Store, StoreError};

/// An error that stops gc.
#[derive(Debug, thiserror::Error)]
pub enum GcError {
    /// The database could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The bucket failed.
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// A local object could not be removed.
    #[error("removing {path}: {source}")]
    Io {
        /// The object.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Where an unreferenced object is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// A local store's file or tree.
    Local(PathBuf),
    /// An object in the bucket.
    Remote(String),
}

/// One unreferenced object.
#[derive(Clone, Debug)]
pub struct Garbage {
    /// What kind of object.
    pub kind: Kind,
    /// Its digest.
    pub digest: Digest,
    /// Where it is.
    pub place: Place,
    /// Its size in bytes (a local tree counts as 0).
    pub size: u64,
}

/// What gc found (and, unless a dry run, removed).
#[derive(Debug, Default)]
pub struct GcReport {
    /// Objects looked at.
    pub objects: u64,
    /// Unreferenced objects old enough to go.
    pub garbage: Vec<Garbage>,
    /// Unreferenced objects kept because they are younger than the grace
    /// period.
    pub young: u64,
}

/// The digests in use, by kind.
#[derive(Debug, Default)]
struct InUse(BTreeSet<(Kind, Digest)>);

impl InUse {
    fn of(store: &dyn Store, remote: Option<&Remote>) -> Result<InUse, GcError> {
        let mut used = BTreeSet::new();
        for summary in store.experiments()? {
            let locked = store.experiment(summary.id)?.locked;
            used.insert((Kind::Module, locked.module_digest));
            for d in &locked.datasets {
                match d.file {
                    Some(_) => {
                        used.insert((Kind::Data, d.digest));
                    }
                    None => {
                        used.insert((Kind::Tree, d.digest));
                        if let Some(remote) = remote
                            && remote.contains(Kind::Tree, &d.digest)?
                        {
                            for file in tree::files_of(remote, &d.digest)? {
                                used.insert((Kind::Data, file));
                            }
                        }
                    }
                }
            }
        }
        for artifact in store.artifact_uses("")? {
            used.insert((Kind::Artifact, artifact.digest));
        }
        for pack in store.artifact_packs()? {
            used.insert((Kind::Pack, pack));
        }
        Ok(InUse(used))
    }

    fn contains(&self, kind: Kind, digest: &Digest) -> bool {
        // A local tree is stored where a file is: `data/<digest>`.
        self.0.contains(&(kind, *digest))
            || (kind == Kind::Data && self.0.contains(&(Kind::Tree, *digest)))
    }
}

/// Finds the unreferenced objects of `layout`'s local stores and its
/// bucket, older than `min_age`; removes them unless `dry_run`.
pub fn gc(
    store: &dyn Store,
    layout: &Layout,
    min_age: Duration,
    dry_run: bool,
) -> Result<GcReport, GcError> {
    let remote = layout.content.as_deref();
    let used = InUse::of(store, remote)?;
    let now = SystemTime::now();
    let old_enough =
        |modified: SystemTime| now.duration_since(modified).unwrap_or_default() >= min_age;
    let mut report = GcReport::default();
    let local = [
        (Kind::Module, &layout.modules),
        (Kind::Data, &layout.data),
        (Kind::Artifact, &layout.artifacts),
    ];
    for (kind, root) in local {
        for (digest, path, modified, size) in local_objects(kind, root) {
            report.objects += 1;
            if used.contains(kind, &digest) {
                continue;
            }
            if !old_enough(modified) {
                report.young += 1;
                continue;
            }
            report.garbage.push(Garbage {
                kind,
                digest,
                place: Place::Local(path),
                size,
            });
        }
    }
    if let Some(remote) = remote {
        for kind in Kind::ALL {
            for listed in remote.list(kind)? {
                report.objects += 1;
                if used.contains(kind, &listed.digest) {
                    continue;
                }
                if !old_enough(listed.modified) {
                    report.young += 1;
                    continue;
                }
                report.garbage.push(Garbage {
                    kind,
                    digest: listed.digest,
                    place: Place::Remote(remote.location(kind, &listed.digest)),
                    size: listed.size,
                });
            }
        }
    }
    if !dry_run {
        // Tree listings before their files: a listing never outlives them.
        for g in &report.garbage {
            match &g.place {
                Place::Local(path) => remove_local(path)?,
                Place::Remote(_) => {
                    if let Some(remote) = remote {
                        remote.delete(g.kind, &g.digest)?;
                    }
                }
            }
        }
    }
    Ok(report)
}

/// The objects of one local store: digest, path, modification time, size.
fn local_objects(kind: Kind, root: &Path) -> Vec<(Digest, PathBuf, SystemTime, u64)> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name();
            let digest = kind.digest_of(name.to_str()?)?;
            let meta = entry.metadata().ok()?;
            let size = if meta.is_file() { meta.len() } else { 0 };
            Some((digest, entry.path(), meta.modified().ok()?, size))
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

fn remove_local(path: &Path) -> Result<(), GcError> {
    let removed = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    removed.map_err(|source| GcError::Io {
        path: path.to_path_buf(),
        source,
    })
}
