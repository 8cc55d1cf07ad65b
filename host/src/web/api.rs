//! The JSON API: what the pages show, for scripts and notebooks. Field
//! names are those of the CLI's `--json` output (`djx ls`, `djx jobs`,
//! `djx show`).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use super::error::{ApiError, WebError};
use super::handlers::{blocking, id, params};
use super::plot::plot_data;
use super::query::{JOBS_PARAMS, JobsQuery};
use super::scope::{Scope, with_summary};
use super::state::AppState;
use super::table::{page, row_json};
use crate::store::AttemptRow;
use crate::views::curve::{self, DEFAULT_POINTS, MAX_POINTS};
use crate::views::detail::JobDetail;
use crate::views::lineage::{Lineage, check_prefix};
use crate::views::summary::Summary;

/// A request's query parameters, as axum hands them over.
pub type Q = Result<Query<Vec<(String, String)>>, QueryRejection>;
/// What an API handler answers.
pub type ApiResult = Result<Json<Value>, ApiError>;

/// `GET /api/experiments`: as `djx ls --json`, in one list.
pub async fn experiments(State(state): State<Arc<AppState>>, q: Q) -> ApiResult {
    params(q)?.only(&[])?;
    let (list, submissions, rungs) = state
        .store
        .run(|s| {
            let list = s.experiments()?;
            let ids: Vec<i64> = list.iter().map(|e| e.id).collect();
            Ok((list, s.submissions(&ids)?, s.rungs(&ids)?))
        })
        .await?;
    // As `djx ls --json`: each experiment with the cluster jobs submitted
    // for it and, for a halving sweep, its rungs.
    let list: Vec<Value> = list
        .iter()
        .map(|e| {
            let mut value = json!(e);
            if let Some(map) = value.as_object_mut() {
                let mine: Vec<_> = submissions
                    .iter()
                    .filter(|s| s.experiment_id == e.id)
                    .collect();
                map.insert("submissions".into(), json!(mine));
                let mine: Vec<_> = rungs.iter().filter(|r| r.experiment_id == e.id).collect();
                if !mine.is_empty() {
                    map.insert("rungs".into(), json!(mine));
                }
            }
            value
        })
        .collect();
    Ok(Json(Value::Array(list)))
}

/// The experiment's facts, counts, columns, dimensions and metrics.
pub fn experiment_json(s: &Summary) -> Value {
    let exp = &s.experiment;
    let locked = &exp.locked;
    json!({
        "id": exp.id,
        "project": locked.project,
        "name": locked.name,
        "description": locked.description,
        "created_at": exp.created_at,
        "source": locked.source_path,
        "source_digest": locked.source_digest,
        "module": locked.module_digest,
        "datasets": locked.datasets,
        "limits": locked.limits,
        "engine": locked.engine,
        "provenance": locked.provenance,
        "jobs": s.counts,
        "columns": {
            "labels": s.columns.labels,
            "parameters": s.columns.params,
            "constants": s.columns.constants,
            "metrics": s.metric_order.iter().map(|&m| format!("metrics.{}", s.metrics[m].name)).collect::<Vec<_>>(),
        },
        "dimensions": s.dims,
        "metrics": s.metric_order.iter().map(|&m| &s.metrics[m]).collect::<Vec<_>>(),
        // A project's: every experiment in it.
        "experiments": s.experiments.iter().map(|e| json!({
            "id": e.id, "name": e.locked.name, "created_at": e.created_at,
        })).collect::<Vec<_>>(),
    })
}

/// `GET /api/experiments/{id}`, `GET /api/projects/{name}`.
pub async fn experiment(State(state): State<Arc<AppState>>, scope: Scope, q: Q) -> ApiResult {
    params(q)?.only(&[])?;
    let value = with_summary(&state, &scope, |s| Ok(experiment_json(s))).await?;
    Ok(Json(value))
}

/// `GET /api/experiments/{id}/jobs?offset=&limit=&sort=&filter=&agg=`
/// (and the same under `/api/projects/{name}`).
pub async fn jobs(State(state): State<Arc<AppState>>, scope: Scope, q: Q) -> ApiResult {
    let p = params(q)?;
    let query = JobsQuery::parse(p.only(&JOBS_PARAMS)?)?;
    let api = scope.api();
    let value = with_summary(&state, &scope, move |s| {
        let page = page(s, &query)?;
        let rows: Vec<Value> = page
            .rows
            .iter()
            .map(|j| row_json(s, j, query.agg))
            .collect();
        let next = (query.offset + rows.len() < page.matched).then(|| {
            let mut q = query.clone();
            q.offset += q.limit;
            format!("{api}/jobs?{}", q.to_query())
        });
        Ok(json!({
            "experiment": s.experiment.id,
            "total": page.total,
            "matched": page.matched,
            "offset": query.offset,
            "limit": query.limit,
            "sort": query.sort.as_ref().map(|s| s.text()),
            "filter": query.filters.iter().map(|f| f.text()).collect::<Vec<_>>(),
            "agg": query.agg,
            "jobs": s.counts,
            "rows": rows,
            "next": next,
        }))
    })
    .await?;
    Ok(Json(value))
}

/// `GET /api/experiments/{id}/plot?metric=&agg=`: the plots' data.
pub async fn plot(State(state): State<Arc<AppState>>, scope: Scope, q: Q) -> ApiResult {
    let p = params(q)?;
    p.only(&["metric", "agg"])?;
    let agg = p.agg()?;
    let metric = p.one("metric")?.map(str::to_owned);
    let value = with_summary(&state, &scope, move |s| {
        plot_data(s, metric.as_deref(), agg, false)
    })
    .await?;
    Ok(Json(value))
}

/// `GET /api/jobs/{id}?records=N`: as `djx show --json`, with the first N
/// records (default 1,000) and `records_total`.
pub async fn job(State(state): State<Arc<AppState>>, Path(job): Path<String>, q: Q) -> ApiResult {
    let p = params(q)?;
    p.only(&["records"])?;
    let limit = p.number("records", 1000, 0, 1_000_000)?;
    let job = id(&job, "a job")?;
    let value = state
        .store
        .run(move |s| Ok(JobDetail::load(s, job, Some(limit))?.to_json()))
        .await?;
    Ok(Json(value))
}

/// `GET /api/jobs/{id}/metrics?name=&points=&x=`: a metric's curve,
/// downsampled on the server to at most `points` (default 2,000, at most
/// 5,000); without `name`, the job's metrics.
pub async fn metrics(
    State(state): State<Arc<AppState>>,
    Path(job): Path<String>,
    q: Q,
) -> ApiResult {
    let p = params(q)?;
    p.only(&["name", "points", "x"])?;
    let points = p.number("points", DEFAULT_POINTS, 2, MAX_POINTS)?;
    let name = p.one("name")?.map(str::to_owned);
    let x = p.one("x")?.filter(|x| !x.is_empty()).map(str::to_owned);
    let job = id(&job, "a job")?;
    let row = state.store.run(move |s| Ok(s.job(job)?)).await?;
    let Some(name) = name else {
        let entry = state.summaries.get(&state.store, row.experiment_id).await?;
        let value = blocking(move || {
            let s = entry.read()?;
            let metrics: Vec<Value> = match s.job(job) {
                Some(entry) => s
                    .metric_order
                    .iter()
                    .filter_map(|&m| {
                        entry.metric(m).map(|a| {
                            json!({"name": s.metrics[m].name, "count": a.count, "curve": a.stepped > 1})
                        })
                    })
                    .collect(),
                None => Vec::new(),
            };
            Ok(json!({"job": job, "metrics": metrics}))
        })
        .await?;
        return Ok(Json(value));
    };
    let app = state.clone();
    let curve = state
        .store
        .run(move |s| {
            // Only an attempt that ended has visible records.
            let attempts = s.attempts(job)?;
            let Some(result) = attempts
                .iter()
                .find(|a| a.attempt == row.attempt)
                .map(AttemptRow::result_attempt)
            else {
                return Err(WebError::NotFound(format!(
                    "job {job} has not ended yet: its records are not visible"
                )));
            };
            let key = (job, result, name, x, points);
            if let Some(curve) = app.curves.get(&key) {
                return Ok(curve);
            }
            let curve = Arc::new(curve::read(
                s,
                job,
                result,
                &key.2,
                key.3.as_deref(),
                points,
            )?);
            app.curves.put(key, curve.clone());
            Ok(curve)
        })
        .await?;
    Ok(Json(serde_json::to_value(&*curve).unwrap_or(Value::Null)))
}

/// `GET /api/lineage/{digest}`: as `djx lineage`.
pub async fn lineage(
    State(state): State<Arc<AppState>>,
    Path(digest): Path<String>,
    q: Q,
) -> ApiResult {
    params(q)?.only(&[])?;
    let prefix = check_prefix(&digest)?;
    let value = state
        .store
        .run(move |s| Ok(json!(Lineage::load(s, &prefix)?)))
        .await?;
    Ok(Json(value))
}
