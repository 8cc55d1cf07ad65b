//! `djx artifact get`: copy an artifact out of the store, checking that its
//! bytes still match its digest.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use djx_host::content::artifacts::ArtifactStore;
use djx_host::content::digest::Digest;

use super::common::{layout, open_store};
use super::output::Output;

/// Arguments of `djx artifact`.
#[derive(Args)]
pub struct ArtifactArgs {
    #[command(subcommand)]
    command: ArtifactCommand,
}

#[derive(Subcommand)]
enum ArtifactCommand {
    /// Write an artifact to a file (or stdout with `-o -`).
    Get {
        /// The artifact's digest.
        digest: Digest,
        /// Where to write it.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
}

/// Runs `djx artifact`.
pub fn run(args: ArtifactArgs) -> anyhow::Result<()> {
    match args.command {
        ArtifactCommand::Get { digest, output } => {
            let layout = layout()?;
            let artifacts =
                ArtifactStore::open(&layout.artifacts)?.with_remote(layout.content.clone());
            // Not here and in the bucket: perhaps in a pack, which the
            // database knows.
            let packed = match layout.content.is_some() && !artifacts.contains(&digest) {
                true => open_store(&layout)?.artifact_pack(&digest)?,
                false => None,
            };
            let bytes = artifacts.get_from(&digest, packed)?;
            if !Output::write_whole(&output, &bytes)? {
                eprintln!(
                    "djx: wrote {} ({} bytes, digest verified)",
                    output.display(),
                    bytes.len()
                );
            }
            Ok(())
        }
    }
}
