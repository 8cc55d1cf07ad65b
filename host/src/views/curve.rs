//! A metric's curve in one job: its values by step (a step-like context
//! key, or the record's place when it has none), read straight from the
//! stored text (one pass over each record's bytes, nothing decoded but the
//! two numbers) and downsampled before it leaves the server; or, for a job
//! that recorded many, from the sketch kept when it ended
//! ([`super::curve_sketch`]).

use serde::Serialize;

use super::curve_axis::CurveAxis;
use super::downsample::min_max;
use super::json_scan::KeyPattern;
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
/// axis, downsampled to at most `max_points` (min/max per bucket): from
/// the curve's stored sketch when the attempt has one for that axis,
/// else from its records.
pub fn read(
    store: &dyn Store,
    job: i64,
    (result_job, attempt): (i64, i64),
    name: &str,
    x: Option<&str>,
    max_points: usize,
) -> Result<Curve> {
    if let Some(stored) = store.attempt_curve(result_job, attempt, name)?
        && (x.is_none() || x == stored.x.as_deref())
    {
        return Ok(stored.curve(job, max_points));
    }
    let metric = KeyPattern::new(name);
    let mut axis = CurveAxis::new(x);
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut sorted = true;
    store.visit_attempt_metrics(result_job, attempt, &mut |context, metrics| {
        let Some(y) = metric.find(metrics) else {
            return;
        };
        if let Some(point) = axis.point(context, y.number()) {
            if points.last().is_some_and(|last| last.0 > point.0) {
                sorted = false;
            }
            points.push(point);
        }
    })?;
    if !sorted {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Ok(Curve::of(
        job,
        name,
        axis.key(),
        axis.total(),
        &points,
        points.len() as u64,
        max_points,
    ))
}

impl Curve {
    /// The curve of `job`'s metric `name` drawn from `points` (by x): all
    /// of its `count` points, or a sketch of them.
    pub fn of(
        job: i64,
        name: &str,
        x: Option<&str>,
        total: u64,
        points: &[(f64, f64)],
        count: u64,
        max_points: usize,
    ) -> Curve {
        let kept = min_max(points, max_points);
        Curve {
            job,
            name: name.to_owned(),
            x: x.map(str::to_owned),
            total,
            downsampled: (kept.len() as u64) < count,
            points: kept.into_iter().map(|(x, y)| [x, y]).collect(),
        }
    }
}
