//! Argument parsing and dispatch: one clap struct and one `run` per
//! subcommand. Commands validate their input before they touch a store or
//! the engine.

mod add;
mod artifact;
mod build;
mod cache;
mod common;
mod compare;
mod exec;
mod fsck;
mod gc;
mod jobs;
mod lineage;
mod logs;
mod ls;
mod output;
mod records;
mod report;
mod run;
mod show;
mod submit;
mod sweeps;
mod table;
mod ui;
mod verify;
mod worker;
mod write_error;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code: a job failed.
pub const EXIT_JOB_FAILED: u8 = 1;
/// Exit code: bad usage or input; nothing ran.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: interrupted (Ctrl-C).
pub const EXIT_INTERRUPTED: u8 = 130;

/// djx: reproducible, traceable data-science experiments as sandboxed
/// WebAssembly jobs.
#[derive(Parser)]
#[command(name = "djx", version, about, long_about = None)]
struct Cli {
    /// The PostgreSQL store, postgres://USER[:PASSWORD]@HOST[:PORT]/DB
    /// (default: DJX_DATABASE_URL or DJX_PG_*, else the embedded SQLite
    /// store in .djx/).
    #[arg(long, global = true, value_name = "URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one job of a module with no database, for writing and debugging
    /// guests. Prints the records as JSON lines.
    Exec(exec::ExecArgs),
    /// Build a Python guest into a job component (with componentize-py).
    Build(build::BuildArgs),
    /// Add an experiment file: check it, pin its inputs, write its jobs.
    Add(add::AddArgs),
    /// Run the jobs of experiments (ids, `last`, or a file to add first).
    Run(run::RunArgs),
    /// List experiments with job counts by status.
    Ls(ls::LsArgs),
    /// List the jobs of an experiment.
    Jobs(jobs::JobsArgs),
    /// The records of experiments, one row per record (table, CSV, JSON).
    Records(records::RecordsArgs),
    /// Everything about one job: inputs, digests, records, artifacts, log.
    Show(show::ShowArgs),
    /// Jobs side by side: the labels and parameters that differ, metrics,
    /// artifacts.
    Compare(compare::CompareArgs),
    /// A job's log.
    Logs(logs::LogsArgs),
    /// Get artifacts out of the store.
    Artifact(artifact::ArtifactArgs),
    /// A long-running worker: runs jobs as they are added, until SIGTERM.
    Worker(worker::WorkerArgs),
    /// Submit workers for experiments to a Slurm cluster, as a job array
    /// (PostgreSQL store).
    Submit(submit::SubmitArgs),
    /// Rerun finished jobs in fresh sandboxes and compare their result
    /// digests with the stored ones (stored results are not touched).
    Verify(verify::VerifyArgs),
    /// Every job and experiment that produced or reused an artifact, with
    /// their inputs.
    Lineage(lineage::LineageArgs),
    /// Re-hash the data, artifact and module stores and check every
    /// reference of the database.
    Fsck(fsck::FsckArgs),
    /// List (or with --delete remove) stored objects no experiment references.
    Gc(gc::GcArgs),
    /// The compile cache every store of this user shares: its size, and
    /// pruning it.
    Cache(cache::CacheArgs),
    /// Serve a read-only web view of the store: experiments, job tables,
    /// plots, jobs and lineage (with a JSON API).
    Ui(ui::UiArgs),
    /// Write experiment pages as one self-contained HTML file.
    Report(report::ReportArgs),
}

/// An error that has already been reported, carrying the exit code.
#[derive(Debug)]
pub struct Exit(pub u8);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}

impl std::error::Error for Exit {}

/// Parses the arguments, runs the command, prints the error chain if any.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = common::DATABASE.set(cli.database.clone());
    if !matches!(
        cli.command,
        Command::Run(_) | Command::Worker(_) | Command::Add(_) | Command::Submit(_)
    ) {
        // Commands that only print end quietly when their reader goes away
        // (`djx show 3 | head`), as Unix tools do. Commands that write to
        // the store keep Rust's default, so they can finish cleanly.
        restore_sigpipe();
    }
    let result = match cli.command {
        Command::Exec(args) => exec::run(args),
        Command::Build(args) => build::run(args),
        Command::Add(args) => add::run(args),
        Command::Run(args) => run::run(args),
        Command::Ls(args) => ls::run(args),
        Command::Jobs(args) => jobs::run(args),
        Command::Records(args) => records::run(args),
        Command::Show(args) => show::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Logs(args) => logs::run(args),
        Command::Artifact(args) => artifact::run(args),
        Command::Worker(args) => worker::run(args),
        Command::Submit(args) => submit::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Lineage(args) => lineage::run(args),
        Command::Fsck(args) => fsck::run(args),
        Command::Gc(args) => gc::run(args),
        Command::Cache(args) => cache::run(args),
        Command::Ui(args) => ui::run(args),
        Command::Report(args) => report::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if let Some(Exit(code)) = error.downcast_ref::<Exit>() {
                return ExitCode::from(*code);
            }
            if is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            let mut shown = error.to_string();
            eprintln!("djx: error: {shown}");
            for cause in error.chain().skip(1) {
                let text = cause.to_string();
                // Library errors often quote their source already.
                if !shown.contains(&text) {
                    eprintln!("  caused by: {text}");
                    shown = text;
                }
            }
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn restore_sigpipe() {
    // SAFETY: setting a signal's disposition to the default has no
    // preconditions; it happens before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
