//! Experiments, from the file a researcher writes to what the store keeps.
//!
//! [`spec`] reads the experiment file (the one thing "spec" means in djx):
//! YAML, grids, random search, halving, `extends`. [`resolve`] turns a spec
//! into inputs kept by digest and the jobs it expands to, with the
//! program [`program`] resolves (a module, or a `python:` script with the
//! WASI Python of [`python_runtime`]); [`lock`] gives each job its key,
//! and [`locked`] is the experiment as the store keeps it; [`provenance`]
//! records where the files came from. [`sweep`] grows a halving sweep rung
//! by rung as its jobs finish.

pub mod lock;
pub mod locked;
pub mod program;
pub mod provenance;
pub mod python_runtime;
pub mod resolve;
pub mod spec;
pub mod sweep;
