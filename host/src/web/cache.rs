//! The summaries of the experiments being looked at, kept between requests
//! and brought up to date at most a few times a second, so that a page and
//! the requests its script makes share one read of the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use super::access::StoreAccess;
use super::error::WebError;
use crate::sync::{Unpoisoned, read_unpoisoned};
use crate::views::summary::Summary;

/// How long a summary counts as current without asking the store.
const FRESH: Duration = Duration::from_millis(400);

/// How many experiments' summaries are kept (the least recently used go).
const KEEP: usize = 8;

/// One experiment's summary.
pub struct Entry {
    id: i64,
    /// When the store was last asked; held while asking, so that requests
    /// arriving together wait for one read.
    checked: tokio::sync::Mutex<Option<Instant>>,
    summary: RwLock<Option<Summary>>,
}

impl Entry {
    /// Reads the summary (which [`Summaries::get`] has made current).
    pub fn read(&self) -> Result<SummaryRef<'_>, WebError> {
        let guard = read_unpoisoned(&self.summary);
        if guard.is_none() {
            return Err(WebError::NotFound(format!("no experiment {}", self.id)));
        }
        Ok(SummaryRef(guard))
    }
}

/// A summary being read.
pub struct SummaryRef<'a>(RwLockReadGuard<'a, Option<Summary>>);

impl std::ops::Deref for SummaryRef<'_> {
    type Target = Summary;

    fn deref(&self) -> &Summary {
        // `Entry::read` checked it is there, and only a writer changes it.
        self.0.as_ref().unwrap_or_else(|| unreachable!())
    }
}

/// Summaries by experiment id.
#[derive(Default)]
pub struct Summaries {
    entries: Mutex<HashMap<i64, (Arc<Entry>, Instant)>>,
}

impl Summaries {
    /// The summary of experiment `id`, current to within [`FRESH`].
    pub async fn get(&self, store: &Arc<StoreAccess>, id: i64) -> Result<Arc<Entry>, WebError> {
        let entry = self.entry(id);
        let mut checked = entry.checked.lock().await;
        if checked.is_none_or(|t| t.elapsed() > FRESH) {
            let e = entry.clone();
            let result = store
                .run(move |store| {
                    let mut slot = e.summary.lock_unpoisoned();
                    match slot.as_mut() {
                        Some(summary) => {
                            summary.refresh(store)?;
                        }
                        None => *slot = Some(Summary::build(store, e.id)?),
                    }
                    Ok(())
                })
                .await;
            if let Err(error) = result {
                drop(checked);
                if matches!(error, WebError::NotFound(_)) {
                    self.forget(id);
                }
                return Err(error);
            }
            *checked = Some(Instant::now());
        }
        drop(checked);
        Ok(entry)
    }

    fn entry(&self, id: i64) -> Arc<Entry> {
        let mut entries = self.entries.lock_unpoisoned();
        if let Some((entry, used)) = entries.get_mut(&id) {
            *used = Instant::now();
            return entry.clone();
        }
        if entries.len() >= KEEP
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(id, _)| *id)
        {
            entries.remove(&oldest);
        }
        let entry = Arc::new(Entry {
            id,
            checked: tokio::sync::Mutex::new(None),
            summary: RwLock::new(None),
        });
        entries.insert(id, (entry.clone(), Instant::now()));
        entry
    }

    fn forget(&self, id: i64) {
        self.entries.lock_unpoisoned().remove(&id);
    }
}
