//! The wasmtime engine: its configuration, and the fingerprint of every
//! setting that affects compiled code or results.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};
use wasmtime::{Config, Engine, OptLevel};

/// How strictly floating point is made deterministic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Determinism {
    /// Same bits on the same CPU architecture. NaN bit patterns may differ
    /// between architectures. Fastest.
    #[default]
    Native,
    /// Same bits on every architecture: NaNs are canonicalised (about 2.5×
    /// slower on float-heavy loops in wasmtime 48).
    Portable,
}

impl fmt::Display for Determinism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Determinism::Native => "native",
            Determinism::Portable => "portable",
        })
    }
}

/// The wasmtime line djx is built against (checked by a test against
/// Cargo.lock, so it cannot drift).
pub const WASMTIME_VERSION: &str = "48.0.8";

/// Interval of the epoch ticker: the timeout's granularity.
pub const EPOCH_TICK_MS: u64 = 10;

/// An engine plus the fingerprint of its configuration.
#[derive(Clone)]
pub struct JobEngine {
    engine: Engine,
    determinism: Determinism,
    fingerprint: String,
}

impl JobEngine {
    /// Builds the engine for `determinism`.
    pub fn new(determinism: Determinism) -> wasmtime::Result<JobEngine> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .cranelift_opt_level(OptLevel::Speed)
            .cranelift_nan_canonicalization(determinism == Determinism::Portable)
            .relaxed_simd_deterministic(true)
            .parallel_compilation(true);
        let engine = Engine::new(&config)?;
        // Everything we set, plus wasmtime's own compatibility hash (which
        // covers its version and the target). A cached module compiled under
        // any other setting gets another key.
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let fingerprint = format!(
            "wasmtime={WASMTIME_VERSION};arch={};component-model;epoch-interruption;opt=speed;nan-canonicalization={};relaxed-simd-deterministic;compat={:016x}",
            std::env::consts::ARCH,
            determinism == Determinism::Portable,
            hasher.finish(),
        );
        Ok(JobEngine {
            engine,
            determinism,
            fingerprint,
        })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The determinism profile.
    pub fn determinism(&self) -> Determinism {
        self.determinism
    }

    /// Every setting that affects compiled code or results, as text.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}
