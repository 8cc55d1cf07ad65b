//! Comparing jobs over the web: `GET /compare?jobs=1,5,9&agg=` (the page)
//! and `GET /api/compare?jobs=…&agg=` (its JSON twin).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::Html;

use super::api::{ApiResult, Q};
use super::error::{PageError, WebError};
use super::handlers::params;
use super::pages::{compare as page, layout};
use super::query::Params;
use super::state::AppState;
use crate::views::agg::Aggregate;
use crate::views::compare::Comparison;

/// `jobs=` (ids separated by commas, or repeated) and `agg=`.
fn read(p: &Params) -> Result<(Vec<i64>, Aggregate), WebError> {
    p.only(&["jobs", "agg"])?;
    let ids = p
        .columns("jobs")
        .iter()
        .map(|t| {
            t.parse::<i64>().map_err(|_| {
                WebError::BadRequest(format!("jobs={t:?}: a job id is a number (jobs=1,5,9)"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((ids, p.agg()?))
}

async fn load(state: &AppState, ids: Vec<i64>) -> Result<Comparison, WebError> {
    state
        .store
        .run(move |s| Ok(Comparison::load(s, &ids)?))
        .await
}

/// `GET /api/compare?jobs=…&agg=`.
pub async fn api(State(state): State<Arc<AppState>>, q: Q) -> ApiResult {
    let (ids, agg) = read(&params(q)?)?;
    let c = load(&state, ids).await?;
    Ok(Json(c.to_json(agg)))
}

/// `GET /compare?jobs=…&agg=`.
pub async fn html(State(state): State<Arc<AppState>>, q: Q) -> Result<Html<String>, PageError> {
    let (ids, agg) = read(&params(q)?)?;
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let c = load(&state, ids).await?;
    let crumbs = match c.jobs.first() {
        Some(j)
            if c.jobs
                .iter()
                .all(|o| o.row.experiment_id == j.row.experiment_id) =>
        {
            vec![
                (
                    format!("experiment {}", j.row.experiment_id),
                    Some(format!("/experiments/{}", j.row.experiment_id)),
                ),
                ("compare".to_owned(), None),
            ]
        }
        _ => vec![("compare".to_owned(), None)],
    };
    Ok(layout::page(
        &format!("compare jobs {list}"),
        &crumbs,
        Some(&format!("/api/compare?jobs={list}&agg={agg}")),
        true,
        page::body(&c, agg, &list),
    ))
}
