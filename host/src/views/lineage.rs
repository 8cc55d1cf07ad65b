//! The lineage of a digest, as `djx lineage` prints it: every job that
//! produced or reused an artifact, with its inputs; for a dataset or module
//! digest, the experiments that used it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::ViewError;
use crate::content::digest::Digest;
use crate::experiment::provenance::GitState;
use crate::store::{ArtifactUse, DatasetRef, StatusCounts, Store};

/// A job that stored or reused an artifact, with what it was made from.
#[derive(Clone, Debug, Serialize)]
pub struct JobUse {
    /// The job.
    pub job_id: i64,
    /// The attempt.
    pub attempt: i64,
    /// The name the job gave the artifact.
    pub name: String,
    /// For a reuse: the job and attempt that produced it.
    pub source: Option<(i64, i64)>,
    /// The job's experiment.
    pub experiment_id: i64,
    /// The experiment's name.
    pub experiment_name: String,
    /// The job key.
    pub key: Option<Digest>,
    /// The module's digest.
    pub module: Digest,
    /// The datasets.
    pub datasets: Vec<DatasetRef>,
    /// The job's parameters.
    pub parameter: Value,
    /// The job's labels.
    pub labels: Value,
    /// The experiment file as given to `djx add`.
    pub source_path: String,
    /// Its digest.
    pub source_digest: Digest,
    /// The git state of the experiment file.
    pub git: Option<GitState>,
}

/// One artifact and who made it.
#[derive(Clone, Debug, Serialize)]
pub struct ArtifactLineage {
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// The jobs that stored it.
    pub produced_by: Vec<JobUse>,
    /// The jobs that reused it through the run-cache.
    pub reused_by: Vec<JobUse>,
}

/// An experiment that used a module or dataset.
#[derive(Clone, Debug, Serialize)]
pub struct InputUse {
    /// `module` or `dataset`.
    pub role: &'static str,
    /// The dataset's name (datasets only).
    pub name: Option<String>,
    /// The digest.
    pub digest: Digest,
    /// The experiment.
    pub experiment_id: i64,
    /// Its name.
    pub experiment_name: String,
    /// Its jobs by status.
    pub jobs: StatusCounts,
}

/// Everything the store knows of a digest.
#[derive(Clone, Debug, Serialize)]
pub struct Lineage {
    /// The digest or prefix asked for.
    pub prefix: String,
    /// The artifacts whose digest starts with it.
    pub artifacts: Vec<ArtifactLineage>,
    /// The experiments whose module or a dataset has such a digest.
    pub inputs: Vec<InputUse>,
}

/// Checks a digest or prefix as `djx lineage` does: 8 to 64 hex characters.
pub fn check_prefix(text: &str) -> Result<String, ViewError> {
    let prefix = text.to_ascii_lowercase();
    if prefix.len() < 8 || prefix.len() > 64 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ViewError::Invalid(format!(
            "{text:?} is not a digest: give at least 8 of its hex characters"
        )));
    }
    Ok(prefix)
}

impl Lineage {
    /// The lineage of `prefix` (checked by [`check_prefix`]); a 404 when
    /// the store has nothing with such a digest.
    pub fn load(store: &dyn Store, prefix: &str) -> Result<Lineage, ViewError> {
        let mut by_digest: BTreeMap<Digest, Vec<ArtifactUse>> = BTreeMap::new();
        for u in store.artifact_uses(prefix)? {
            by_digest.entry(u.digest).or_default().push(u);
        }
        let mut artifacts = Vec::new();
        for (digest, uses) in by_digest {
            let size = uses.first().map_or(0, |u| u.size);
            let mut produced_by = Vec::new();
            let mut reused_by = Vec::new();
            for u in &uses {
                let job = job_use(store, u)?;
                if u.source.is_none() {
                    produced_by.push(job);
                } else {
                    reused_by.push(job);
                }
            }
            artifacts.push(ArtifactLineage {
                digest,
                size,
                produced_by,
                reused_by,
            });
        }
        let mut inputs = Vec::new();
        for summary in store.experiments()? {
            let exp = store.experiment(summary.id)?;
            let locked = &exp.locked;
            let mut add = |role, name: Option<String>, digest: Digest| {
                if digest.to_hex().starts_with(prefix) {
                    inputs.push(InputUse {
                        role,
                        name,
                        digest,
                        experiment_id: exp.id,
                        experiment_name: locked.name.clone(),
                        jobs: summary.jobs,
                    });
                }
            };
            add("module", None, locked.module_digest);
            for d in &locked.datasets {
                add(d.role(), Some(d.name.clone()), d.digest);
            }
        }
        if artifacts.is_empty() && inputs.is_empty() {
            return Err(ViewError::NotFound(format!(
                "no artifact, dataset or module with a digest starting {prefix} is in the store"
            )));
        }
        Ok(Lineage {
            prefix: prefix.to_owned(),
            artifacts,
            inputs,
        })
    }
}

fn job_use(store: &dyn Store, u: &ArtifactUse) -> Result<JobUse, ViewError> {
    let job = store.job(u.job_id)?;
    let exp = store.experiment(u.experiment_id)?;
    let locked = exp.locked;
    Ok(JobUse {
        job_id: u.job_id,
        attempt: u.attempt,
        name: u.name.clone(),
        source: u.source,
        experiment_id: exp.id,
        experiment_name: locked.name,
        key: job.key,
        module: locked.module_digest,
        datasets: locked.datasets,
        parameter: job.parameter,
        labels: job.labels,
        source_path: locked.source_path,
        source_digest: locked.source_digest,
        git: locked.provenance.experiment_git,
    })
}
