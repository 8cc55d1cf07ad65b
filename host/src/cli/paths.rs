//! Where djx keeps things on this machine when no store says otherwise.

use std::path::PathBuf;

/// The compile cache for commands without a store: `DJX_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/djx/modules`, else `~/.cache/djx/modules`, else a
/// directory under the system temp dir.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DJX_CACHE_DIR") {
        return dir.into();
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("djx/modules");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join(".cache/djx/modules");
    }
    std::env::temp_dir().join("djx-cache")
}
