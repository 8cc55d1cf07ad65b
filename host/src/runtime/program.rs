//! What a job module is, and how it is entered: a component of the
//! `djx:job` world (its `run` export), or a WASI program, which speaks the
//! job protocol ([`protocol`](super::protocol)): a `wasi:cli/command`
//! component, or a preview-1 core module made a component with the
//! preview-1 adapter of djx's wasmtime release: the command adapter for a
//! module with `_start` (`clang --target=wasm32-wasi`), the reactor adapter
//! for one that exports `run` instead (a WASI build of CPython).

use std::borrow::Cow;

use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
};
use wasmtime::component::InstancePre;
use wasmtime_wasi::p2::bindings::sync::CommandPre;

use crate::content::digest::Digest;
use crate::runtime::bindings::JobPre;
use crate::runtime::ctx::JobState;

/// What a module's bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A component (layer 1).
    Component,
    /// A core module (layer 0, version 1).
    CoreModule,
}

/// What `wasm` is, or why it is no module at all.
pub fn kind(wasm: &[u8]) -> Result<Kind, &'static str> {
    if wasm.len() < 8 || wasm[0..4] != *b"\0asm" {
        return Err("it does not start with the WebAssembly magic bytes");
    }
    match wasm[4..8] {
        [1, 0, 0, 0] => Ok(Kind::CoreModule),
        [_, _, 1, 0] => Ok(Kind::Component),
        _ => Err("it is a WebAssembly binary of an unknown version"),
    }
}

/// What names the compiled form of a module of `digest`: the digest
/// itself for a component; for a core module, the digest with the
/// adapter's, so that a djx with another adapter compiles anew.
pub fn compiled_identity(digest: &Digest, kind: Kind) -> Digest {
    match kind {
        Kind::Component => *digest,
        Kind::CoreModule => {
            let mut hasher = blake3::Hasher::new_derive_key("djx adapted core module v1");
            hasher.update(digest.as_bytes());
            hasher.update(WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER);
            Digest::from_bytes(*hasher.finalize().as_bytes())
        }
    }
}

/// The world of a preview-1 *reactor* program (a WASI CPython: it exports
/// `_initialize` and `run`, not `_start`): `run` returns the exit status;
/// `host.call`, its runner's callback door, is refused by djx.
const REACTOR_WIT: &str = "package djx:program;

world reactor {
    import host: interface {
        call: func(a: s32, b: s32, c: s32, d: s32) -> s32;
    }
    export run: func() -> s32;
}
";

/// Whether the core module `wasm` exports a function named `name`.
fn exports_func(wasm: &[u8], name: &str) -> bool {
    let is_it = |export: &wasmparser::Export<'_>| {
        export.name == name && export.kind == wasmparser::ExternalKind::Func
    };
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .any(|payload| match payload {
            Ok(wasmparser::Payload::ExportSection(exports)) => {
                exports.into_iter().any(|e| e.is_ok_and(|e| is_it(&e)))
            }
            _ => false,
        })
}

/// A reactor module with the reactor world's metadata, and the adapter.
fn as_reactor(wasm: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut resolve = wit_parser::Resolve::default();
    let package = resolve.push_str("reactor.wit", REACTOR_WIT)?;
    let world = resolve.select_world(&[package], Some("reactor"))?;
    let mut module = wasm.to_vec();
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )?;
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(&module)?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?
        .encode()
}

/// `wasm` as a component: a core module gets the preview-1 command adapter.
pub fn as_component(wasm: &[u8], kind: Kind) -> wasmtime::Result<Cow<'_, [u8]>> {
    match kind {
        Kind::Component => Ok(Cow::Borrowed(wasm)),
        Kind::CoreModule if !exports_func(wasm, "_start") && exports_func(wasm, "run") => {
            as_reactor(wasm).map(Cow::Owned).map_err(|e| {
                wasmtime::Error::msg(format!(
                    "a preview-1 reactor program cannot be adapted: {e:#}"
                ))
            })
        }
        Kind::CoreModule => {
            let adapted = wit_component::ComponentEncoder::default()
                .validate(true)
                .module(wasm)
                .and_then(|encoder| {
                    encoder.adapter(
                        WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
                        WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
                    )
                })
                .and_then(|mut encoder| encoder.encode())
                .map_err(|e| {
                    wasmtime::Error::msg(format!(
                        "a core module is run as a WASI preview-1 program, and this one \
                         cannot be: {e:#}"
                    ))
                })?;
            Ok(Cow::Owned(adapted))
        }
    }
}

/// How a job module is entered.
#[derive(Clone)]
pub enum Entry {
    /// The `djx:job` world's `run`.
    Job(JobPre<JobState>),
    /// A WASI program's `wasi:cli/run`.
    Command(CommandPre<JobState>),
    /// A preview-1 reactor program's `run`, which returns its exit status.
    Reactor(InstancePre<JobState>),
}

impl Entry {
    /// The entry of a component linked as `pre`: the `djx:job` world if it
    /// exports it, else a WASI command. The error says what is missing of
    /// each.
    pub fn of(pre: InstancePre<JobState>) -> Result<Entry, String> {
        let job = match JobPre::new(pre.clone()) {
            Ok(job) => return Ok(Entry::Job(job)),
            Err(e) => e,
        };
        if pre.component().get_export_index(None, "run").is_some()
            && pre
                .component()
                .get_export_index(None, "wasi:cli/run@0.2.6")
                .is_none()
            && CommandPre::new(pre.clone()).is_err()
        {
            return Ok(Entry::Reactor(pre));
        }
        CommandPre::new(pre).map(Entry::Command).map_err(|command| {
            format!("{job:#}; nor is it a WASI program (a `wasi:cli/command`): {command:#}")
        })
    }
}
