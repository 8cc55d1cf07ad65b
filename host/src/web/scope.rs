//! What an experiment page and its JSON twins show: one experiment, or a
//! project (every experiment with that project name, as one: a combined
//! job table, plots and grouping over all their jobs).

use std::sync::Arc;

use super::cache::SummaryRef;
use super::error::WebError;
use super::handlers::{blocking, id};
use super::query::encode_into;
use super::state::AppState;
use crate::views::summary::Summary;

/// One experiment, or a project's experiments.
#[derive(Clone, Debug)]
pub enum Scope {
    /// An experiment, by id.
    Experiment(i64),
    /// A project, by name.
    Project(String),
}

impl Scope {
    /// The experiment of an id from the path, or a 400.
    pub fn experiment(text: &str) -> Result<Scope, WebError> {
        Ok(Scope::Experiment(id(text, "an experiment")?))
    }

    /// The page's path: `/experiments/1`, `/projects/NAME`.
    pub fn path(&self) -> String {
        match self {
            Scope::Experiment(id) => format!("/experiments/{id}"),
            Scope::Project(name) => {
                let mut out = "/projects/".to_owned();
                encode_into(&mut out, name);
                out
            }
        }
    }

    /// Its JSON twin's path: `/api` and the page's path.
    pub fn api(&self) -> String {
        format!("/api{}", self.path())
    }
}

/// Runs `f` on the summary of `scope` on the blocking pool: an
/// experiment's as the cache keeps it, a project's merged from its
/// experiments' (404 when no experiment has that project).
pub async fn with_summary<T: Send + 'static>(
    state: &Arc<AppState>,
    scope: &Scope,
    f: impl FnOnce(&Summary) -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    match scope {
        Scope::Experiment(exp) => {
            let entry = state.summaries.get(&state.store, *exp).await?;
            blocking(move || f(&*entry.read()?)).await
        }
        Scope::Project(name) => {
            let wanted = name.clone();
            let ids: Vec<i64> = state
                .store
                .run(move |s| {
                    Ok(s.experiments()?
                        .into_iter()
                        .filter(|e| e.project.as_deref() == Some(wanted.as_str()))
                        .map(|e| e.id)
                        .collect())
                })
                .await?;
            if ids.is_empty() {
                return Err(WebError::NotFound(format!(
                    "no experiment has the project {name:?}"
                )));
            }
            let mut entries = Vec::with_capacity(ids.len());
            for id in ids {
                entries.push(state.summaries.get(&state.store, id).await?);
            }
            blocking(move || {
                let guards: Vec<SummaryRef<'_>> =
                    entries.iter().map(|e| e.read()).collect::<Result<_, _>>()?;
                let parts: Vec<&Summary> = guards.iter().map(|g| &**g).collect();
                let merged = Summary::merge(&parts)
                    .ok_or_else(|| WebError::NotFound("a project without experiments".into()))?;
                f(&merged)
            })
            .await
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Scope {
    type Rejection = axum::response::Response;

    /// The scope of a route's one path parameter: a project under
    /// `/projects/` and `/api/projects/`, else an experiment id. A bad one
    /// is a 400 page, or JSON under `/api`.
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Scope, Self::Rejection> {
        use axum::response::IntoResponse;
        let api = parts.uri.path().starts_with("/api/");
        let project = parts.uri.path().starts_with("/projects/")
            || parts.uri.path().starts_with("/api/projects/");
        let scope = match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) if project => Ok(Scope::Project(value)),
            Ok(axum::extract::Path(value)) => Scope::experiment(&value),
            Err(e) => Err(WebError::BadRequest(e.body_text())),
        };
        scope.map_err(|e| {
            if api {
                super::error::ApiError(e).into_response()
            } else {
                super::error::PageError(e).into_response()
            }
        })
    }
}
