//! Scratch directories (`/tmp` of a job), reused between jobs.
//!
//! Creating and removing a directory for every job cost more than the rest
//! of a no-op job together (on ext4 with `discard`, removing one waits for
//! the disk). So each runtime keeps the directories of finished jobs: after
//! a job its directory is emptied and goes back to the pool, and a job only
//! ever gets a directory that is empty. One that cannot be emptied is
//! removed instead.

use crate::sync::Unpoisoned;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tempfile::TempDir;

/// Empty scratch directories under one root.
pub struct ScratchPool {
    root: PathBuf,
    free: Mutex<Vec<TempDir>>,
    /// Whether a directory keeps its files when it goes back (see
    /// [`ScratchPool::reused`]).
    keeps_files: bool,
}

/// A job's scratch directory; back to the pool, emptied, when dropped.
pub struct Scratch<'a> {
    pool: &'a ScratchPool,
    dir: Option<TempDir>,
}

impl ScratchPool {
    /// A pool making its directories under `root`.
    pub fn new(root: PathBuf) -> ScratchPool {
        ScratchPool {
            root,
            free: Mutex::default(),
            keeps_files: false,
        }
    }

    /// A pool whose directories go back as they are, for files the host
    /// writes over in place at every use (a WASI program's inputs):
    /// creating a file where one was just removed makes ext4 search for
    /// recently deleted inodes, which costs more than the rest of a short
    /// job.
    pub fn reused(root: PathBuf) -> ScratchPool {
        ScratchPool {
            keeps_files: true,
            ..ScratchPool::new(root)
        }
    }

    /// Where directories are made.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// An empty directory: a pooled one, or a new one.
    pub fn take(&self) -> io::Result<Scratch<'_>> {
        let pooled = self.free.lock_unpoisoned().pop();
        let dir = match pooled {
            Some(dir) => dir,
            None => {
                std::fs::create_dir_all(&self.root)?;
                tempfile::Builder::new()
                    .prefix("djx-job-")
                    .tempdir_in(&self.root)?
            }
        };
        Ok(Scratch {
            pool: self,
            dir: Some(dir),
        })
    }
}

impl Scratch<'_> {
    /// The directory.
    pub fn path(&self) -> &Path {
        // Present until drop.
        self.dir.as_ref().map_or(Path::new(""), TempDir::path)
    }
}

/// Removes everything inside `dir`; Ok(()) when it is empty afterwards.
/// Most jobs leave nothing: then one listing is all it costs.
fn empty(dir: &Path) -> io::Result<()> {
    let mut removed = false;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
        removed = true;
    }
    // Whatever was removed, check: a name may have come back meanwhile
    // (the job has ended, but be sure a job never gets a used directory).
    match removed && std::fs::read_dir(dir)?.next().is_some() {
        false => Ok(()),
        true => Err(io::Error::other("still not empty")),
    }
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else { return };
        // A directory that cannot be emptied is dropped (removed) instead.
        if self.pool.keeps_files || empty(dir.path()).is_ok() {
            self.pool.free.lock_unpoisoned().push(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_always_gets_an_empty_directory() {
        let root = tempfile::tempdir().expect("tempdir");
        let pool = ScratchPool::new(root.path().to_path_buf());
        let first_path = {
            let scratch = pool.take().expect("take");
            std::fs::create_dir_all(scratch.path().join("a/b")).expect("mkdir");
            std::fs::write(scratch.path().join("a/b/f"), "x").expect("write");
            std::fs::write(scratch.path().join("g"), "y").expect("write");
            scratch.path().to_path_buf()
        };
        let again = pool.take().expect("take");
        assert_eq!(again.path(), first_path, "reused");
        assert_eq!(std::fs::read_dir(again.path()).expect("read").count(), 0);
        let other = pool.take().expect("take");
        assert_ne!(other.path(), again.path(), "one directory per running job");
    }
}
