//! Read models of the store: what `djx show`, `djx lineage`, the web pages,
//! the JSON API, `djx report` and the exports all look at. Nothing here
//! knows about HTTP or HTML; errors are [`ViewError`]s, which the CLI
//! prints and the web answers with a status.
//!
//! - [`summary`]: one pass over an experiment's jobs and records, giving
//!   every job's columns and metric aggregates ([`agg`], [`columns`]).
//! - [`detail`]: everything known about one job.
//! - [`lineage`]: who produced or reused an artifact, and who used an input.
//! - [`curve`]: a metric over steps ([`steps`]), downsampled
//!   ([`downsample`]), read with the JSON scanner of [`json_scan`].
//! - [`format`]: how durations and digests are shown.

pub mod agg;
pub mod columns;
pub mod curve;
pub mod detail;
pub mod downsample;
pub mod error;
pub mod format;
pub mod json_scan;
pub mod lineage;
pub mod steps;
pub mod summary;

pub use self::detail::JobDetail;
pub use self::error::ViewError;
