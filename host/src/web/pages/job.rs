//! The job page: what `djx show` prints, with links to the experiment,
//! the artifacts (download by digest) and their lineage, and the job's
//! metric curves.

use maud::{Markup, html};
use serde_json::{Value, json};

use super::experiment::short;
use super::format::{duration_ms, when};
use super::layout::json_script;
use super::preview::thumbnail;
use crate::views::detail::JobDetail;

/// Artifacts previewed on the page.
pub const PREVIEWS: usize = 24;

/// Records shown on the page (the JSON twin takes `records=`).
pub const PAGE_RECORDS: usize = 1000;

fn compact(value: &Value) -> String {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The job page body; `curves` names the job's metrics that have curves.
pub fn body(d: &JobDetail, curves: &[String]) -> Markup {
    let job = &d.job;
    let locked = &d.experiment.locked;
    let p = &locked.provenance;
    let pretty = serde_json::to_string_pretty(&job.parameter).unwrap_or_default();
    let log = String::from_utf8_lossy(&d.log);
    let boot = json!({"mode": "job", "job": job.id, "curves": curves});
    html! {
        section.job data-job=(job.id) {
            h1 { "job " (job.id) }
            p.sub {
                "experiment " a href=(format!("/experiments/{}", d.experiment.id)) { (d.experiment.id) " " (locked.name) }
                ", position " (job.position)
            }
            dl.facts {
                dt { "status" } dd { span class=(format!("status {}", job.status)) { (job.status.as_str()) } " attempt " (job.attempt) " " (duration_ms(job.duration_ms)) }
                @if let Some(source) = job.cached_from {
                    dt { "cached from" } dd { a href=(format!("/jobs/{source}")) { "job " (source) } }
                }
                dt { "key" } dd { @match &job.key { Some(k) => code.digest.key { (k) }, None => "(none: added before djx locked jobs)" } }
                dt { "result" } dd { @if let Some(r) = &job.result_digest { code.digest.result { (r) } } }
                @if let Some(reason) = &job.reason { dt { "reason" } dd { pre.reason { (reason) } } }
                dt { "labels" } dd.labels { (compact(&job.labels)) }
                dt { "parameter" } dd { pre { (pretty) } }
            }
            h2 { "Inputs" }
            dl.facts {
                dt { "module" } dd { a href=(format!("/lineage/{}", locked.module_digest)) { code.digest { (locked.module_digest) } } }
                @for ds in &locked.datasets {
                    dt { "dataset" } dd { (ds.name) " " a href=(format!("/lineage/{}", ds.digest)) { code.digest { (ds.digest) } } " " (ds.file.as_deref().map_or("(directory)".to_owned(), |f| format!("({f})"))) }
                }
                dt { "limits" } dd { (locked.limits.to_string()) }
                dt { "engine" } dd { (locked.engine.to_string()) }
            }
            h2 { "Source" }
            dl.facts {
                dt { "file" } dd { (locked.source_path) " " code.digest { (locked.source_digest) } }
                @if let Some(g) = &p.experiment_git { dt { "git" } dd { (g.to_string()) " (experiment file)" } }
                @if let Some(g) = &p.module_git { dt { "git" } dd { (g.to_string()) " (module)" } }
                @if let Some(src) = &p.module_source {
                    dt { "built" } dd { "from " (src.language) " source " (src.source) " (module `" (src.entry) "`) by " (src.builder) ", kit " (src.kit) }
                }
                @if !p.djx_version.is_empty() {
                    dt { "added by" } dd { "djx " (p.djx_version) " on " (p.host.hostname) " (" (p.host.os) ", " (p.host.arch) ")" }
                }
                @for s in &d.submissions {
                    dt { "submitted" } dd { (s.scheduler) " job " (s.scheduler_job) " at " (when(&s.submitted_at)) ", " (s.workers) " worker(s) x " (s.slots) " slot(s): " code { (s.command) } }
                }
            }
            h2 { "Attempts " span.n { (d.attempts.len()) } }
            table.small {
                thead { tr { th { "#" } th { "status" } th { "worker" } th { "started" } th { "duration" } th { "result digest" } th { "from the run-cache" } } }
                tbody { @for a in &d.attempts { tr {
                    td { (a.attempt) } td { span class=(format!("status {}", a.status)) { (a.status.as_str()) } }
                    td { (a.worker.as_deref().unwrap_or("")) } td { (a.started_at.as_deref().map(when).unwrap_or_default()) }
                    td.num { (duration_ms(a.duration_ms)) }
                    td { @if let Some(r) = &a.result_digest { code.digest title=(r) { (short(&r.to_hex())) } } }
                    td { @if let Some((j, n)) = a.source { a href=(format!("/jobs/{j}")) { "job " (j) " attempt " (n) } } }
                } } }
            }
            @if !curves.is_empty() {
                h2 { "Curves" }
                div.controls { label { "metric " select.curve-metric { @for c in curves { option value=(c) { (c) } } } } }
                div.chart.curve {}
            }
            h2 { "Records " span.n { (d.records_total) } }
            @if d.records_total > d.records.len() as u64 {
                p.hint { "The first " (d.records.len()) " of " (d.records_total) " records; `djx records` or the JSON twin (records=N) give more." }
            }
            table.small.records {
                thead { tr { th { "event" } th { "context" } th { "metrics" } th { "artifacts" } } }
                tbody { @for r in &d.records { tr {
                    td { (r.event) }
                    td { (compact(&Value::Object(r.context.clone()))) }
                    td { (compact(&Value::Object(r.metrics.clone()))) }
                    td { @for (name, digest) in &r.artifacts {
                        @let hex = digest.as_str().unwrap_or("");
                        (name) "=" a href=(format!("/artifacts/{hex}")) { code.digest title=(hex) { (short(hex)) } } " "
                    } }
                } } }
            }
            h2 { "Artifacts " span.n { (d.artifacts.len()) } }
            table.small {
                thead { tr { th { "name" } th { "digest" } th { "bytes" } th {} } }
                tbody { @for a in &d.artifacts { tr {
                    td { (a.name) }
                    td { a href=(format!("/artifacts/{}", a.digest)) title="download (checked against its digest)" { code.digest { (a.digest) } } }
                    td.num { (a.size) }
                    td { a href=(format!("/lineage/{}", a.digest)) { "lineage" } }
                } } }
            }
            @if !d.artifacts.is_empty() {
                div.previews {
                    @for a in d.artifacts.iter().take(PREVIEWS) { (thumbnail(&a.name, a)) }
                }
                @if d.artifacts.len() > PREVIEWS { p.hint { "previews of the first " (PREVIEWS) " artifacts" } }
            }
            @if !d.log.is_empty() {
                h2 { "Log" }
                pre.log { (log) }
            }
            script.djx-data type="application/json" { (json_script(&boot)) }
        }
    }
}
