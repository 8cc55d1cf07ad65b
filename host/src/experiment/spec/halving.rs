//! Successive halving as written: `experiment.halving`, checked, with its
//! rungs' budgets worked out.
//!
//! ```yaml
//! experiment:
//!   random: {samples: 27, seed: 1, space: {...}}
//!   halving:
//!     metric: mean_test_accuracy   # the last value each job records counts
//!     mode: max                    # or min
//!     budget: parameter.model_args.n_estimators
//!     min: 10
//!     max: 270
//!     eta: 3
//! ```
//!
//! Rung *k* runs at budget `min · eta^k`, capped at `max`; the last rung is
//! the first to reach `max`. Budgets keep the type of `min` and `max`: two
//! integers give integer budgets, a float gives float budgets. Which
//! configurations each rung runs is decided when the rung before it ends
//! ([`crate::experiment::sweep`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::locate::Seg;
use super::{ParsedFile, SpecError, yaml_key};

/// `experiment.halving` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HalvingSection {
    /// The metric that ranks configurations.
    pub metric: String,
    /// Whether higher or lower is better.
    pub mode: Mode,
    /// The dotted parameter key that grows from rung to rung.
    #[serde(default)]
    pub budget: Option<String>,
    /// The budget of rung 0.
    pub min: serde_yaml::Value,
    /// The budget of the last rung.
    pub max: serde_yaml::Value,
    /// The factor between rungs: each keeps the best `1/eta`.
    pub eta: serde_yaml::Value,
}

/// Whether a higher or a lower metric is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Higher is better.
    Max,
    /// Lower is better.
    Min,
}

/// A checked successive-halving plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Halving {
    /// The metric that ranks configurations.
    pub metric: String,
    /// Whether higher or lower is better.
    pub mode: Mode,
    /// The dotted parameter key the budget is set at.
    pub budget: String,
    /// The budget of each rung, first to last.
    pub budgets: Vec<Value>,
    /// Each rung keeps the best `1/eta` of the configurations (at least one).
    pub eta: u64,
}

impl Halving {
    /// Checks `experiment.halving` of `parsed`, if it has one. `set_by`
    /// says where the grid or the random space sets a key, if they do: the
    /// budget may be none of their keys. `random` says whether the file
    /// draws samples (halving promotes sampled configurations).
    pub fn new(
        parsed: &ParsedFile,
        set_by: &dyn Fn(&str) -> Option<String>,
        random: bool,
    ) -> Result<Option<Halving>, SpecError> {
        let Some(section) = parsed
            .file
            .experiment
            .as_ref()
            .and_then(|e| e.halving.as_ref())
        else {
            return Ok(None);
        };
        let at = |key: &'static str| [Seg::Key("experiment"), Seg::Key("halving"), Seg::Key(key)];
        let whole = [Seg::Key("experiment"), Seg::Key("halving")];
        if !random {
            return Err(parsed.error(
                &whole,
                "successive halving promotes sampled configurations: add \
                 `experiment.random` to draw them",
            ));
        }
        let Some(budget) = section.budget.clone() else {
            return Err(parsed.error(
                &whole,
                "halving needs `budget:`, the parameter that grows from rung to rung \
                 (e.g. `budget: parameter.model_args.n_estimators`)",
            ));
        };
        super::grid::check_key(&budget, "budget").map_err(|m| parsed.error(&at("budget"), m))?;
        if !budget.starts_with("parameter.") {
            return Err(parsed.error(
                &at("budget"),
                format!("the budget is a parameter: `parameter.…`, not `{budget}`"),
            ));
        }
        if let Some(taken) = set_by(&budget) {
            return Err(parsed.error(
                &at("budget"),
                format!(
                    "the budget `{budget}` is also set by {taken}: halving sets the \
                     budget of each rung itself, so it cannot be a grid or random key"
                ),
            ));
        }
        if section.metric.trim().is_empty() {
            return Err(parsed.error(&at("metric"), "name the metric that ranks configurations"));
        }
        let eta = match &section.eta {
            serde_yaml::Value::Number(n) => n.as_u64().filter(|&e| e >= 2),
            _ => None,
        }
        .ok_or_else(|| {
            parsed.error(
                &at("eta"),
                format!(
                    "`eta` is an integer of at least 2 (each rung keeps the best 1/eta), \
                     found {}",
                    yaml_key(&section.eta)
                ),
            )
        })?;
        let budgets = budgets(&section.min, &section.max, eta)
            .map_err(|(key, m)| parsed.error(&at(key), m))?;
        Ok(Some(Halving {
            metric: section.metric.clone(),
            mode: section.mode,
            budget,
            budgets,
            eta,
        }))
    }

    /// How many configurations a rung of `n` promotes: the best `1/eta`,
    /// at least one.
    pub fn keep(&self, n: usize) -> usize {
        (n / self.eta as usize).max(1)
    }
}

/// The budget of every rung: `min · eta^k` capped at `max`, until `max`.
/// Errors name the key (`min` or `max`) and say what is wrong.
fn budgets(
    min: &serde_yaml::Value,
    max: &serde_yaml::Value,
    eta: u64,
) -> Result<Vec<Value>, (&'static str, String)> {
    let number = |key: &'static str, v: &serde_yaml::Value| match v {
        serde_yaml::Value::Number(n) => Ok(n.clone()),
        other => Err((
            key,
            format!("`{key}` is a number, found {}", yaml_key(other)),
        )),
    };
    let (lo, hi) = (number("min", min)?, number("max", max)?);
    if let (Some(lo), Some(hi)) = (lo.as_u64(), hi.as_u64()) {
        if lo == 0 {
            return Err(("min", "`min` is above 0".into()));
        }
        if lo > hi {
            return Err(("min", format!("`min` ({lo}) is above `max` ({hi})")));
        }
        let mut out = Vec::new();
        let mut b = lo;
        loop {
            out.push(Value::from(b));
            if b >= hi {
                return Ok(out);
            }
            b = b.saturating_mul(eta).min(hi);
        }
    }
    let float = |key: &'static str, n: &serde_yaml::Number| {
        n.as_f64()
            .filter(|f| f.is_finite() && *f > 0.0)
            .ok_or((key, format!("`{key}` is a number above 0, found {n}")))
    };
    let (lo, hi) = (float("min", &lo)?, float("max", &hi)?);
    if lo > hi {
        return Err(("min", format!("`min` ({lo}) is above `max` ({hi})")));
    }
    let mut out = Vec::new();
    let mut factor = 1.0f64;
    loop {
        let b = (lo * factor).min(hi);
        out.push(serde_json::Number::from_f64(b).map_or(Value::Null, Value::Number));
        if b >= hi {
            return Ok(out);
        }
        factor *= eta as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(min: &str, max: &str, eta: u64) -> Vec<Value> {
        let y = |s: &str| serde_yaml::from_str(s).expect("yaml");
        budgets(&y(min), &y(max), eta).expect("valid")
    }

    #[test]
    fn budgets_grow_by_eta_until_max() {
        assert_eq!(
            of("10", "270", 3),
            vec![
                Value::from(10),
                Value::from(30),
                Value::from(90),
                Value::from(270)
            ]
        );
        // A max that is not min · eta^k caps the last rung.
        assert_eq!(
            of("10", "100", 3),
            vec![
                Value::from(10),
                Value::from(30),
                Value::from(90),
                Value::from(100)
            ]
        );
        assert_eq!(of("5", "5", 2), vec![Value::from(5)]);
        // Floats stay floats.
        assert_eq!(
            of("0.25", "1.0", 2),
            vec![
                serde_json::json!(0.25),
                serde_json::json!(0.5),
                serde_json::json!(1.0)
            ]
        );
    }

    #[test]
    fn keep_is_the_best_fraction_and_at_least_one() {
        let h = Halving {
            metric: "m".into(),
            mode: Mode::Max,
            budget: "parameter.b".into(),
            budgets: Vec::new(),
            eta: 3,
        };
        assert_eq!(h.keep(27), 9);
        assert_eq!(h.keep(20), 6);
        assert_eq!(h.keep(2), 1);
    }
}
