//! Tidy exports of an experiment's records and jobs, streamed.
//!
//! A records export has one row per record and one column per label,
//! context key, metric and artifact name any of its records uses, like the
//! original djx's `get_exp_records_df`. The columns come first (from the
//! key sets the store keeps, see [`crate::records::keys`]); then the records
//! are read from the store one at a time and written as they come, so an
//! export of ten million records holds one row in memory, not ten million.

pub mod columns;
pub mod job_columns;
pub mod parquet;
pub mod read_ahead;

pub use self::columns::RecordColumns;
