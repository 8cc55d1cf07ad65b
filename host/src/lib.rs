//! # djx host
//!
//! djx runs data-science experiments as sandboxed WebAssembly jobs. This
//! crate is the host: the `djx` binary and the library behind it.
//!
//! The modules, in the order data flows through them:
//!
//! 1. [`experiment`]: the experiment file (its spec) is read, its inputs
//!    resolved to digests and its jobs locked with their keys.
//! 2. [`content`]: inputs and artifacts kept by blake3 digest.
//! 3. [`store`]: experiments, jobs and records in SQLite or PostgreSQL.
//! 4. [`run`]: workers claim jobs, run them and commit what they produced;
//!    [`cluster`] submits workers to a Slurm cluster.
//! 5. [`runtime`]: one job in a deny-by-default WASI sandbox with limits.
//! 6. [`records`]: what a job reports, its keys and kinds, and the result
//!    digest over all of it.
//! 7. [`views`]: read models of the store (summaries, job details, lineage,
//!    columns) for the terminal, the web pages, the JSON API and reports.
//! 8. [`export`]: records and jobs as CSV, JSON lines and Parquet.
//! 9. [`web`]: `djx ui` and `djx report`, drawn from the views.
//! 10. [`audit`]: `djx verify` and `djx fsck` check what the store holds.
//!
//! [`sync`] holds the one rule for locks whose holder panicked.

pub mod audit;
pub mod cluster;
pub mod content;
pub mod experiment;
pub mod export;
pub mod records;
pub mod run;
pub mod runtime;
pub mod store;
pub mod sync;
pub mod views;
pub mod web;
