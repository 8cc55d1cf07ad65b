//! File metadata a job can read, made deterministic.
//!
//! wasmtime-wasi reports a file's access, modification and status-change
//! times and its link count as the host's file system has them. For a
//! dataset they depend on when and how it was imported and mounted (a
//! single-file dataset is hard-linked once per mount), so a job reading
//! them would give other results on another machine, or in another run.
//! djx replaces `stat` and `stat-at` of `wasi:filesystem/types`: every
//! timestamp reads as djx's clock epoch (2000-01-01T00:00:00Z) and every
//! link count as 1. Type and size are the file's own.

use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::WasiFilesystemView;
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    self as fs, Datetime, Descriptor, DescriptorStat, ErrorCode, PathFlags,
};

use crate::runtime::clock::WALL_START_SECS;
use crate::runtime::ctx::JobState;

/// The interface whose functions are replaced (the version wasmtime-wasi 48
/// defines; guests built against any 0.2.x resolve to it).
const FILESYSTEM_TYPES: &str = "wasi:filesystem/types@0.2.12";

/// Replaces `stat` and `stat-at` in `linker` (which already has WASI).
pub fn add_to_linker(linker: &mut Linker<JobState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut types = linker.instance(FILESYSTEM_TYPES)?;
    types.func_wrap(
        "[method]descriptor.stat",
        |mut store, (fd,): (Resource<Descriptor>,)| {
            let mut view = store.data_mut().filesystem();
            let stat = fs::HostDescriptor::stat(&mut view, fd);
            Ok((pinned(&mut view, stat)?,))
        },
    )?;
    types.func_wrap(
        "[method]descriptor.stat-at",
        |mut store, (fd, flags, path): (Resource<Descriptor>, PathFlags, String)| {
            let mut view = store.data_mut().filesystem();
            let stat = fs::HostDescriptor::stat_at(&mut view, fd, flags, path);
            Ok((pinned(&mut view, stat)?,))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The stat with its host-dependent fields pinned, or its error code.
fn pinned(
    view: &mut wasmtime_wasi::filesystem::WasiFilesystemCtxView<'_>,
    stat: wasmtime_wasi::p2::FsResult<DescriptorStat>,
) -> wasmtime::Result<Result<DescriptorStat, ErrorCode>> {
    Ok(match stat {
        Ok(stat) => {
            let epoch = Some(Datetime {
                seconds: WALL_START_SECS,
                nanoseconds: 0,
            });
            Ok(DescriptorStat {
                link_count: 1,
                data_access_timestamp: epoch,
                data_modification_timestamp: epoch,
                status_change_timestamp: epoch,
                ..stat
            })
        }
        Err(e) => Err(fs::Host::convert_error_code(view, e)?),
    })
}
