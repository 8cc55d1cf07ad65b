//! An experiment's jobs grouped by one or more grid dimensions, every
//! other dimension aggregated over: for each group and metric, how many
//! jobs have a value and their mean, standard deviation, standard error,
//! minimum and maximum. The question it answers: "mean accuracy by
//! `max_depth`, with its spread over folds".
//!
//! The standard deviation is the sample one (divided by n − 1, as pandas'
//! `std()`); it and the standard error are absent for a single value.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;

use super::agg::Aggregate;
use super::dims::{CodedDim, code};
use super::summary::Summary;

/// A metric's values over the jobs of one group.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Stats {
    /// Jobs with a finite value.
    pub n: u64,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation (n − 1); `None` for one value.
    pub std: Option<f64>,
    /// The standard error of the mean, `std / √n`.
    pub sem: Option<f64>,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Stats {
    /// The statistics of `values` (finite numbers); `None` when empty.
    pub fn of(values: &[f64]) -> Option<Stats> {
        if values.is_empty() {
            return None;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = (values.len() > 1).then(|| {
            let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
            (ss / (n - 1.0)).sqrt()
        });
        Some(Stats {
            n: values.len() as u64,
            mean,
            std,
            sem: std.map(|s| s / n.sqrt()),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }

    /// The error bar around the mean that `spread` asks for: `(low,
    /// high)`; `None` when it is undefined (one value, for `std` and
    /// `sem`).
    pub fn band(&self, spread: Spread) -> Option<(f64, f64)> {
        match spread {
            Spread::Std => self.std.map(|s| (self.mean - s, self.mean + s)),
            Spread::Sem => self.sem.map(|s| (self.mean - s, self.mean + s)),
            Spread::MinMax => Some((self.min, self.max)),
        }
    }
}

/// Which error bar a grouped plot draws.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Spread {
    /// Mean ± one standard deviation.
    #[default]
    Std,
    /// Mean ± one standard error.
    Sem,
    /// The smallest to the largest value.
    #[serde(rename = "minmax")]
    MinMax,
}

impl Spread {
    /// Every spread, in the order the page offers them.
    pub const ALL: [Spread; 3] = [Spread::Std, Spread::Sem, Spread::MinMax];

    /// Its name in URLs (`spread=`).
    pub fn as_str(self) -> &'static str {
        match self {
            Spread::Std => "std",
            Spread::Sem => "sem",
            Spread::MinMax => "minmax",
        }
    }
}

impl fmt::Display for Spread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Spread {
    type Err = String;

    fn from_str(text: &str) -> Result<Spread, String> {
        Spread::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("spread={text:?} is not a spread: use std, sem or minmax"))
    }
}

/// One group: the jobs that share the grouped dimensions' values.
#[derive(Clone, Debug)]
pub struct Group {
    /// The group's value of each grouped dimension, in `by` order.
    pub key: Vec<Value>,
    /// The group's place along each grouped dimension (for ordering and
    /// plotting).
    pub codes: Vec<usize>,
    /// Its jobs' ids, in grid order.
    pub jobs: Vec<i64>,
    /// Each metric's statistics, by metric number (`None`: no job of the
    /// group has a value).
    pub metrics: Vec<Option<Stats>>,
}

/// The grouping of an experiment.
#[derive(Clone, Debug)]
pub struct Grouping {
    /// The grouped dimensions, coded.
    pub by: Vec<CodedDim>,
    /// The aggregate that gives each job's value of a metric.
    pub agg: Aggregate,
    /// The groups, ordered by the dimensions' values.
    pub groups: Vec<Group>,
}

/// Why a grouping cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    /// `by` named no column.
    #[error("group by names no column: give one or more, e.g. by=labels.max_depth")]
    NoColumn,
    /// A column the experiment does not have.
    #[error("cannot group by {0:?}: the columns to group by are {1}")]
    Unknown(String, String),
}

impl Grouping {
    /// Groups `summary`'s jobs by the label or parameter columns `by`,
    /// each job's metric value taken by `agg`; with `keep`, only the jobs
    /// it marks (by place in the summary).
    pub fn of(
        summary: &Summary,
        by: &[String],
        agg: Aggregate,
        keep: Option<&[bool]>,
    ) -> Result<Grouping, GroupError> {
        if by.is_empty() {
            return Err(GroupError::NoColumn);
        }
        let known: Vec<&String> = summary
            .columns
            .cells()
            .chain(summary.columns.constants.keys())
            .chain(summary.dims.iter())
            .collect();
        for path in by {
            if !known.contains(&path) {
                let mut names: Vec<&str> = known.iter().map(|s| s.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                return Err(GroupError::Unknown(path.clone(), names.join(", ")));
            }
        }
        let dims: Vec<CodedDim> = by.iter().map(|p| code(summary, p)).collect();
        let mut index: HashMap<Vec<usize>, usize> = HashMap::new();
        let mut members: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
        for j in 0..summary.jobs.len() {
            if keep.is_some_and(|k| !k.get(j).copied().unwrap_or(false)) {
                continue;
            }
            let codes: Vec<usize> = dims.iter().map(|d| d.codes[j]).collect();
            let g = *index.entry(codes.clone()).or_insert_with(|| {
                members.push((codes, Vec::new()));
                members.len() - 1
            });
            members[g].1.push(j);
        }
        members.sort_by(|a, b| a.0.cmp(&b.0));
        let groups = members
            .into_iter()
            .map(|(codes, jobs)| {
                let metrics = (0..summary.metrics.len())
                    .map(|m| {
                        let values: Vec<f64> = jobs
                            .iter()
                            .filter_map(|&j| summary.jobs[j].value(m, agg))
                            .filter(|v| v.is_finite())
                            .collect();
                        Stats::of(&values)
                    })
                    .collect();
                Group {
                    key: dims
                        .iter()
                        .zip(&codes)
                        .map(|(d, &c)| d.values[c].clone())
                        .collect(),
                    codes,
                    jobs: jobs.iter().map(|&j| summary.jobs[j].row.id).collect(),
                    metrics,
                }
            })
            .collect();
        Ok(Grouping {
            by: dims,
            agg,
            groups,
        })
    }
}

/// The dimensions that look like repetitions of one setting (a seed, a
/// fold, a cross-validation split, an iteration, a repeat): what a report
/// groups over by default.
pub fn repetition_dims(summary: &Summary) -> Vec<String> {
    const WORDS: [&str; 6] = ["seed", "fold", "cv", "iteration", "itteration", "repeat"];
    summary
        .dims
        .iter()
        .filter(|path| {
            let leaf = path.rsplit('.').next().unwrap_or(path).to_lowercase();
            leaf.split(|c: char| !c.is_ascii_alphanumeric())
                .any(|word| WORDS.contains(&word) || WORDS.contains(&word.trim_end_matches('s')))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_statistics_as_pandas() {
        let s = Stats::of(&[0.9, 0.95, 1.0]).expect("three values");
        assert_eq!(s.n, 3);
        assert!((s.mean - 0.95).abs() < 1e-12);
        // pandas.Series([0.9, 0.95, 1.0]).std() == 0.05
        assert!((s.std.expect("std") - 0.05).abs() < 1e-12);
        assert!((s.sem.expect("sem") - 0.05 / 3f64.sqrt()).abs() < 1e-12);
        assert_eq!((s.min, s.max), (0.9, 1.0));
        let one = Stats::of(&[2.0]).expect("one value");
        assert_eq!((one.std, one.sem), (None, None));
        assert_eq!(one.band(Spread::MinMax), Some((2.0, 2.0)));
        assert_eq!(one.band(Spread::Std), None);
        assert!(Stats::of(&[]).is_none());
    }

    #[test]
    fn spreads_parse_and_print() {
        assert_eq!("minmax".parse::<Spread>(), Ok(Spread::MinMax));
        for s in Spread::ALL {
            assert_eq!(s.as_str().parse::<Spread>(), Ok(s));
        }
        assert!("var".parse::<Spread>().is_err());
    }
}
