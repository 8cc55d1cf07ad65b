//! How one metric's records become a curve's points, the same whether the
//! records are read back from the store ([`super::curve`]) or sketched as
//! a job emits them ([`super::curve_sketch`]): the x axis is the context
//! key asked for, else the first step-like key ([`super::steps`]) of the
//! first record carrying the metric, else the record's place among those
//! records; a record is a point when its metric is a number and its x is.

use super::json_scan::{Field, KeyPattern};
use super::steps::step_of;

/// One metric's x axis, and how many records carrying it were seen.
#[derive(Clone, Debug)]
pub struct CurveAxis {
    x: Option<KeyPattern>,
    total: u64,
}

impl CurveAxis {
    /// An axis on context key `x`, or (`None`) on the first record's step
    /// key.
    pub fn new(x: Option<&str>) -> CurveAxis {
        CurveAxis {
            x: x.map(KeyPattern::new),
            total: 0,
        }
    }

    /// The point of the next record carrying the metric, whose context is
    /// `context` and whose metric value is `y`; `None` when it has none
    /// (the value is `null`, or the x key is missing or not a number).
    pub fn point(&mut self, context: &str, y: Field) -> Option<(f64, f64)> {
        self.total += 1;
        if self.total == 1 && self.x.is_none() {
            self.x = step_of(context).map(|(k, _)| KeyPattern::new(k));
        }
        let x = match &self.x {
            Some(k) => match k.find(context) {
                Some(Field::Number(v)) => v,
                _ => return None,
            },
            None => (self.total - 1) as f64,
        };
        y.number().map(|y| (x, y))
    }

    /// How many records carrying the metric were seen.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The context key on the x axis (`None`: the record's place).
    pub fn key(&self) -> Option<&str> {
        self.x.as_ref().map(KeyPattern::key)
    }
}
