//! `djx ls`: experiments with their job counts by status, the rung each
//! halving sweep is at, and the cluster jobs submitted for them.

use clap::Args;
use djx_host::store::{ExperimentSummary, Rung, Submission};

use super::common::{layout, open_store};
use super::{sweeps, table};

/// Arguments of `djx ls`.
#[derive(Args)]
pub struct LsArgs {
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

/// Runs `djx ls`.
pub fn run(args: LsArgs) -> anyhow::Result<()> {
    let layout = layout()?;
    let store = open_store(&layout)?;
    let list = store.experiments()?;
    let ids: Vec<i64> = list.iter().map(|e| e.id).collect();
    let submissions = store.submissions(&ids)?;
    let rungs = store.rungs(&ids)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        for e in &list {
            let mut value = serde_json::to_value(e)?;
            let mine: Vec<&Submission> = submissions
                .iter()
                .filter(|s| s.experiment_id == e.id)
                .collect();
            value["submissions"] = serde_json::to_value(mine)?;
            let mine: Vec<&Rung> = rungs.iter().filter(|r| r.experiment_id == e.id).collect();
            if !mine.is_empty() {
                value["rungs"] = serde_json::to_value(mine)?;
            }
            serde_json::to_writer(&mut out, &value)?;
            std::io::Write::write_all(&mut out, b"\n")?;
        }
        return Ok(());
    }
    write_table(&mut out, &list, &submissions, &rungs)?;
    Ok(())
}

/// Writes experiments as a table with their job counts, the rung each
/// halving sweep is at (`rungs`: the sweeps' rungs), and the cluster jobs
/// submitted for them.
pub fn write_table(
    out: &mut dyn std::io::Write,
    list: &[ExperimentSummary],
    submissions: &[Submission],
    rungs: &[Rung],
) -> std::io::Result<()> {
    let latest = sweeps::latest(rungs);
    let header = [
        "id",
        "project",
        "name",
        "created",
        "jobs",
        "unassigned",
        "assigned",
        "finished",
        "failed",
        "sweep",
        "submitted",
    ]
    .map(String::from);
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                e.project.clone().unwrap_or_default(),
                e.name.clone(),
                e.created_at
                    .chars()
                    .take(19)
                    .collect::<String>()
                    .replace('T', " "),
                e.jobs.total().to_string(),
                e.jobs.unassigned.to_string(),
                e.jobs.assigned.to_string(),
                e.jobs.finished.to_string(),
                e.jobs.failed.to_string(),
                latest
                    .get(&e.id)
                    .map_or_else(String::new, |r| sweeps::cell(r)),
                submissions
                    .iter()
                    .filter(|s| s.experiment_id == e.id)
                    .map(|s| format!("{} {}", s.scheduler, s.scheduler_job))
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        })
        .collect();
    table::write(out, &header, &rows, 40)
}
