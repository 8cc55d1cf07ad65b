//! What can go wrong reading a view: the question is malformed, the store
//! has nothing that answers it, or the store failed. The CLI shows these as
//! they are; the web maps them to 400, 404 and the store's own status.

use crate::store::StoreError;

/// An error of a read model.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// The question is malformed (a short digest, an unknown column).
    #[error("{0}")]
    Invalid(String),
    /// The store holds nothing that answers it.
    #[error("{0}")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
