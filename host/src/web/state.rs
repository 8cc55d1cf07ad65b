//! What every request handler shares: the store, the summary and curve
//! caches, the token and where artifacts live.

use crate::content::artifacts::ArtifactStore;
use std::sync::Arc;

use super::access::StoreAccess;
use super::cache::Summaries;
use super::curve_cache::CurveCache;
use super::token::Token;

/// The server's shared state.
pub struct AppState {
    /// The store.
    pub store: Arc<StoreAccess>,
    /// Per-experiment job summaries.
    pub summaries: Summaries,
    /// Curves served lately.
    pub curves: CurveCache,
    /// The access token (`None` with `--no-token`).
    pub token: Option<Token>,
    /// The artifact store (backed by the remote content store, if any).
    pub artifacts: ArtifactStore,
}
