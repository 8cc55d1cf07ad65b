//! The locked experiment: what an experiment file resolves to, with every
//! input pinned by digest. `djx add` makes one ([`super::resolve`]) and the
//! store keeps it; workers, `djx verify` and the views read it back.

use crate::content::digest::Digest;
use crate::experiment::provenance::Provenance;
use crate::runtime::{Determinism, EngineProfile, Invocation, Limits};
use crate::store::{DatasetRef, SweepPlan};

/// An experiment locked: resolved from its file, every input pinned by
/// digest. The store persists it as it is; it does not own it.
#[derive(Clone, Debug)]
pub struct LockedExperiment {
    /// `project:` of the file.
    pub project: Option<String>,
    /// `name:` of the file.
    pub name: String,
    /// `description:` of the file.
    pub description: Option<String>,
    /// The experiment file's path as given.
    pub source_path: String,
    /// blake3 of the file's bytes.
    pub source_digest: Digest,
    /// The file's text, exactly as read.
    pub source_text: String,
    /// The module's digest.
    pub module_digest: Digest,
    /// The datasets, sorted by name, and the program's read-only files
    /// (named by their absolute paths in the sandbox).
    pub datasets: Vec<DatasetRef>,
    /// A WASI program's arguments and environment.
    pub invocation: Invocation,
    /// Limits of every job.
    pub limits: Limits,
    /// Determinism profile.
    pub determinism: Determinism,
    /// How often a lost job is requeued beyond the first time.
    pub retries: u32,
    /// The engine settings every job is locked to.
    pub engine: EngineProfile,
    /// Where the experiment came from.
    pub provenance: Provenance,
    /// Whether a job's log is part of its result digest.
    pub digest_log: bool,
    /// For a successive-halving experiment, its plan: its jobs come in
    /// rungs, and the first rung's are the jobs added with it.
    pub sweep: Option<SweepPlan>,
}
