//! Live updates by server-sent events: `GET /api/experiments/{id}/events`
//! (and `/api/projects/{name}/events`)
//! sends a `counts` event (the job counts by status, as JSON) when the
//! page connects and whenever they change. The server looks every second
//! while jobs are queued or running, and every five when none are. The
//! page falls back to polling `/api/experiments/{id}` when the stream
//! fails (a proxy that buffers, a server that went away).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;

use super::api::Q;
use super::error::ApiError;
use super::handlers::params;
use super::scope::{Scope, with_summary};
use super::state::AppState;
use crate::store::StatusCounts;

/// How often the counts are looked at while jobs are queued or running.
pub const ACTIVE: Duration = Duration::from_secs(1);
/// How often when none are.
pub const IDLE: Duration = Duration::from_secs(5);
/// The longest the stream stays silent.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Where one stream is.
struct Feed {
    state: Arc<AppState>,
    exp: Scope,
    /// The counts read before the stream started, to send first.
    first: Option<StatusCounts>,
    /// The counts sent last.
    sent: Option<StatusCounts>,
    /// How long nothing was sent.
    quiet: Duration,
    /// Whether the stream has ended.
    done: bool,
}

/// `GET /api/experiments/{id}/events`.
pub async fn events(
    State(state): State<Arc<AppState>>,
    exp: Scope,
    q: Q,
) -> Result<Response, ApiError> {
    params(q)?.only(&[])?;
    // The first read answers 404 for an experiment that is not there.
    let first = counts(&state, &exp).await?;
    let feed = Feed {
        state,
        exp,
        first: Some(first),
        sent: None,
        quiet: Duration::ZERO,
        done: false,
    };
    let events = stream::unfold(feed, |mut f| async move {
        if f.done {
            return None;
        }
        loop {
            let now = match f.first.take() {
                Some(c) => c,
                None => {
                    let active = f.sent.is_some_and(|c| c.unassigned + c.assigned > 0);
                    let wait = if active { ACTIVE } else { IDLE };
                    tokio::time::sleep(wait).await;
                    f.quiet += wait;
                    match counts(&f.state, &f.exp).await {
                        Ok(c) => c,
                        // The store is away: say so and end the stream; the
                        // page falls back to polling, which retries.
                        Err(e) => {
                            f.done = true;
                            let data = serde_json::json!({"error": e.0.to_string()});
                            return Some((Ok(format!("event: error\ndata: {data}\n\n")), f));
                        }
                    }
                }
            };
            if f.sent != Some(now) {
                f.sent = Some(now);
                f.quiet = Duration::ZERO;
                let data = serde_json::json!({"jobs": now});
                return Some((Ok(format!("event: counts\ndata: {data}\n\n")), f));
            }
            // A comment now and then: a reader that went away is noticed
            // when it cannot be written to, and the stream ends.
            if f.quiet >= KEEP_ALIVE {
                f.quiet = Duration::ZERO;
                return Some((Ok::<_, std::io::Error>(": still here\n\n".to_owned()), f));
            }
        }
    });
    let mut response = Body::from_stream(events).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

async fn counts(state: &Arc<AppState>, scope: &Scope) -> Result<StatusCounts, ApiError> {
    Ok(with_summary(state, scope, |s| Ok(s.counts)).await?)
}
