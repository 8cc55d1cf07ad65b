//! The `djx` command line. Each subcommand is one module under `cli/`.
//!
//! Exit codes: 0 success; 1 a job failed; 2 bad usage or bad input (nothing
//! ran); 130 interrupted.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
