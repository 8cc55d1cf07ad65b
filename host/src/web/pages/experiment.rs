//! The experiment page: its facts and job counts, the plots, and the job
//! table (which the page's script pages, sorts and refreshes in place).

use maud::{Markup, html};
use serde_json::{Value, json};

use super::super::plot::plot_data;
use super::super::query::JobsQuery;
use super::super::scope::Scope;
use super::super::table::{Page, page};
use super::format::{cell, duration_ms, number, when};
use super::layout::json_script;
use crate::store::{JobStatus, StatusCounts};
use crate::views::agg::Aggregate;
use crate::views::summary::Summary;

/// Where the table is drawn.
#[derive(Clone, Copy)]
pub enum Mode<'a> {
    /// The live page at this path (`/experiments/1`): sort, filter and page
    /// links go back to the server.
    Live(&'a str),
    /// A report: every row, sorted and filtered by the page's script.
    Report,
}

/// The experiment's facts and counts.
pub fn header(summary: &Summary, links: bool) -> Markup {
    let exp = &summary.experiment;
    let locked = &exp.locked;
    let lineage = |digest: &crate::content::digest::Digest| -> Markup {
        let code = html! { code.digest title=(digest) { (short(&digest.to_hex())) } };
        if links {
            html! { a href=(format!("/lineage/{digest}")) { (code) } }
        } else {
            code
        }
    };
    html! {
        h1 { (locked.name) }
        @if let Some(project) = &locked.project { p.project { (project) } }
        @if let Some(description) = &locked.description { p.description { (description) } }
        dl.facts {
            dt { "experiment" } dd { (exp.id) }
            dt { "created" } dd { (when(&exp.created_at)) }
            dt { "file" } dd { (locked.source_path) " " code.digest title=(locked.source_digest) { (short(&locked.source_digest.to_hex())) } }
            dt { "module" } dd { (lineage(&locked.module_digest)) }
            @for d in &locked.datasets {
                dt { (d.role()) } dd { (d.name) " " (lineage(&d.digest)) }
            }
            dt { "engine" } dd { (locked.engine.to_string()) }
            @if let Some(git) = &locked.provenance.experiment_git { dt { "git" } dd { (git.to_string()) } }
        }
        (counts(&summary.counts))
    }
}

/// The job counts by status, which the page's script keeps current.
pub fn counts(c: &StatusCounts) -> Markup {
    let total = c.total().max(1) as f64;
    let share = |n: u64| format!("width: {:.3}%", n as f64 * 100.0 / total);
    html! {
        div.counts {
            span.count.total { span data-count="total" { (c.total()) } " jobs" }
            @for (status, n) in [(JobStatus::Finished, c.finished), (JobStatus::Failed, c.failed), (JobStatus::Assigned, c.assigned), (JobStatus::Unassigned, c.unassigned)] {
                span class=(format!("count status {status}")) { span data-count=(status.as_str().to_lowercase()) { (n) } " " (status.as_str().to_lowercase()) }
            }
        }
        div.progress {
            span.bar.FINISHED data-bar="finished" style=(share(c.finished)) {}
            span.bar.FAILED data-bar="failed" style=(share(c.failed)) {}
            span.bar.ASSIGNED data-bar="assigned" style=(share(c.assigned)) {}
        }
    }
}

/// The first 12 characters of a digest.
pub fn short(hex: &str) -> &str {
    hex.get(..12).unwrap_or(hex)
}

/// The plots' places and controls; the script draws into them.
pub fn plots(summary: &Summary, agg: Aggregate) -> Markup {
    let default = summary.default_metric();
    let curve_metrics: Vec<usize> = summary.curve_metrics().collect();
    html! {
        @if summary.metrics.is_empty() {
            p.empty { "No metrics yet: plots appear when jobs finish with records that carry metrics." }
        }
        section.plots hidden[summary.metrics.is_empty()] {
            div.controls {
                label { "metric " select.metric {
                    @for &m in &summary.metric_order {
                        option value=(summary.metrics[m].name) selected[Some(m) == default] { (summary.metrics[m].name) }
                    }
                } }
                label { " aggregate " (agg_select(agg)) }
            }
            @if !summary.dims.is_empty() {
                h2 { "By grid dimension" }
                div.dims {}
            }
            h2 { "Parallel coordinates" }
            div.chart.parallel {}
            section.curves hidden[curve_metrics.is_empty()] {
                h2 { "Curves" }
                div.controls {
                    label { "metric " select.curve-metric {
                        @for &m in &curve_metrics {
                            option value=(summary.metrics[m].name) { (summary.metrics[m].name) }
                        }
                    } }
                    span.hint { " the jobs ticked in the table, overlaid; downsampled on the server" }
                }
                div.chart.curve {}
            }
        }
    }
}

fn agg_select(agg: Aggregate) -> Markup {
    html! {
        select.agg name="agg" {
            @for a in Aggregate::ALL {
                option value=(a.as_str()) selected[a == agg] { (a.as_str()) }
            }
        }
    }
}

/// The data the page's script starts from.
pub fn boot_data(summary: &Summary, query: &JobsQuery, scope: &Scope) -> Value {
    let agg = query.agg;
    let single = matches!(scope, Scope::Experiment(_));
    json!({
        "id": summary.experiment.id,
        "mode": "live",
        "group": query.group,
        "spread": query.spread,
        "jobs": summary.counts,
        "api": scope.api(),
        "table": format!("{}/table", scope.path()),
        // A project's page has no gallery.
        "gallery": single,
        "plot": plot_data(summary, None, agg, false).unwrap_or(Value::Null),
    })
}

/// A project's header: its name and its experiments, with their counts.
pub fn project_header(name: &str, summary: &Summary) -> Markup {
    html! {
        h1 { (name) }
        p.project { "project: " (summary.experiments.len()) " experiments, one table" }
        table.small.project-experiments {
            thead { tr { th { "experiment" } th { "name" } th { "created" } } }
            tbody { @for e in &summary.experiments {
                tr data-exp=(e.id) {
                    td.num { a href=(format!("/experiments/{}", e.id)) { (e.id) } }
                    td { (e.locked.name) }
                    td { (when(&e.created_at)) }
                }
            } }
        }
        (counts(&summary.counts))
    }
}

/// The whole experiment (or project) page body.
pub fn body(
    summary: &Summary,
    query: &JobsQuery,
    scope: &Scope,
) -> Result<Markup, super::super::error::WebError> {
    let path = scope.path();
    let jobs = jobs_section(summary, query, Mode::Live(&path))?;
    Ok(html! {
        section.experiment data-exp=(summary.experiment.id) {
            @match scope {
                Scope::Project(name) => (project_header(name, summary)),
                Scope::Experiment(_) => (header(summary, true)),
            }
            (plots(summary, query.agg))
            section.jobs { (jobs) }
            @if matches!(scope, Scope::Experiment(_)) {
                section.gallery hidden {
                    h2 { "Artifacts" }
                    div.controls {
                        label { "artifact " select.gallery-name {} }
                        label { input.gallery-ticked type="checkbox"; " only the ticked jobs" }
                        span.hint { " the artifact of one name across jobs, side by side" }
                    }
                    div.gallery-items {}
                }
            }
            script.djx-data type="application/json" { (json_script(&boot_data(summary, query, scope))) }
        }
    })
}

/// The job table with its filters and pager (live), or all of it (report).
pub fn table(summary: &Summary, query: &JobsQuery, page: &Page<'_>, mode: Mode<'_>) -> Markup {
    let links = Links { query, mode };
    html! {
        (filter_form(summary, &links))
        (pager(&links, page))
        div.scroll {
        table.jobs {
            (table_head(summary, &links))
            (table_body(summary, query, page, mode))
        }
        }
    }
}

/// The table section: one row per job, or per group when `query.group`
/// names columns.
pub fn jobs_section(
    summary: &Summary,
    query: &JobsQuery,
    mode: Mode<'_>,
) -> Result<Markup, super::super::error::WebError> {
    if query.group.is_empty() {
        let page = page(summary, query)?;
        return Ok(table(summary, query, &page, mode));
    }
    let links = Links { query, mode };
    Ok(html! {
        (filter_form(summary, &links))
        (super::groups::table(summary, query, mode)?)
    })
}

/// Links of the live table: the same query with one change.
struct Links<'a> {
    query: &'a JobsQuery,
    mode: Mode<'a>,
}

impl Links<'_> {
    /// The page with `change` made to its query (nothing in a report).
    fn link(&self, change: &dyn Fn(&mut JobsQuery)) -> String {
        let Mode::Live(path) = self.mode else {
            return String::new();
        };
        let mut q = self.query.clone();
        change(&mut q);
        let text = q.to_query();
        if text.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{text}")
        }
    }

    /// Sorting by `column`: ascending, or descending when it is already
    /// sorted ascending.
    fn sort_link(&self, column: &str) -> String {
        self.link(&|q: &mut JobsQuery| {
            let desc = q
                .sort
                .as_ref()
                .is_some_and(|s| s.column == column && !s.desc);
            q.sort = Some(crate::web::query::Sort {
                column: column.to_owned(),
                desc,
            });
            q.offset = 0;
        })
    }

    /// The arrow of the sorted column.
    fn arrow(&self, column: &str) -> &'static str {
        match &self.query.sort {
            Some(s) if s.column == column => {
                if s.desc {
                    " ▼"
                } else {
                    " ▲"
                }
            }
            _ => "",
        }
    }

    /// A column's header: a sort link (live) or its name (report).
    fn header(&self, column: &str, text: &str, numeric: bool) -> Markup {
        html! {
            th title=(column) data-col=(column) data-type=(if numeric { "num" } else { "text" }) {
                @match self.mode {
                    Mode::Live(_) => a data-nav href=(self.sort_link(column)) { (text) (self.arrow(column)) },
                    Mode::Report => span.sort { (text) },
                }
            }
        }
    }
}

/// The filters, the group-by choices and the aggregate (live), or the
/// report's row filter.
fn filter_form(summary: &Summary, links: &Links<'_>) -> Markup {
    let query = links.query;
    let link = |change: &dyn Fn(&mut JobsQuery)| links.link(change);
    html! {
        @if let Mode::Live(path) = links.mode {
            form.filters method="get" action=(path) {
                @for (i, f) in query.filters.iter().enumerate() {
                    span.filter {
                        input type="hidden" name="filter" value=(f.text());
                        code { (f.text()) }
                        a data-nav title="remove this filter" href=(link(&|q: &mut JobsQuery| { q.filters.remove(i); q.offset = 0; })) { "×" }
                    }
                }
                input.add type="text" name="filter" placeholder="add a filter: status=FINISHED, labels.max_depth>=4, metrics.loss<0.1";
                @if let Some(sort) = &query.sort { input type="hidden" name="sort" value=(sort.text()); }
                @if query.limit != crate::web::query::DEFAULT_LIMIT { input type="hidden" name="limit" value=(query.limit); }
                label { " aggregate " (agg_select(query.agg)) }
                button type="submit" { "apply" }
                div.group-controls { (super::groups::chooser(summary, query)) }
            }
        } @else {
            div.filters { input.report-filter type="search" placeholder="filter rows: any text in the row"; span.shown {} }
        }
    }
}

/// The pager of the live table.
fn pager(links: &Links<'_>, page: &Page<'_>) -> Markup {
    let query = links.query;
    let link = |change: &dyn Fn(&mut JobsQuery)| links.link(change);
    let first = query.offset + 1;
    let last = query.offset + page.rows.len();
    html! {
        @if let Mode::Live(_) = links.mode {
            p.pager {
                @if page.rows.is_empty() { "no jobs" } @else { "jobs " (first) "–" (last) " of " (page.matched) }
                @if page.matched != page.total { " (" (page.total) " in all)" }
                @if query.offset > 0 {
                    " " a data-nav rel="prev" href=(link(&|q: &mut JobsQuery| q.offset = q.offset.saturating_sub(q.limit))) { "← previous" }
                }
                @if last < page.matched {
                    " " a data-nav rel="next" href=(link(&|q: &mut JobsQuery| q.offset += q.limit)) { "next →" }
                }
                @if page.rows.len() > 1 {
                    " " button.compare type="button" disabled title="tick two to ten jobs in the table" { "compare ticked jobs" }
                }
            }
        }
    }
}

/// The table's two header rows: column groups, then columns.
fn table_head(summary: &Summary, links: &Links<'_>) -> Markup {
    let query = links.query;
    let has_ticks = ticks(summary, links.mode);
    let header = |column: &str, text: &str, numeric: bool| links.header(column, text, numeric);
    html! {
            thead {
            tr.groups {
                th colspan=(1 + usize::from(has_ticks) + usize::from(!summary.experiments.is_empty())) {}
                @if !summary.columns.labels.is_empty() { th.group colspan=(summary.columns.labels.len()) { "labels" } }
                @if !summary.columns.params.is_empty() { th.group colspan=(summary.columns.params.len()) { "parameters" } }
                th colspan="2" {}
                @if !summary.metrics.is_empty() { th.group colspan=(summary.metrics.len()) { "metrics" @if query.agg != Aggregate::Last { " (" (query.agg) ")" } } }
                th colspan="2" { "digests" }
            }
            tr {
                @if has_ticks { th.tick title="tick jobs to compare them or overlay their curves" { "✓" } }
                (header("id", "id", true))
                @if !summary.experiments.is_empty() { (header("experiment", "experiment", true)) }
                @for path in &summary.columns.labels {
                    (header(path, path.strip_prefix("labels.").unwrap_or(path), false))
                }
                @for path in &summary.columns.params {
                    (header(path, path.strip_prefix("parameter.").unwrap_or(path), false))
                }
                (header("status", "status", false))
                (header("duration_ms", "duration", true))
                @for &m in &summary.metric_order {
                    @let name = &summary.metrics[m].name;
                    (header(&format!("metrics.{name}"), name, true))
                }
                th title="job key" { "key" }
                th title="result digest" { "result" }
            }
            }
    }
}

/// Whether the table has a tick column: always live (to compare jobs and
/// overlay curves), in a report only for curves.
fn ticks(summary: &Summary, mode: Mode<'_>) -> bool {
    matches!(mode, Mode::Live(_)) || summary.curve_metrics().next().is_some()
}

/// One row per job of the page.
fn table_body(summary: &Summary, query: &JobsQuery, page: &Page<'_>, mode: Mode<'_>) -> Markup {
    let has_ticks = ticks(summary, mode);
    let report = matches!(mode, Mode::Report);
    html! {
            tbody {
                @for job in &page.rows {
                    @let row = &job.row;
                    tr data-job=(row.id) data-status=(row.status.as_str()) {
                        @if has_ticks {
                            td.tick { input.tick type="checkbox" data-job=(row.id) data-finished[row.status == JobStatus::Finished] title="tick to compare, or to overlay its curves"; }
                        }
                        td.num data-v=(row.id) { @if report { (row.id) } @else { a href=(format!("/jobs/{}", row.id)) { (row.id) } } }
                        @if !summary.experiments.is_empty() {
                            td.num data-v=(row.experiment_id) { a href=(format!("/experiments/{}", row.experiment_id)) { (row.experiment_id) } }
                        }
                        @for value in &job.cells { (cell(value)) }
                        td { span class=(format!("status {}", row.status)) { (row.status.as_str()) } }
                        @match row.cached_from {
                            Some(source) => td.num data-v=(row.duration_ms.unwrap_or(0)) { "cached from " @if report { (source) } @else { a href=(format!("/jobs/{source}")) { (source) } } },
                            None => td.num data-v=(row.duration_ms.map_or(String::new(), |d| d.to_string())) { (duration_ms(row.duration_ms)) },
                        }
                        @for &m in &summary.metric_order {
                            @match job.value(m, query.agg) {
                                Some(v) => td.num data-v=(v) title=(v) { (number(v)) },
                                None => td {},
                            }
                        }
                        td { @if let Some(key) = &row.key { code.digest title=(key) { @if report { (key) } @else { (short(&key.to_hex())) } } } }
                        td { @if let Some(d) = &row.result_digest { code.digest title=(d) { @if report { (d) } @else { (short(&d.to_hex())) } } } }
                    }
                }
            }
    }
}

/// The query string of a page's JSON twin for the table.
pub fn jobs_api(scope: &Scope, query: &JobsQuery) -> String {
    let q = query.to_query();
    if q.is_empty() {
        format!("{}/jobs", scope.api())
    } else {
        format!("{}/jobs?{q}", scope.api())
    }
}
