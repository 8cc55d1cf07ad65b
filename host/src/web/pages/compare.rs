//! The compare page: 2–10 jobs side by side. Labels and parameters that
//! differ come first and are highlighted; the equal ones are folded away.
//! Then the metrics under the chosen aggregate, the curves overlaid, and
//! the artifacts by name, previewed.

use maud::{Markup, html};
use serde_json::{Value, json};

use super::format::{cell_text, number};
use super::layout::json_script;
use super::preview::thumbnail;
use crate::views::agg::Aggregate;
use crate::views::compare::{Comparison, Row};

fn value_cell(column: &str, v: &Value, differs: bool) -> Markup {
    let mut text = cell_text(v);
    if column == "result" {
        text.truncate(12);
    }
    let exact = match v {
        Value::String(s) => s.clone(),
        Value::Null => "(absent)".to_owned(),
        other => other.to_string(),
    };
    html! { td.diff[differs] title=(exact) { (text) } }
}

fn rows(rows: &[&Row]) -> Markup {
    html! {
        @for r in rows {
            tr.differs[r.differs] data-column=(r.column) {
                th.column title=(r.column) { (r.column) }
                @for v in &r.values { (value_cell(&r.column, v, r.differs)) }
            }
        }
    }
}

/// The page body.
pub fn body(c: &Comparison, agg: Aggregate, list: &str) -> Markup {
    let (differ, equal): (Vec<&Row>, Vec<&Row>) = c.rows.iter().partition(|r| r.differs);
    let mut curves: Vec<&String> = c.jobs.iter().flat_map(|j| &j.curves).collect();
    curves.sort();
    curves.dedup();
    let boot = json!({
        "mode": "compare",
        "jobs": c.jobs.iter().map(|j| j.row.id).collect::<Vec<_>>(),
    });
    let head = html! {
        thead { tr {
            th {}
            @for j in &c.jobs {
                th { a href=(format!("/jobs/{}", j.row.id)) { "job " (j.row.id) } }
            }
        } }
    };
    html! {
        section.compare {
            h1 { "Compare " (c.jobs.len()) " jobs" }
            form.controls method="get" action="/compare" {
                input type="hidden" name="jobs" value=(list);
                label { "metrics as " select.agg name="agg" {
                    @for a in Aggregate::ALL { option value=(a.as_str()) selected[a == agg] { (a.as_str()) } }
                } }
                button type="submit" { "apply" }
            }
            h2 { "Labels and parameters" }
            p.hint { (differ.len()) " differ (highlighted), " (equal.len()) " are the same in every job." }
            div.scroll { table.compare.params {
                (head)
                tbody { (rows(&differ)) }
            } }
            @if !equal.is_empty() {
                details.equal {
                    summary { (equal.len()) " equal columns" }
                    div.scroll { table.compare.equal { tbody { (rows(&equal)) } } }
                }
            }
            h2 { "Metrics" @if agg != Aggregate::Last { " (" (agg) ")" } }
            @if c.metric_names.is_empty() {
                p.empty { "None of these jobs has metrics." }
            } @else {
                div.scroll { table.compare.metrics {
                    (head)
                    tbody { @for name in &c.metric_names {
                        @let values = c.metric(name, agg);
                        @let differs = values.windows(2).any(|w| w[0] != w[1]);
                        tr.differs[differs] data-metric=(name) {
                            th.column { (name) }
                            @for v in &values { @match v {
                                Some(v) => td.num.diff[differs] data-v=(v) title=(v) { (number(*v)) },
                                None => td {},
                            } }
                        }
                    } }
                } }
            }
            @if !curves.is_empty() {
                h2 { "Curves" }
                div.controls { label { "metric " select.curve-metric { @for m in &curves { option value=(m) { (m) } } } } }
                div.chart.curve {}
            }
            h2 { "Artifacts" }
            @if c.artifact_names.is_empty() {
                p.empty { "None of these jobs saved artifacts." }
            } @else {
                div.scroll { table.compare.artifacts {
                    (head)
                    tbody { @for name in &c.artifact_names {
                        tr data-artifact=(name) {
                            th.column { (name) }
                            @for a in c.artifact(name) { td.artifact { @if let Some(a) = a { (thumbnail(name, a)) } } }
                        }
                    } }
                } }
            }
            script.djx-data type="application/json" { (json_script(&boot)) }
        }
    }
}
