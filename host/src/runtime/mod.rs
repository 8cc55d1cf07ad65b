//! The sandboxed job runtime: compile a component once, then run jobs from
//! it, each in a fresh store with its own limits.
//!
//! ```no_run
//! use djx_host::content::artifacts::ArtifactStore;
//! use djx_host::experiment::lock::LockedJob;
//! use djx_host::runtime::{Determinism, JobInput, Limits, Runtime, job_seed};
//!
//! # fn main() -> anyhow::Result<()> {
//! let runtime = Runtime::new(Determinism::Native, "cache-dir".into(), std::env::temp_dir())?;
//! let module = runtime.load_file("guest.wasm".as_ref())?;
//! let (params, labels, limits) = (serde_json::json!({"alpha": 0.5}), serde_json::json!({}), Limits::default());
//! let key = LockedJob::new(module.digest, &params, &labels, &[], &limits, runtime.engine().profile()).key();
//! let input = JobInput {
//!     seed: job_seed(&key),
//!     params,
//!     labels,
//!     datasets: vec![],
//!     invocation: Default::default(),
//!     limits,
//! };
//! let outcome = runtime.run(&module, &input, &ArtifactStore::open("artifacts")?);
//! println!("{:?} {} records", outcome.failure, outcome.records.len());
//! # Ok(()) }
//! ```

pub mod bindings;
pub mod clock;
pub mod compile_cache;
pub mod ctx;
pub mod engine;
pub mod host;
pub mod job;
pub mod limits;
pub mod log;
pub mod memory;
pub mod nan_canon;
pub mod pinned_fs;
pub mod program;
pub mod protocol;
pub mod random;
pub mod record_sink;
pub mod run;
pub mod sandbox;
pub mod scratch;
pub mod ticker;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use self::engine::{Determinism, EngineProfile, JobEngine};
pub use self::job::{DatasetMount, Failure, Invocation, JobInput, JobOutcome};
pub use self::limits::{LimitKind, Limits};
pub use self::record_sink::{RecordSink, RunHooks};

use wasmtime::component::Linker;

use crate::content::artifacts::ArtifactStore;
use crate::content::digest::Digest;
use crate::runtime::compile_cache::CompileCache;
use crate::runtime::ctx::JobState;
use crate::runtime::ticker::EpochTicker;
use crate::sync::Unpoisoned;

/// An error loading a module.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read module {path}: {source}")]
    Read {
        /// The module's path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not a module djx can run.
    #[error("{what} cannot run as a djx job: {message}")]
    NotComponent {
        /// The module's name or path.
        what: String,
        /// What wasmtime said.
        message: String,
    },
    /// The component neither implements the `djx:job` world nor is a WASI
    /// program.
    #[error("{what} does not implement the djx:job@0.1.0 world `job`: {message}")]
    WrongWorld {
        /// The module's name or path.
        what: String,
        /// What is missing or mistyped.
        message: String,
    },
}

/// A compiled, type-checked job module, ready to instantiate.
#[derive(Clone)]
pub struct Module {
    /// blake3 of the component's bytes.
    pub digest: Digest,
    /// Whether the compiled form came from the compile cache.
    pub cache_hit: bool,
    entry: program::Entry,
}

impl Module {
    /// Whether it is a WASI program, speaking the job protocol.
    pub fn is_wasi_program(&self) -> bool {
        matches!(
            self.entry,
            program::Entry::Command(_) | program::Entry::Reactor(_)
        )
    }
}

/// The job runtime: one engine, its linker, the compile cache and the epoch
/// ticker. Share one `Runtime` across threads; each job gets its own store.
pub struct Runtime {
    engine: JobEngine,
    linker: Linker<JobState>,
    cache: CompileCache,
    scratch: scratch::ScratchPool,
    inputs: scratch::ScratchPool,
    _ticker: EpochTicker,
}

impl Runtime {
    /// A runtime for `determinism`, caching compiled modules in `cache_dir`
    /// and making each job's scratch directory under `scratch_root`.
    pub fn new(
        determinism: Determinism,
        cache_dir: PathBuf,
        scratch_root: PathBuf,
    ) -> wasmtime::Result<Runtime> {
        let engine = JobEngine::new(determinism)?;
        let mut linker = Linker::new(engine.engine());
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        // A WASI CPython's callback door to its own runner: refused.
        linker
            .instance("host")?
            .func_wrap("call", |_, _: (i32, i32, i32, i32)| Ok((-1i32,)))?;
        host::add_to_linker(&mut linker)?;
        pinned_fs::add_to_linker(&mut linker)?;
        let ticker = EpochTicker::start(engine.engine().clone());
        Ok(Runtime {
            engine,
            linker,
            cache: CompileCache::new(cache_dir),
            inputs: scratch::ScratchPool::reused(scratch_root.clone()),
            scratch: scratch::ScratchPool::new(scratch_root),
            _ticker: ticker,
        })
    }

    /// The engine and its fingerprint.
    pub fn engine(&self) -> &JobEngine {
        &self.engine
    }

    /// Reads, compiles (or loads from cache) and type-checks a module file.
    pub fn load_file(&self, path: &Path) -> Result<Module, LoadError> {
        let wasm = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.load(&path.display().to_string(), &wasm)
    }

    /// Compiles (or loads from cache) and type-checks module bytes: a
    /// component of the `djx:job` world, or a WASI program (see
    /// [`program`]). `what` names the module in errors.
    pub fn load(&self, what: &str, wasm: &[u8]) -> Result<Module, LoadError> {
        let not_module = |message: String| LoadError::NotComponent {
            what: what.to_owned(),
            message,
        };
        let kind = program::kind(wasm).map_err(|m| not_module(m.to_owned()))?;
        let digest = Digest::of(wasm);
        let identity = program::compiled_identity(&digest, kind);
        let (component, cache_hit) = self
            .cache
            .load(&self.engine, &identity, &|| {
                program::as_component(wasm, kind)
            })
            .map_err(|e| not_module(format!("{e:#}")))?;
        let wrong_world = |message: String| LoadError::WrongWorld {
            what: what.to_owned(),
            message,
        };
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| wrong_world(format!("{e:#}")))?;
        let entry = program::Entry::of(instance_pre).map_err(wrong_world)?;
        Ok(Module {
            digest,
            cache_hit,
            entry,
        })
    }

    /// Runs one job of `module`. Never panics on guest behaviour: every
    /// failure, the guest's or the host's, is in the outcome.
    pub fn run(&self, module: &Module, input: &JobInput, artifacts: &ArtifactStore) -> JobOutcome {
        run::run_job(self, module, input, artifacts, RunHooks::default())
    }

    /// Like [`Runtime::run`], with a cancel flag and a record sink.
    pub fn run_with(
        &self,
        module: &Module,
        input: &JobInput,
        artifacts: &ArtifactStore,
        hooks: RunHooks,
    ) -> JobOutcome {
        run::run_job(self, module, input, artifacts, hooks)
    }
}

/// The seed of a job's clocks and random sources, derived from its job key
/// (see [`crate::experiment::lock`]): the same locked job always sees the same values.
pub fn job_seed(key: &Digest) -> [u8; 32] {
    blake3::derive_key("djx job seed v2", key.as_bytes())
}

/// One runtime per determinism profile, created when first needed and
/// shared by every job of that profile.
pub struct Runtimes {
    cache_dir: PathBuf,
    scratch_root: PathBuf,
    made: Mutex<HashMap<Determinism, Arc<Runtime>>>,
}

impl Runtimes {
    /// Runtimes caching compiled modules in `cache_dir`, with job scratch
    /// directories under `scratch_root`.
    pub fn new(cache_dir: PathBuf, scratch_root: PathBuf) -> Runtimes {
        Runtimes {
            cache_dir,
            scratch_root,
            made: Mutex::default(),
        }
    }

    /// The runtime of `determinism`.
    pub fn get(&self, determinism: Determinism) -> wasmtime::Result<Arc<Runtime>> {
        let mut made = self.made.lock_unpoisoned();
        if let Some(rt) = made.get(&determinism) {
            return Ok(rt.clone());
        }
        let rt = Arc::new(Runtime::new(
            determinism,
            self.cache_dir.clone(),
            self.scratch_root.clone(),
        )?);
        made.insert(determinism, rt.clone());
        Ok(rt)
    }
}
