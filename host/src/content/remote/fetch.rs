//! Moving an experiment's inputs between the local stores and the bucket:
//! `djx add` publishes the module and the datasets ([`publish_inputs`]);
//! a worker fetches what its local stores lack, once per machine
//! ([`ensure_dataset`], [`ensure_module`]).
//!
//! A fetch happens under an exclusive lock of `<digest>.lock` beside the
//! store, and looks again once it holds it: the workers of one machine that
//! start at once fetch a dataset once. What is fetched is checked by its
//! digest before it is renamed into the local store, so the local store
//! holds only what its names say.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Kind, Remote, Result, io_err, tree};
use crate::content::digest::Digest;
use crate::content::layout::Layout;
use crate::content::store::{dataset_path, module_path};
use crate::experiment::locked::LockedExperiment;

/// What [`publish_inputs`] did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Published {
    /// Objects uploaded.
    pub uploaded: usize,
    /// Inputs that were in the bucket already.
    pub present: usize,
}

/// Uploads `experiment`'s module and datasets from the local stores of
/// `layout` to `remote`, skipping what is there already.
pub fn publish_inputs(
    remote: &Remote,
    layout: &Layout,
    experiment: &LockedExperiment,
) -> Result<Published> {
    let mut done = Published::default();
    let mut count = |uploaded: usize| {
        if uploaded == 0 {
            done.present += 1;
        } else {
            done.uploaded += uploaded;
        }
    };
    let module = &experiment.module_digest;
    count(usize::from(remote.put_file(
        Kind::Module,
        module,
        &module_path(&layout.modules, module),
    )?));
    for d in &experiment.datasets {
        let stored = dataset_path(&layout.data, &d.digest);
        let uploaded = match d.file {
            Some(_) => usize::from(remote.put_file(Kind::Data, &d.digest, &stored)?),
            None => tree::upload(remote, &d.digest, &stored)?,
        };
        count(uploaded);
    }
    Ok(done)
}

/// The lock of `<dir>/<name>.lock`, waited for; `None` where files cannot
/// be locked (the fetch then runs unlocked: it is still safe, only perhaps
/// done twice).
fn lock(dir: &Path, name: &str) -> Option<fs::File> {
    fs::create_dir_all(dir).ok()?;
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!(".{name}.lock")))
        .ok()?;
    file.lock().ok()?;
    Some(file)
}

/// The local path of dataset `digest` (a directory tree when `tree`),
/// fetched from `remote` into the data store `root` if it is not there.
pub fn ensure_dataset(
    remote: &Remote,
    root: &Path,
    digest: &Digest,
    tree: bool,
) -> Result<PathBuf> {
    let target = dataset_path(root, digest);
    if target.exists() {
        return Ok(target);
    }
    let _lock = lock(root, &digest.to_hex());
    if target.exists() {
        return Ok(target);
    }
    if tree {
        // Rebuilt beside the store, then renamed whole into place.
        let staging = tempfile::Builder::new()
            .prefix(".fetch-")
            .tempdir_in(root)
            .map_err(io_err("create a temporary directory in", root))?;
        let staged = staging.path().join("tree");
        tree::download(remote, digest, &staged)?;
        fs::rename(&staged, &target).map_err(io_err("rename into", &target))?;
    } else {
        remote.download(Kind::Data, digest, &target)?;
    }
    set_readonly(&target);
    Ok(target)
}

/// The bytes of module `digest`, from the module store `root`, else fetched
/// from `remote` into it (checked either way by the caller's digest).
pub fn ensure_module(remote: &Remote, root: &Path, digest: &Digest) -> Result<Vec<u8>> {
    let target = module_path(root, digest);
    if !target.is_file() {
        let _lock = lock(root, &digest.to_hex());
        if !target.is_file() {
            remote.download(Kind::Module, digest, &target)?;
        }
    }
    fs::read(&target).map_err(io_err("read", &target))
}

/// Makes a fetched file, or every file of a fetched tree, read-only, as
/// the store's imports are (best effort: the digest guards the content).
fn set_readonly(path: &Path) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    if meta.is_dir() {
        if let Ok(entries) = fs::read_dir(path) {
            for entry in entries.flatten() {
                set_readonly(&entry.path());
            }
        }
    } else if meta.is_file() {
        let mut perms = meta.permissions();
        perms.set_readonly(true);
        let _ = fs::set_permissions(path, perms);
    }
}
