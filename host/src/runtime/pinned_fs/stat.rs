//! File metadata a job can read, made deterministic.
//!
//! wasmtime-wasi reports a file's access, modification and status-change
//! times and its link count as the host's file system has them. For a
//! dataset they depend on when and how it was imported and mounted (a
//! single-file dataset is hard-linked once per mount), so a job reading
//! them would give other results on another machine, or in another run.
//! djx replaces `stat` and `stat-at` of `wasi:filesystem/types`: every
//! timestamp reads as djx's clock epoch (2000-01-01T00:00:00Z), every link
//! count as 1, and every directory's size as 0 (file systems count it
//! differently). Type and a file's size are the file's own.

use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::{WasiFilesystemCtxView, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    self as fs, Datetime, Descriptor, DescriptorStat, ErrorCode, PathFlags,
};

use super::FILESYSTEM_TYPES;
use crate::runtime::clock::WALL_START_SECS;
use crate::runtime::ctx::JobState;

/// Replaces `stat` and `stat-at` in `linker` (shadowing allowed).
pub fn add_to_linker(linker: &mut Linker<JobState>) -> wasmtime::Result<()> {
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
    Ok(())
}

/// The stat with its host-dependent fields pinned, or its error code.
fn pinned(
    view: &mut WasiFilesystemCtxView<'_>,
    stat: wasmtime_wasi::p2::FsResult<DescriptorStat>,
) -> wasmtime::Result<Result<DescriptorStat, ErrorCode>> {
    Ok(match stat {
        Ok(stat) => {
            let epoch = Some(Datetime {
                seconds: WALL_START_SECS,
                nanoseconds: 0,
            });
            // A directory's size is the file system's bookkeeping (4096
            // on ext4, the entries' total on tmpfs), not its content.
            let size = match stat.type_ {
                fs::DescriptorType::Directory => 0,
                _ => stat.size,
            };
            Ok(DescriptorStat {
                size,
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
