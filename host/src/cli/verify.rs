//! `djx verify`: rerun finished jobs and check they give the stored bits.

use std::time::Instant;

use anyhow::bail;
use clap::Args;
use djx_host::audit::verify::{Verdict, verify};
use djx_host::runtime::Runtimes;
use djx_host::store::{JobRow, JobStatus};

use super::common::{ExpRef, layout, open_store, parse_exp, resolve_exps};
use super::{EXIT_JOB_FAILED, Exit};

/// Arguments of `djx verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// The experiment whose finished jobs to verify (an id, or `last`).
    #[arg(value_parser = parse_exp, required_unless_present = "jobs")]
    experiment: Option<ExpRef>,
    /// Verify these jobs instead (repeatable).
    #[arg(long = "job", value_name = "ID")]
    jobs: Vec<i64>,
    /// Verify only N jobs, chosen at random.
    #[arg(long, value_name = "N")]
    sample: Option<usize>,
    /// Jobs to rerun at once.
    #[arg(long, default_value_t = 1)]
    workers: usize,
}

/// Runs `djx verify`.
pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let layout = layout()?;
    let store = open_store(&layout)?;
    let mut seen = 0usize;
    let mut jobs: Vec<JobRow> = match &args.experiment {
        Some(exp) => {
            let ids = resolve_exps(store.as_ref(), std::slice::from_ref(exp))?;
            let mut jobs = Vec::new();
            for id in ids {
                store.each_job(id, &mut |job| {
                    seen += 1;
                    if job.status == JobStatus::Finished {
                        jobs.push(job);
                    }
                    Ok(())
                })?;
            }
            jobs
        }
        None => Vec::new(),
    };
    for &id in &args.jobs {
        let job = store.job(id)?;
        if job.status != JobStatus::Finished {
            bail!(
                "job {id} is {}: only finished jobs can be verified",
                job.status
            );
        }
        jobs.push(job);
        seen += 1;
    }
    let total = seen;
    jobs.retain(|j| j.status == JobStatus::Finished);
    if jobs.is_empty() {
        bail!("no finished jobs to verify ({total} jobs, none finished)");
    }
    if let Some(n) = args.sample
        && n < jobs.len()
    {
        jobs = sample(jobs, n);
        eprintln!(
            "djx: verifying a random sample of {n} finished jobs: {}",
            jobs.iter()
                .map(|j| j.id.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    let runtimes = Runtimes::new(layout.cache.clone(), layout.temp.clone());
    let started = Instant::now();
    let on_verdict = |job: &JobRow, verdict: &Verdict| print_verdict(job, verdict);
    let verdicts = verify(
        store.as_ref(),
        &layout,
        &runtimes,
        &jobs,
        args.workers,
        &on_verdict,
    )?;
    let identical = verdicts.iter().filter(|v| v.is_identical()).count();
    let unverifiable = verdicts
        .iter()
        .filter(|v| matches!(v, Verdict::Unverifiable { .. }))
        .count();
    let different = verdicts.len() - identical - unverifiable;
    println!(
        "verified {} jobs in {:.2}s: {identical} identical, {different} different{}",
        verdicts.len(),
        started.elapsed().as_secs_f64(),
        if unverifiable > 0 {
            format!(", {unverifiable} without a stored result digest")
        } else {
            String::new()
        }
    );
    if identical < verdicts.len() {
        return Err(Exit(EXIT_JOB_FAILED).into());
    }
    Ok(())
}

fn print_verdict(job: &JobRow, verdict: &Verdict) {
    match verdict {
        Verdict::Identical { digest } => println!("job {}  identical  {digest}", job.id),
        Verdict::Unverifiable { reason } => println!("job {}  not verified: {reason}", job.id),
        Verdict::Different {
            stored,
            rerun,
            difference,
            notes,
        } => {
            println!("job {}  DIFFERENT", job.id);
            println!("  stored digest {stored}");
            match rerun {
                Some(d) => println!("  rerun digest  {d}"),
                None => println!("  rerun digest  (none)"),
            }
            for note in notes {
                println!("  {}", note.lines().next().unwrap_or(""));
            }
            match difference {
                Some(d) => println!("  {}", d.to_string().replace('\n', "\n  ")),
                None => println!(
                    "  the records, artifacts and log are equal; only the stored digest differs"
                ),
            }
        }
    }
}

/// `n` of `jobs`, chosen at random, in job order.
fn sample(jobs: Vec<JobRow>, n: usize) -> Vec<JobRow> {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id());
    let mut state = seed;
    let mut next = move || {
        // SplitMix64.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut indices: Vec<usize> = (0..jobs.len()).collect();
    // A partial Fisher-Yates shuffle: the first n are a uniform sample.
    for i in 0..n {
        let j = i + (next() % (indices.len() - i) as u64) as usize;
        indices.swap(i, j);
    }
    let mut chosen = indices[..n].to_vec();
    chosen.sort_unstable();
    let mut jobs: Vec<Option<JobRow>> = jobs.into_iter().map(Some).collect();
    chosen.iter().filter_map(|&i| jobs[i].take()).collect()
}
