//! The host side of each djx WIT interface, one file per interface.

pub mod artifacts;
pub mod datasets;
pub mod logging;
pub mod params;
pub mod records;

use crate::runtime::bindings::Job;
use crate::runtime::ctx::{HasJob, JobState};

/// Adds the djx interfaces to `linker`.
pub fn add_to_linker(linker: &mut wasmtime::component::Linker<JobState>) -> wasmtime::Result<()> {
    Job::add_to_linker::<JobState, HasJob>(linker, JobState::view)
}

/// Parses `text` as a JSON object, for the guest-visible error channel.
fn json_object(
    what: &str,
    text: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(format!("{what} must be a JSON object, got: {}", cut(text))),
        Err(e) => Err(format!("{what} is not valid JSON ({e}): {}", cut(text))),
    }
}

/// The first 200 characters of `text`, for error messages.
fn cut(text: &str) -> String {
    let mut out: String = text.chars().take(200).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// `djx:job/types` has no functions; the bindings still want the trait.
impl crate::runtime::bindings::types::Host for crate::runtime::ctx::JobView<'_> {}
