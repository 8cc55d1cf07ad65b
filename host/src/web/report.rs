//! `djx report`: experiment pages as one self-contained HTML file. The
//! data, the script, the chart library and the styles are all inline, so
//! the file makes no network request and works from `file://` on a
//! machine with no network. It shows the table and plots of the live page,
//! and each job's key and result digest, which `djx verify` confirms.

use base64::Engine as _;
use maud::{DOCTYPE, PreEscaped, html};
use serde_json::{Map, Value, json};
use sha2::Digest as _;

use super::assets;
use super::error::WebError;
use super::groups::{grouping, grouping_json};
use super::pages::experiment::{Mode, header, plots, table};
use super::pages::groups;
use super::pages::layout::json_script;
use super::plot::plot_data;
use super::query::JobsQuery;
use super::table::page;
use crate::store::{AttemptRow, JobStatus, Store};
use crate::views::agg::Aggregate;
use crate::views::curve;
use crate::views::groups::{Spread, repetition_dims};
use crate::views::summary::Summary;

/// Curves a report carries per metric (the first finished jobs that have
/// one), and points per curve.
const REPORT_CURVES: usize = 5;
const REPORT_POINTS: usize = 1000;

/// The report of experiments `ids`, as HTML text; `group_by` names the
/// columns of the grouped view (empty: the dimensions that are not
/// repetitions, when some are).
pub fn render(store: &dyn Store, ids: &[i64], group_by: &[String]) -> Result<String, WebError> {
    let mut sections = Vec::new();
    let mut names = Vec::new();
    for &id in ids {
        let summary = Summary::build(store, id)?;
        names.push(summary.experiment.locked.name.clone());
        sections.push(section(store, &summary, group_by)?);
    }
    let title = names.join(", ");
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="Content-Security-Policy"
                    content=(content_security_policy(&[assets::ECHARTS.body, assets::JS.body]));
                title { (title) " · djx report" }
                style { (PreEscaped(assets::CSS.body)) }
            }
            body.report {
                header.top {
                    nav { span.home { "djx" } span.sep { "/" } span { "report" } }
                    span.generated { "made by djx " (env!("CARGO_PKG_VERSION")) " at " (crate::store::timestamp::now_text()) }
                }
                main { @for s in &sections { (s) } }
                script { (PreEscaped(assets::ECHARTS.body)) }
                script { (PreEscaped(assets::JS.body)) }
            }
        }
    };
    Ok(markup.into_string())
}

/// The report's Content-Security-Policy: its own two scripts, by their
/// SHA-256 hashes, and no other. No inline event handler runs (there is no
/// `'unsafe-inline'` or `'unsafe-hashes'` for scripts), nothing is fetched
/// (`default-src 'none'`), and a form or `<base>` cannot send the reader
/// elsewhere. The JSON data blocks are not scripts and need no hash.
pub fn content_security_policy(scripts: &[&str]) -> String {
    let hashes: Vec<String> = scripts
        .iter()
        .map(|script| {
            let hash = sha2::Sha256::digest(script.as_bytes());
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(hash)
            )
        })
        .collect();
    format!(
        "default-src 'none'; script-src {}; style-src 'unsafe-inline'; img-src data:; \
         base-uri 'none'; form-action 'none'",
        hashes.join(" ")
    )
}

/// One experiment's section: header, plots, the grouped view, every job,
/// and the data.
fn section(
    store: &dyn Store,
    summary: &Summary,
    group_by: &[String],
) -> Result<maud::Markup, WebError> {
    let query = JobsQuery {
        limit: usize::MAX,
        ..JobsQuery::default()
    };
    let rows = page(summary, &query)?;
    let by = report_grouping(summary, group_by);
    let mut boot = json!({
        "id": summary.experiment.id,
        "mode": "report",
        "plot": plot_data(summary, None, Aggregate::default(), true)?,
        "curves": curves(store, summary)?,
    });
    let grouped = match &by {
        Some((by, over)) => {
            let mut by_agg = Map::new();
            for agg in Aggregate::ALL {
                let g = grouping(summary, by, agg, &[])?;
                by_agg.insert(
                    agg.to_string(),
                    grouping_json(summary, &g, None, Spread::default()),
                );
            }
            if let Value::Object(map) = &mut boot {
                map.insert("group".into(), json!(by));
                map.insert("groups".into(), Value::Object(by_agg));
            }
            let grouped_query = JobsQuery {
                group: by.clone(),
                ..query.clone()
            };
            Some(html! {
                section.grouped {
                    h2 { "Grouped by " (by.join(", ")) @if !over.is_empty() { ": each group over " (over.join(", ")) } }
                    div.controls { label { "error bars " select.spread {
                        @for s in Spread::ALL { option value=(s.as_str()) { (s.as_str()) } }
                    } } }
                    div.dims.grouped {}
                    (groups::table(summary, &grouped_query, Mode::Report)?)
                }
            })
        }
        None => None,
    };
    Ok(html! {
        section.experiment data-exp=(summary.experiment.id) {
            (header(summary, false))
            (plots(summary, Aggregate::default()))
            @if let Some(grouped) = grouped { (grouped) }
            section.jobs { (table(summary, &query, &rows, Mode::Report)) }
            script.djx-data type="application/json" { (json_script(&boot)) }
        }
    })
}

/// The report's grouping: `group_by` if given, else the dimensions that are
/// not repetitions when some are; with the dimensions aggregated over.
fn report_grouping(summary: &Summary, group_by: &[String]) -> Option<(Vec<String>, Vec<String>)> {
    let by: Vec<String> = if group_by.is_empty() {
        let reps = repetition_dims(summary);
        if reps.is_empty() {
            return None;
        }
        summary
            .dims
            .iter()
            .filter(|d| !reps.contains(d))
            .cloned()
            .collect()
    } else {
        group_by.to_vec()
    };
    if by.is_empty() {
        return None;
    }
    let over = summary
        .dims
        .iter()
        .filter(|d| !by.contains(d))
        .cloned()
        .collect();
    Some((by, over))
}

/// For each metric with curves, the downsampled curves of the first
/// finished jobs that have one: `{metric: {job id: curve}}`.
fn curves(store: &dyn Store, summary: &Summary) -> Result<Value, WebError> {
    let mut out = Map::new();
    for m in summary.curve_metrics() {
        let name = &summary.metrics[m].name;
        let mut by_job = Map::new();
        let jobs = summary
            .jobs
            .iter()
            .filter(|j| j.row.status == JobStatus::Finished)
            .filter(|j| j.metric(m).is_some_and(|a| a.stepped > 1))
            .take(REPORT_CURVES);
        for job in jobs {
            let attempts = store.attempts(job.row.id)?;
            let Some(result) = attempts
                .iter()
                .find(|a| a.attempt == job.row.attempt)
                .map(AttemptRow::result_attempt)
            else {
                continue;
            };
            let c = curve::read(store, job.row.id, result, name, None, REPORT_POINTS)?;
            by_job.insert(job.row.id.to_string(), json!(c));
        }
        out.insert(name.clone(), Value::Object(by_job));
    }
    Ok(Value::Object(out))
}
