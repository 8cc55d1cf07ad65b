//! The artifact gallery's data: `GET /api/experiments/{id}/artifacts`
//! lists the names of the experiment's artifacts (with how many jobs saved
//! each); with `name=`, the artifacts of that name across the jobs (or the
//! jobs in `jobs=`), each with its job's labels.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::json;

use super::api::{ApiResult, Q};
use super::error::WebError;
use super::handlers::{id, params};
use super::state::AppState;

/// The most artifacts one gallery shows.
pub const MAX_SHOWN: u64 = 60;

/// `GET /api/experiments/{id}/artifacts[?name=&jobs=]`.
pub async fn artifacts(
    State(state): State<Arc<AppState>>,
    Path(exp): Path<String>,
    q: Q,
) -> ApiResult {
    let p = params(q)?;
    p.only(&["name", "jobs"])?;
    let exp = id(&exp, "an experiment")?;
    let Some(name) = p.one("name")?.map(str::to_owned) else {
        let names = state
            .store
            .run(move |s| Ok(s.experiment_artifact_names(exp)?))
            .await?;
        let names: Vec<_> = names
            .into_iter()
            .map(|(name, jobs)| json!({"name": name, "jobs": jobs}))
            .collect();
        return Ok(Json(json!({"experiment": exp, "names": names})));
    };
    let wanted: Vec<i64> = p
        .columns("jobs")
        .iter()
        .map(|t| {
            t.parse()
                .map_err(|_| WebError::BadRequest(format!("jobs={t:?}: a job id is a number")))
        })
        .collect::<Result<_, _>>()?;
    // With `jobs=`, every artifact of the name is read and the wanted ones
    // kept (they may be anywhere in the experiment).
    let limit = if wanted.is_empty() {
        MAX_SHOWN
    } else {
        u64::MAX
    };
    let n = name.clone();
    let found = state
        .store
        .run(move |s| Ok(s.experiment_artifacts(exp, &n, limit)?))
        .await?;
    let entry = state.summaries.get(&state.store, exp).await?;
    let summary = entry.read()?;
    let items: Vec<_> = found
        .iter()
        .filter(|(job, _)| wanted.is_empty() || wanted.contains(job))
        .take(MAX_SHOWN as usize)
        .map(|(job, a)| {
            json!({
                "job": job,
                "labels": summary.job(*job).map(|j| &j.row.labels),
                "digest": a.digest,
                "size": a.size,
            })
        })
        .collect();
    Ok(Json(
        json!({"experiment": exp, "name": name, "artifacts": items}),
    ))
}
