//! The frame every page shares: head, navigation with a link to the
//! page's JSON twin, and the error page.

use axum::response::Html;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::super::assets;
use super::super::error::WebError;

/// A page: `title`, navigation `crumbs` (text and link) after the home
/// link, the URL of its JSON twin, its body, and whether it draws charts
/// (which loads the chart library and djx's script).
pub fn page(
    title: &str,
    crumbs: &[(String, Option<String>)],
    json: Option<&str>,
    charts: bool,
    body: Markup,
) -> Html<String> {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · djx" }
                link rel="stylesheet" href=(assets::CSS.url());
            }
            body {
                header.top {
                    nav {
                        a.home href="/" { "djx" }
                        @for (text, href) in crumbs {
                            span.sep { "/" }
                            @match href {
                                Some(href) => a href=(href) { (text) },
                                None => span { (text) },
                            }
                        }
                    }
                    @if let Some(json) = json {
                        a.json href=(json) title="the same data as JSON" { "JSON" }
                    }
                }
                main { (body) }
                @if charts {
                    script src=(assets::ECHARTS.url()) {}
                }
                script src=(assets::JS.url()) {}
            }
        }
    };
    Html(markup.into_string())
}

/// The page of an error: what went wrong, in words.
pub fn error_page(error: &WebError) -> Html<String> {
    let body = html! {
        section.error {
            h1 { (error.title()) }
            p.message { (error.to_string()) }
            @if matches!(error, WebError::Unavailable(_)) {
                p { "The server keeps running and reads the store again on the next request: reload this page when the store is back." }
            }
        }
    };
    page(error.title(), &[], None, false, body)
}

/// A JSON value inside `<script type="application/json">`: `<`, `>` and
/// `&` are written as escapes, so no text from the store can end the
/// script element.
pub fn json_script(value: &serde_json::Value) -> PreEscaped<String> {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    PreEscaped(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_in_a_script_cannot_close_it() {
        let v = serde_json::json!({"label": "</script><script>alert(1)</script>&"});
        let text = json_script(&v).0;
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(back, v);
    }
}
