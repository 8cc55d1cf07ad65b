//! Random search: `experiment.random`, its distributions, and the exact
//! scheme that turns (seed, key, sample index) into a value.
//!
//! ```yaml
//! experiment:
//!   random:
//!     samples: 20
//!     seed: 7
//!     space:
//!       parameter.model_args.max_depth: {int: [2, 12]}           # inclusive
//!       parameter.model_args.n_estimators: {intlog: [10, 1000]}  # log-uniform integer
//!       parameter.lr: {loguniform: [1.0e-4, 1.0e-1]}
//!       parameter.dropout: {uniform: [0.0, 0.5]}
//!       parameter.optimizer: {choice: [adam, sgd, {name: sgd, momentum: 0.9}]}
//! ```
//!
//! Each value depends on the seed, its key and the sample index only, so
//! adding, removing or reordering other keys, or changing the grid, never
//! changes it. The scheme (also in the README, so values can be recomputed
//! elsewhere):
//!
//! - `w` is the first 8 bytes, read as a little-endian `u64`, of
//!   blake3(`"djx-random-v1"` ‖ `0x00` ‖ seed as 8 bytes little-endian ‖
//!   sample index as 8 bytes little-endian ‖ the key's UTF-8 bytes).
//! - `u = (w >> 11) · 2^-53`, a float in \[0, 1).
//! - `int [lo, hi]`: `lo + ⌊w · (hi − lo + 1) / 2^64⌋`, in exact integer
//!   arithmetic; `choice [v0, …, vn-1]`: `v_j` with `j = ⌊w · n / 2^64⌋`.
//! - `uniform [lo, hi]`: `lo + u · (hi − lo)`.
//! - `loguniform [lo, hi]`: `exp(ln lo + u · (ln hi − ln lo))`, clamped to
//!   \[lo, hi\].
//! - `intlog [lo, hi]`: `⌊exp(ln lo + u · (ln(hi + 1) − ln lo))⌋`, clamped to
//!   \[lo, hi\].
//!
//! Float arithmetic is IEEE double with rounding to nearest; `ln` and `exp`
//! are the `libm` crate's (a pure-Rust port of musl's), pinned to one
//! version, so every machine computes the same bits.

use serde::Deserialize;
use serde_json::Value;

use super::locate::Seg;
use super::{ParsedFile, SpecError, to_json, yaml_key};

/// The prefix of every hashed sample input: a new scheme gets a new one.
const DOMAIN: &[u8] = b"djx-random-v1\0";

/// The largest bound of `intlog` (2^53): larger integers are not all
/// floats, so their logarithms would not tell them apart.
const MAX_INTLOG: i128 = 1 << 53;

/// `experiment.random` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomSection {
    /// How many configurations to draw.
    pub samples: u64,
    /// The seed every value is drawn from.
    pub seed: u64,
    /// How points are drawn (only `random`).
    #[serde(default)]
    pub method: Method,
    /// Dotted keys to distributions.
    pub space: serde_yaml::Mapping,
}

/// How the points are drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Each value independently from (seed, key, index).
    #[default]
    Random,
    /// A scrambled Sobol sequence (not implemented: refused with a message).
    Sobol,
}

/// One distribution.
#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    /// Integers from `lo` to `hi`, inclusive, equally likely.
    Int {
        /// Lowest value.
        lo: i128,
        /// Highest value.
        hi: i128,
    },
    /// Integers from `lo` to `hi`, inclusive, uniform in their logarithm.
    IntLog {
        /// Lowest value (at least 1).
        lo: i128,
        /// Highest value.
        hi: i128,
    },
    /// Floats uniform in \[lo, hi\].
    Uniform {
        /// Lowest value.
        lo: f64,
        /// Highest value.
        hi: f64,
    },
    /// Floats uniform in their logarithm, in \[lo, hi\].
    LogUniform {
        /// Lowest value (above 0).
        lo: f64,
        /// Highest value.
        hi: f64,
    },
    /// One of the values, equally likely.
    Choice(Vec<Value>),
}

/// The names of the distributions, for messages.
const NAMES: &str = "int, intlog, uniform, loguniform or choice";

/// A checked random search: what to draw, and how many times.
#[derive(Clone, Debug)]
pub struct Space {
    /// How many samples.
    pub samples: u64,
    /// The seed.
    pub seed: u64,
    /// Keys and their distributions, in file order.
    pub dims: Vec<(String, Distribution)>,
}

impl Space {
    /// Checks `experiment.random` of `parsed`, if it has one.
    pub fn new(parsed: &ParsedFile) -> Result<Option<Space>, SpecError> {
        let Some(section) = parsed
            .file
            .experiment
            .as_ref()
            .and_then(|e| e.random.as_ref())
        else {
            return Ok(None);
        };
        if section.samples == 0 {
            return Err(parsed.error(
                &[
                    Seg::Key("experiment"),
                    Seg::Key("random"),
                    Seg::Key("samples"),
                ],
                "`samples: 0` draws no configuration: give at least 1",
            ));
        }
        if section.method == Method::Sobol {
            return Err(parsed.error(
                &[
                    Seg::Key("experiment"),
                    Seg::Key("random"),
                    Seg::Key("method"),
                ],
                "`method: sobol` is not supported yet (see the README's Limitations); \
                 use `method: random`, the default",
            ));
        }
        if section.space.is_empty() {
            return Err(parsed.error(
                &[
                    Seg::Key("experiment"),
                    Seg::Key("random"),
                    Seg::Key("space"),
                ],
                "the space has no keys: give each parameter to draw a distribution, \
                 e.g. `parameter.max_depth: {int: [2, 12]}`",
            ));
        }
        let mut dims = Vec::new();
        for (k, v) in &section.space {
            let key = yaml_key(k);
            let path = [
                Seg::Key("experiment"),
                Seg::Key("random"),
                Seg::Key("space"),
                Seg::Key(&key),
            ];
            super::grid::check_key(&key, "random").map_err(|m| parsed.error(&path, m))?;
            if key == "labels.sample" || key == "labels.rung" {
                return Err(parsed.error(
                    &path,
                    format!("`{key}` is set by djx on every sampled job; draw another key"),
                ));
            }
            let dist = distribution(v).map_err(|m| parsed.error(&path, m))?;
            dims.push((key, dist));
        }
        Ok(Some(Space {
            samples: section.samples,
            seed: section.seed,
            dims,
        }))
    }

    /// The keys and values of sample `index`, in file order.
    pub fn point(&self, index: u64) -> impl Iterator<Item = (&str, Value)> + '_ {
        self.dims
            .iter()
            .map(move |(key, dist)| (key.as_str(), dist.value(word(self.seed, key, index))))
    }
}

/// The 64-bit word sample `index` of `key` is drawn from (see the module
/// docs).
pub fn word(seed: u64, key: &str, index: u64) -> u64 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(DOMAIN);
    hasher.update(&seed.to_le_bytes());
    hasher.update(&index.to_le_bytes());
    hasher.update(key.as_bytes());
    let hash = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

/// `w` as a float in \[0, 1): its top 53 bits times 2^-53.
pub fn unit(w: u64) -> f64 {
    (w >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// `⌊w · n / 2^64⌋`: an index below `n`, from `w`.
fn below(w: u64, n: u128) -> u128 {
    (u128::from(w) * n) >> 64
}

impl Distribution {
    /// The value `w` draws (see the module docs).
    pub fn value(&self, w: u64) -> Value {
        match self {
            Distribution::Int { lo, hi } => {
                let n = (hi - lo + 1) as u128;
                int_value(lo + below(w, n) as i128)
            }
            Distribution::Choice(items) => {
                let j = below(w, items.len() as u128) as usize;
                items.get(j).cloned().unwrap_or(Value::Null)
            }
            Distribution::Uniform { lo, hi } => float_value(lo + unit(w) * (hi - lo)),
            Distribution::LogUniform { lo, hi } => {
                let (a, b) = (libm::log(*lo), libm::log(*hi));
                float_value(libm::exp(a + unit(w) * (b - a)).clamp(*lo, *hi))
            }
            Distribution::IntLog { lo, hi } => {
                let (a, b) = (libm::log(*lo as f64), libm::log((*hi + 1) as f64));
                let x = libm::floor(libm::exp(a + unit(w) * (b - a)));
                // Bounds are at most 2^53, so every value here is exact.
                int_value((x as i128).clamp(*lo, *hi))
            }
        }
    }
}

/// An integer as JSON: every integer of `int` bounds fits an `i64` or a
/// `u64`.
fn int_value(i: i128) -> Value {
    if let Ok(v) = i64::try_from(i) {
        Value::from(v)
    } else if let Ok(v) = u64::try_from(i) {
        Value::from(v)
    } else {
        Value::Null
    }
}

/// A float as JSON (always finite here); negative zero is zero.
fn float_value(f: f64) -> Value {
    let f = if f == 0.0 { 0.0 } else { f };
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// Checks one distribution: a mapping with one key naming it.
fn distribution(raw: &serde_yaml::Value) -> Result<Distribution, String> {
    let serde_yaml::Value::Mapping(map) = raw else {
        return Err(format!(
            "a distribution is a mapping with one key, {NAMES}: e.g. `{{int: [2, 12]}}`"
        ));
    };
    let mut entries = map.iter();
    let (Some((name, args)), None) = (entries.next(), entries.next()) else {
        return Err(format!(
            "a distribution has exactly one key, {NAMES}; found {}",
            map.len()
        ));
    };
    let name = yaml_key(name);
    if name == "choice" {
        let serde_yaml::Value::Sequence(items) = args else {
            return Err("`choice` takes a list of values".into());
        };
        if items.is_empty() {
            return Err("`choice` needs at least one value".into());
        }
        let items = items.iter().map(to_json).collect::<Result<Vec<_>, _>>()?;
        return Ok(Distribution::Choice(items));
    }
    if !matches!(name.as_str(), "int" | "intlog" | "uniform" | "loguniform") {
        return Err(format!("unknown distribution `{name}`: use {NAMES}"));
    }
    let bounds = match args {
        serde_yaml::Value::Sequence(b) if b.len() == 2 => b,
        _ => return Err(format!("`{name}` takes two bounds, `[low, high]`")),
    };
    let (lo, hi) = (&bounds[0], &bounds[1]);
    match name.as_str() {
        "int" | "intlog" => {
            let (lo, hi) = (integer(&name, lo)?, integer(&name, hi)?);
            if lo > hi {
                return Err(format!(
                    "`{name}` bounds are [low, high]: {lo} is above {hi}"
                ));
            }
            if name == "int" {
                if hi - lo > i128::from(u64::MAX) {
                    return Err(format!(
                        "`int` bounds [{lo}, {hi}] span more than 2^64 integers"
                    ));
                }
                return Ok(Distribution::Int { lo, hi });
            }
            if lo < 1 {
                return Err(format!(
                    "`intlog` needs a low bound of at least 1 (a logarithm of {lo} is not \
                     defined), found [{lo}, {hi}]"
                ));
            }
            if hi > MAX_INTLOG {
                return Err(format!(
                    "`intlog` needs a high bound of at most 2^53 (9007199254740992), beyond \
                     which not every integer is a float; found [{lo}, {hi}]"
                ));
            }
            Ok(Distribution::IntLog { lo, hi })
        }
        _ => {
            let (lo, hi) = (number(&name, lo)?, number(&name, hi)?);
            if lo > hi {
                return Err(format!(
                    "`{name}` bounds are [low, high]: {lo:?} is above {hi:?}"
                ));
            }
            if !(hi - lo).is_finite() {
                return Err(format!(
                    "`{name}` bounds [{lo:?}, {hi:?}] are too far apart for a float"
                ));
            }
            if name == "uniform" {
                return Ok(Distribution::Uniform { lo, hi });
            }
            if lo <= 0.0 {
                return Err(format!(
                    "`loguniform` bounds must be above 0 (a logarithm needs them), found [{lo:?}, {hi:?}]"
                ));
            }
            Ok(Distribution::LogUniform { lo, hi })
        }
    }
}

/// An integer bound (`2`, not `2.0`), within 64 bits.
fn integer(name: &str, v: &serde_yaml::Value) -> Result<i128, String> {
    let n = match v {
        serde_yaml::Value::Number(n) => n,
        other => {
            return Err(format!(
                "`{name}` bounds are integers, found {}",
                yaml_key(other)
            ));
        }
    };
    if let Some(i) = n.as_i64() {
        Ok(i128::from(i))
    } else if let Some(u) = n.as_u64() {
        Ok(i128::from(u))
    } else {
        Err(format!(
            "`{name}` bounds are integers, found the float {n} (write it without a \
             decimal point, or use `uniform` for floats)"
        ))
    }
}

/// A float bound; an integer bound is taken as the float of its value.
fn number(name: &str, v: &serde_yaml::Value) -> Result<f64, String> {
    match v {
        serde_yaml::Value::Number(n) => n
            .as_f64()
            .filter(|f| f.is_finite())
            .ok_or_else(|| format!("`{name}` bounds must be finite numbers, found {n}")),
        other => Err(format!(
            "`{name}` bounds are numbers, found {}",
            yaml_key(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_is_blake3_of_the_documented_bytes() {
        let mut input = b"djx-random-v1\0".to_vec();
        input.extend_from_slice(&7u64.to_le_bytes());
        input.extend_from_slice(&3u64.to_le_bytes());
        input.extend_from_slice(b"parameter.x");
        let hash = blake3::hash(&input);
        let expected = u64::from_le_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes"));
        assert_eq!(word(7, "parameter.x", 3), expected);
        // Pinned: a change to the scheme changes every sweep.
        assert_eq!(word(0, "parameter.x", 0), 11_430_728_305_533_604_375);
    }

    #[test]
    fn unit_is_in_the_half_open_interval() {
        assert_eq!(unit(0), 0.0);
        assert!(unit(u64::MAX) < 1.0);
        assert_eq!(unit(1 << 63), 0.5);
    }

    #[test]
    fn ints_cover_their_inclusive_bounds() {
        let d = Distribution::Int { lo: 2, hi: 4 };
        assert_eq!(d.value(0), Value::from(2));
        assert_eq!(d.value(u64::MAX), Value::from(4));
        assert_eq!(d.value(1 << 63), Value::from(3));
        let wide = Distribution::Int {
            lo: i128::from(i64::MIN),
            hi: i128::from(i64::MAX),
        };
        assert_eq!(wide.value(0), Value::from(i64::MIN));
        assert_eq!(wide.value(u64::MAX), Value::from(i64::MAX));
        let unsigned = Distribution::Int {
            lo: 0,
            hi: i128::from(u64::MAX),
        };
        assert_eq!(unsigned.value(u64::MAX), Value::from(u64::MAX));
    }

    #[test]
    fn log_distributions_stay_in_bounds_and_keep_their_type() {
        let d = Distribution::IntLog { lo: 10, hi: 1000 };
        for w in [0, 1 << 62, 1 << 63, u64::MAX] {
            let v = d.value(w);
            let i = v.as_i64().expect("an integer");
            assert!((10..=1000).contains(&i), "{i}");
        }
        assert_eq!(d.value(0), Value::from(10));
        assert_eq!(d.value(u64::MAX), Value::from(1000));
        let f = Distribution::LogUniform { lo: 1e-4, hi: 1e-1 };
        for w in [0, 1 << 63, u64::MAX] {
            let v = f.value(w);
            assert!(v.is_f64(), "{v}");
            let x = v.as_f64().expect("a float");
            assert!((1e-4..=1e-1).contains(&x), "{x}");
        }
        // ln/exp from libm: the midpoint of [1e-4, 1e-1] in log space.
        let mid = f.value(1 << 63).as_f64().expect("float");
        assert!((mid - 10f64.powf(-2.5)).abs() < 1e-15, "{mid}");
    }

    #[test]
    fn uniform_floats_are_floats_even_with_integer_bounds() {
        let d =
            distribution(&serde_yaml::from_str("{uniform: [0, 2]}").expect("yaml")).expect("valid");
        assert_eq!(d.value(1 << 63), serde_json::json!(1.0));
    }

    #[test]
    fn bad_distributions_say_what_is_wrong() {
        let err =
            |text: &str| distribution(&serde_yaml::from_str(text).expect("yaml")).expect_err(text);
        assert!(err("{normal: [0, 1]}").contains("unknown distribution `normal`"));
        assert!(err("{int: [1.5, 3]}").contains("integers"));
        assert!(err("{int: [5, 3]}").contains("5 is above 3"));
        assert!(err("{int: [-1, 18446744073709551615]}").contains("2^64"));
        assert!(err("{loguniform: [0.0, 1.0]}").contains("above 0"));
        assert!(err("{intlog: [0, 10]}").contains("at least 1"));
        assert!(err("{choice: []}").contains("at least one"));
        assert!(err("{int: [1, 2], choice: [1]}").contains("exactly one key"));
    }
}
