//! How halving sweeps read in listings (`djx ls`, `djx jobs`, the summary
//! of `djx run`): the rung each is at, its budget, and how it ended.

use std::collections::BTreeMap;

use djx_host::experiment::sweep::Sweep;
use djx_host::experiment::sweep::promote::rank;
use djx_host::store::{JobStatus, Rung, Store};

/// The latest rung of each experiment that has a sweep, by experiment.
pub fn latest(rungs: &[Rung]) -> BTreeMap<i64, &Rung> {
    rungs.iter().map(|r| (r.experiment_id, r)).collect()
}

/// `rung 1, last 3`, `rung 3, last 3` or `stopped at rung 0`: a sweep's
/// state in a table cell.
pub fn cell(rung: &Rung) -> String {
    match rung.stopped {
        Some(_) => format!("stopped at rung {}", rung.rung),
        None => format!("rung {}, last {}", rung.rung, rung.rungs.saturating_sub(1)),
    }
}

/// The sweep of experiment `id`, from its stored plan (`None` without one).
fn sweep_of(store: &dyn Store, id: i64) -> anyhow::Result<Option<Sweep>> {
    let experiment = store.experiment(id)?.locked;
    Ok(match &experiment.sweep {
        Some(plan) => Some(Sweep::new(plan)?),
        None => None,
    })
}

/// One line per rung of experiment `id`'s sweep: its budget, how many
/// configurations and which jobs; and why it stopped, if it did.
pub fn rung_lines(store: &dyn Store, id: i64) -> anyhow::Result<Vec<String>> {
    let rungs = store.rungs(&[id])?;
    let Some(sweep) = sweep_of(store, id)? else {
        return Ok(Vec::new());
    };
    let mut lines = Vec::new();
    for rung in &rungs {
        let budget = sweep
            .budget(rung.rung as usize)
            .map(ToString::to_string)
            .unwrap_or_default();
        let configurations = match &rung.samples {
            Some(samples) => format!(
                "{} configuration{} (sample{} {})",
                samples.len(),
                if samples.len() == 1 { "" } else { "s" },
                if samples.len() == 1 { "" } else { "s" },
                samples
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "every configuration".to_owned(),
        };
        let positions = rung.positions();
        lines.push(format!(
            "rung {}: budget {budget}, {configurations}, {} jobs (positions {}-{})",
            rung.rung,
            rung.jobs,
            positions.start,
            positions.end - 1
        ));
        if let Some(reason) = &rung.stopped {
            lines.push(reason.clone());
        }
    }
    Ok(lines)
}

/// A line on each sweep of `ids`: which rung it is at, and, for one that
/// ended, its best configuration; or why it stopped.
pub fn summary_lines(store: &dyn Store, ids: &[i64]) -> anyhow::Result<Vec<String>> {
    let rungs = store.rungs(ids)?;
    let mut lines = Vec::new();
    for (id, rung) in latest(&rungs) {
        if let Some(reason) = &rung.stopped {
            lines.push(format!("experiment {id}: {reason}"));
            continue;
        }
        let Some(sweep) = sweep_of(store, id)? else {
            continue;
        };
        let halving = sweep.halving();
        let budget = sweep
            .budget(rung.rung as usize)
            .map(ToString::to_string)
            .unwrap_or_default();
        let jobs = store.rung_jobs(rung, &halving.metric)?;
        let ended = jobs
            .iter()
            .filter(|j| matches!(j.status, JobStatus::Finished | JobStatus::Failed))
            .count();
        let at = format!(
            "rung {} of rungs 0-{} (budget {budget})",
            rung.rung,
            rung.rungs.saturating_sub(1)
        );
        if rung.is_last() && ended == jobs.len() {
            let best = rank(halving, &jobs)
                .map_err(anyhow::Error::msg)?
                .into_iter()
                .next();
            let best = match best {
                Some(b) => match b.score {
                    Some(score) => format!(
                        "best configuration: sample {} ({} {score})",
                        b.sample, halving.metric
                    ),
                    None => format!("no configuration recorded `{}`", halving.metric),
                },
                None => String::new(),
            };
            lines.push(format!(
                "experiment {id}: halving sweep done at {at}; {best}"
            ));
        } else {
            lines.push(format!(
                "experiment {id}: halving sweep at {at}: {ended} of its {} jobs ended",
                jobs.len()
            ));
        }
    }
    Ok(lines)
}
