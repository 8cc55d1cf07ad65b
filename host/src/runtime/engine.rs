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
    /// Same bits on every architecture: every NaN the program can observe
    /// is canonical (djx rewrites the component to canonicalise where a
    /// float's bits become visible; see `runtime::nan_canon`).
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

/// The engine settings that can change a job's results, as locked into
/// every job key. Two engines with equal profiles compute the same bits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineProfile {
    /// The determinism profile.
    pub determinism: Determinism,
    /// The wasmtime version (code generation may change between versions).
    pub wasmtime: String,
    /// The CPU architecture, for the native profile only: NaN bit patterns
    /// may differ between architectures, so native results are pinned to
    /// one. `None` for the portable profile.
    pub arch: Option<String>,
    /// Whether NaNs are canonicalised.
    pub nan_canonicalization: bool,
    /// How: the version of djx's rewrite that canonicalises where bits
    /// become visible. Absent for wasmtime's canonicalisation after every
    /// operation (which djx used before) and when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nan_canonicalizer: Option<String>,
    /// Whether relaxed SIMD instructions give one deterministic result.
    pub relaxed_simd_deterministic: bool,
}

impl EngineProfile {
    /// The profile of an engine built by this djx for `determinism`.
    pub fn of(determinism: Determinism) -> EngineProfile {
        EngineProfile {
            determinism,
            wasmtime: WASMTIME_VERSION.to_owned(),
            arch: (determinism == Determinism::Native).then(|| std::env::consts::ARCH.to_owned()),
            nan_canonicalization: determinism == Determinism::Portable,
            nan_canonicalizer: (determinism == Determinism::Portable)
                .then(|| crate::runtime::nan_canon::VERSION.to_owned()),
            relaxed_simd_deterministic: true,
        }
    }
}

impl fmt::Display for EngineProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (wasmtime {}, {}",
            self.determinism,
            self.wasmtime,
            self.arch.as_deref().unwrap_or("any architecture")
        )?;
        // How NaNs are canonicalised tells two portable engines apart.
        match (&self.nan_canonicalizer, self.nan_canonicalization) {
            (Some(rewrite), _) => write!(f, ", NaNs by {rewrite})"),
            (None, true) => f.write_str(", NaNs by wasmtime)"),
            (None, false) => f.write_str(")"),
        }
    }
}

/// An engine plus the fingerprint of its configuration.
#[derive(Clone)]
pub struct JobEngine {
    engine: Engine,
    profile: EngineProfile,
    fingerprint: String,
}

impl JobEngine {
    /// Builds the engine for `determinism`.
    pub fn new(determinism: Determinism) -> wasmtime::Result<JobEngine> {
        let profile = EngineProfile::of(determinism);
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            // 64x64->128-bit multiplies as one instruction: without it,
            // every u128 multiply in a guest is a call to compiler-rt's
            // `__multi3` (the iris job's random numbers and exact scores).
            .wasm_wide_arithmetic(true)
            // Exception handling (a WASI CPython's setjmp/longjmp): it
            // needs the GC feature, for exception objects.
            .wasm_exceptions(true)
            .cranelift_opt_level(OptLevel::Speed)
            // The portable profile canonicalises by rewriting the component
            // before compilation (`rewrites_nans`), not after every operation.
            .cranelift_nan_canonicalization(false)
            .relaxed_simd_deterministic(profile.relaxed_simd_deterministic)
            .parallel_compilation(true);
        if std::env::var_os("DJX_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config)?;
        // Everything we set, plus wasmtime's own compatibility hash (which
        // covers its version and the target). A cached module compiled under
        // any other setting gets another key.
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let fingerprint = format!(
            "wasmtime={WASMTIME_VERSION};arch={};component-model;epoch-interruption;wide-arithmetic;exceptions;opt=speed;nan-canonicalization={};relaxed-simd-deterministic;compat={:016x}",
            std::env::consts::ARCH,
            profile.nan_canonicalizer.as_deref().unwrap_or("none"),
            hasher.finish(),
        );
        Ok(JobEngine {
            engine,
            profile,
            fingerprint,
        })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The determinism profile.
    pub fn determinism(&self) -> Determinism {
        self.profile.determinism
    }

    /// The settings that can change results.
    pub fn profile(&self) -> &EngineProfile {
        &self.profile
    }

    /// Whether components must go through [`canonicalize_nans`] before they
    /// are compiled.
    ///
    /// [`canonicalize_nans`]: crate::runtime::nan_canon::canonicalize_nans
    pub fn rewrites_nans(&self) -> bool {
        self.profile.nan_canonicalizer.is_some()
    }

    /// Every setting that affects compiled code or results, as text.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_portable_engine_of_an_earlier_djx_is_another_engine_and_says_so() {
        let now = EngineProfile::of(Determinism::Portable);
        // What djx stored before it rewrote components: wasmtime
        // canonicalised after every operation.
        let earlier = EngineProfile {
            nan_canonicalizer: None,
            ..now.clone()
        };
        assert_ne!(now, earlier);
        assert_ne!(now.to_string(), earlier.to_string());
        assert!(
            earlier.to_string().ends_with("NaNs by wasmtime)"),
            "{earlier}"
        );
        // And an experiment stored then still reads.
        let json = serde_json::to_value(&earlier).expect("json");
        assert!(json.get("nan_canonicalizer").is_none());
        let back: EngineProfile = serde_json::from_value(json).expect("reads");
        assert_eq!(back, earlier);
        let native = EngineProfile::of(Determinism::Native);
        assert!(
            native
                .to_string()
                .ends_with(&format!("{})", std::env::consts::ARCH))
        );
    }
}
