//! What the page and API handlers share: reading ids and query
//! parameters, and running work off the async threads.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;

use super::error::WebError;
use super::query::Params;

/// The query parameters of a request, or a 400.
pub fn params(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Params, WebError> {
    match query {
        Ok(Query(pairs)) => Ok(Params(pairs)),
        Err(e) => Err(WebError::BadRequest(format!(
            "the query string does not parse: {e}"
        ))),
    }
}

/// An id from the path, or a 400 naming what it should be (`what` with
/// its article: "an experiment").
pub fn id(text: &str, what: &str) -> Result<i64, WebError> {
    text.parse()
        .map_err(|_| WebError::BadRequest(format!("{text:?} is not {what} id (a number)")))
}

/// Runs `f` on the blocking thread pool (rendering and sorting large
/// summaries take milliseconds the async threads should not wait for).
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WebError::Internal(format!("a request panicked: {e}")))?
}
