//! Grouping over the web: `GET /api/experiments/{id}/groups?by=&metric=&agg=&spread=&filter=`
//! and the JSON the grouped plots draw from. The grouping itself is
//! [`crate::views::groups`], on the same summary the job table uses.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};

use super::api::{ApiResult, Q};
use super::error::WebError;
use super::handlers::params;
use super::query::{Filter, Params};
use super::scope::{Scope, with_summary};
use super::state::AppState;
use super::table::kept;
use crate::views::agg::Aggregate;
use crate::views::groups::{Grouping, Spread};
use crate::views::summary::Summary;

/// The most job ids listed per group (the count is always whole).
pub const MAX_IDS: usize = 1000;

/// Groups `summary` by `by`, or a 400 that names the columns.
pub fn grouping(
    summary: &Summary,
    by: &[String],
    agg: Aggregate,
    filters: &[Filter],
) -> Result<Grouping, WebError> {
    let keep = match filters {
        [] => None,
        some => Some(kept(summary, some, agg)?),
    };
    Grouping::of(summary, by, agg, keep.as_deref()).map_err(|e| WebError::BadRequest(e.to_string()))
}

/// The grouping as JSON: the grouped dimensions, and each group's key,
/// jobs and statistics of `metric` (every metric when `None`).
pub fn grouping_json(
    summary: &Summary,
    grouping: &Grouping,
    metric: Option<usize>,
    spread: Spread,
) -> Value {
    let metrics: Vec<usize> = match metric {
        Some(m) => vec![m],
        None => summary.metric_order.clone(),
    };
    let groups: Vec<Value> = grouping
        .groups
        .iter()
        .map(|g| {
            let key: Map<String, Value> = grouping
                .by
                .iter()
                .zip(&g.key)
                .map(|(d, v)| (d.path.clone(), v.clone()))
                .collect();
            let stats: Map<String, Value> = metrics
                .iter()
                .filter_map(|&m| {
                    let s = g.metrics.get(m).copied().flatten()?;
                    let mut v = json!(s);
                    if let (Value::Object(map), Some((lo, hi))) = (&mut v, s.band(spread)) {
                        map.insert("low".into(), json!(lo));
                        map.insert("high".into(), json!(hi));
                    }
                    Some((summary.metrics[m].name.clone(), v))
                })
                .collect();
            json!({
                "key": key,
                "codes": g.codes,
                "jobs": g.jobs.len(),
                "ids": &g.jobs[..g.jobs.len().min(MAX_IDS)],
                "metrics": stats,
            })
        })
        .collect();
    json!({
        "experiment": summary.experiment.id,
        "by": grouping.by.iter().map(|d| &d.path).collect::<Vec<_>>(),
        "dims": grouping.by.iter().map(|d| json!({"name": d.path, "values": d.values, "numeric": d.numeric})).collect::<Vec<_>>(),
        "agg": grouping.agg,
        "spread": spread,
        "metrics": metrics.iter().map(|&m| &summary.metrics[m].name).collect::<Vec<_>>(),
        "groups": groups,
    })
}

/// `GET /api/experiments/{id}/groups?by=COLUMN[,COLUMN]&metric=&agg=&spread=`
/// (and under `/api/projects/{name}`).
pub async fn groups(State(state): State<Arc<AppState>>, scope: Scope, q: Q) -> ApiResult {
    let p = params(q)?;
    p.only(&["by", "metric", "agg", "spread", "filter"])?;
    let by = p.columns("by");
    let filters = filters(&p)?;
    let agg = p.agg()?;
    let spread = p.spread()?;
    let metric = p.one("metric")?.map(str::to_owned);
    let value = with_summary(&state, &scope, move |s| {
        let m = metric.map(|name| metric_id(s, &name)).transpose()?;
        let g = grouping(s, &by, agg, &filters)?;
        Ok(grouping_json(s, &g, m, spread))
    })
    .await?;
    Ok(Json(value))
}

/// The `filter=` parameters (as the job table reads them).
fn filters(p: &Params) -> Result<Vec<Filter>, WebError> {
    p.all("filter")
        .into_iter()
        .filter(|f| !f.trim().is_empty())
        .map(Filter::parse)
        .collect()
}

/// The number of metric `name`, or a 400.
fn metric_id(s: &Summary, name: &str) -> Result<usize, WebError> {
    s.metric_id(name).ok_or_else(|| {
        WebError::BadRequest(format!(
            "metric={name:?}: no job of this experiment records it"
        ))
    })
}

/// Groups whose curves are drawn, and jobs read per group.
pub const CURVE_GROUPS: usize = 20;
/// See [`CURVE_GROUPS`].
pub const CURVE_JOBS: usize = 10;
/// Points per job's curve, and at most per group's mean curve.
pub const CURVE_POINTS: usize = 500;

/// `GET /api/experiments/{id}/groups/curves?by=&metric=&spread=`: for each
/// group (the first [`CURVE_GROUPS`]), the mean curve of metric `metric`
/// over its first [`CURVE_JOBS`] finished jobs that have one, with the
/// band `spread` gives at each x: `points` are `[x, mean, low, high]`.
/// Where the jobs' x values differ, x is cut into [`CURVE_POINTS`] equal
/// bins (each job's points in a bin averaged first).
pub async fn curves(State(state): State<Arc<AppState>>, scope: Scope, q: Q) -> ApiResult {
    let p = params(q)?;
    p.only(&["by", "metric", "spread", "filter"])?;
    let by = p.columns("by");
    let filters = filters(&p)?;
    let spread = p.spread()?;
    let Some(metric) = p.one("metric")?.map(str::to_owned) else {
        return Err(WebError::BadRequest("metric= names the curve's metric".into()).into());
    };
    let m = metric.clone();
    let (exp, keys, members) = with_summary(&state, &scope, move |s| {
        let mid = metric_id(s, &m)?;
        let g = grouping(s, &by, Aggregate::Last, &filters)?;
        let mut keys = Vec::new();
        let mut members = Vec::new();
        for group in g.groups.iter().take(CURVE_GROUPS) {
            let key: Map<String, Value> =
                g.by.iter()
                    .zip(&group.key)
                    .map(|(d, v)| (d.path.clone(), v.clone()))
                    .collect();
            let jobs: Vec<(i64, i64)> = group
                .jobs
                .iter()
                .filter_map(|&id| s.job(id))
                .filter(|j| j.row.status == crate::store::JobStatus::Finished)
                .filter(|j| j.metric(mid).is_some_and(|a| a.stepped > 1))
                .take(CURVE_JOBS)
                .map(|j| (j.row.id, j.row.attempt))
                .collect();
            keys.push(key);
            members.push(jobs);
        }
        Ok((s.experiment.id, keys, members))
    })
    .await?;
    let m = metric.clone();
    let read = state
        .store
        .run(move |s| {
            let mut out = Vec::new();
            for jobs in &members {
                let mut curves = Vec::new();
                for &(job, attempt) in jobs {
                    let attempts = s.attempts(job)?;
                    let Some(result) = attempts
                        .iter()
                        .find(|a| a.attempt == attempt)
                        .map(crate::store::AttemptRow::result_attempt)
                    else {
                        continue;
                    };
                    let c = crate::views::curve::read(s, job, result, &m, None, CURVE_POINTS)?;
                    curves.push(c);
                }
                out.push(curves);
            }
            Ok(out)
        })
        .await?;
    let mut x_key = None;
    let groups: Vec<Value> = keys
        .into_iter()
        .zip(read)
        .map(|(key, curves)| {
            if x_key.is_none() {
                x_key = curves.iter().find_map(|c| c.x.clone());
            }
            let series: Vec<Vec<(f64, f64)>> = curves
                .iter()
                .map(|c| c.points.iter().map(|p| (p[0], p[1])).collect())
                .collect();
            json!({
                "key": key,
                "jobs": curves.iter().map(|c| c.job).collect::<Vec<_>>(),
                "points": mean_band(&series, spread),
            })
        })
        .collect();
    Ok(Json(json!({
        "experiment": exp,
        "metric": metric,
        "spread": spread,
        "x": x_key,
        "groups": groups,
    })))
}

/// The mean of several curves at each x, with the band of `spread`:
/// `[x, mean, low, high]` (`low`/`high` are the mean where the band is
/// undefined: one curve).
pub fn mean_band(curves: &[Vec<(f64, f64)>], spread: Spread) -> Vec<[f64; 4]> {
    let mut xs: Vec<f64> = curves.iter().flatten().map(|p| p.0).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let (Some(&lo), Some(&hi)) = (xs.first(), xs.last()) else {
        return Vec::new();
    };
    // Exact x when the jobs share few; else equal bins (each at its centre).
    let bins = xs.len().min(CURVE_POINTS);
    let exact = xs.len() <= CURVE_POINTS;
    let bin_of = |x: f64| -> usize {
        if exact {
            xs.partition_point(|v| *v < x)
        } else {
            (((x - lo) / (hi - lo) * bins as f64) as usize).min(bins - 1)
        }
    };
    // Per bin, each curve's mean there.
    let mut per_bin: Vec<Vec<f64>> = vec![Vec::new(); bins];
    for curve in curves {
        let mut sums: std::collections::BTreeMap<usize, (f64, f64)> = Default::default();
        for &(x, y) in curve.iter().filter(|p| p.1.is_finite()) {
            let e = sums.entry(bin_of(x)).or_default();
            e.0 += y;
            e.1 += 1.0;
        }
        for (b, (sum, n)) in sums {
            per_bin[b].push(sum / n);
        }
    }
    per_bin
        .iter()
        .enumerate()
        .filter_map(|(b, ys)| {
            let s = crate::views::groups::Stats::of(ys)?;
            let x = if exact {
                xs[b]
            } else {
                lo + (b as f64 + 0.5) * (hi - lo) / bins as f64
            };
            let (low, high) = s.band(spread).unwrap_or((s.mean, s.mean));
            Some([x, s.mean, low, high])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_on_shared_steps_average_point_by_point() {
        let a = vec![(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)];
        let b = vec![(0.0, 3.0), (1.0, 4.0)];
        let band = mean_band(&[a, b], Spread::MinMax);
        assert_eq!(
            band,
            vec![
                [0.0, 2.0, 1.0, 3.0],
                [1.0, 3.0, 2.0, 4.0],
                [2.0, 3.0, 3.0, 3.0]
            ]
        );
        let std = mean_band(&[vec![(0.0, 1.0)], vec![(0.0, 3.0)]], Spread::Std);
        let sd = 2f64.sqrt();
        assert_eq!(std, vec![[0.0, 2.0, 2.0 - sd, 2.0 + sd]]);
        assert!(mean_band(&[], Spread::Std).is_empty());
    }
}
