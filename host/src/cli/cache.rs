//! `djx cache`: the compile cache of this user (every store shares it):
//! where it is, how big, and pruning it.

use clap::{Args, Subcommand};
use djx_host::content::layout::user_cache_dir;
use djx_host::runtime::compile_cache::CompileCache;
use djx_host::runtime::limits::parse_size;

/// Arguments of `djx cache`.
#[derive(Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(Subcommand)]
enum Action {
    /// Where the cache is, its entries and their size (the default).
    Info,
    /// Remove the entries unused for the longest time until the rest fit
    /// in `--keep` (default 2GiB; `--keep 0` empties the cache).
    Prune {
        /// How much to keep, e.g. 500MiB, 2GiB, 0.
        #[arg(long, value_parser = parse_keep, default_value = "2GiB")]
        keep: u64,
    },
}

fn parse_keep(text: &str) -> Result<u64, String> {
    parse_size(text).map_err(|e| e.to_string())
}

/// Runs `djx cache`.
pub fn run(args: CacheArgs) -> anyhow::Result<()> {
    let cache = CompileCache::new(user_cache_dir());
    match args.action.unwrap_or(Action::Info) {
        Action::Info => {
            let entries = cache.entries()?;
            let bytes: u64 = entries.iter().map(|e| e.bytes).sum();
            println!(
                "{}: {} compiled modules, {}",
                cache.dir().display(),
                entries.len(),
                human(bytes)
            );
        }
        Action::Prune { keep } => {
            let (removed, freed) = cache.prune(keep)?;
            println!(
                "{}: removed {removed} compiled modules, {}",
                cache.dir().display(),
                human(freed)
            );
        }
    }
    Ok(())
}

/// `1.5 MiB`.
fn human(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}
