//! The per-job host state, shaped as a context plus a view.
//!
//! [`JobState`] is the store's data. It holds the WASI context, the resource
//! table and the djx [`JobCtx`]. The djx host traits are implemented on
//! [`JobView`], which lends out only the djx context and the table.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{Map, Value};
use wasmtime::component::{HasData, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::content::artifacts::ArtifactStore;
use crate::content::digest::Digest;
use crate::records::keys::RecordKeys;
use crate::records::{ArtifactInfo, Records};
use crate::runtime::job::DatasetMount;
use crate::runtime::limits::Limits;
use crate::runtime::log::JobLog;
use crate::runtime::memory::MemoryLimiter;
use crate::runtime::pinned_fs::FsPins;
use crate::runtime::protocol::RecordTail;
use crate::runtime::record_sink::Stream;

/// What the djx interfaces of one job read and write.
pub struct JobCtx {
    /// Canonical JSON of the job's parameters.
    pub params_json: String,
    /// Canonical JSON of the job's labels.
    pub labels_json: String,
    /// The job's datasets, sorted by name.
    pub datasets: Vec<DatasetMount>,
    /// The job's limits.
    pub limits: Limits,
    /// Where artifacts go.
    pub artifact_store: ArtifactStore,
    /// The job's private scratch directory on the host (`/tmp` inside).
    pub scratch: PathBuf,
    /// Context merged into every record.
    pub bound: Map<String, Value>,
    /// Records emitted so far and not handed to the stream.
    pub records: Records,
    /// The keys every record emitted so far uses.
    pub record_keys: RecordKeys,
    /// Encoded bytes of `records`.
    pub record_bytes: u64,
    /// Artifacts stored so far, in order.
    pub artifacts: Vec<ArtifactInfo>,
    /// Digests of `artifacts`, for checking references.
    pub artifact_digests: BTreeSet<Digest>,
    /// Artifact bytes written so far, finished or not.
    pub artifact_bytes: u64,
    /// The job's log (shared with the stdout/stderr pipes).
    pub log: JobLog,
    /// Where records go while the job runs, if anywhere.
    pub(crate) stream: Option<Stream>,
}

/// The data of a job's wasmtime store.
pub struct JobState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) job: JobCtx,
    pub(crate) limiter: MemoryLimiter,
    /// What djx's deterministic file system functions keep.
    pub(crate) fs: FsPins,
    /// A WASI program's records file, read as it grows.
    pub(crate) tail: Option<RecordTail>,
}

impl JobCtx {
    /// Records emitted so far, streamed or not.
    pub fn record_count(&self) -> usize {
        self.stream.as_ref().map_or(0, Stream::sent) + self.records.len()
    }
}

impl WasiView for JobState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The view the djx host traits are implemented on.
pub struct JobView<'a> {
    /// The djx context.
    pub ctx: &'a mut JobCtx,
    /// The resource table (artifact writers live here).
    pub table: &'a mut ResourceTable,
}

/// Marker for `add_to_linker`: the djx interfaces see a [`JobView`].
pub struct HasJob;

impl HasData for HasJob {
    type Data<'a> = JobView<'a>;
}

impl JobState {
    pub(crate) fn view(&mut self) -> JobView<'_> {
        JobView {
            ctx: &mut self.job,
            table: &mut self.table,
        }
    }

    /// Calls `f` with a WASI program's records tail and the djx view;
    /// nothing for a component of the `djx:job` world.
    fn with_tail(
        &mut self,
        f: impl FnOnce(&mut RecordTail, &mut JobView<'_>) -> wasmtime::Result<()>,
    ) -> wasmtime::Result<()> {
        let Some(tail) = self.tail.as_mut() else {
            return Ok(());
        };
        let mut view = JobView {
            ctx: &mut self.job,
            table: &mut self.table,
        };
        f(tail, &mut view)
    }

    /// Records the lines a WASI program has added to its records file
    /// (all of them, ended or not, at the `end`).
    pub(crate) fn read_records(&mut self, end: bool) -> wasmtime::Result<()> {
        self.with_tail(|tail, view| tail.read(view, end))
    }

    /// Stores the artifacts a WASI program left without naming them.
    pub(crate) fn store_left_artifacts(&mut self) -> wasmtime::Result<()> {
        self.with_tail(|tail, view| crate::runtime::protocol::store_left_artifacts(view, tail))
    }
}
