//! What can go wrong serving a request, and how it is answered: a JSON
//! error under `/api`, an HTML page elsewhere, each with its status code.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;
use crate::views::ViewError;

/// An error answered to the browser or a script.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A query parameter or path segment is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// The request carries no valid token (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such experiment, job, artifact or page (404).
    #[error("{0}")]
    NotFound(String),
    /// The artifact is too large to send from here (413).
    #[error("{0}")]
    TooLarge(String),
    /// The store cannot be reached just now (503); the server stays up
    /// and tries again on the next request.
    #[error("the store cannot be reached: {0}")]
    Unavailable(String),
    /// Anything else (500).
    #[error("{0}")]
    Internal(String),
}

impl WebError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short title for the error page.
    pub fn title(&self) -> &'static str {
        match self {
            WebError::BadRequest(_) => "Bad request",
            WebError::Forbidden(_) => "Token required",
            WebError::NotFound(_) => "Not found",
            WebError::TooLarge(_) => "Too large",
            WebError::Unavailable(_) => "Store unavailable",
            WebError::Internal(_) => "Internal error",
        }
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> WebError {
        match e {
            StoreError::NoExperiment(id) => WebError::NotFound(format!("no experiment {id}")),
            StoreError::NoJob(id) => WebError::NotFound(format!("no job {id}")),
            e @ (StoreError::Unavailable(_) | StoreError::Io { .. }) => {
                WebError::Unavailable(e.to_string())
            }
            e if e.is_transient() => WebError::Unavailable(e.to_string()),
            e => WebError::Internal(e.to_string()),
        }
    }
}

impl From<ViewError> for WebError {
    fn from(e: ViewError) -> WebError {
        match e {
            ViewError::Invalid(m) => WebError::BadRequest(m),
            ViewError::NotFound(m) => WebError::NotFound(m),
            ViewError::Store(e) => e.into(),
        }
    }
}

/// A [`WebError`] answered as JSON: `{"error": message, "status": code}`.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(e: E) -> ApiError {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let body = serde_json::json!({"error": self.0.to_string(), "status": status.as_u16()});
        json_response(status, body.to_string())
    }
}

/// A [`WebError`] answered as an HTML page.
#[derive(Debug)]
pub struct PageError(pub WebError);

impl<E: Into<WebError>> From<E> for PageError {
    fn from(e: E) -> PageError {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let page = super::pages::layout::error_page(&self.0);
        (status, page).into_response()
    }
}

/// A JSON body with its content type.
pub fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
