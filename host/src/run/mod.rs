//! Running jobs from a store: an experiment made ready ([`prepare`]), the
//! worker loop ([`worker`]), each running job's records streamed to the
//! store ([`record_stream`]), ended attempts committed together
//! ([`pending`]), and the names workers go by ([`worker_id`]).

pub mod pending;
pub mod prepare;
pub mod record_stream;
pub mod worker;
pub mod worker_id;
