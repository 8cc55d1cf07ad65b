//! The on-disk cache of compiled components.
//!
//! A component is compiled once per engine configuration. The cache key is
//! blake3 over the module's digest and the engine fingerprint, because a
//! precompiled module built with other settings can load silently. Each
//! entry is `<key>.cwasm` plus `<key>.b3`, the digest of the `.cwasm`, which
//! is checked before the (unsafe) deserialisation so that a torn or corrupt
//! file is recompiled instead of loaded.

use std::fs;
use std::path::{Path, PathBuf};

use wasmtime::component::Component;

use crate::digest::Digest;
use crate::runtime::engine::JobEngine;
use crate::runtime::nan_canon::canonicalize_nans;

/// A directory of compiled components.
#[derive(Clone, Debug)]
pub struct CompileCache {
    dir: PathBuf,
}

impl CompileCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> CompileCache {
        CompileCache { dir: dir.into() }
    }

    /// The cache's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn key(engine: &JobEngine, module: &Digest) -> String {
        let mut hasher = blake3::Hasher::new_derive_key("djx compile-cache key v1");
        hasher.update(module.as_bytes());
        hasher.update(engine.fingerprint().as_bytes());
        hasher.finalize().to_hex().to_string()
    }

    /// Loads the compiled form of `wasm` (whose digest is `module`), compiling
    /// and caching it when absent or unusable. Returns whether it was a hit.
    pub fn load(
        &self,
        engine: &JobEngine,
        module: &Digest,
        wasm: &[u8],
    ) -> wasmtime::Result<(Component, bool)> {
        let key = Self::key(engine, module);
        let cwasm = self.dir.join(format!("{key}.cwasm"));
        let sum = self.dir.join(format!("{key}.b3"));
        if let (Ok(bytes), Ok(expected)) = (fs::read(&cwasm), fs::read_to_string(&sum))
            && Digest::of(&bytes).to_hex() == expected.trim()
        {
            // SAFETY: the bytes were written by `Component::serialize` of this
            // cache for the same engine fingerprint, and their digest matches
            // what was written beside them, so they are not torn or altered
            // by accident. The cache directory must not be writable by
            // anyone who is not trusted to run native code as this user.
            if let Ok(component) = unsafe { Component::deserialize(engine.engine(), &bytes) } {
                return Ok((component, true));
            }
        }
        let component = if engine.rewrites_nans() {
            match canonicalize_nans(wasm) {
                Ok(rewritten) => Component::new(engine.engine(), &rewritten)?,
                // An invalid component gets wasmtime's own message; a valid
                // one the rewrite cannot handle must not run without it.
                Err(e) => {
                    Component::new(engine.engine(), wasm)?;
                    return Err(e.into());
                }
            }
        } else {
            Component::new(engine.engine(), wasm)?
        };
        // A cache that cannot be written only costs time.
        let _ = self.store(&component, &cwasm, &sum);
        Ok((component, false))
    }

    fn store(&self, component: &Component, cwasm: &Path, sum: &Path) -> anyhow::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let bytes = component.serialize()?;
        let digest = Digest::of(&bytes);
        write_atomic(&self.dir, cwasm, &bytes)?;
        write_atomic(&self.dir, sum, digest.to_hex().as_bytes())?;
        Ok(())
    }
}

fn write_atomic(dir: &Path, target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(target).map_err(|e| e.error)?;
    Ok(())
}
