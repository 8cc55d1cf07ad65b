//! Artifact previews: `GET /artifacts/{digest}/preview` (an HTML fragment
//! the pages put in place) and `GET /artifacts/{digest}/view` (an image's
//! bytes, inline, for `<img>`).
//!
//! Neither lets an artifact's own script run in the UI's origin:
//! - HTML, SVG and every other text are previewed as escaped text, never as
//!   markup; an SVG is shown only through `<img>`, where scripts never run.
//! - `view` serves only what the bytes say is a raster image or SVG, with
//!   its own policy: `sandbox` (a document opened directly is in an
//!   opaque origin, with scripts off) and `default-src 'none'`.
//! - downloads are `application/octet-stream`, as attachments.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::artifact::{find, read};
use super::error::{PageError, WebError};
use super::pages::preview::fragment;
use super::state::AppState;
use crate::views::preview::{Kind, MAX_BYTES, Preview, preview};

/// The policy of an artifact shown by itself.
pub const VIEW_POLICY: &str = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox";

/// `GET /artifacts/{digest}/preview`: the artifact's preview as an HTML
/// fragment.
pub async fn html(
    State(state): State<Arc<AppState>>,
    Path(digest): Path<String>,
) -> Result<Html<String>, PageError> {
    let listed = find(&state, &digest).await?;
    let shown = if listed.size > MAX_BYTES {
        Preview::None(format!(
            "{} bytes: too large to preview (the limit is {MAX_BYTES})",
            listed.size
        ))
    } else {
        let bytes = read(&state, &listed, MAX_BYTES).await?;
        let name = listed.name.clone();
        tokio::task::spawn_blocking(move || preview(&name, &bytes))
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?
    };
    Ok(Html(
        fragment(&listed.name, &listed.digest.to_hex(), listed.size, &shown).into_string(),
    ))
}

/// `GET /artifacts/{digest}/view`: a raster image or an SVG, inline, under
/// [`VIEW_POLICY`]; anything else is a 404 that points at the download.
pub async fn view(
    State(state): State<Arc<AppState>>,
    Path(digest): Path<String>,
) -> Result<Response, PageError> {
    let listed = find(&state, &digest).await?;
    let bytes = read(&state, &listed, MAX_BYTES).await?;
    let mime = match Kind::of(&listed.name, &bytes[..bytes.len().min(4096)]) {
        Kind::Image(mime) => mime,
        Kind::Svg => "image/svg+xml",
        _ => {
            return Err(WebError::NotFound(format!(
                "artifact {} is not an image; download it at /artifacts/{}",
                listed.digest, listed.digest
            ))
            .into());
        }
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(VIEW_POLICY),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok(response)
}
