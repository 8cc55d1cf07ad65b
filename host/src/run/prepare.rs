//! An experiment made ready to run jobs of: its module loaded (from the
//! local module store or the database, digest checked), its datasets
//! mounted, its engine checked against the one the jobs are locked to.
//! `djx run`, `djx worker` and `djx verify` all run jobs through this.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::content::dataset::stage_alone;
use crate::content::digest::Digest;
use crate::content::layout::Layout;
use crate::content::remote::fetch::{ensure_dataset, ensure_module};
use crate::content::store::{dataset_path, read_module, store_module};
use crate::experiment::lock::LockedJob;
use crate::experiment::locked::LockedExperiment;
use crate::experiment::sweep::Sweep;
use crate::records::result_digest::ResultHasher;
use crate::runtime::{DatasetMount, JobInput, JobOutcome, Module, Runtime, Runtimes, job_seed};
use crate::store::Store;

/// An error preparing an experiment.
#[derive(Debug, thiserror::Error)]
#[error("experiment {experiment}: {message}")]
pub struct PrepareError {
    /// The experiment.
    pub experiment: i64,
    /// What failed.
    pub message: String,
}

/// One experiment, ready to run jobs of.
pub struct Prepared {
    /// The runtime of the experiment's determinism profile.
    pub runtime: Arc<Runtime>,
    /// The compiled module.
    pub module: Module,
    /// The mounted datasets.
    pub datasets: Vec<DatasetMount>,
    /// The experiment as stored.
    pub experiment: LockedExperiment,
    /// Its halving sweep, if it has one.
    pub sweep: Option<Sweep>,
}

impl Prepared {
    /// Loads experiment `id`'s module and mounts its datasets under
    /// `mounts`. Fails when this djx's engine differs from the one the
    /// experiment's jobs are locked to.
    pub fn load(
        store: &dyn Store,
        layout: &Layout,
        runtimes: &Runtimes,
        id: i64,
        mounts: &Path,
    ) -> Result<Prepared, PrepareError> {
        let err = |message: String| PrepareError {
            experiment: id,
            message,
        };
        let experiment = store.experiment(id).map_err(|e| err(e.to_string()))?.locked;
        let sweep = experiment
            .sweep
            .as_ref()
            .map(Sweep::new)
            .transpose()
            .map_err(|e| err(format!("its sweep plan: {e}")))?;
        let runtime = runtimes
            .get(experiment.determinism)
            .map_err(|e| err(format!("{e:#}")))?;
        let here = runtime.engine().profile();
        if experiment.engine != *here {
            return Err(err(format!(
                "its jobs are locked to the engine {}, and this djx runs {here}; \
                 run them with a djx of the same wasmtime on the same architecture \
                 (or add the experiment with `determinism: portable` to run it anywhere)",
                experiment.engine
            )));
        }
        let wasm = load_module(store, layout, &experiment.module_digest).map_err(err)?;
        let module = runtime
            .load(&format!("module {}", experiment.module_digest), &wasm)
            .map_err(|e| err(e.to_string()))?;
        let mut datasets = Vec::new();
        for d in &experiment.datasets {
            let mut stored = dataset_path(&layout.data, &d.digest);
            if let Some(remote) = layout.content.as_deref().filter(|_| !stored.exists()) {
                stored = ensure_dataset(remote, &layout.data, &d.digest, d.file.is_none())
                    .map_err(|e| err(format!("fetching {} {:?}: {e}", d.role(), d.name)))?;
            }
            if !stored.exists() {
                return Err(err(format!(
                    "dataset {:?} ({}) is not in the data store at {}",
                    d.name,
                    d.digest,
                    layout.data.display()
                )));
            }
            let host_dir = match &d.file {
                None => stored,
                Some(file) => {
                    // A program file's name is its path in the sandbox.
                    let dir = mounts.join(id.to_string()).join(d.name.replace('/', "%"));
                    stage_alone(&stored, &dir, file)
                        .map_err(|e| err(format!("mounting {:?}: {e}", d.name)))?;
                    dir
                }
            };
            datasets.push(DatasetMount {
                name: d.name.clone(),
                host_dir,
                file: d.file.clone(),
                digest: d.digest,
            });
        }
        Ok(Prepared {
            runtime,
            module,
            datasets,
            experiment,
            sweep,
        })
    }

    /// The key of this experiment's job with `parameter` and `labels`.
    pub fn job_key(&self, parameter: &Value, labels: &Value) -> Digest {
        LockedJob::of(&self.experiment, parameter, labels).key()
    }

    /// What the sandbox gets for the job with `key`.
    pub fn job_input(&self, key: &Digest, parameter: &Value, labels: &Value) -> JobInput {
        JobInput {
            seed: job_seed(key),
            params: parameter.clone(),
            labels: labels.clone(),
            datasets: self.datasets.clone(),
            invocation: self.experiment.invocation.clone(),
            limits: self.experiment.limits.clone(),
        }
    }

    /// The log as the result digest covers it: the log, or `None` when the
    /// experiment leaves logs out of its digests.
    pub fn digested_log<'a>(&self, log: &'a [u8]) -> Option<&'a [u8]> {
        self.experiment.digest_log.then_some(log)
    }

    /// The result digest of a finished outcome whose log is `log`;
    /// `hasher` has taken the records the job streamed, if any (see
    /// [`RunHooks`](crate::runtime::RunHooks)).
    pub fn result_digest(
        &self,
        mut hasher: ResultHasher,
        outcome: &JobOutcome,
        log: &[u8],
    ) -> Digest {
        hasher.records(outcome.records.iter());
        hasher.finish(&outcome.artifacts, self.digested_log(log))
    }
}

/// A module's bytes: from the local module store, else from the remote
/// content store or the store's database (then kept locally). Either way
/// its digest is checked.
fn load_module(store: &dyn Store, layout: &Layout, digest: &Digest) -> Result<Vec<u8>, String> {
    if let Ok(wasm) = read_module(&layout.modules, digest) {
        return Ok(wasm);
    }
    // A module the bucket lacks (added before `DJX_CONTENT` was set) is
    // still in the database; one it holds corrupt is refused.
    match layout
        .content
        .as_deref()
        .map(|remote| ensure_module(remote, &layout.modules, digest))
    {
        Some(Ok(wasm)) if Digest::of(&wasm) == *digest => return Ok(wasm),
        Some(Ok(_)) => {
            return Err(format!(
                "the module {digest} in {} is corrupt",
                layout.modules.display()
            ));
        }
        Some(Err(e)) if e.is_corrupt() => return Err(format!("fetching its module: {e}")),
        _ => {}
    }
    let wasm = store
        .module(digest)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "module {digest} is in neither the store nor {}",
                layout.modules.display()
            )
        })?;
    let actual = Digest::of(&wasm);
    if actual != *digest {
        return Err(format!(
            "the stored module {digest} is corrupt: it hashes to {actual}"
        ));
    }
    // A local copy only saves the next fetch.
    let _ = store_module(&layout.modules, &wasm);
    Ok(wasm)
}
