//! Read models of the store: what `djx show`, `djx lineage`, the web pages,
//! the JSON API, `djx report` and the exports all look at. Nothing here
//! knows about HTTP or HTML; errors are [`ViewError`]s, which the CLI
//! prints and the web answers with a status.
//!
//! - [`summary`]: one pass over an experiment's jobs and records, giving
//!   every job's columns and metric aggregates ([`agg`], [`columns`]).
//! - [`detail`]: everything known about one job; [`compare`]: jobs side
//!   by side.
//! - [`groups`]: jobs grouped by dimensions, with means and spreads
//!   ([`dims`] codes a dimension's values).
//! - [`lineage`]: who produced or reused an artifact, and who used an input.
//! - [`curve`]: a metric over steps ([`steps`], [`curve_axis`]), downsampled
//!   ([`downsample`]), read with the JSON scanner of [`json_scan`], or
//!   from the min/max sketch stored when the job ended ([`curve_sketch`]).
//! - [`preview`]: what an artifact looks like without downloading it.
//! - [`format`]: how durations and digests are shown.

pub mod agg;
pub mod columns;
pub mod compare;
pub mod curve;
pub mod curve_axis;
pub mod curve_sketch;
pub mod detail;
pub mod dims;
pub mod downsample;
pub mod error;
pub mod format;
pub mod groups;
pub mod json_scan;
pub mod lineage;
pub mod preview;
pub mod steps;
pub mod summary;

pub use self::detail::JobDetail;
pub use self::error::ViewError;
