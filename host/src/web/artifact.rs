//! Artifact downloads: by digest only. The digest must name an artifact
//! the store lists (no path from a request reaches the file system), and
//! the bytes are hashed again before they are sent.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::error::{PageError, WebError};
use super::state::AppState;
use crate::content::artifacts::{ArtifactStore, ArtifactStoreError};
use crate::content::digest::Digest;
use crate::content::remote::PackRef;

/// The largest artifact sent (it is read whole to check its digest);
/// `djx artifact get` copies larger ones.
pub const MAX_BYTES: u64 = 256 << 20;

/// An artifact the store lists: its name (the first one it was saved
/// under), its digest and its size.
pub struct Listed {
    /// The name it was saved under.
    pub name: String,
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    packed: Option<PackRef>,
}

/// Finds artifact `digest` (a path segment) in the store: a 400 if it is no
/// digest, a 404 if no job saved it.
pub async fn find(state: &AppState, digest: &str) -> Result<Listed, WebError> {
    let digest: Digest = digest.parse().map_err(|_| {
        WebError::BadRequest(format!(
            "{digest:?} is not an artifact digest (64 lowercase hex characters)"
        ))
    })?;
    let hex = digest.to_hex();
    let uses = state
        .store
        .run(move |store| Ok(store.artifact_uses(&hex)?))
        .await?;
    let Some(used) = uses.iter().find(|u| u.digest == digest) else {
        return Err(WebError::NotFound(format!(
            "no artifact {digest} is in the store"
        )));
    };
    let name = used.name.clone();
    let packed = match state.artifacts.remote().is_some() && !state.artifacts.contains(&digest) {
        true => {
            state
                .store
                .run(move |store| Ok(store.artifact_pack(&digest)?))
                .await?
        }
        false => None,
    };
    let size = match packed {
        Some(at) => at.len,
        None => used.size,
    };
    Ok(Listed {
        name,
        digest,
        size,
        packed,
    })
}

/// The bytes of `listed`, checked against its digest; a 413 when it is
/// larger than `max`.
pub async fn read(state: &AppState, listed: &Listed, max: u64) -> Result<Vec<u8>, WebError> {
    if listed.size > max {
        return Err(WebError::TooLarge(format!(
            "artifact {} is {} bytes, more than the {max} this page reads; \
             use `djx artifact get {} -o FILE`",
            listed.digest, listed.size, listed.digest
        )));
    }
    let store = state.artifacts.clone();
    let (digest, packed) = (listed.digest, listed.packed);
    tokio::task::spawn_blocking(move || read_checked(&store, &digest, packed))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
}

/// `GET /artifacts/{digest}`.
pub async fn download(
    State(state): State<Arc<AppState>>,
    Path(digest): Path<String>,
) -> Result<Response, PageError> {
    let listed = find(&state, &digest).await?;
    let bytes = read(&state, &listed, MAX_BYTES).await?;
    let (name, digest) = (listed.name, listed.digest);
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let file: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&digest.to_hex()) {
        headers.insert("x-djx-digest", v);
    }
    Ok(response)
}

/// The artifact's bytes, after checking they still hash to `digest`.
fn read_checked(
    store: &ArtifactStore,
    digest: &Digest,
    packed: Option<PackRef>,
) -> Result<Vec<u8>, WebError> {
    store.get_from(digest, packed).map_err(|e| match e {
        ArtifactStoreError::Missing { .. } => WebError::NotFound(format!(
            "artifact {digest} is listed in the store, but its file is missing: {e}"
        )),
        ArtifactStoreError::Corrupt { .. } => {
            WebError::Internal(format!("{e}; not sent (run `djx fsck`)"))
        }
        other => WebError::Internal(other.to_string()),
    })
}
