//! The HTML pages: rendered on the server (usable with scripts off), with
//! a little script on top for the plots and live updates. Every page has a
//! JSON twin under `/api` with the same data.

pub mod compare;
pub mod experiment;
pub mod format;
pub mod groups;
pub mod job;
pub mod layout;
pub mod lists;
pub mod preview;

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Html;

use super::error::{PageError, WebError};
use super::handlers::{blocking, id, params};
use super::query::{JOBS_PARAMS, JobsQuery};
use super::scope::{Scope, with_summary};
use super::state::AppState;
use crate::views::detail::JobDetail;
use crate::views::lineage::{Lineage, check_prefix};

type Q = Result<Query<Vec<(String, String)>>, QueryRejection>;
type PageResult = Result<Html<String>, PageError>;

/// `GET /`: the experiments.
pub async fn experiments(State(state): State<Arc<AppState>>, q: Q) -> PageResult {
    params(q)?.only(&[])?;
    let (list, submissions) = state
        .store
        .run(|s| {
            let list = s.experiments()?;
            let ids: Vec<i64> = list.iter().map(|e| e.id).collect();
            Ok((list, s.submissions(&ids)?))
        })
        .await?;
    Ok(layout::page(
        "Experiments",
        &[],
        Some("/api/experiments"),
        false,
        lists::experiments(&list, &submissions),
    ))
}

/// `GET /experiments/{id}`: one experiment; `GET /projects/{name}`: a
/// project's experiments as one.
pub async fn experiment(State(state): State<Arc<AppState>>, scope: Scope, q: Q) -> PageResult {
    let p = params(q)?;
    let query = JobsQuery::parse(p.only(&JOBS_PARAMS)?)?;
    let api = experiment::jobs_api(&scope, &query);
    let s2 = scope.clone();
    let (name, body) = with_summary(&state, &scope, move |s| {
        let name = match &s2 {
            Scope::Project(name) => name.clone(),
            Scope::Experiment(_) => s.experiment.locked.name.clone(),
        };
        Ok((name, experiment::body(s, &query, &s2)?))
    })
    .await?;
    let crumb = match &scope {
        Scope::Experiment(exp) => format!("experiment {exp}"),
        Scope::Project(name) => format!("project {name}"),
    };
    Ok(layout::page(
        &name,
        &[(crumb, None)],
        Some(&api),
        true,
        body,
    ))
}

/// `GET /experiments/{id}/table` (and `/projects/{name}/table`): the job
/// table alone, which the page's script swaps in when it sorts, filters,
/// pages or refreshes.
pub async fn table(State(state): State<Arc<AppState>>, scope: Scope, q: Q) -> PageResult {
    let p = params(q)?;
    let query = JobsQuery::parse(p.only(&JOBS_PARAMS)?)?;
    let path = scope.path();
    let html = with_summary(&state, &scope, move |s| {
        let counts = experiment::counts(&s.counts);
        let table = experiment::jobs_section(s, &query, experiment::Mode::Live(&path))?;
        Ok(maud::html! {
            div.fragment-counts { (counts) }
            div.fragment-table { (table) }
        }
        .into_string())
    })
    .await?;
    Ok(Html(html))
}

/// `GET /jobs/{id}`: one job.
pub async fn job(State(state): State<Arc<AppState>>, Path(job): Path<String>, q: Q) -> PageResult {
    params(q)?.only(&[])?;
    let job = id(&job, "a job")?;
    let detail = state
        .store
        .run(move |s| Ok(JobDetail::load(s, job, Some(job::PAGE_RECORDS))?))
        .await?;
    let entry = state
        .summaries
        .get(&state.store, detail.experiment.id)
        .await?;
    let exp = detail.experiment.id;
    let body = blocking(move || {
        let s = entry.read()?;
        let curves: Vec<String> = s
            .job(job)
            .map(|e| {
                s.metric_order
                    .iter()
                    .filter(|&&m| e.metric(m).is_some_and(|a| a.stepped > 1))
                    .map(|&m| s.metrics[m].name.clone())
                    .collect()
            })
            .unwrap_or_default();
        Ok(job::body(&detail, &curves))
    })
    .await?;
    Ok(layout::page(
        &format!("job {job}"),
        &[
            (
                format!("experiment {exp}"),
                Some(format!("/experiments/{exp}")),
            ),
            (format!("job {job}"), None),
        ],
        Some(&format!("/api/jobs/{job}")),
        true,
        body,
    ))
}

/// `GET /lineage/{digest}`: who made or used a digest.
pub async fn lineage(
    State(state): State<Arc<AppState>>,
    Path(digest): Path<String>,
    q: Q,
) -> PageResult {
    params(q)?.only(&[])?;
    let prefix = check_prefix(&digest)?;
    let p = prefix.clone();
    let lineage = state.store.run(move |s| Ok(Lineage::load(s, &p)?)).await?;
    Ok(layout::page(
        "Lineage",
        &[(format!("lineage {}", &prefix[..prefix.len().min(12)]), None)],
        Some(&format!("/api/lineage/{prefix}")),
        false,
        lists::lineage(&lineage),
    ))
}

/// Any other path: a 404 page (or JSON under `/api`).
pub async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    let error = WebError::NotFound(format!("no page at {}", uri.path()));
    if uri.path().starts_with("/api/") {
        super::error::ApiError(error).into_response()
    } else {
        PageError(error).into_response()
    }
}
