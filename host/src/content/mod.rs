//! Content by digest: the hashes and encodings djx names things by, and the
//! stores that keep inputs and artifacts under those names.
//!
//! - [`digest`] and [`canonical`]: one hash and one byte encoding per value.
//! - [`dataset`]: a dataset's digest (a file, or a tree of files).
//! - [`module_source`]: the source a module was built from.
//! - [`python_kit`]: the Python guest kit, as built into djx.
//! - [`store`] keeps datasets and modules; [`artifacts`] keeps what jobs
//!   write. [`layout`] says where they live, [`durability`] how safely
//!   they are written.
//! - [`remote`]: the same content by digest in an S3-compatible bucket.

pub mod artifacts;
pub mod canonical;
pub mod dataset;
pub mod digest;
pub mod durability;
pub mod layout;
pub mod module_source;
pub mod python_kit;
pub mod remote;
pub mod store;
