//! A metric's values in one job, folded as they are read: enough to give
//! its final value or any aggregate the job table offers.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// What the job table shows for a metric a job recorded several times.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Aggregate {
    /// The value of the last record that carries the metric (the default:
    /// a job's final value).
    #[default]
    Last,
    /// The value of the first such record.
    First,
    /// The smallest finite value.
    Min,
    /// The largest finite value.
    Max,
    /// The mean of the finite values.
    Mean,
    /// How many records carry the metric.
    Count,
}

impl Aggregate {
    /// Every aggregate, in the order the page offers them.
    pub const ALL: [Aggregate; 6] = [
        Aggregate::Last,
        Aggregate::First,
        Aggregate::Min,
        Aggregate::Max,
        Aggregate::Mean,
        Aggregate::Count,
    ];

    /// Its name in URLs (`agg=`).
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregate::Last => "last",
            Aggregate::First => "first",
            Aggregate::Min => "min",
            Aggregate::Max => "max",
            Aggregate::Mean => "mean",
            Aggregate::Count => "count",
        }
    }
}

impl fmt::Display for Aggregate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Aggregate {
    type Err = String;

    fn from_str(text: &str) -> Result<Aggregate, String> {
        Aggregate::ALL
            .into_iter()
            .find(|a| a.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "agg={text:?} is not an aggregate: use last, first, min, max, mean or count"
                )
            })
    }
}

/// One metric of one job: its values folded in record order. A
/// non-finite value is stored as `null` and counts, but takes no part in
/// the minimum, maximum and mean.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricAgg {
    /// Records that carry the metric.
    pub count: u64,
    /// The first record's value.
    pub first: Option<f64>,
    /// The last record's value.
    pub last: Option<f64>,
    min: f64,
    max: f64,
    sum: f64,
    finite: u64,
    /// Records that carry the metric and a step-like context.
    pub stepped: u64,
}

impl MetricAgg {
    /// A metric seen once, with `value`.
    pub fn new(value: Option<f64>, stepped: bool) -> MetricAgg {
        let mut agg = MetricAgg {
            count: 0,
            first: value,
            last: None,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: 0.0,
            finite: 0,
            stepped: 0,
        };
        agg.push(value, stepped);
        agg
    }

    /// Folds in the next record's value.
    pub fn push(&mut self, value: Option<f64>, stepped: bool) {
        self.count += 1;
        self.last = value;
        self.stepped += u64::from(stepped);
        if let Some(v) = value.filter(|v| v.is_finite()) {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
            self.sum += v;
            self.finite += 1;
        }
    }

    /// The aggregate `agg`, or `None` when there is no finite value to
    /// give.
    pub fn get(&self, agg: Aggregate) -> Option<f64> {
        let any = self.finite > 0;
        match agg {
            Aggregate::Last => self.last,
            Aggregate::First => self.first,
            Aggregate::Min => any.then_some(self.min),
            Aggregate::Max => any.then_some(self.max),
            Aggregate::Mean => any.then(|| self.sum / self.finite as f64),
            Aggregate::Count => Some(self.count as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_values_in_order() {
        let mut m = MetricAgg::new(Some(3.0), false);
        m.push(None, true);
        m.push(Some(1.0), true);
        m.push(Some(5.0), false);
        assert_eq!(m.get(Aggregate::First), Some(3.0));
        assert_eq!(m.get(Aggregate::Last), Some(5.0));
        assert_eq!(m.get(Aggregate::Min), Some(1.0));
        assert_eq!(m.get(Aggregate::Max), Some(5.0));
        assert_eq!(m.get(Aggregate::Mean), Some(3.0));
        assert_eq!(m.get(Aggregate::Count), Some(4.0));
        assert_eq!(m.stepped, 2);
    }

    #[test]
    fn no_finite_value_gives_none() {
        let m = MetricAgg::new(None, false);
        assert_eq!(m.get(Aggregate::Mean), None);
        assert_eq!(m.get(Aggregate::Min), None);
        assert_eq!(m.get(Aggregate::Last), None);
        assert_eq!(m.get(Aggregate::Count), Some(1.0));
    }

    #[test]
    fn parses_names() {
        for agg in Aggregate::ALL {
            assert_eq!(agg.as_str().parse::<Aggregate>(), Ok(agg));
        }
        assert!("median".parse::<Aggregate>().is_err());
    }
}
