//! Directory listings in one order: byte-wise by name.
//!
//! wasmtime-wasi hands out a directory's entries in the host file system's
//! order: hash order on ext4, creation order on tmpfs, whatever a network
//! file system gives. So `read_dir`, `os.listdir` and `glob` list one
//! dataset in another order on another machine, and a job that does not
//! sort gives other results. djx replaces `read-directory`: it reads the
//! whole listing at once (as wasmtime-wasi does too), sorts it by the bytes
//! of the names, and `read-directory-entry` hands the entries out from
//! that copy.

use std::collections::{HashMap, VecDeque};

use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    self as fs, Descriptor, DirectoryEntry, DirectoryEntryStream, ErrorCode,
};

use super::{FILESYSTEM_TYPES, parts};
use crate::runtime::ctx::JobState;

/// One sorted listing: its entries, then the error that ended the host's
/// listing, if any.
type Listing = VecDeque<Result<DirectoryEntry, ErrorCode>>;

/// The sorted listings of a job's open directory-entry streams, by the
/// stream's resource index. A stream that ends is forgotten; a new stream
/// replaces whatever a dropped one left at its index.
#[derive(Default)]
pub struct SortedListings(HashMap<u32, Listing>);

/// Replaces `read-directory` and `read-directory-entry` in `linker`
/// (shadowing allowed).
pub fn add_to_linker(linker: &mut Linker<JobState>) -> wasmtime::Result<()> {
    let mut types = linker.instance(FILESYSTEM_TYPES)?;
    types.func_wrap(
        "[method]descriptor.read-directory",
        |mut store, (fd,): (Resource<Descriptor>,)| {
            let (mut view, pins, _) = parts(store.data_mut());
            let stream = match fs::HostDescriptor::read_directory(&mut view, fd) {
                Ok(stream) => stream,
                Err(e) => return Ok((Err(fs::Host::convert_error_code(&mut view, e)?),)),
            };
            let mut entries = Vec::new();
            let mut end = None;
            loop {
                let borrowed = Resource::<DirectoryEntryStream>::new_borrow(stream.rep());
                match fs::HostDirectoryEntryStream::read_directory_entry(&mut view, borrowed) {
                    Ok(Some(entry)) => entries.push(entry),
                    Ok(None) => break,
                    Err(e) => {
                        end = Some(fs::Host::convert_error_code(&mut view, e)?);
                        break;
                    }
                }
            }
            pins.listings.0.insert(stream.rep(), sorted(entries, end));
            Ok((Ok(stream),))
        },
    )?;
    types.func_wrap(
        "[method]directory-entry-stream.read-directory-entry",
        |mut store, (stream,): (Resource<DirectoryEntryStream>,)| {
            let (mut view, pins, _) = parts(store.data_mut());
            let rep = stream.rep();
            let Some(listing) = pins.listings.0.get_mut(&rep) else {
                // Not a listing djx sorted (none exists): the host's answer.
                let next = fs::HostDirectoryEntryStream::read_directory_entry(&mut view, stream);
                return Ok((match next {
                    Ok(entry) => Ok(entry),
                    Err(e) => Err(fs::Host::convert_error_code(&mut view, e)?),
                },));
            };
            let next = listing.pop_front();
            if listing.is_empty() {
                pins.listings.0.remove(&rep);
            }
            Ok((next.transpose(),))
        },
    )?;
    Ok(())
}

/// `entries` sorted byte-wise by name, then `end`.
fn sorted(mut entries: Vec<DirectoryEntry>, end: Option<ErrorCode>) -> Listing {
    // `str`'s order is the order of its UTF-8 bytes.
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    entries.into_iter().map(Ok).chain(end.map(Err)).collect()
}
