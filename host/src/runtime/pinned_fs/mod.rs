//! The file system as a job sees it, with every value that comes from the
//! host rather than the data pinned, so a job reads the same on every
//! machine.
//!
//! wasmtime-wasi answers from the host's file system. Where the answer
//! depends on the machine, not on the dataset's content, djx replaces the
//! WASI function (shadowing it in the linker):
//!
//! - [`stat`]: timestamps and link counts;
//! - [`listing`]: the order of a directory's entries, now byte-wise by name;
//! - [`identity`]: a file's identity (`metadata-hash`, which becomes
//!   `st_ino`), now derived from the dataset's digest and the path inside
//!   the sandbox rather than the host's inode.

pub mod identity;
pub mod listing;
pub mod stat;

use wasmtime::component::Linker;
use wasmtime_wasi::filesystem::WasiFilesystemCtxView;

use crate::runtime::ctx::JobState;
use crate::runtime::job::DatasetMount;

pub use self::identity::SandboxPaths;
pub use self::listing::SortedListings;

/// The interface whose functions are replaced (the version wasmtime-wasi 48
/// defines; guests built against any 0.2.x resolve to it).
const FILESYSTEM_TYPES: &str = "wasi:filesystem/types@0.2.12";
/// The interface that hands out the preopened directories.
const FILESYSTEM_PREOPENS: &str = "wasi:filesystem/preopens@0.2.12";

/// What the replaced functions keep per job, beside wasmtime-wasi's state.
#[derive(Default)]
pub struct FsPins {
    /// The path inside the sandbox of every open descriptor.
    pub paths: SandboxPaths,
    /// The entries of every open directory listing, sorted.
    pub listings: SortedListings,
}

/// Replaces the host-dependent functions of `wasi:filesystem` in `linker`
/// (which already has WASI).
pub fn add_to_linker(linker: &mut Linker<JobState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let added = stat::add_to_linker(linker)
        .and_then(|()| listing::add_to_linker(linker))
        .and_then(|()| identity::add_to_linker(linker));
    linker.allow_shadowing(false);
    added
}

/// The file system view of wasmtime-wasi, djx's pins and the datasets of
/// one job, borrowed together.
pub(crate) fn parts(
    state: &mut JobState,
) -> (WasiFilesystemCtxView<'_>, &mut FsPins, &[DatasetMount]) {
    let view = WasiFilesystemCtxView {
        ctx: state.wasi.filesystem(),
        table: &mut state.table,
    };
    (view, &mut state.fs, &state.job.datasets)
}
