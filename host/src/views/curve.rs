//! A metric's curve in one job: its values by step (a step-like context
//! key, or the record's place when it has none), read straight from the
//! stored text (one pass over each record's bytes, nothing decoded but the
//! two numbers) and downsampled before it leaves the server.

use serde::Serialize;

use super::downsample::min_max;
use super::json_scan::{Field, KeyPattern};
use super::steps::step_of;
use crate::store::{Result, Store};

/// Points a curve has unless `points=` says otherwise.
pub const DEFAULT_POINTS: usize = 2000;
/// The most points a curve is sent with.
pub const MAX_POINTS: usize = 5000;

/// A metric's curve.
#[derive(Clone, Debug, Serialize)]
pub struct Curve {
    /// The job.
    pub job: i64,
    /// The metric.
    pub name: String,
    /// The context key on the x axis (`None`: the record's place among
    /// the records with this metric).
    pub x: Option<String>,
    /// How many records carry the metric (finite values only are drawn).
    pub total: u64,
    /// Whether `points` is a downsampled subset.
    pub downsampled: bool,
    /// `[x, y]` pairs, by x.
    pub points: Vec<[f64; 2]>,
}

/// Reads metric `name` of attempt `attempt` of `job` (the attempt whose
/// records are the job's result), with `x` (or a step-like key) on the x
/// axis, downsampled to at most `max_points` (min/max per bucket).
pub fn read(
    store: &dyn Store,
    job: i64,
    (result_job, attempt): (i64, i64),
    name: &str,
    x: Option<&str>,
    max_points: usize,
) -> Result<Curve> {
    let metric = KeyPattern::new(name);
    let mut x_key: Option<KeyPattern> = x.map(KeyPattern::new);
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut total = 0u64;
    let mut sorted = true;
    store.visit_attempt_metrics(result_job, attempt, &mut |context, metrics| {
        let Some(y) = metric.find(metrics) else {
            return;
        };
        total += 1;
        if total == 1 && x_key.is_none() {
            x_key = step_of(context).map(|(k, _)| KeyPattern::new(k));
        }
        let xv = match &x_key {
            Some(k) => match k.find(context) {
                Some(Field::Number(v)) => v,
                _ => return,
            },
            None => (total - 1) as f64,
        };
        if let Field::Number(y) = y {
            if points.last().is_some_and(|last| last.0 > xv) {
                sorted = false;
            }
            points.push((xv, y));
        }
    })?;
    if !sorted {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let kept = min_max(&points, max_points);
    Ok(Curve {
        job,
        name: name.to_owned(),
        x: x_key.map(|k| k.key().to_owned()),
        total,
        downsampled: kept.len() < points.len(),
        points: kept.into_iter().map(|(x, y)| [x, y]).collect(),
    })
}
