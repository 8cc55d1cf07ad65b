//! `djx verify`: rerun finished jobs in fresh sandboxes and compare their
//! result digests with the stored ones, without touching stored results.
//!
//! A rerun writes its artifacts into a throwaway store, so neither the
//! database nor the artifact store changes. Besides comparing the rerun
//! with the stored digest, verify recomputes the digest from the stored
//! records, artifacts and log, so a store edited after the fact is caught
//! even when the rerun matches the digest.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::content::artifacts::ArtifactStore;
use crate::content::digest::Digest;
use crate::content::layout::Layout;
use crate::records::result_digest::{Difference, ResultHasher, StoredResult, first_difference};
use crate::run::prepare::{PrepareError, Prepared};
use crate::runtime::{Failure, Runtimes};
use crate::store::{JobRow, Store, StoreError};
use crate::sync::Unpoisoned;

/// What verifying one job found.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// The rerun gave the stored result digest, and the stored result still
    /// hashes to it.
    Identical {
        /// The result digest.
        digest: Digest,
    },
    /// The rerun, or the stored result, does not match the stored digest.
    Different {
        /// The stored result digest.
        stored: Digest,
        /// The rerun's result digest (`None` if the rerun failed).
        rerun: Option<Digest>,
        /// The first record, artifact or log line that differs.
        difference: Option<Difference>,
        /// What else is wrong: a failed rerun, a stored result that no
        /// longer hashes to its digest.
        notes: Vec<String>,
    },
    /// The job has no stored result digest to compare with.
    Unverifiable {
        /// Why.
        reason: String,
    },
}

impl Verdict {
    /// Whether the job verified.
    pub fn is_identical(&self) -> bool {
        matches!(self, Verdict::Identical { .. })
    }
}

/// An error that stops verification (not a mismatch: those are verdicts).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An experiment could not be prepared.
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    /// A scratch directory could not be made.
    #[error("creating a scratch directory in {path}: {source}")]
    Scratch {
        /// Where.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Reruns `jobs` (finished jobs) on `workers` threads and judges each.
/// `on_verdict` sees each verdict as it comes; the verdicts are also
/// returned in the order of `jobs`.
pub fn verify(
    store: &dyn Store,
    layout: &Layout,
    runtimes: &Runtimes,
    jobs: &[JobRow],
    workers: usize,
    on_verdict: &(dyn Fn(&JobRow, &Verdict) + Sync),
) -> Result<Vec<Verdict>, VerifyError> {
    let scratch = |e| VerifyError::Scratch {
        path: layout.temp.clone(),
        source: e,
    };
    std::fs::create_dir_all(&layout.temp).map_err(scratch)?;
    let temp = tempfile::Builder::new()
        .prefix("djx-verify-")
        .tempdir_in(&layout.temp)
        .map_err(scratch)?;
    let mut prepared = HashMap::new();
    for job in jobs {
        if let std::collections::hash_map::Entry::Vacant(slot) = prepared.entry(job.experiment_id) {
            slot.insert(Prepared::load(
                store,
                layout,
                runtimes,
                job.experiment_id,
                &temp.path().join("mounts"),
            )?);
        }
    }
    let artifacts =
        ArtifactStore::open(temp.path().join("artifacts")).map_err(|e| VerifyError::Scratch {
            path: temp.path().to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })?;

    let next = AtomicUsize::new(0);
    let verdicts: Mutex<Vec<Option<Verdict>>> = Mutex::new(vec![None; jobs.len()]);
    let first_error: Mutex<Option<VerifyError>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..workers.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let Some(exp) = prepared.get(&job.experiment_id) else {
                        break;
                    };
                    match verify_one(store, exp, job, &artifacts) {
                        Ok(verdict) => {
                            on_verdict(job, &verdict);
                            verdicts.lock_unpoisoned()[i] = Some(verdict);
                        }
                        Err(e) => {
                            first_error.lock_unpoisoned().get_or_insert(e);
                            break;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner_unpoisoned() {
        return Err(e);
    }
    Ok(verdicts
        .into_inner_unpoisoned()
        .into_iter()
        .map(|v| {
            v.unwrap_or(Verdict::Unverifiable {
                reason: "not verified".into(),
            })
        })
        .collect())
}

fn verify_one(
    store: &dyn Store,
    exp: &Prepared,
    job: &JobRow,
    artifacts: &ArtifactStore,
) -> Result<Verdict, VerifyError> {
    let attempts = store.attempts(job.id)?;
    let Some(attempt) = attempts.iter().find(|a| a.attempt == job.attempt) else {
        return Ok(Verdict::Unverifiable {
            reason: format!("job {} has no finished attempt", job.id),
        });
    };
    let Some(stored) = attempt.result_digest else {
        return Ok(Verdict::Unverifiable {
            reason: "it has no result digest (it finished before djx recorded them)".into(),
        });
    };
    let saved = StoredResult::load(store, attempt.result_attempt())?;
    let mut notes = Vec::new();
    let recomputed = saved.digest(exp.experiment.digest_log);
    if recomputed != stored {
        notes.push(format!(
            "the stored result no longer hashes to its digest (it gives {recomputed}): \
             the store was changed after the job finished"
        ));
    }
    let key = exp.job_key(&job.parameter, &job.labels);
    if job.key.is_some_and(|k| k != key) {
        notes.push(format!(
            "the stored job key does not match the job's inputs ({key})"
        ));
    }
    let input = exp.job_input(&key, &job.parameter, &job.labels);
    let outcome = exp.runtime.run(&exp.module, &input, artifacts);
    let log = outcome.log_bytes();
    let rerun = match &outcome.failure {
        None => Some(exp.result_digest(ResultHasher::new(), &outcome, &log)),
        Some(f) => {
            notes.push(format!("the rerun failed: {}", Failure::reason(f)));
            None
        }
    };
    if rerun == Some(stored) && notes.is_empty() {
        return Ok(Verdict::Identical { digest: stored });
    }
    let difference = first_difference(
        (
            &saved.records,
            &saved.artifacts,
            saved.digested_log(exp.experiment.digest_log),
        ),
        (&outcome.records, &outcome.artifacts, exp.digested_log(&log)),
    );
    Ok(Verdict::Different {
        stored,
        rerun,
        difference,
        notes,
    })
}
