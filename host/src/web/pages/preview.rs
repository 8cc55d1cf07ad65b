//! How an artifact preview is drawn: a placeholder the page's script fills
//! from `/artifacts/{digest}/preview` (a download link without script), and
//! the fragment itself.

use maud::{Markup, html};

use crate::records::ArtifactInfo;
use crate::views::preview::{Preview, TABLE_ROWS, TEXT_BYTES};

/// An artifact's place on a page: its name, size and download link, and
/// its preview once the script has fetched it.
pub fn thumbnail(name: &str, a: &ArtifactInfo) -> Markup {
    html! {
        div.preview data-src=(format!("/artifacts/{}/preview", a.digest)) {
            a.download href=(format!("/artifacts/{}", a.digest)) title="download (checked against its digest)" { (name) } " "
            span.size { (bytes(a.size)) }
        }
    }
}

/// A size for people.
pub fn bytes(n: u64) -> String {
    match n {
        n if n < 1 << 10 => format!("{n} B"),
        n if n < 1 << 20 => format!("{:.1} KiB", n as f64 / 1024.0),
        n if n < 1 << 30 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n => format!("{:.2} GiB", n as f64 / (1u64 << 30) as f64),
    }
}

/// The preview fragment of artifact `name` (`digest`, `size` bytes).
pub fn fragment(name: &str, digest: &str, size: u64, preview: &Preview) -> Markup {
    let download = format!("/artifacts/{digest}");
    html! {
        div.preview-body data-kind=(kind(preview)) {
            p.artifact-head {
                a.download href=(download) title="download (checked against its digest)" { (name) } " "
                span.size { (bytes(size)) }
            }
            @match preview {
                Preview::Image(_) | Preview::Svg => {
                    img.artifact src=(format!("/artifacts/{digest}/view")) alt=(name) loading="lazy";
                }
                Preview::Table { columns, rows, more } => {
                    div.scroll.table-preview { table.small.preview {
                        thead { tr { @for c in columns { th { (c) } } } }
                        tbody { @for r in rows { tr { @for v in r { td { (v) } } } } }
                    } }
                    @if *more { p.hint { "the first " (TABLE_ROWS) " rows" } }
                }
                Preview::Json(text) => { pre.preview.json { (text) } }
                Preview::Text { text, more } => {
                    pre.preview.text { (text) }
                    @if *more { p.hint { "the first " (TEXT_BYTES / 1024) " KiB" } }
                }
                Preview::None(why) => { p.hint { "no preview (" (why) "): download it" } }
            }
        }
    }
}

fn kind(p: &Preview) -> &'static str {
    match p {
        Preview::Image(_) => "image",
        Preview::Svg => "svg",
        Preview::Table { .. } => "table",
        Preview::Json(_) => "json",
        Preview::Text { .. } => "text",
        Preview::None(_) => "none",
    }
}
