//! Deterministic clocks: time inside a job depends only on how often the job
//! has read the clock, never on the host.
//!
//! The wall clock starts at 2000-01-01T00:00:00Z and each reading advances it
//! by one millisecond; the monotonic clock starts at zero and each reading
//! advances it by one microsecond. Time moves (so loops that wait for it
//! end) but two runs of the same job see the same times.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

/// Seconds from the Unix epoch to 2000-01-01T00:00:00Z.
pub const WALL_START_SECS: u64 = 946_684_800;

/// The wall clock of a job.
#[derive(Default)]
pub struct DeterministicWallClock {
    reads: AtomicU64,
}

impl HostWallClock for DeterministicWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        let n = self.reads.fetch_add(1, Ordering::Relaxed);
        Duration::from_secs(WALL_START_SECS) + Duration::from_millis(n)
    }
}

/// The monotonic clock of a job.
#[derive(Default)]
pub struct DeterministicMonotonicClock {
    reads: AtomicU64,
}

impl HostMonotonicClock for DeterministicMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000
    }

    fn now(&self) -> u64 {
        self.reads.fetch_add(1, Ordering::Relaxed) * 1_000
    }
}
