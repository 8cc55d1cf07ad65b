//! The host bindings of the `djx:job` world: `bindgen!` runs here, once.
#![allow(missing_docs)] // generated code; the WIT file documents it

wasmtime::component::bindgen!({
    world: "job",
    path: "../wit",
    // Every import may trap: that is how a broken limit ends a job.
    imports: { default: trappable },
    with: {
        "djx:job/artifacts.writer": crate::runtime::host::artifacts::GuestWriter,
    },
});

pub use djx::job::{artifacts, datasets, logging, params, records, types};
