//! The experiment page's grouped table: one row per group of the chosen
//! dimensions, with how many jobs it has and, for each metric, n, mean and
//! standard deviation over them. Each group links to its jobs.

use maud::{Markup, html};

use super::super::error::WebError;
use super::super::groups::grouping;
use super::super::query::{Filter, JobsQuery, Op, Sort};
use super::experiment::Mode;
use super::format::{cell, cell_text, number};
use crate::views::agg::Aggregate;
use crate::views::groups::Spread;
use crate::views::summary::Summary;

/// The columns a reader may group by: the grid's dimensions, then the
/// other label and parameter columns.
pub fn groupable(summary: &Summary) -> Vec<&String> {
    let mut out: Vec<&String> = summary.dims.iter().collect();
    for c in summary.columns.cells() {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// The group-by choices: a checkbox per column, and the error bars.
pub fn chooser(summary: &Summary, query: &JobsQuery) -> Markup {
    html! {
        span.group-by {
            "group by "
            @for path in groupable(summary) {
                label.group-col title=(path) {
                    input type="checkbox" name="group" value=(path) checked[query.group.contains(path)];
                    (path.strip_prefix("labels.").or_else(|| path.strip_prefix("parameter.")).unwrap_or(path))
                }
            }
            label { " error bars " select.spread name="spread" {
                @for s in Spread::ALL {
                    option value=(s.as_str()) selected[s == query.spread] { (spread_text(s)) }
                }
            } }
        }
    }
}

fn spread_text(s: Spread) -> &'static str {
    match s {
        Spread::Std => "± standard deviation",
        Spread::Sem => "± standard error",
        Spread::MinMax => "min – max",
    }
}

/// The grouped table of `summary` under `query` (`query.group` is not
/// empty).
pub fn table(summary: &Summary, query: &JobsQuery, mode: Mode<'_>) -> Result<Markup, WebError> {
    let g = grouping(summary, &query.group, query.agg, &query.filters)?;
    // Each group's jobs: the filters, and the group's own values.
    let link = |key: &[serde_json::Value]| -> String {
        let Mode::Live(path) = mode else {
            return String::new();
        };
        let mut q = JobsQuery {
            agg: query.agg,
            filters: query.filters.clone(),
            sort: query.sort.clone().or(Some(Sort {
                column: "id".into(),
                desc: false,
            })),
            ..JobsQuery::default()
        };
        for (d, v) in g.by.iter().zip(key) {
            q.filters.push(Filter {
                column: d.path.clone(),
                op: Op::Eq,
                value: match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            });
        }
        format!("{path}?{}", q.to_query())
    };
    let agg = (query.agg != Aggregate::Last).then(|| format!(" ({})", query.agg));
    Ok(html! {
        p.pager {
            (g.groups.len()) " groups of " (g.groups.iter().map(|x| x.jobs.len()).sum::<usize>()) " jobs, by " (query.group.join(", "))
            @if !query.filters.is_empty() { " (the jobs that pass the filters; " (summary.jobs.len()) " in all)" }
        }
        div.scroll {
        table.grouped {
            thead {
                tr.groups {
                    th.group colspan=(g.by.len() + 1) { "group" }
                    @for &m in &summary.metric_order {
                        th.group colspan="3" { (summary.metrics[m].name) @if let Some(a) = &agg { (a) } }
                    }
                }
                tr {
                    @for d in &g.by { th data-col=(d.path) title=(d.path) { (d.path.rsplit_once('.').map_or(d.path.as_str(), |(_, l)| l)) } }
                    th { "jobs" }
                    @for &m in &summary.metric_order {
                        @let name = &summary.metrics[m].name;
                        th data-col=(format!("metrics.{name}.n")) { "n" }
                        th data-col=(format!("metrics.{name}.mean")) { "mean" }
                        th data-col=(format!("metrics.{name}.std")) title="sample standard deviation (n − 1)" { "std" }
                    }
                }
            }
            tbody {
                @for group in &g.groups {
                    tr data-group=(group.key.iter().map(cell_text).collect::<Vec<_>>().join(", ")) {
                        @for v in &group.key { (cell(v)) }
                        td.num data-v=(group.jobs.len()) {
                            @match mode {
                                Mode::Live(_) => a href=(link(&group.key)) title="these jobs" { (group.jobs.len()) },
                                Mode::Report => (group.jobs.len()),
                            }
                        }
                        @for &m in &summary.metric_order {
                            @match group.metrics.get(m).copied().flatten() {
                                Some(s) => {
                                    td.num data-v=(s.n) { (s.n) }
                                    td.num data-v=(s.mean) title=(s.mean) { (number(s.mean)) }
                                    @match s.std {
                                        Some(sd) => td.num data-v=(sd) title=(sd) { (number(sd)) },
                                        None => td {},
                                    }
                                }
                                None => { td.num data-v="0" { "0" } td {} td {} }
                            }
                        }
                    }
                }
            }
        }
        }
    })
}
