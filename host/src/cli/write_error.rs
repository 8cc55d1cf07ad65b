//! Carrying a write error out of a store's row callback.
//!
//! A store visits rows with a callback that can only fail with a
//! [`StoreError`]. When writing a row fails (a closed pipe, a full disk, a
//! value Parquet refuses), the callback keeps the real error here and stops
//! the visit; the command then reports that error, not the store's.

use djx_host::store::StoreError;

/// The write error that stopped a visit, if any.
pub struct WriteError<E>(Option<E>);

impl<E> Default for WriteError<E> {
    fn default() -> Self {
        WriteError(None)
    }
}

impl<E: Into<anyhow::Error>> WriteError<E> {
    /// Keeps `error`; returns the error that stops the visit.
    pub fn keep(&mut self, error: E) -> StoreError {
        self.0 = Some(error);
        StoreError::Config("writing the output failed".into())
    }

    /// The visit's result: the write error that stopped it, else the
    /// store's.
    pub fn result(self, read: Result<(), StoreError>) -> anyhow::Result<()> {
        match self.0 {
            Some(e) => Err(e.into()),
            None => Ok(read?),
        }
    }
}
