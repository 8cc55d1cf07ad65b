//! The access token: like Jupyter's, a random secret printed in the URL
//! that `djx ui` shows, then kept in a cookie. A login node's loopback
//! interface is shared by all its users; without the token, any of them
//! could read everyone's results.
//!
//! The token may come as `?token=` (the printed URL; a page then sets the
//! cookie and redirects to the same URL without it), as the cookie, or as
//! an `Authorization: token …` header (scripts). It is compared in
//! constant time: both sides are hashed with blake3, whose `Hash`
//! equality is constant-time.

use std::io::Read;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, PageError, WebError};
use super::state::AppState;

/// The secret every request must carry.
#[derive(Clone)]
pub struct Token {
    text: String,
    hash: blake3::Hash,
    cookie: String,
}

impl Token {
    /// A fresh random token (24 bytes from the system's random source),
    /// kept in a cookie named after `port`: cookies are shared by every
    /// port of a host, and two servers must not overwrite each other's.
    pub fn random(port: u16) -> std::io::Result<Token> {
        let mut bytes = [0u8; 24];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Token::new(text, port))
    }

    /// A token with the given text.
    pub fn new(text: String, port: u16) -> Token {
        Token {
            hash: blake3::hash(text.as_bytes()),
            cookie: format!("djx_token_{port}"),
            text,
        }
    }

    /// The token's text, for the printed URL.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether `given` is the token, compared in constant time.
    pub fn matches(&self, given: &str) -> bool {
        blake3::hash(given.as_bytes()) == self.hash
    }
}

/// The middleware: lets a request through only with the token.
pub async fn guard(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let Some(token) = &state.token else {
        return next.run(request).await;
    };
    let query = request.uri().query().unwrap_or("");
    let from_query = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .is_some_and(|given| token.matches(given));
    let from_cookie = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .any(|(name, value)| name == token.cookie && token.matches(value));
    let from_header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("token ")
                .or_else(|| v.strip_prefix("Bearer "))
        })
        .is_some_and(|given| token.matches(given.trim()));
    let path = request.uri().path().to_owned();
    let is_api = path.starts_with("/api/");
    if !(from_query || from_cookie || from_header) {
        let error = WebError::Forbidden(
            "this djx ui needs its token: open the URL that `djx ui` printed \
             (it ends in ?token=…), or send the header `Authorization: token …`"
                .into(),
        );
        return if is_api {
            ApiError(error).into_response()
        } else {
            PageError(error).into_response()
        };
    }
    if !from_query || from_cookie {
        return next.run(request).await;
    }
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Strict",
        token.cookie, token.text
    );
    let cookie = HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static(""));
    // A page opened from the printed URL: keep the token in the cookie and
    // take it out of the address bar (and of the history).
    let mut response = if request.method() == Method::GET && !is_api {
        let rest: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.starts_with("token=") && !pair.is_empty())
            .collect();
        let location = local_location(&path, &rest);
        let mut redirect = StatusCode::SEE_OTHER.into_response();
        if let Ok(location) = HeaderValue::from_str(&location) {
            redirect.headers_mut().insert(header::LOCATION, location);
        }
        redirect
    } else {
        next.run(request).await
    };
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// Where the redirect that drops the token goes: this server's `path`
/// with the rest of the query. A path that a browser would read as another
/// host (`//evil.example/`, `/\\evil.example/`) becomes a single `/`, so
/// the redirect never leaves the server.
fn local_location(path: &str, rest: &[&str]) -> String {
    let path = if path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\") {
        path
    } else {
        "/"
    };
    if rest.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", rest.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 21: `GET //evil.example/?token=…` redirected to
    /// `//evil.example/`, which a browser reads as another host.
    #[test]
    fn the_token_redirect_stays_on_this_server() {
        assert_eq!(local_location("//evil.example/", &[]), "/");
        assert_eq!(local_location("/\\evil.example/", &["a=1"]), "/?a=1");
        assert_eq!(local_location("evil", &[]), "/");
        assert_eq!(
            local_location("/experiments/1", &["sort=id"]),
            "/experiments/1?sort=id"
        );
    }

    #[test]
    fn random_tokens_differ_and_match_themselves() {
        let a = Token::random(8470).expect("token");
        let b = Token::random(8470).expect("token");
        assert_eq!(a.text().len(), 48);
        assert_ne!(a.text(), b.text());
        assert!(a.matches(a.text()));
        assert!(!a.matches(b.text()));
        assert!(!a.matches(""));
    }
}
