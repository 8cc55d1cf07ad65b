//! `djx report`: experiment pages as one self-contained HTML file (data,
//! script and styles inline: no network request, works from `file://`).

use std::path::PathBuf;

use clap::Args;

use super::common::{ExpRef, layout, open_store, parse_exp, resolve_exps};
use super::output::Output;

/// Arguments of `djx report`.
#[derive(Args)]
pub struct ReportArgs {
    /// Experiments (ids, or `last`).
    #[arg(value_parser = parse_exp, required = true)]
    experiments: Vec<ExpRef>,
    /// The HTML file to write (`-` for standard output).
    #[arg(short = 'o', long = "output")]
    output: PathBuf,
    /// Group the jobs by these columns (comma separated, e.g.
    /// `labels.max_depth`) in a grouped view: means with error bars. By
    /// default an experiment with a dimension that looks like a repetition
    /// (seed, fold, cv, iteration, repeat) is grouped by its other
    /// dimensions.
    #[arg(long = "group-by", value_delimiter = ',')]
    group_by: Vec<String>,
}

/// Runs `djx report`.
pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let layout = layout()?;
    let store = open_store(&layout)?;
    let ids = resolve_exps(store.as_ref(), &args.experiments)?;
    let html = djx_host::web::report::render(store.as_ref(), &ids, &args.group_by)
        .map_err(anyhow::Error::new)?;
    if Output::write_whole(&args.output, html.as_bytes())? {
        return Ok(());
    }
    eprintln!(
        "djx: wrote {} ({} experiment{}, {} bytes)",
        args.output.display(),
        ids.len(),
        if ids.len() == 1 { "" } else { "s" },
        html.len()
    );
    Ok(())
}
