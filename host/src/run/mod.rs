//! Running jobs from a store.
//!
//! - [`worker`]: a run, its options and its threads;
//! - [`setup`]: what a run prepares first, each experiment made ready by
//!   [`prepare`];
//! - [`claims`]: the job loop of a worker thread; [`job`]: one job run;
//! - [`record_stream`]: each running job's records streamed to the store;
//! - [`commit`] and [`pending`]: ended attempts committed together;
//! - [`events`]: what a run reports as it goes, and its totals;
//! - [`retry`]: store calls that outlast a short outage;
//! - [`signals`]: what SIGTERM, SIGINT and SIGHUP do;
//! - [`worker_id`]: the names workers go by.

pub mod claims;
pub mod commit;
pub mod events;
pub mod job;
pub mod pending;
pub mod prepare;
pub mod record_stream;
pub mod retry;
pub mod setup;
pub mod signals;
pub mod worker;
pub mod worker_id;
