//! `djx submit EXP... --slurm`: submit workers for experiments to a Slurm
//! cluster as a job array, and record the submission with the experiments.

use anyhow::Context;
use clap::Args;
use djx_host::cluster::local_paths::cluster_nodes;
use djx_host::cluster::submit::{check_shared, find_sbatch, sbatch, shared_paths};
use djx_host::cluster::{ClusterError, SlurmJob, SlurmOptions, script};
use djx_host::store::postgres::{PgConfig, PgStore};
use djx_host::store::{NewSubmission, Store};

use super::common::{DATABASE, ExpRef, layout, parse_exp, resolve_exps};

/// Arguments of `djx submit`.
#[derive(Args)]
pub struct SubmitArgs {
    /// Experiment ids (or `last`).
    #[arg(required = true, value_parser = parse_exp)]
    experiments: Vec<ExpRef>,
    /// Submit to Slurm (the scheduler djx knows).
    #[arg(long, required = true)]
    slurm: bool,
    /// Workers: the tasks of the job array.
    #[arg(long, default_value_t = 1)]
    workers: u32,
    /// Jobs each worker runs at once (its --cpus-per-task).
    #[arg(long, default_value_t = 1)]
    slots: u32,
    /// Time limit of each task: 90m, 2h, 1d, or Slurm's 1:30:00, 2-00:00:00.
    #[arg(long)]
    time: Option<String>,
    /// The Slurm partition.
    #[arg(long)]
    partition: Option<String>,
    /// The Slurm account.
    #[arg(long)]
    account: Option<String>,
    /// Another sbatch option, written --sbatch=--opt=value (repeatable).
    #[arg(long = "sbatch", value_name = "ARG", allow_hyphen_values = true)]
    sbatch: Vec<String>,
    /// Print the script; submit nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Runs `djx submit`.
pub fn run(args: SubmitArgs) -> anyhow::Result<()> {
    // Everything that can be checked without the store comes first.
    let options = SlurmOptions::new(
        args.workers,
        args.slots,
        args.time.as_deref(),
        args.partition.clone(),
        args.account.clone(),
        args.sbatch.clone(),
    )?;
    let url = DATABASE.get().and_then(Option::as_deref);
    let config = PgConfig::from_env(url)?.ok_or(ClusterError::EmbeddedStore)?;
    let sbatch_path = if args.dry_run {
        None
    } else {
        Some(find_sbatch()?)
    };
    let layout = layout()?;
    let workdir = std::env::current_dir().context("reading the working directory")?;
    let djx = std::env::current_exe().context("finding the djx binary")?;
    check_shared(
        &shared_paths(&layout, &workdir),
        cluster_nodes(),
        &database_hosts(&config),
    )?;

    let shown = config.to_string();
    let store = PgStore::open(config).with_context(|| format!("opening the store {shown}"))?;
    let ids = resolve_exps(&store, &args.experiments)?;
    let experiments = ids
        .iter()
        .map(|&id| store.experiment(id))
        .collect::<Result<Vec<_>, _>>()?;
    ensure_jobs_left(&store, &ids)?;
    let job = SlurmJob::new(
        options,
        &experiments,
        store.config(),
        &layout,
        &workdir,
        djx,
    );
    for warning in job.warnings() {
        eprintln!("djx: warning: {warning}");
    }
    let text = script::render(&job)?;
    let Some(sbatch_path) = sbatch_path else {
        print!("{text}");
        eprintln!("djx: dry run: nothing submitted");
        return Ok(());
    };
    std::fs::create_dir_all(&job.log_dir)
        .with_context(|| format!("creating {}", job.log_dir.display()))?;
    let password = store.config().password();
    let slurm_job = sbatch(&sbatch_path, &text, password.as_deref())?;
    println!("{slurm_job}");
    let script_path = job.log_dir.join(format!("{slurm_job}.sbatch"));
    std::fs::write(&script_path, &text)
        .with_context(|| format!("writing {}", script_path.display()))?;
    let mut command = vec!["djx".to_owned(), "submit".to_owned()];
    command.extend(ids.iter().map(i64::to_string));
    command.extend(job.options.args());
    let submission = NewSubmission {
        scheduler: "slurm".into(),
        scheduler_job: slurm_job.clone(),
        command: command.join(" "),
        workers: job.options.workers,
        slots: job.options.slots,
    };
    store.add_submission(&submission, &ids).with_context(|| {
        format!("Slurm job {slurm_job} was submitted, but recording it in the store failed")
    })?;
    eprintln!(
        "djx: submitted Slurm job {slurm_job}: {} worker(s) x {} slot(s) for experiment(s) {}; \
         logs in {}/{slurm_job}_<task>.log, script in {}",
        job.options.workers,
        job.options.slots,
        ids.iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        job.log_dir.display(),
        script_path.display()
    );
    Ok(())
}

/// The database's hosts, as the nodes will connect to them.
fn database_hosts(config: &PgConfig) -> Vec<String> {
    config
        .connection()
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect()
}

/// Refuses a submission with no job left to run.
fn ensure_jobs_left(store: &PgStore, ids: &[i64]) -> anyhow::Result<()> {
    let left: u64 = store
        .experiments()?
        .iter()
        .filter(|e| ids.contains(&e.id))
        .map(|e| e.jobs.unassigned + e.jobs.assigned)
        .sum();
    if left == 0 {
        anyhow::bail!(
            "nothing to submit: every job of experiment(s) {ids:?} has ended (`djx jobs ID` shows them)"
        );
    }
    Ok(())
}
