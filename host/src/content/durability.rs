//! How much of what djx wrote survives a power loss: `DJX_DURABILITY`.
//!
//! Either way, a committed job survives a crash of the djx process (the
//! operating system still has the writes). The setting decides what
//! survives a crash of the machine:
//!
//! - `normal` (the default): SQLite runs in WAL mode with
//!   `synchronous = NORMAL`, and artifact files are not synced. A power loss
//!   can lose the jobs committed since the last WAL sync (they are run
//!   again), and a committed record may then reference an artifact whose
//!   bytes were lost (`djx fsck` reports it). The database is never
//!   corrupted.
//! - `full`: every commit syncs the WAL (`synchronous = FULL`), and every
//!   artifact is synced (file and directory) before the record that
//!   references it commits. A committed job survives a power loss, with its
//!   artifacts. It costs a disk sync per job.
//!
//! PostgreSQL's durability is the server's (`fsync`, `synchronous_commit`);
//! artifacts follow this setting there too.

use std::fmt;

/// The durability setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Survives a crash of djx; a power loss may lose recent jobs.
    #[default]
    Normal,
    /// Every committed job survives a power loss.
    Full,
}

/// `DJX_DURABILITY` holds neither `normal` nor `full`.
#[derive(Debug, thiserror::Error)]
#[error("DJX_DURABILITY={0:?}: expected `normal` or `full`")]
pub struct BadDurability(pub String);

impl Durability {
    /// The setting of `DJX_DURABILITY` (unset or empty: normal).
    pub fn from_env() -> Result<Durability, BadDurability> {
        match std::env::var("DJX_DURABILITY").unwrap_or_default().as_str() {
            "" | "normal" => Ok(Durability::Normal),
            "full" => Ok(Durability::Full),
            other => Err(BadDurability(other.to_owned())),
        }
    }

    /// SQLite's `synchronous` pragma for this setting.
    pub fn sqlite_synchronous(self) -> &'static str {
        match self {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        }
    }

    /// Whether artifact files are synced before they are referenced.
    pub fn sync_artifacts(self) -> bool {
        self == Durability::Full
    }
}

impl fmt::Display for Durability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Durability::Normal => "normal",
            Durability::Full => "full",
        })
    }
}
