//! The data behind an experiment's plots, prepared on the server so the
//! page only draws: each grid dimension's distinct values and every job's
//! place on it, and a chosen metric's value per job. Columns, not rows:
//! 10,000 jobs are a few hundred kilobytes of JSON.

use serde_json::{Map, Value, json};

use super::error::WebError;
use crate::views::agg::Aggregate;
use crate::views::dims::code;
use crate::views::summary::Summary;

/// The plot data of `summary` for `metric` (by default
/// [`Summary::default_metric`]) aggregated by `agg`. With `every_metric`
/// (a report, which has no server to ask), it also carries every metric
/// under every aggregate in `ys`.
pub fn plot_data(
    summary: &Summary,
    metric: Option<&str>,
    agg: Aggregate,
    every_metric: bool,
) -> Result<Value, WebError> {
    let m = match metric {
        Some(name) => Some(summary.metric_id(name).ok_or_else(|| {
            WebError::BadRequest(format!(
                "metric={name:?}: no job of this experiment records it"
            ))
        })?),
        None => summary.default_metric(),
    };
    let mut dims = Vec::new();
    let mut codes = Vec::new();
    for path in &summary.dims {
        let dim = code(summary, path);
        dims.push(json!({"name": path, "values": dim.values, "numeric": dim.numeric}));
        codes.push(dim.codes);
    }
    let y = |m: usize, agg: Aggregate| -> Vec<Option<f64>> {
        summary.jobs.iter().map(|job| job.value(m, agg)).collect()
    };
    let mut out = json!({
        "metric": m.map(|m| summary.metrics[m].name.clone()),
        "agg": agg,
        "metrics": summary.metric_order.iter().map(|&m| &summary.metrics[m]).collect::<Vec<_>>(),
        "dims": dims,
        "jobs": summary.jobs.iter().map(|j| j.row.id).collect::<Vec<_>>(),
        "status": summary.jobs.iter().map(|j| j.row.status).collect::<Vec<_>>(),
        "codes": codes,
        "y": m.map(|m| y(m, agg)),
    });
    if every_metric && let Value::Object(map) = &mut out {
        let ys: Map<String, Value> = summary
            .metric_order
            .iter()
            .map(|&m| {
                let by_agg: Map<String, Value> = Aggregate::ALL
                    .iter()
                    .map(|&a| (a.to_string(), json!(y(m, a))))
                    .collect();
                (summary.metrics[m].name.clone(), Value::Object(by_agg))
            })
            .collect();
        map.insert("ys".into(), Value::Object(ys));
    }
    Ok(out)
}
