//! `djx gc`: list, or with `--delete` remove, the stored objects no
//! experiment references (see [`djx_host::audit::gc`]).

use std::time::Duration;

use clap::Args;
use djx_host::audit::gc::{Place, gc};
use djx_host::runtime::limits::parse_duration;

use super::common::{layout, open_store};

/// Arguments of `djx gc`.
#[derive(Args)]
pub struct GcArgs {
    /// Remove what is listed (without it, only list: a dry run).
    #[arg(long)]
    delete: bool,
    /// Keep unreferenced objects younger than this: they may belong to an
    /// experiment being added or a job being committed.
    #[arg(long, value_parser = parse_age, default_value = "1h")]
    min_age: Duration,
}

/// A duration, or zero (`0`, `0s`: every unreferenced object, however
/// young).
fn parse_age(text: &str) -> Result<Duration, String> {
    if text.trim_end_matches(|c: char| c.is_ascii_alphabetic()) == "0" {
        return Ok(Duration::ZERO);
    }
    parse_duration(text).map_err(|e| e.to_string())
}

/// Runs `djx gc`.
pub fn run(args: GcArgs) -> anyhow::Result<()> {
    let layout = layout()?;
    let store = open_store(&layout)?;
    let report = gc(store.as_ref(), &layout, args.min_age, !args.delete)?;
    let mut bytes = 0u64;
    for g in &report.garbage {
        bytes += g.size;
        let place = match &g.place {
            Place::Local(path) => path.display().to_string(),
            Place::Remote(url) => url.clone(),
        };
        println!("{}\t{}\t{}\t{place}", g.kind, g.digest, g.size);
    }
    let verb = if args.delete {
        "removed"
    } else {
        "unreferenced (dry run: --delete removes them)"
    };
    println!(
        "{} of {} objects {verb}, {bytes} bytes; {} younger than {:?} kept",
        report.garbage.len(),
        report.objects,
        report.young,
        args.min_age
    );
    Ok(())
}
