//! `djx ls`: experiments with their job counts by status.

use clap::Args;
use djx_host::store::ExperimentSummary;

use super::common::{layout, open_store};
use super::table;

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
    let mut out = std::io::stdout().lock();
    if args.json {
        for e in &list {
            serde_json::to_writer(&mut out, e)?;
            std::io::Write::write_all(&mut out, b"\n")?;
        }
        return Ok(());
    }
    write_table(&mut out, &list)?;
    Ok(())
}

/// Writes experiments as a table with their job counts.
pub fn write_table(
    out: &mut dyn std::io::Write,
    list: &[ExperimentSummary],
) -> std::io::Result<()> {
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
            ]
        })
        .collect();
    table::write(out, &header, &rows, 40)
}
