//! What a run prepares before its first claim: a directory for dataset
//! mounts, every experiment made ready ([`Prepared`]), and the artifact
//! store opened with the durability `DJX_DURABILITY` asks for.

use std::collections::HashMap;

use crate::content::artifacts::ArtifactStore;
use crate::content::durability::Durability;
use crate::content::layout::Layout;
use crate::run::prepare::{PrepareError, Prepared};
use crate::runtime::Runtimes;
use crate::store::Store;

/// A run's prepared experiments and stores. The mount directory lives as
/// long as this does.
pub struct Setup {
    /// Each experiment of the run, by id.
    pub prepared: HashMap<i64, Prepared>,
    /// Where artifacts go.
    pub artifacts: ArtifactStore,
    /// The datasets' mounts, removed when the run ends.
    pub mounts: tempfile::TempDir,
}

/// Prepares `experiments` for a run.
pub fn setup(
    store: &dyn Store,
    layout: &Layout,
    runtimes: &Runtimes,
    experiments: &[i64],
) -> Result<Setup, PrepareError> {
    let first = experiments.first().copied().unwrap_or_default();
    let failed = |message: String| PrepareError {
        experiment: first,
        message,
    };
    // `DJX_DATA_TEMP` may name a directory that does not exist yet.
    let mounts = std::fs::create_dir_all(&layout.temp)
        .and_then(|()| {
            tempfile::Builder::new()
                .prefix("djx-mounts-")
                .tempdir_in(&layout.temp)
        })
        .map_err(|e| {
            failed(format!(
                "creating a mount directory in {}: {e}",
                layout.temp.display()
            ))
        })?;
    let mut prepared = HashMap::new();
    for &id in experiments {
        prepared.insert(
            id,
            Prepared::load(store, layout, runtimes, id, mounts.path())?,
        );
    }
    let durability = Durability::from_env().map_err(|e| failed(e.to_string()))?;
    let artifacts = ArtifactStore::open(&layout.artifacts)
        .map(|store| {
            store
                .synced(durability.sync_artifacts())
                .with_remote(layout.content.clone())
        })
        .map_err(|e| failed(e.to_string()))?;
    Ok(Setup {
        prepared,
        artifacts,
        mounts,
    })
}
