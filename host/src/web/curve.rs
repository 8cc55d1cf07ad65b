//! A metric's curve in one job: its values by step (a step-like context
//! key, or the record's place when it has none), read straight from the
//! stored text and downsampled before it leaves the server.

use serde::Serialize;

use super::downsample::min_max;
use super::json_scan::{Field, field};
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
    // Records whose metrics text has the key; a quick filter in the
    // database before anything is parsed here.
    let needle = format!("{}:", serde_json::Value::from(name));
    let mut x_key: Option<String> = x.map(str::to_owned);
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut total = 0u64;
    let mut sorted = true;
    store.visit_attempt_records(result_job, attempt, &needle, &mut |record| {
        let Some(y) = field(record.metrics, name) else {
            return true;
        };
        total += 1;
        if total == 1 && x_key.is_none() {
            x_key = step_of(record.context).map(|(k, _)| k.to_owned());
        }
        let xv = match &x_key {
            Some(k) => match field(record.context, k) {
                Some(Field::Number(v)) => v,
                _ => return true,
            },
            None => (total - 1) as f64,
        };
        if let Field::Number(y) = y {
            if points.last().is_some_and(|last| last.0 > xv) {
                sorted = false;
            }
            points.push((xv, y));
        }
        true
    })?;
    if !sorted {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let kept = min_max(&points, max_points);
    Ok(Curve {
        job,
        name: name.to_owned(),
        x: x_key,
        total,
        downsampled: kept.len() < points.len(),
        points: kept.into_iter().map(|(x, y)| [x, y]).collect(),
    })
}
