//! The curves served lately, kept: a finished attempt's records never
//! change, so a curve read once (a million points take a fraction of a
//! second) is served again at once, as the live page redraws its
//! overlays or a reader comes back to a job.

use std::sync::{Arc, Mutex};

use crate::sync::Unpoisoned;
use crate::views::curve::Curve;

/// How many curves are kept (each at most 5,000 points: under 100 KB).
const KEEP: usize = 64;

/// What a curve was read for: the job, the attempt holding its records,
/// the metric, the x key asked for, and the number of points.
pub type CurveKey = (i64, (i64, i64), String, Option<String>, usize);

/// The most recently used curves, newest last.
#[derive(Default)]
pub struct CurveCache {
    curves: Mutex<Vec<(CurveKey, Arc<Curve>)>>,
}

impl CurveCache {
    /// The curve read for `key`, if kept.
    pub fn get(&self, key: &CurveKey) -> Option<Arc<Curve>> {
        let mut curves = self.curves.lock_unpoisoned();
        let at = curves.iter().position(|(k, _)| k == key)?;
        let entry = curves.remove(at);
        let curve = entry.1.clone();
        curves.push(entry);
        Some(curve)
    }

    /// Keeps `curve`, read for `key`, dropping the least recently used.
    pub fn put(&self, key: CurveKey, curve: Arc<Curve>) {
        let mut curves = self.curves.lock_unpoisoned();
        curves.retain(|(k, _)| *k != key);
        if curves.len() >= KEEP {
            curves.remove(0);
        }
        curves.push((key, curve));
    }
}
