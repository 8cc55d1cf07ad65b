//! The experiments page and the lineage page.

use maud::{Markup, html};

use super::format::when;
use crate::store::{ExperimentSummary, Submission};
use crate::views::lineage::{JobUse, Lineage};

/// Every experiment with its job counts and the cluster jobs submitted for
/// it, as `djx ls` shows them.
pub fn experiments(list: &[ExperimentSummary], submissions: &[Submission]) -> Markup {
    html! {
        h1 { "Experiments" }
        @if list.is_empty() {
            p.empty { "No experiments yet: `djx add FILE` adds one." }
        } @else {
            div.scroll {
            table.experiments {
                thead { tr {
                    th { "id" } th { "project" } th { "name" } th { "created" } th { "jobs" }
                    th { "unassigned" } th { "assigned" } th { "finished" } th { "failed" } th { "submitted" }
                } }
                tbody { @for e in list { tr data-exp=(e.id) {
                    td.num { a href=(format!("/experiments/{}", e.id)) { (e.id) } }
                    td { @if let Some(project) = &e.project {
                        a.project href=(crate::web::scope::Scope::Project(project.clone()).path()) title="the project's experiments as one" { (project) }
                    } }
                    td { a href=(format!("/experiments/{}", e.id)) { (e.name) } }
                    td { (when(&e.created_at)) }
                    td.num { (e.jobs.total()) }
                    td.num { (e.jobs.unassigned) }
                    td.num { (e.jobs.assigned) }
                    td.num { (e.jobs.finished) }
                    td.num.failed[e.jobs.failed > 0] { (e.jobs.failed) }
                    td { (submissions
                        .iter()
                        .filter(|s| s.experiment_id == e.id)
                        .map(|s| format!("{} {}", s.scheduler, s.scheduler_job))
                        .collect::<Vec<_>>()
                        .join(", ")) }
                } } }
            }
            }
        }
    }
}

fn job_use(u: &JobUse) -> Markup {
    html! {
        li {
            a href=(format!("/jobs/{}", u.job_id)) { "job " (u.job_id) } " attempt " (u.attempt) " as " code { (u.name) }
            " in experiment " a href=(format!("/experiments/{}", u.experiment_id)) { (u.experiment_id) " " (u.experiment_name) }
            @if let Some((j, a)) = u.source { " (result of " a href=(format!("/jobs/{j}")) { "job " (j) } " attempt " (a) ")" }
            dl.facts {
                @if let Some(key) = &u.key { dt { "key" } dd { code.digest { (key) } } }
                dt { "module" } dd { a href=(format!("/lineage/{}", u.module)) { code.digest { (u.module) } } }
                @for d in &u.datasets { dt { (d.role()) } dd { (d.name) " " a href=(format!("/lineage/{}", d.digest)) { code.digest { (d.digest) } } } }
                dt { "parameter" } dd { code { (u.parameter.to_string()) } }
                dt { "labels" } dd { code { (u.labels.to_string()) } }
                dt { "source" } dd { (u.source_path) " " code.digest { (u.source_digest) } }
                @if let Some(git) = &u.git { dt { "git" } dd { (git.to_string()) } }
            }
        }
    }
}

/// The lineage of a digest.
pub fn lineage(l: &Lineage) -> Markup {
    html! {
        h1 { "Lineage of " code { (l.prefix) } }
        @for a in &l.artifacts {
            section.artifact {
                h2 { "Artifact " a href=(format!("/artifacts/{}", a.digest)) title="download" { code.digest { (a.digest) } } " (" (a.size) " bytes)" }
                h3 { "Produced by" }
                ul.uses { @for u in &a.produced_by { (job_use(u)) } }
                @if !a.reused_by.is_empty() {
                    h3 { "Reused from the run-cache by" }
                    ul.uses { @for u in &a.reused_by { (job_use(u)) } }
                }
            }
        }
        @if !l.inputs.is_empty() {
            h2 { "An input of" }
            ul.uses { @for i in &l.inputs { li {
                (i.role) " " @if let Some(n) = &i.name { (n) " " } code.digest { (i.digest) }
                " is an input of experiment " a href=(format!("/experiments/{}", i.experiment_id)) { (i.experiment_id) " " (i.experiment_name) }
                " (" (i.jobs.total()) " jobs: " (i.jobs.finished) " finished, " (i.jobs.failed) " failed)"
            } } }
        }
    }
}
