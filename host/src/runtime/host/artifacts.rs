//! `djx:job/artifacts`: content-addressed artifacts, saved whole, from a
//! scratch file, or streamed through a writer resource.

use std::io;

use wasmtime::component::Resource;

use crate::content::artifacts::ArtifactWriter;
use crate::content::digest::Digest;
use crate::records::ArtifactInfo;
use crate::runtime::bindings::artifacts::{Host, HostWriter};
use crate::runtime::ctx::{JobCtx, JobView};
use crate::runtime::limits::{LimitExceeded, LimitKind};

/// The host side of a guest's `writer` resource.
pub struct GuestWriter {
    name: String,
    /// `None` once finished.
    writer: Option<ArtifactWriter>,
}

/// A host fault while storing an artifact: it traps.
fn fault(e: impl std::error::Error + Send + Sync + 'static) -> wasmtime::Error {
    wasmtime::Error::new(e)
}

impl JobCtx {
    /// Counts `n` more artifact bytes, trapping past the limit.
    fn charge_artifact_bytes(&mut self, name: &str, n: u64) -> wasmtime::Result<()> {
        self.artifact_bytes += n;
        if self.artifact_bytes > self.limits.artifact_bytes {
            return Err(wasmtime::Error::new(LimitExceeded::bytes(
                LimitKind::ArtifactBytes,
                self.limits.artifact_bytes,
                format!(
                    "artifact {name:?} brings the job to {} bytes",
                    self.artifact_bytes
                ),
            )));
        }
        Ok(())
    }

    /// Remembers a finished artifact.
    fn stored(&mut self, name: String, digest: Digest, size: u64) -> String {
        self.artifact_digests.insert(digest);
        self.artifacts.push(ArtifactInfo { name, digest, size });
        digest.to_hex()
    }
}

impl Host for JobView<'_> {
    fn save(&mut self, name: String, data: Vec<u8>) -> wasmtime::Result<Result<String, String>> {
        self.ctx.charge_artifact_bytes(&name, data.len() as u64)?;
        let digest = self.ctx.artifact_store.put(&data).map_err(fault)?;
        Ok(Ok(self.ctx.stored(name, digest, data.len() as u64)))
    }

    fn save_file(
        &mut self,
        name: String,
        path: String,
    ) -> wasmtime::Result<Result<String, String>> {
        let Some(relative) = path.strip_prefix("/tmp/") else {
            return Ok(Err(format!("save-file: {path:?} is not inside /tmp")));
        };
        let scratch = self.ctx.scratch.clone();
        Ok(self
            .ctx
            .store_file(&name, &scratch, relative)?
            .map(|digest| digest.to_hex())
            .map_err(|e| format!("save-file: {path:?}: {e}")))
    }
}

impl JobCtx {
    /// Stores the regular file at `relative` under the host directory
    /// `dir` as artifact `name`. cap-std resolves the path inside `dir`
    /// only: `..` and symbolic links cannot leave it. A file the job
    /// cannot name comes back as `Err`; a broken limit or a host fault
    /// traps.
    pub fn store_file(
        &mut self,
        name: &str,
        dir: &std::path::Path,
        relative: &str,
    ) -> wasmtime::Result<Result<Digest, String>> {
        let dir =
            cap_std::fs::Dir::open_ambient_dir(dir, cap_std::ambient_authority()).map_err(fault)?;
        let mut file = match dir.open(relative) {
            Ok(file) => file,
            Err(e) => return Ok(Err(format!("cannot open {relative:?}: {e}"))),
        };
        let size = match file.metadata() {
            Ok(meta) if meta.is_file() => meta.len(),
            Ok(_) => return Ok(Err(format!("{relative:?} is not a regular file"))),
            Err(e) => return Ok(Err(format!("{relative:?}: {e}"))),
        };
        self.charge_artifact_bytes(name, size)?;
        let mut writer = self.artifact_store.writer().map_err(fault)?;
        let mut limited = io::Read::take(&mut file, size);
        writer.copy_from(&mut limited).map_err(fault)?;
        let (digest, size) = writer.finish().map_err(fault)?;
        self.stored(name.to_owned(), digest, size);
        Ok(Ok(digest))
    }
}

impl HostWriter for JobView<'_> {
    fn new(&mut self, name: String) -> wasmtime::Result<Resource<GuestWriter>> {
        let writer = self.ctx.artifact_store.writer().map_err(fault)?;
        Ok(self.table.push(GuestWriter {
            name,
            writer: Some(writer),
        })?)
    }

    fn write(
        &mut self,
        this: Resource<GuestWriter>,
        data: Vec<u8>,
    ) -> wasmtime::Result<Result<(), String>> {
        let name = self.table.get(&this)?.name.clone();
        self.ctx.charge_artifact_bytes(&name, data.len() as u64)?;
        let guest = self.table.get_mut(&this)?;
        let Some(writer) = guest.writer.as_mut() else {
            return Ok(Err(format!("artifact writer {name:?} is already finished")));
        };
        writer.write(&data).map_err(fault)?;
        Ok(Ok(()))
    }

    fn finish(&mut self, this: Resource<GuestWriter>) -> wasmtime::Result<Result<String, String>> {
        let guest = self.table.get_mut(&this)?;
        let name = guest.name.clone();
        let Some(writer) = guest.writer.take() else {
            return Ok(Err(format!("artifact writer {name:?} is already finished")));
        };
        let (digest, size) = writer.finish().map_err(fault)?;
        Ok(Ok(self.ctx.stored(name, digest, size)))
    }

    fn drop(&mut self, this: Resource<GuestWriter>) -> wasmtime::Result<()> {
        // An unfinished writer's temporary file is removed with it.
        self.table.delete(this)?;
        Ok(())
    }
}
