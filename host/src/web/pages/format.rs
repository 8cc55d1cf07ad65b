//! A value in an HTML table cell; the text of values is [`crate::views::format`]'s.

use maud::{Markup, html};
use serde_json::Value;

pub use crate::views::format::{cell_text, duration_ms, number, when};

/// A value in a table cell, numbers right-aligned, the exact value in the
/// tooltip.
pub fn cell(value: &Value) -> Markup {
    match value {
        Value::Number(n) => {
            html! { td.num data-v=(n.to_string()) title=(n.to_string()) { (cell_text(value)) } }
        }
        _ => html! { td { (cell_text(value)) } },
    }
}
