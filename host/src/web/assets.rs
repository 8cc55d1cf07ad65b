//! The page assets, built into the binary: the style sheet, djx's script,
//! and the vendored chart library (Apache ECharts, one pinned minified
//! file; `assets/vendor/refresh.sh` updates it from the npm registry).
//! Each is served under a URL carrying its digest, so browsers may cache
//! it for good.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One embedded file.
pub struct Asset {
    /// Its name under `/assets/`.
    pub name: &'static str,
    /// Its media type.
    pub content_type: &'static str,
    /// Its text.
    pub body: &'static str,
    version: OnceLock<String>,
}

impl Asset {
    const fn new(name: &'static str, content_type: &'static str, body: &'static str) -> Asset {
        Asset {
            name,
            content_type,
            body,
            version: OnceLock::new(),
        }
    }

    /// Its URL, with a digest of its text so a new build is fetched anew.
    pub fn url(&self) -> String {
        let version = self
            .version
            .get_or_init(|| blake3::hash(self.body.as_bytes()).to_hex()[..12].to_owned());
        format!("/assets/{}?v={version}", self.name)
    }
}

/// djx's style sheet.
pub static CSS: Asset = Asset::new(
    "djx.css",
    "text/css; charset=utf-8",
    include_str!("assets/djx.css"),
);
/// djx's script: the live table, the plots and the report's table.
pub static JS: Asset = Asset::new(
    "djx.js",
    "text/javascript; charset=utf-8",
    include_str!("assets/djx.js"),
);
/// Apache ECharts 6.1.0 (`dist/echarts.min.js` of the npm package).
pub static ECHARTS: Asset = Asset::new(
    "echarts.min.js",
    "text/javascript; charset=utf-8",
    include_str!("assets/vendor/echarts.min.js"),
);

/// `GET /assets/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    let Some(asset) = [&CSS, &JS, &ECHARTS].into_iter().find(|a| a.name == name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}
