//! Which paths a cluster's nodes surely cannot share, as far as one
//! machine can tell:
//!
//! - a path on a memory file system (tmpfs, ramfs) is this machine's
//!   memory, whatever the cluster;
//! - on a cluster of more than one node (`sinfo` counts them), a path on a
//!   local disk's file system (ext2/3/4, XFS, Btrfs, F2FS, overlay) is this
//!   machine's disk.
//!
//! Network and cluster file systems (NFS, Lustre, GPFS, BeeGFS, CephFS,
//! CIFS, ...) pass; so does anything djx cannot tell.

use std::path::Path;
use std::process::Command;

/// A file system type from `statfs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// In memory (tmpfs, ramfs).
    Memory(&'static str),
    /// On a local disk.
    LocalDisk(&'static str),
    /// Anything else (network file systems among them).
    Other,
}

/// The kind of file system `path` (or its nearest existing parent) is on.
pub fn kind(path: &Path) -> Kind {
    let Some(existing) = path.ancestors().find(|p| p.exists()) else {
        return Kind::Other;
    };
    let Ok(c_path) = std::ffi::CString::new(existing.as_os_str().as_encoded_bytes()) else {
        return Kind::Other;
    };
    let mut stat = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: `c_path` is a NUL-terminated path and `stat` is a writable
    // statfs buffer of the right size.
    let rc = unsafe { libc::statfs(c_path.as_ptr(), stat.as_mut_ptr()) };
    if rc != 0 {
        return Kind::Other;
    }
    // SAFETY: statfs returned 0, so it filled `stat`.
    let magic = unsafe { stat.assume_init() }.f_type as u64;
    match magic {
        0x0102_1994 => Kind::Memory("tmpfs"),
        0x8584_58f6 => Kind::Memory("ramfs"),
        0xEF53 => Kind::LocalDisk("ext4"),
        0x5846_5342 => Kind::LocalDisk("xfs"),
        0x9123_683E => Kind::LocalDisk("btrfs"),
        0xF2F5_2010 => Kind::LocalDisk("f2fs"),
        0x794C_7630 => Kind::LocalDisk("overlay"),
        _ => Kind::Other,
    }
}

/// How many nodes the cluster has (`sinfo`), or `None` if Slurm cannot say.
pub fn cluster_nodes() -> Option<usize> {
    let out = Command::new("sinfo")
        .args(["--noheader", "--Node", "--format=%N"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let mut nodes: Vec<&str> = std::str::from_utf8(&out.stdout)
        .ok()?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    nodes.sort_unstable();
    nodes.dedup();
    Some(nodes.len())
}

/// Why `path` is surely not shared by a cluster of `nodes` nodes, if it is.
pub fn why_not_shared(path: &Path, nodes: Option<usize>) -> Option<String> {
    match kind(path) {
        Kind::Memory(fs) => Some(format!("is on {fs}, this machine's memory")),
        Kind::LocalDisk(fs) if nodes.is_some_and(|n| n > 1) => Some(format!(
            "is on {fs}, a disk of this machine, and the cluster has {} nodes",
            nodes.unwrap_or(0)
        )),
        _ => None,
    }
}
