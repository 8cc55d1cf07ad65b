//! How one metric's records become a curve's points, the same whether the
//! records are read back from the store ([`super::curve`], from their
//! text) or sketched as a job emits them ([`super::curve_sketch`], from
//! its values): the x axis is the context key asked for, else the first
//! step-like key ([`super::steps`]) of the first record carrying the
//! metric, else the record's place among those records; a record is a
//! point when its metric is a number (djx stores a non-finite one as
//! `null`) and its x is.

use serde_json::{Map, Value};

use super::json_scan::{Field, KeyPattern};
use super::steps::{STEP_KEYS, step_of};

/// A record's context, as far as a curve's x needs it.
pub trait StepContext {
    /// The first step-like key whose value is a number.
    fn step_key(&self) -> Option<&'static str>;
    /// The value of `key`, if it is a number.
    fn number(&self, key: &KeyPattern) -> Option<f64>;
}

/// A context as stored: a JSON object's text.
impl StepContext for &str {
    fn step_key(&self) -> Option<&'static str> {
        step_of(self).map(|(k, _)| k)
    }

    fn number(&self, key: &KeyPattern) -> Option<f64> {
        key.find(self).and_then(Field::number)
    }
}

/// A context as a job emits it: its own keys over the bound ones.
pub struct Merged<'a> {
    /// The bound context.
    pub bound: &'a Map<String, Value>,
    /// The record's own context.
    pub own: &'a Map<String, Value>,
}

impl Merged<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.own.get(key).or_else(|| self.bound.get(key))
    }
}

impl StepContext for Merged<'_> {
    fn step_key(&self) -> Option<&'static str> {
        STEP_KEYS
            .into_iter()
            .find(|k| self.get(k).is_some_and(Value::is_number))
    }

    fn number(&self, key: &KeyPattern) -> Option<f64> {
        self.get(key.key()).and_then(Value::as_f64)
    }
}

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
    /// `context` and whose metric value is `y` (`None`: not a number);
    /// `None` when it has none (no value, or the x key is missing or not a
    /// number).
    pub fn point(&mut self, context: impl StepContext, y: Option<f64>) -> Option<(f64, f64)> {
        self.total += 1;
        if self.total == 1 && self.x.is_none() {
            self.x = context.step_key().map(KeyPattern::new);
        }
        let x = match &self.x {
            Some(k) => context.number(k)?,
            None => (self.total - 1) as f64,
        };
        y.map(|y| (x, y))
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
