//! `djx compare`: jobs side by side, as the UI's compare page shows them:
//! the labels and parameters that differ (`--all`: every one), the
//! metrics under one aggregate, and the artifacts by name.

use clap::Args;
use djx_host::views::agg::Aggregate;
use djx_host::views::compare::Comparison;
use djx_host::views::format::number;

use super::common::{cell, layout, open_store};
use super::table::TableStream;

/// Arguments of `djx compare`.
#[derive(Args)]
pub struct CompareArgs {
    /// The jobs (2 to 10 ids, of any experiments).
    #[arg(required = true, num_args = 2..=10)]
    jobs: Vec<i64>,
    /// How a metric recorded several times is shown: last, first, min,
    /// max, mean or count.
    #[arg(long, default_value = "last")]
    agg: Aggregate,
    /// Show the labels and parameters that are equal in every job too.
    #[arg(long)]
    all: bool,
    /// One JSON object, as `/api/compare` gives it.
    #[arg(long)]
    json: bool,
}

/// Runs `djx compare`.
pub fn run(args: CompareArgs) -> anyhow::Result<()> {
    let layout = layout()?;
    let store = open_store(&layout)?;
    let c = Comparison::load(store.as_ref(), &args.jobs)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&c.to_json(args.agg))?);
        return Ok(());
    }
    let mut header = vec![String::new()];
    header.extend(c.jobs.iter().map(|j| format!("job {}", j.row.id)));
    let mut out = std::io::stdout().lock();
    let mut table = TableStream::new(&mut out, &header, 48);
    let equal = c.rows.iter().filter(|r| !r.differs).count();
    for r in c.rows.iter().filter(|r| args.all || r.differs) {
        let mark = if r.differs && args.all { "* " } else { "" };
        let mut line = vec![format!("{mark}{}", r.column)];
        line.extend(r.values.iter().map(cell));
        table.push(line)?;
    }
    for name in &c.metric_names {
        let mut line = vec![if args.agg == Aggregate::Last {
            format!("metrics.{name}")
        } else {
            format!("metrics.{name} ({})", args.agg)
        }];
        line.extend(
            c.metric(name, args.agg)
                .iter()
                .map(|v| v.map(number).unwrap_or_default()),
        );
        table.push(line)?;
    }
    for name in &c.artifact_names {
        let mut line = vec![format!("artifact {name}")];
        line.extend(c.artifact(name).iter().map(|a| {
            a.map(|a| a.digest.to_hex()[..12].to_owned())
                .unwrap_or_default()
        }));
        table.push(line)?;
    }
    table.finish()?;
    if !args.all && equal > 0 {
        println!(
            "({equal} label and parameter column{} equal in every job; --all shows {})",
            if equal == 1 { " is" } else { "s are" },
            if equal == 1 { "it" } else { "them" }
        );
    }
    Ok(())
}
