//! Grouping over the web: `GET /api/experiments/{id}/groups?by=&metric=&agg=&spread=`
//! and the JSON the grouped plots draw from. The grouping itself is
//! [`crate::views::groups`], on the same summary the job table uses.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Map, Value, json};

use super::api::{ApiResult, Q};
use super::error::WebError;
use super::handlers::{blocking, id, params};
use super::state::AppState;
use crate::views::agg::Aggregate;
use crate::views::groups::{Grouping, Spread};
use crate::views::summary::Summary;

/// The most job ids listed per group (the count is always whole).
pub const MAX_IDS: usize = 1000;

/// Groups `summary` by `by`, or a 400 that names the columns.
pub fn grouping(summary: &Summary, by: &[String], agg: Aggregate) -> Result<Grouping, WebError> {
    Grouping::of(summary, by, agg).map_err(|e| WebError::BadRequest(e.to_string()))
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

/// `GET /api/experiments/{id}/groups?by=COLUMN[,COLUMN]&metric=&agg=&spread=`.
pub async fn groups(
    State(state): State<Arc<AppState>>,
    Path(exp): Path<String>,
    q: Q,
) -> ApiResult {
    let p = params(q)?;
    p.only(&["by", "metric", "agg", "spread"])?;
    let by = p.columns("by");
    let agg = p.agg()?;
    let spread = p.spread()?;
    let metric = p.one("metric")?.map(str::to_owned);
    let exp = id(&exp, "an experiment")?;
    let entry = state.summaries.get(&state.store, exp).await?;
    let value = blocking(move || {
        let s = entry.read()?;
        let m = metric
            .map(|name| {
                s.metric_id(&name).ok_or_else(|| {
                    WebError::BadRequest(format!(
                        "metric={name:?}: no job of this experiment records it"
                    ))
                })
            })
            .transpose()?;
        let g = grouping(&s, &by, agg)?;
        Ok(grouping_json(&s, &g, m, spread))
    })
    .await?;
    Ok(Json(value))
}
