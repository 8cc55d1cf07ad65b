//! The UI's own way into the store: opened on first use, on the blocking
//! thread pool (the store is blocking), and opened again after a failure,
//! so a store that was down when the server started, or went away, is
//! served again as soon as it is back.

use std::sync::{Arc, Mutex};

use super::error::WebError;
use crate::store::Store;
use crate::sync::Unpoisoned;

/// Opens the store (what every djx command opens).
pub type Opener = Box<dyn Fn() -> Result<Box<dyn Store>, String> + Send + Sync>;

/// The store, reached lazily.
pub struct StoreAccess {
    open: Opener,
    store: Mutex<Option<Arc<dyn Store>>>,
    name: String,
}

impl StoreAccess {
    /// Access through `open`; `name` says which store in error messages
    /// (never a password).
    pub fn new(name: String, open: Opener) -> StoreAccess {
        StoreAccess {
            open,
            store: Mutex::new(None),
            name,
        }
    }

    /// Which store this is.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The store, opening it if it is not open.
    pub fn get(&self) -> Result<Arc<dyn Store>, WebError> {
        let mut slot = self.store.lock_unpoisoned();
        if let Some(store) = slot.as_ref() {
            return Ok(store.clone());
        }
        let store: Arc<dyn Store> = (self.open)()
            .map_err(|e| WebError::Unavailable(self.named(e)))?
            .into();
        *slot = Some(store.clone());
        Ok(store)
    }

    /// Runs `f` with the store on the blocking thread pool. An error that
    /// says the store is unreachable names it.
    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&dyn Store) -> Result<T, WebError> + Send + 'static,
    ) -> Result<T, WebError> {
        let this = self.clone();
        let result = tokio::task::spawn_blocking(move || {
            let store = this.get()?;
            f(store.as_ref())
        })
        .await
        .map_err(|e| WebError::Internal(format!("a store read panicked: {e}")))?;
        result.map_err(|e| match e {
            WebError::Unavailable(m) => WebError::Unavailable(self.named(m)),
            other => other,
        })
    }

    /// `message`, naming the store unless it does already.
    fn named(&self, message: String) -> String {
        if message.contains(&self.name) {
            message
        } else {
            format!("{}: {message}", self.name)
        }
    }
}
