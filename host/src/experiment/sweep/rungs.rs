//! A successive-halving sweep as the store keeps it: its plan, and one row
//! per rung added (the store persists these; it re-exports them).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::JobStatus;

/// The plan of a halving sweep, stored with its experiment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepPlan {
    /// How many rungs the sweep has.
    pub rungs: u32,
    /// The experiment as one YAML document (the file, or the files it
    /// extends merged): later rungs are made from it.
    pub document: String,
}

/// A rung of a sweep, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rung {
    /// The experiment.
    pub experiment_id: i64,
    /// The rung's number, from 0.
    pub rung: u32,
    /// How many rungs the sweep has.
    pub rungs: u32,
    /// The position of its first job.
    pub first_position: i64,
    /// How many jobs it has (positions `first_position..` on).
    pub jobs: i64,
    /// The sample indices it runs (`None`: every sample, as rung 0 does).
    pub samples: Option<Vec<u64>>,
    /// When it was added.
    pub created_at: String,
    /// The worker that added it (`None` for rung 0, which `djx add` adds).
    pub created_by: Option<String>,
    /// Why the sweep stopped after this rung, if it did.
    pub stopped: Option<String>,
}

impl Rung {
    /// The positions of its jobs.
    pub fn positions(&self) -> std::ops::Range<i64> {
        self.first_position..self.first_position + self.jobs
    }

    /// Whether it is the sweep's last rung.
    pub fn is_last(&self) -> bool {
        self.rung + 1 >= self.rungs
    }

    /// Whether another rung may follow it: it is not the last, and the
    /// sweep did not stop.
    pub fn is_open(&self) -> bool {
        !self.is_last() && self.stopped.is_none()
    }
}

/// A rung to add, after the rung before it ended.
#[derive(Clone, Debug)]
pub struct NewRung {
    /// The experiment.
    pub experiment_id: i64,
    /// The rung's number.
    pub rung: u32,
    /// How many rungs the sweep has.
    pub rungs: u32,
    /// The position of its first job.
    pub first_position: i64,
    /// How many jobs it has; the jobs given must be exactly these.
    pub jobs: i64,
    /// The sample indices it runs, in the order of its jobs.
    pub samples: Vec<u64>,
    /// Who adds it.
    pub worker: String,
}

/// One job of a rung, with what ranks its configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct RungJob {
    /// Its position.
    pub position: i64,
    /// Its labels (`sample` says its configuration).
    pub labels: Value,
    /// Its status.
    pub status: JobStatus,
    /// The metrics of its last record that has the ranking metric (`None`
    /// when no record has).
    pub metrics: Option<serde_json::Map<String, Value>>,
}
