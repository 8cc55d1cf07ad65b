//! # djx: the guest SDK
//!
//! Write a [djx](https://example.invalid/djx) job in Rust. A job is a
//! WebAssembly component: djx runs it in a sandbox that sees only its
//! parameters and datasets, and keeps what it reports (records, artifacts,
//! its log).
//!
//! ## A complete job
//!
//! `Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "my-job"
//! edition = "2024"
//!
//! [dependencies]
//! djx = { path = "../djx/guest-sdk" }
//! serde = { version = "1", features = ["derive"] }
//! ```
//!
//! `src/main.rs`:
//!
//! ```no_run
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Params {
//!     folds: usize,
//!     scale: f64,
//! }
//!
//! fn run() -> djx::Result<()> {
//!     let p: Params = djx::params()?;
//!     djx::ensure!(p.folds > 1, "need at least 2 folds, got {}", p.folds);
//!     let csv = std::fs::read_to_string(djx::dataset("iris")?)?;
//!     let rows = csv.lines().skip(1).count();
//!     djx::log::info(format!("{rows} rows"));
//!
//!     djx::bind("model", "mean");
//!     for fold in 0..p.folds {
//!         let accuracy = 1.0 - p.scale / (fold + 1) as f64;
//!         djx::record("cv fit finished")
//!             .context("set", "test")
//!             .context("fold", fold)
//!             .metric("accuracy", accuracy)
//!             .emit()?;
//!     }
//!     let model = djx::artifact::save("model", b"weights")?;
//!     djx::record("model saved").artifact("model", &model).emit()?;
//!     Ok(())
//! }
//!
//! djx::main!(run);
//! ```
//!
//! Build it and run it once, with no database:
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2
//! djx exec target/wasm32-wasip2/release/my-job.wasm \
//!     --params '{"folds": 3, "scale": 0.1}' --data iris=iris.csv --out artifacts/
//! ```
//!
//! `djx exec` prints each record as a JSON line. In an experiment file the
//! same module runs once per point of the grid (see the djx README).
//!
//! For compute close to native speed, build with the flags of the djx
//! repository's `.cargo/config.toml` (wasm SIMD, LLVM's native unroll
//! threshold): put this in your crate's `.cargo/config.toml`.
//!
//! ```toml
//! [target.wasm32-wasip2]
//! rustflags = ["-C", "target-feature=+simd128",
//!              "-C", "llvm-args=-unroll-threshold=600"]
//! ```
//!
//! A job whose hot loops multiply 64-bit integers into `u128` can add
//! `+wide-arithmetic` to the target features (djx's engine enables the
//! proposal); rustc then warns that the feature is unstable. The djx README
//! says what it buys.
//!
//! ## What the sandbox gives a job
//!
//! - its parameters ([`params`]) and labels ([`labels`]);
//! - its datasets, read-only, under `/data/<name>` ([`dataset`]);
//! - a private writable scratch directory at `/tmp`, removed after the job;
//! - a deterministic clock and random source: reruns see the same values.
//!
//! It has no network, no environment variables and no arguments. Returning
//! an error from `run` fails the job with that message; so does a panic,
//! whose message djx quotes from stderr.

// Lets the generated bindings name this crate as `::djx` from inside it too.
extern crate self as djx;

mod artifact_api;
mod data;
mod error;
pub mod log;
mod record_api;

#[doc(hidden)]
pub mod bindings {
    //! The raw bindings of the `djx:job` world. Guests use the functions
    //! of the crate root instead.
    wit_bindgen::generate!({
        world: "job",
        path: "../wit",
        pub_export_macro: true,
        export_macro_name: "__export_djx_job",
        default_bindings_module: "::djx::bindings",
        runtime_path: "::djx::__wit_bindgen::rt",
    });
}

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

pub use artifact_api::{Digest, artifact};
pub use data::{
    Dataset, dataset, dataset_info, datasets, labels, labels_json, params, params_json,
};
pub use error::{Context, Error, Result};
pub use record_api::{RecordBuilder, bind, bind_json, record, unbind};

/// Exports `run` as the job's entry point. `run` is a `fn() -> R` where
/// `R` is `djx::Result<()>` or any `Result<(), E>` with `E: Display`.
///
/// ```no_run
/// fn run() -> djx::Result<()> {
///     Ok(())
/// }
/// djx::main!(run);
/// ```
#[macro_export]
macro_rules! main {
    ($run:path) => {
        #[doc(hidden)]
        struct __DjxJob;

        impl $crate::bindings::Guest for __DjxJob {
            fn run() -> ::core::result::Result<(), ::std::string::String> {
                $crate::__into_wit($run())
            }
        }

        $crate::bindings::__export_djx_job!(__DjxJob);

        // A wasm32-wasip2 binary still needs a `main`; djx calls `run`.
        fn main() {}
    };
}

#[doc(hidden)]
pub fn __into_wit<E: std::fmt::Display>(
    result: std::result::Result<(), E>,
) -> std::result::Result<(), String> {
    result.map_err(|e| e.to_string())
}
