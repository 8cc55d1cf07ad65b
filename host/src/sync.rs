//! Locks that outlive a panicking holder. A worker thread that panics while
//! holding a lock must not take the run down with it: the data behind
//! djx's locks (queues, counters, caches) stays valid at every await point,
//! so a poisoned lock is used as it is. One place says so, instead of every
//! `lock()` call.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A lock's value, whether or not a holder panicked.
pub trait Unpoisoned<T> {
    /// The guard of a [`Mutex`] or the write guard of a [`RwLock`].
    type Guard<'a>
    where
        Self: 'a;

    /// Locks (for writing), ignoring poison.
    fn lock_unpoisoned(&self) -> Self::Guard<'_>;

    /// The value, the lock consumed, ignoring poison.
    fn into_inner_unpoisoned(self) -> T;
}

impl<T> Unpoisoned<T> for Mutex<T> {
    type Guard<'a>
        = MutexGuard<'a, T>
    where
        T: 'a;

    fn lock_unpoisoned(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn into_inner_unpoisoned(self) -> T {
        self.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

impl<T> Unpoisoned<T> for RwLock<T> {
    type Guard<'a>
        = RwLockWriteGuard<'a, T>
    where
        T: 'a;

    fn lock_unpoisoned(&self) -> RwLockWriteGuard<'_, T> {
        self.write().unwrap_or_else(|p| p.into_inner())
    }

    fn into_inner_unpoisoned(self) -> T {
        self.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

/// Reads a [`RwLock`], ignoring poison.
pub fn read_unpoisoned<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}
