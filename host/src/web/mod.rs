//! `djx ui`: a read-only web view of the store, and `djx report`, the same
//! pages as one self-contained file.
//!
//! The server is axum on tokio. Every store read runs on the blocking pool
//! through the UI's own connection ([`access`]); the job table and plots
//! are served from a per-experiment summary ([`summary`], [`cache`]) that
//! a poll brings up to date by reading only what changed. Pages are
//! rendered on the server ([`pages`], with maud, which escapes every value
//! it is given) and have a JSON twin under `/api` ([`api`]); the browser
//! only draws, with the vendored chart library ([`assets`]).
//!
//! | page | JSON twin |
//! |---|---|
//! | `/` | `/api/experiments` |
//! | `/experiments/{id}` | `/api/experiments/{id}`, `/api/experiments/{id}/jobs`, `/api/experiments/{id}/plot`, `/api/experiments/{id}/groups`, `/api/experiments/{id}/groups/curves`, `/api/experiments/{id}/artifacts`, `/api/experiments/{id}/events` (server-sent events) |
//! | `/jobs/{id}` | `/api/jobs/{id}`, `/api/jobs/{id}/metrics?name=` |
//! | `/lineage/{digest}` | `/api/lineage/{digest}` |
//! | `/artifacts/{digest}` | (the artifact's bytes) |
//! | `/artifacts/{digest}/preview`, `/artifacts/{digest}/view` | (a preview fragment; an image inline) |
//! | `/compare?jobs=` | `/api/compare?jobs=` |
//! | `/projects/{name}` | `/api/projects/{name}`, and its `/jobs`, `/plot`, `/groups`, `/groups/curves`, `/events` |

pub mod access;
pub mod api;
pub mod artifact;
pub mod assets;
pub mod cache;
pub mod compare;
pub mod curve_cache;
pub mod error;
pub mod events;
pub mod gallery;
pub mod groups;
pub mod handlers;
pub mod pages;
pub mod plot;
pub mod preview;
pub mod query;
pub mod report;
pub mod scope;
pub mod state;
pub mod table;
pub mod token;

use crate::content::artifacts::ArtifactStore;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::get;

pub use self::access::{Opener, StoreAccess};
pub use self::token::Token;

/// What the server serves.
pub struct Config {
    /// The store.
    pub store: StoreAccess,
    /// The token every request must carry (`None`: none).
    pub token: Option<Token>,
    /// The artifact store (backed by the remote content store, if any).
    pub artifacts: ArtifactStore,
}

/// The application: every route, behind the token guard.
pub fn router(config: Config) -> Router {
    let state = Arc::new(state::AppState {
        store: Arc::new(config.store),
        summaries: cache::Summaries::default(),
        curves: curve_cache::CurveCache::default(),
        token: config.token,
        artifacts: config.artifacts,
    });
    Router::new()
        .route("/", get(pages::experiments))
        .route("/experiments/{id}", get(pages::experiment))
        .route("/experiments/{id}/table", get(pages::table))
        .route("/projects/{name}", get(pages::experiment))
        .route("/projects/{name}/table", get(pages::table))
        .route("/api/projects/{name}", get(api::experiment))
        .route("/api/projects/{name}/jobs", get(api::jobs))
        .route("/api/projects/{name}/plot", get(api::plot))
        .route("/api/projects/{name}/groups", get(groups::groups))
        .route("/api/projects/{name}/groups/curves", get(groups::curves))
        .route("/api/projects/{name}/events", get(events::events))
        .route("/jobs/{id}", get(pages::job))
        .route("/lineage/{digest}", get(pages::lineage))
        .route("/artifacts/{digest}", get(artifact::download))
        .route("/artifacts/{digest}/preview", get(preview::html))
        .route("/artifacts/{digest}/view", get(preview::view))
        .route("/compare", get(compare::html))
        .route("/api/compare", get(compare::api))
        .route("/assets/{name}", get(assets::serve))
        .route("/api/experiments", get(api::experiments))
        .route("/api/experiments/{id}", get(api::experiment))
        .route("/api/experiments/{id}/jobs", get(api::jobs))
        .route("/api/experiments/{id}/plot", get(api::plot))
        .route("/api/experiments/{id}/groups", get(groups::groups))
        .route("/api/experiments/{id}/groups/curves", get(groups::curves))
        .route("/api/experiments/{id}/artifacts", get(gallery::artifacts))
        .route("/api/experiments/{id}/events", get(events::events))
        .route("/api/jobs/{id}", get(api::job))
        .route("/api/jobs/{id}/metrics", get(api::metrics))
        .route("/api/lineage/{digest}", get(api::lineage))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            token::guard,
        ))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Headers every response carries: no sniffing of types, no framing by
/// other sites, and scripts only from the server itself.
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // A response with its own policy (an artifact shown by itself) keeps
    // it: it is stricter.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                 img-src 'self' data:; frame-ancestors 'none'",
            ),
        );
    }
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The most connections served at once; more wait in the listen queue
/// until one closes.
pub const MAX_CONNECTIONS: usize = 256;

/// How long a connection may take to send a request's headers: a client
/// that opens connections and sends nothing cannot hold them (or the
/// server's connection slots) for longer.
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `router` on `listener` until the process ends: HTTP/1.1, at most
/// [`MAX_CONNECTIONS`] at a time, each closed if it sends no complete
/// request head within [`HEADER_READ_TIMEOUT`].
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        // Wait for a free slot before accepting: the kernel's queue holds
        // the rest.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return Ok(());
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: wait, then go on.
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            // A client that goes away is not the server's error.
            let _ = connection.await;
            drop(slot);
        });
    }
}
