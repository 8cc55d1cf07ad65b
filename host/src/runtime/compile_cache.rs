//! The on-disk cache of compiled components.
//!
//! A component is compiled once per engine configuration. The cache key is
//! blake3 over the module's digest and the engine fingerprint, because a
//! precompiled module built with other settings can load silently. Each
//! entry is `<key>.cwasm` plus `<key>.b3`, the digest of the `.cwasm`, which
//! is checked before the (unsafe) deserialisation so that a torn or corrupt
//! file is recompiled instead of loaded.
//!
//! A load touches its entry's time, so [`CompileCache::prune`] can remove
//! the entries unused for the longest time.
//!
//! A miss compiles under an exclusive lock of `<key>.lock`, and looks again
//! once it has the lock: processes that start at once (the workers of one
//! machine, test binaries) compile a module once between them, which for a
//! 100 MB WASI Python is minutes of two cores saved.

use std::borrow::Cow;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use wasmtime::component::Component;

use crate::content::digest::Digest;
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

    /// Loads the compiled form of the component that `module` names,
    /// compiling and caching it when absent or unusable; `wasm` makes the
    /// component's bytes, only on a miss. Returns whether it was a hit.
    pub fn load<'w>(
        &self,
        engine: &JobEngine,
        module: &Digest,
        wasm: &dyn Fn() -> wasmtime::Result<Cow<'w, [u8]>>,
    ) -> wasmtime::Result<(Component, bool)> {
        let key = Self::key(engine, module);
        let cwasm = self.dir.join(format!("{key}.cwasm"));
        let sum = self.dir.join(format!("{key}.b3"));
        if let Some(component) = Self::cached(engine, &cwasm, &sum) {
            return Ok((component, true));
        }
        // Held until this compile is stored (or has failed). A cache that
        // cannot be locked is used without the lock.
        let _lock = self.lock(&key);
        if let Some(component) = Self::cached(engine, &cwasm, &sum) {
            return Ok((component, true));
        }
        let wasm = &*wasm()?;
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

    /// The entry at `cwasm`, if it is there, whole, and loads.
    fn cached(engine: &JobEngine, cwasm: &Path, sum: &Path) -> Option<Component> {
        let (bytes, expected) = (fs::read(cwasm).ok()?, fs::read_to_string(sum).ok()?);
        if Digest::of(&bytes).to_hex() != expected.trim() {
            return None;
        }
        // SAFETY: the bytes were written by `Component::serialize` of this
        // cache for the same engine fingerprint, and their digest matches
        // what was written beside them, so they are not torn or altered by
        // accident. The cache directory must not be writable by anyone who
        // is not trusted to run native code as this user.
        let component = unsafe { Component::deserialize(engine.engine(), &bytes) }.ok()?;
        touch(cwasm);
        Some(component)
    }

    /// The exclusive lock of entry `key`, waited for; `None` when the
    /// cache cannot be written.
    fn lock(&self, key: &str) -> Option<fs::File> {
        fs::create_dir_all(&self.dir).ok()?;
        let file = fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(format!("{key}.lock")))
            .ok()?;
        file.lock().ok()?;
        Some(file)
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

/// A compiled component in the cache.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Its `.cwasm` file.
    pub path: PathBuf,
    /// Bytes of it and its digest file.
    pub bytes: u64,
    /// When it was last loaded or stored.
    pub used: SystemTime,
}

impl CompileCache {
    /// Every entry, the most recently used first.
    pub fn entries(&self) -> std::io::Result<Vec<Entry>> {
        let mut entries = Vec::new();
        let dir = match fs::read_dir(&self.dir) {
            Ok(dir) => dir,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(entries),
            Err(e) => return Err(e),
        };
        for item in dir {
            let path = item?.path();
            if path.extension().is_none_or(|e| e != "cwasm") {
                continue;
            }
            let meta = fs::metadata(&path)?;
            let sum = fs::metadata(path.with_extension("b3")).map_or(0, |m| m.len());
            entries.push(Entry {
                bytes: meta.len() + sum,
                used: meta.modified()?,
                path,
            });
        }
        entries.sort_by_key(|e| std::cmp::Reverse(e.used));
        Ok(entries)
    }

    /// Removes the entries unused for the longest time until the rest take
    /// at most `keep` bytes (`0` empties the cache), and any leftover
    /// partial writes; returns how many entries went and their bytes. A
    /// running djx that needs a removed entry compiles it again.
    pub fn prune(&self, keep: u64) -> std::io::Result<(usize, u64)> {
        let mut kept = 0u64;
        let (mut removed, mut freed) = (0usize, 0u64);
        for entry in self.entries()? {
            if kept + entry.bytes <= keep {
                kept += entry.bytes;
                continue;
            }
            // The digest first: an entry without it is never loaded.
            let _ = fs::remove_file(entry.path.with_extension("b3"));
            fs::remove_file(&entry.path)?;
            removed += 1;
            freed += entry.bytes;
        }
        Ok((removed, freed))
    }
}

/// Marks `path` as used now (best effort: a read-only cache still loads).
fn touch(path: &Path) {
    if let Ok(file) = fs::File::options().append(true).open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

fn write_atomic(dir: &Path, target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(target).map_err(|e| e.error)?;
    Ok(())
}
