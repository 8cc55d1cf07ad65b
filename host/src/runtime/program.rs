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
    WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
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
/// itself for a component; for a core module, the digest with everything
/// its adaptation adds (both adapters and the reactor world), so that a djx
/// that adapts otherwise compiles anew.
pub fn compiled_identity(digest: &Digest, kind: Kind) -> Digest {
    match kind {
        Kind::Component => *digest,
        Kind::CoreModule => {
            let mut hasher = blake3::Hasher::new_derive_key("djx adapted core module v1");
            hasher.update(digest.as_bytes());
            hasher.update(WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER);
            hasher.update(WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER);
            hasher.update(REACTOR_WIT.as_bytes());
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

/// Whether the core module `wasm` is a reactor: it exports a function
/// `run` and none named `_start`. Parsing stops at the export section,
/// before the code.
fn is_reactor(wasm: &[u8]) -> bool {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let Ok(wasmparser::Payload::ExportSection(exports)) = payload else {
            continue;
        };
        let funcs: Vec<&str> = exports
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.kind == wasmparser::ExternalKind::Func)
            .map(|e| e.name)
            .collect();
        return funcs.contains(&"run") && !funcs.contains(&"_start");
    }
    false
}

/// `wasm` with the reactor world's metadata, which names what the reactor
/// adapter exports and imports.
fn with_reactor_world(wasm: &[u8]) -> anyhow::Result<Vec<u8>> {
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
    Ok(module)
}

/// `wasm` as a component: a core module gets the preview-1 command
/// adapter, or the reactor adapter (and the reactor world) if it is a
/// reactor.
pub fn as_component(wasm: &[u8], kind: Kind) -> wasmtime::Result<Cow<'_, [u8]>> {
    if kind == Kind::Component {
        return Ok(Cow::Borrowed(wasm));
    }
    let reactor = is_reactor(wasm);
    let adapted = if reactor {
        with_reactor_world(wasm)
            .and_then(|module| adapt(&module, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER))
    } else {
        adapt(wasm, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER)
    };
    adapted.map(Cow::Owned).map_err(|e| {
        let what = if reactor { "reactor" } else { "program" };
        wasmtime::Error::msg(format!(
            "a core module is run as a WASI preview-1 {what}, and this one cannot be: {e:#}"
        ))
    })
}

/// The component of core module `module` with the preview-1 `adapter`.
fn adapt(module: &[u8], adapter: &[u8]) -> anyhow::Result<Vec<u8>> {
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(module)?
        .adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter)?
        .encode()
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
    /// exports it, else a WASI command, else a reactor's `run`. The error
    /// says what is missing of each.
    pub fn of(pre: InstancePre<JobState>) -> Result<Entry, String> {
        let job = match JobPre::new(pre.clone()) {
            Ok(job) => return Ok(Entry::Job(job)),
            Err(e) => e,
        };
        let command = match CommandPre::new(pre.clone()) {
            Ok(command) => return Ok(Entry::Command(command)),
            Err(e) => e,
        };
        if pre.component().get_export_index(None, "run").is_some() {
            return Ok(Entry::Reactor(pre));
        }
        Err(format!(
            "{job:#}; nor is it a WASI program (a `wasi:cli/command`): {command:#}"
        ))
    }
}
