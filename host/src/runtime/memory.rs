//! The memory cap: a store limiter that traps, naming the limit, when the
//! guest grows its memories past it.

use wasmtime::ResourceLimiter;

use crate::runtime::limits::{LimitExceeded, LimitKind};

/// Table elements one job may have (each is a pointer-sized host slot).
const MAX_TABLE_ELEMENTS: usize = 10_000_000;

/// Caps a job's linear memory.
pub struct MemoryLimiter {
    limit: u64,
}

impl MemoryLimiter {
    /// A limiter for `limit` bytes of linear memory.
    pub fn new(limit: u64) -> MemoryLimiter {
        MemoryLimiter { limit }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.limit {
            return Err(wasmtime::Error::new(LimitExceeded::bytes(
                LimitKind::Memory,
                self.limit,
                format!("the guest tried to grow its memory from {current} to {desired} bytes"),
            )));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
