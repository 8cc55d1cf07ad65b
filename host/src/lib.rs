//! # djx host
//!
//! djx runs data-science experiments as sandboxed WebAssembly jobs. This
//! crate is the host: the `djx` binary and the library behind it.
//!
//! - [`runtime`] compiles job components (cached on disk) and runs each job
//!   in a deny-by-default WASI sandbox with limits.
//! - [`artifact_store`] keeps artifacts by blake3 digest.
//! - [`record`] is the host's form of what jobs report.
//! - [`canonical`] and [`digest`] give one encoding and one hash per value.
//! - [`cluster`] submits workers to a Slurm cluster.
//! - [`spec`] parses experiment files (grids, random search, successive
//!   halving, files that extend others); [`sweep`] runs halving sweeps.
//! - [`web`] is `djx ui` (a read-only web view of the store) and `djx report`.

pub mod artifact_store;
pub mod canonical;
pub mod cluster;
pub mod content_store;
pub mod dataset;
pub mod digest;
pub mod durability;
pub mod export;
pub mod fsck;
pub mod json_fields;
pub mod layout;
pub mod lock;
pub mod module_source;
pub mod pending;
pub mod prepare;
pub mod provenance;
pub mod record;
pub mod record_keys;
pub mod record_stream;
pub mod resolve;
pub mod result_digest;
pub mod runtime;
pub mod spec;
pub mod store;
pub mod sweep;
pub mod timestamp;
pub mod value_kinds;
pub mod verify;
pub mod web;
pub mod worker;
pub mod worker_id;
