//! Where djx keeps things: everything under `.djx/` in the working
//! directory, unless the original djx's variables say otherwise.
//!
//! | what | default | override |
//! |---|---|---|
//! | database | `.djx/djx.db` | |
//! | datasets (content-addressed) | `.djx/data/` | `DJX_DATA_STORE` |
//! | artifacts (content-addressed) | `.djx/artifacts/` | `DJX_ARTIFACT_STORE` |
//! | modules (by digest) | `.djx/modules/` | |
//! | compiled modules | the user's cache, `~/.cache/djx/modules` ([`user_cache_dir`]) | `DJX_CACHE_DIR` |
//! | job scratch dirs, mounts | system temp dir | `DJX_DATA_TEMP` |
//! | remote content (modules, datasets, artifacts by digest) | none | `DJX_CONTENT=s3://bucket/prefix` |
//!
//! With remote content, the three local stores are this machine's copies
//! of the bucket ([`crate::content::remote`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::content::remote::{Remote, RemoteError};

/// The compile cache of every store of this user: `DJX_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/djx/modules`, else `~/.cache/djx/modules`, else a
/// directory under the system temp dir. Entries are named by the module's
/// digest and the engine's fingerprint, so stores and experiments share
/// them safely, and a new store's first run does not compile again what
/// another store compiled.
pub fn user_cache_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("DJX_CACHE_DIR") {
        return dir.into();
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("djx/modules");
    }
    if let Some(home) = var("HOME") {
        return PathBuf::from(home).join(".cache/djx/modules");
    }
    std::env::temp_dir().join("djx-cache")
}

/// The paths of one djx home.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The `.djx` directory.
    pub root: PathBuf,
    /// The SQLite database.
    pub db: PathBuf,
    /// The data store.
    pub data: PathBuf,
    /// The artifact store.
    pub artifacts: PathBuf,
    /// The module store.
    pub modules: PathBuf,
    /// The compile cache.
    pub cache: PathBuf,
    /// Where temporary directories go.
    pub temp: PathBuf,
    /// The remote content store, if `DJX_CONTENT` names one (opened by
    /// [`Layout::with_content`]).
    pub content: Option<Arc<Remote>>,
}

impl Layout {
    /// The layout under `<dir>/.djx`, with environment overrides applied.
    pub fn from_env(dir: &Path) -> Layout {
        let root = dir.join(".djx");
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Layout {
            db: root.join("djx.db"),
            data: var("DJX_DATA_STORE").unwrap_or_else(|| root.join("data")),
            artifacts: var("DJX_ARTIFACT_STORE").unwrap_or_else(|| root.join("artifacts")),
            modules: root.join("modules"),
            cache: user_cache_dir(),
            temp: var("DJX_DATA_TEMP").unwrap_or_else(std::env::temp_dir),
            root,
            content: None,
        }
    }

    /// This layout with the remote content store `DJX_CONTENT` names, opened.
    pub fn with_content(mut self) -> Result<Layout, RemoteError> {
        self.content = Remote::from_env()?.map(Arc::new);
        Ok(self)
    }
}
