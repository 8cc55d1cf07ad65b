//! `djx fsck`: check every stored object against its digest, and every
//! reference in the database against the stores.
//!
//! It re-hashes the data store (files and directory trees), the artifact
//! store and the module store (local files and the database's copies), then
//! walks the database: each experiment's module and datasets must be
//! stored; each job's key must still describe its inputs; each finished
//! attempt's records, artifacts and log must still hash to its result
//! digest; and every artifact an attempt stored or a record references
//! must be in the artifact store.
//!
//! With remote content (`DJX_CONTENT`), references are checked against the
//! bucket's listing, and `--content` downloads and re-hashes its objects.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::content::dataset::{digest_dir, digest_file};
use crate::content::digest::Digest;
use crate::content::layout::Layout;
use crate::content::remote::{Kind, Remote, RemoteError, tree};
use crate::experiment::lock::LockedJob;
use crate::records::result_digest::StoredResult;
use crate::store::{JobStatus, Store, StoreError};

/// One thing wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A stored object's bytes no longer match the digest it is stored
    /// under.
    Corrupt {
        /// Which store: dataset, artifact or module.
        kind: &'static str,
        /// The object.
        path: PathBuf,
        /// The digest it is stored under.
        expected: Digest,
        /// What it hashes to.
        actual: Digest,
    },
    /// A stored object could not be read or hashed, or is not named by a
    /// digest.
    Unreadable {
        /// Which store.
        kind: &'static str,
        /// The object.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A module stored in the database does not hash to its digest.
    CorruptStoredModule {
        /// The digest it is stored under.
        expected: Digest,
        /// What it hashes to.
        actual: Digest,
    },
    /// The database references an object that is in no store.
    Missing {
        /// What kind of object.
        kind: &'static str,
        /// Its digest.
        digest: Digest,
        /// Who references it.
        referenced_by: String,
    },
    /// A job's stored key no longer matches its inputs.
    KeyMismatch {
        /// The job.
        job: i64,
        /// The stored key.
        stored: Digest,
        /// The key of its inputs.
        actual: Digest,
    },
    /// A finished attempt's stored result no longer hashes to its digest.
    ResultMismatch {
        /// The job.
        job: i64,
        /// The attempt.
        attempt: i64,
        /// The stored digest.
        stored: Digest,
        /// What the stored result hashes to.
        actual: Digest,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Corrupt {
                kind,
                path,
                expected,
                actual,
            } => write!(
                f,
                "corrupt {kind} {expected}: {} hashes to {actual}",
                path.display()
            ),
            Problem::Unreadable {
                kind,
                path,
                message,
            } => write!(f, "unreadable {kind} {}: {message}", path.display()),
            Problem::CorruptStoredModule { expected, actual } => write!(
                f,
                "corrupt module {expected} in the database: it hashes to {actual}"
            ),
            Problem::Missing {
                kind,
                digest,
                referenced_by,
            } => write!(f, "missing {kind} {digest}, referenced by {referenced_by}"),
            Problem::KeyMismatch {
                job,
                stored,
                actual,
            } => write!(
                f,
                "job {job}: stored key {stored} does not match its inputs, which give {actual}"
            ),
            Problem::ResultMismatch {
                job,
                attempt,
                stored,
                actual,
            } => write!(
                f,
                "job {job} attempt {attempt}: the stored result hashes to {actual}, not to its result digest {stored}"
            ),
        }
    }
}

/// What fsck checked and found.
#[derive(Debug, Default)]
pub struct Report {
    /// Objects re-hashed.
    pub objects: u64,
    /// Jobs checked.
    pub jobs: u64,
    /// Finished attempts whose result digest was recomputed.
    pub results: u64,
    /// Everything wrong, in the order found.
    pub problems: Vec<Problem>,
}

/// Checks the stores of `layout` and the database `store`. With remote
/// content, every reference must be in the bucket (the local stores are
/// only this machine's copies), and with `remote_content` every object
/// there is downloaded and re-hashed too.
pub fn fsck(store: &dyn Store, layout: &Layout, remote_content: bool) -> Result<Report, FsckError> {
    let mut report = Report::default();
    let remote = match layout.content.as_deref() {
        Some(remote) => Some(remote_objects(remote, remote_content, &mut report)?),
        None => None,
    };
    let data = hash_objects(&mut report, "dataset", &layout.data, |name| {
        name.parse().ok()
    });
    let artifacts = hash_objects(&mut report, "artifact", &layout.artifacts, |name| {
        name.parse().ok()
    });
    let modules = hash_objects(&mut report, "module", &layout.modules, |name| {
        name.strip_suffix(".wasm")?.parse().ok()
    });
    let mut db_modules = BTreeSet::new();
    for digest in store.module_digests()? {
        report.objects += 1;
        if let Some(wasm) = store.module(&digest)? {
            let actual = Digest::of(&wasm);
            if actual != digest {
                report.problems.push(Problem::CorruptStoredModule {
                    expected: digest,
                    actual,
                });
            }
        }
        db_modules.insert(digest);
    }
    for summary in store.experiments()? {
        let exp = store.experiment(summary.id)?;
        let locked = &exp.locked;
        let by = format!("experiment {}", exp.id);
        let missing = |local: &BTreeSet<Digest>, kind: Kind, digest: &Digest| match &remote {
            Some(remote) => !remote.contains(&(kind, *digest)),
            None => !local.contains(digest),
        };
        let module_missing = match &remote {
            Some(_) => missing(&modules, Kind::Module, &locked.module_digest),
            None => !modules.contains(&locked.module_digest),
        };
        if module_missing && !db_modules.contains(&locked.module_digest) {
            report.problems.push(Problem::Missing {
                kind: "module",
                digest: locked.module_digest,
                referenced_by: by.clone(),
            });
        }
        for d in &locked.datasets {
            let kind = if d.file.is_some() {
                Kind::Data
            } else {
                Kind::Tree
            };
            if missing(&data, kind, &d.digest) {
                report.problems.push(Problem::Missing {
                    kind: "dataset",
                    digest: d.digest,
                    referenced_by: format!("{by} (dataset {:?})", d.name),
                });
            }
        }
        // Keys are checked as the jobs stream by; the ended ones (an id
        // each) are then checked against their stored results.
        let mut ended = Vec::new();
        store.each_job(exp.id, &mut |job| {
            report.jobs += 1;
            if let Some(stored) = job.key {
                let actual = LockedJob::of(locked, &job.parameter, &job.labels).key();
                if actual != stored {
                    report.problems.push(Problem::KeyMismatch {
                        job: job.id,
                        stored,
                        actual,
                    });
                }
            }
            if job.status == JobStatus::Finished || job.status == JobStatus::Failed {
                ended.push(job.id);
            }
            Ok(())
        })?;
        for job_id in ended {
            for attempt in store.attempts(job_id)? {
                let saved = StoredResult::load(store, attempt.result_attempt())?;
                let by = format!("job {job_id} attempt {}", attempt.attempt);
                for digest in saved.referenced_artifacts() {
                    let packed = || match store.artifact_pack(&digest) {
                        Ok(Some(at)) => remote
                            .as_ref()
                            .is_some_and(|r| r.contains(&(Kind::Pack, at.pack))),
                        _ => false,
                    };
                    if missing(&artifacts, Kind::Artifact, &digest) && !packed() {
                        report.problems.push(Problem::Missing {
                            kind: "artifact",
                            digest,
                            referenced_by: by.clone(),
                        });
                    }
                }
                let Some(stored) = attempt.result_digest else {
                    continue;
                };
                report.results += 1;
                let actual = saved.digest(locked.digest_log);
                if actual != stored {
                    report.problems.push(Problem::ResultMismatch {
                        job: job_id,
                        attempt: attempt.attempt,
                        stored,
                        actual,
                    });
                }
            }
        }
    }
    Ok(report)
}

/// An error that stops fsck (a problem it finds is reported instead).
#[derive(Debug, thiserror::Error)]
pub enum FsckError {
    /// The database could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The bucket could not be listed.
    #[error(transparent)]
    Remote(#[from] RemoteError),
}

/// Lists the bucket; with `content`, downloads and re-hashes every object
/// (a tree listing is checked by its files being there). Returns what is
/// there and intact.
fn remote_objects(
    remote: &Remote,
    content: bool,
    report: &mut Report,
) -> Result<BTreeSet<(Kind, Digest)>, RemoteError> {
    let mut there = BTreeSet::new();
    for kind in Kind::ALL {
        for listed in remote.list(kind)? {
            report.objects += 1;
            there.insert((kind, listed.digest));
        }
    }
    if !content {
        return Ok(there);
    }
    let scratch = tempfile::tempdir().map_err(|e| RemoteError::Io {
        action: "create a temporary directory",
        path: std::env::temp_dir(),
        source: e,
    })?;
    let mut intact = BTreeSet::new();
    for &(kind, digest) in &there {
        let checked = match kind {
            Kind::Tree => tree::files_of(remote, &digest)
                .map(|files| files.iter().all(|f| there.contains(&(Kind::Data, *f)))),
            _ => {
                let target = scratch.path().join(digest.to_hex());
                let got = remote.download(kind, &digest, &target);
                let _ = std::fs::remove_file(&target);
                got.map(|()| true)
            }
        };
        let location = remote.location(kind, &digest);
        match checked {
            Ok(true) => {
                intact.insert((kind, digest));
            }
            Ok(false) => report.problems.push(Problem::Unreadable {
                kind: "dataset tree",
                path: location.into(),
                message: "a file it lists is not in the bucket".into(),
            }),
            Err(RemoteError::Corrupt {
                expected, actual, ..
            }) => report.problems.push(Problem::Corrupt {
                kind: kind_name(kind),
                path: location.into(),
                expected,
                actual,
            }),
            Err(e) => report.problems.push(Problem::Unreadable {
                kind: kind_name(kind),
                path: location.into(),
                message: e.to_string(),
            }),
        }
    }
    Ok(intact)
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Module => "module",
        Kind::Data | Kind::Tree => "dataset",
        Kind::Artifact | Kind::Pack => "artifact",
    }
}

/// Re-hashes every object under `root` (names starting with `.` are
/// scratch, skipped); returns the digests of the intact ones.
fn hash_objects(
    report: &mut Report,
    kind: &'static str,
    root: &Path,
    digest_of_name: impl Fn(&str) -> Option<Digest>,
) -> BTreeSet<Digest> {
    let mut intact = BTreeSet::new();
    let Ok(entries) = std::fs::read_dir(root) else {
        return intact;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        report.objects += 1;
        let Some(expected) = digest_of_name(name) else {
            report.problems.push(Problem::Unreadable {
                kind,
                path,
                message: "its name is not a digest".into(),
            });
            continue;
        };
        let hashed = if path.is_dir() {
            digest_dir(&path)
        } else {
            digest_file(&path)
        };
        match hashed {
            Ok(actual) if actual == expected => {
                intact.insert(expected);
            }
            Ok(actual) => report.problems.push(Problem::Corrupt {
                kind,
                path,
                expected,
                actual,
            }),
            Err(e) => report.problems.push(Problem::Unreadable {
                kind,
                path,
                message: e.to_string(),
            }),
        }
    }
    intact
}
