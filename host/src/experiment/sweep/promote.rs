//! Ranking the configurations of a rung that has ended, and deciding what
//! the next rung runs.
//!
//! A configuration (a sample) scores the mean of its metric over its grid
//! points: each job's metric is the last value it recorded. A
//! configuration with a job that failed, or that recorded no finite value
//! of the metric, has no score and ranks below every one that has. Better
//! scores rank first (higher for `mode: max`, lower for `mode: min`); ties
//! break by sample index, lowest first. The next rung runs the best
//! `1/eta`, at least one, in sample order. When no configuration has a
//! score, the sweep stops and promotes nothing.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::experiment::spec::{Halving, Mode};
use crate::store::{JobStatus, RungJob};

/// How one configuration did in a rung.
#[derive(Clone, Debug, PartialEq)]
pub struct Standing {
    /// Its sample index.
    pub sample: u64,
    /// The mean of its metric over its jobs, if every one recorded it.
    pub score: Option<f64>,
}

/// What follows a rung.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// The next rung runs these samples (in sample order).
    Promote(Vec<u64>),
    /// The sweep stops, for this reason.
    Stop(String),
}

/// The standings of a rung's configurations, best first. Errors name a job
/// without a `sample` label (a store edited by hand).
pub fn rank(halving: &Halving, jobs: &[RungJob]) -> Result<Vec<Standing>, String> {
    // Per sample: the sum and count of its values, or None once a job of
    // it has none. Sums run in position order, the same on every worker.
    let mut by_sample: BTreeMap<u64, Option<(f64, u32)>> = BTreeMap::new();
    for job in jobs {
        let sample = job.labels["sample"]
            .as_u64()
            .ok_or_else(|| format!("the job at position {} has no `sample` label", job.position))?;
        let value = metric(halving, job);
        let entry = by_sample.entry(sample).or_insert(Some((0.0, 0)));
        *entry = match (*entry, value) {
            (Some((sum, n)), Some(v)) => Some((sum + v, n + 1)),
            _ => None,
        };
    }
    let mut standings: Vec<Standing> = by_sample
        .into_iter()
        .map(|(sample, sum)| Standing {
            sample,
            score: sum.map(|(sum, n)| sum / f64::from(n)),
        })
        .collect();
    standings.sort_by(|a, b| {
        let better = match (a.score, b.score) {
            (Some(x), Some(y)) => match halving.mode {
                Mode::Max => y.total_cmp(&x),
                Mode::Min => x.total_cmp(&y),
            },
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        better.then(a.sample.cmp(&b.sample))
    });
    Ok(standings)
}

/// The last value of the ranking metric a finished job recorded, if it is
/// a finite number.
fn metric(halving: &Halving, job: &RungJob) -> Option<f64> {
    if job.status != JobStatus::Finished {
        return None;
    }
    match job.metrics.as_ref()?.get(&halving.metric)? {
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// What follows rung `rung`, whose jobs (all ended) are `jobs`.
pub fn decide(halving: &Halving, rung: u32, jobs: &[RungJob]) -> Decision {
    let standings = match rank(halving, jobs) {
        Ok(standings) => standings,
        Err(e) => return Decision::Stop(format!("halving stopped after rung {rung}: {e}")),
    };
    if standings.iter().all(|s| s.score.is_none()) {
        let failed = jobs
            .iter()
            .filter(|j| j.status == JobStatus::Failed)
            .count();
        let detail = if failed == jobs.len() {
            format!(" (all {failed} of its jobs failed)")
        } else {
            String::new()
        };
        return Decision::Stop(format!(
            "halving stopped after rung {rung}: no job of the rung recorded the metric `{}`{detail}; \
             nothing was promoted",
            halving.metric
        ));
    }
    let mut next: Vec<u64> = standings
        .iter()
        .take(halving.keep(standings.len()))
        .map(|s| s.sample)
        .collect();
    next.sort_unstable();
    Decision::Promote(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn halving(mode: Mode, eta: u64) -> Halving {
        Halving {
            metric: "acc".into(),
            mode,
            budget: "parameter.b".into(),
            budgets: vec![json!(1), json!(3)],
            eta,
        }
    }

    /// A job of `sample` that finished with `acc` (or failed, for `None`).
    fn job(position: i64, sample: u64, acc: Option<f64>) -> RungJob {
        RungJob {
            position,
            labels: json!({"sample": sample}),
            status: if acc.is_some() {
                JobStatus::Finished
            } else {
                JobStatus::Failed
            },
            metrics: acc.map(|a| json!({"acc": a}).as_object().cloned().unwrap_or_default()),
        }
    }

    #[test]
    fn the_best_third_is_promoted_in_sample_order() {
        let jobs: Vec<RungJob> = [0.5, 0.9, 0.1, 0.7, 0.8, 0.2]
            .iter()
            .enumerate()
            .map(|(i, &a)| job(i as i64, i as u64, Some(a)))
            .collect();
        assert_eq!(
            decide(&halving(Mode::Max, 3), 0, &jobs),
            Decision::Promote(vec![1, 4])
        );
        assert_eq!(
            decide(&halving(Mode::Min, 3), 0, &jobs),
            Decision::Promote(vec![2, 5])
        );
    }

    #[test]
    fn ties_break_by_sample_index_and_failures_rank_last() {
        let jobs = vec![
            job(0, 0, None),
            job(1, 1, Some(0.5)),
            job(2, 2, Some(0.5)),
            job(3, 3, Some(0.5)),
        ];
        // Keep 2 of 4: the failed sample 0 ranks last, the tie goes to 1, 2.
        assert_eq!(
            decide(&halving(Mode::Max, 2), 0, &jobs),
            Decision::Promote(vec![1, 2])
        );
        assert_eq!(
            decide(&halving(Mode::Min, 2), 0, &jobs),
            Decision::Promote(vec![1, 2])
        );
    }

    #[test]
    fn a_configuration_scores_the_mean_over_its_grid_points() {
        // Two folds (grid first, then samples): sample 0 scores 0.6, sample
        // 1 scores 0.55 though it has the best single job.
        let jobs = vec![
            job(0, 0, Some(0.6)),
            job(1, 1, Some(1.0)),
            job(2, 0, Some(0.6)),
            job(3, 1, Some(0.1)),
        ];
        let standings = rank(&halving(Mode::Max, 2), &jobs).expect("ranks");
        assert_eq!(standings[0].sample, 0);
        assert_eq!(standings[1].score, Some(0.55));
        // One failed fold leaves a configuration without a score.
        let mut jobs = jobs;
        jobs[2] = job(2, 0, None);
        let standings = rank(&halving(Mode::Max, 2), &jobs).expect("ranks");
        assert_eq!(standings[0].sample, 1);
        assert_eq!(standings[1].score, None);
    }

    #[test]
    fn a_metric_no_job_recorded_stops_the_sweep() {
        let mut jobs = vec![job(0, 0, Some(0.5)), job(1, 1, Some(0.7))];
        for j in &mut jobs {
            j.metrics = None;
        }
        match decide(&halving(Mode::Max, 2), 0, &jobs) {
            Decision::Stop(reason) => {
                assert!(
                    reason.contains("no job of the rung recorded the metric `acc`"),
                    "{reason}"
                );
                assert!(reason.contains("nothing was promoted"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let failed = vec![job(0, 0, None), job(1, 1, None)];
        match decide(&halving(Mode::Max, 2), 1, &failed) {
            Decision::Stop(reason) => {
                assert!(reason.contains("all 2 of its jobs failed"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_non_finite_value_is_no_score() {
        let mut j = job(0, 0, Some(0.5));
        j.metrics = json!({"acc": null}).as_object().cloned();
        let jobs = vec![j, job(1, 1, Some(0.1))];
        assert_eq!(
            decide(&halving(Mode::Max, 2), 0, &jobs),
            Decision::Promote(vec![1])
        );
    }
}
