//! Grid expansion, with the original djx's semantics.
//!
//! `experiment.grid` is a list of dimensions; the jobs are their product,
//! the first dimension varying slowest.
//!
//! - A **mapping** dimension maps dotted keys to lists of equal length,
//!   zipped: point *i* sets every key to its *i*-th value. With exactly one
//!   key, the job also gets the label `labels.<last segment>`.
//! - A **list** dimension is a list of mappings, one point each. Each value
//!   is merged into the value at its key: two mappings merge shallowly (new
//!   keys win, the others stay), two lists of equal length merge element by
//!   element, anything else is replaced.
//! - Dotted keys create missing intermediate mappings. Keys start with
//!   `labels` or `parameter`.
//! - No grid (or an empty one) gives exactly the base job.
//!
//! A [`Grid`] is checked and counted without expanding anything, and makes
//! its jobs one at a time ([`Grid::jobs`]): an experiment of a million jobs
//! costs the memory of one, and an impossible one (a thousand values in
//! each of four dimensions) is refused by its count before any job exists.

use serde_json::{Map, Value};

use super::locate::Seg;
use super::{ParsedFile, SpecError, to_json, yaml_key};

/// The most jobs one experiment may have unless its file says otherwise
/// (`max_jobs:`) or `djx add --max-jobs` does.
pub const DEFAULT_MAX_JOBS: u64 = 10_000_000;

/// One job of the grid.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExpandedJob {
    /// The job's labels (an object).
    pub labels: Value,
    /// The job's parameters (an object).
    pub parameter: Value,
}

/// How a dimension's points apply to a job.
#[derive(Clone, Debug)]
enum Points {
    /// Zipped lists: point i sets each key to values[i].
    Zip {
        keys: Vec<String>,
        values: Vec<Vec<Value>>,
    },
    /// One mapping per point, merged in.
    Merge(Vec<Vec<(String, Value)>>),
}

/// One checked dimension: its points and where it was written.
#[derive(Clone, Debug)]
pub struct Dimension {
    points: Points,
    /// Its index in `experiment.grid`.
    index: usize,
}

impl Dimension {
    /// How many points it has.
    pub fn len(&self) -> usize {
        match &self.points {
            Points::Zip { values, .. } => values.first().map_or(0, Vec::len),
            Points::Merge(points) => points.len(),
        }
    }

    /// Whether it has no points (never true of a checked dimension).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An experiment's base job and checked dimensions.
#[derive(Clone, Debug)]
pub struct Grid {
    base: Value,
    dims: Vec<Dimension>,
    count: u64,
}

impl Grid {
    /// Checks the file's base job and grid, and counts its jobs, refusing
    /// more than `max_jobs`. Expands nothing.
    pub fn new(parsed: &ParsedFile, max_jobs: u64) -> Result<Grid, SpecError> {
        let section = |name: &'static str, value: &serde_yaml::Mapping| {
            to_json(&serde_yaml::Value::Mapping(value.clone()))
                .map_err(|m| parsed.error(&[Seg::Key("job"), Seg::Key(name)], m))
        };
        let mut base = Map::new();
        base.insert("labels".into(), section("labels", &parsed.file.job.labels)?);
        base.insert(
            "parameter".into(),
            section("parameter", &parsed.file.job.parameter)?,
        );
        let raw = parsed
            .file
            .experiment
            .as_ref()
            .map(|e| e.grid.as_slice())
            .unwrap_or_default();
        let dims = raw
            .iter()
            .enumerate()
            .map(|(i, raw)| dimension(parsed, raw, i))
            .collect::<Result<Vec<_>, _>>()?;
        let count = dims
            .iter()
            .try_fold(1u64, |n, d| n.checked_mul(d.len() as u64));
        match count {
            Some(count) if count <= max_jobs => Ok(Grid {
                base: Value::Object(base),
                dims,
                count,
            }),
            _ => Err(too_many(parsed, &dims, max_jobs)),
        }
    }

    /// How many jobs the grid has.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether the grid has no jobs (never: without dimensions it has the
    /// base job).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Job `index` (0-based, in grid order). Errors name the dimension and
    /// key that cannot apply.
    pub fn job(&self, parsed: &ParsedFile, index: u64) -> Result<ExpandedJob, SpecError> {
        let mut job = self.base.clone();
        // Mixed radix, the last dimension fastest.
        let mut rest = index;
        let mut digits = vec![0usize; self.dims.len()];
        for (slot, dim) in digits.iter_mut().zip(&self.dims).rev() {
            let n = dim.len() as u64;
            *slot = (rest % n) as usize;
            rest /= n;
        }
        for (dim, &point) in self.dims.iter().zip(&digits) {
            apply(&mut job, dim, point)
                .map_err(|(key, m)| parsed.error(&at(dim.index, &[Seg::Key(&key)]), m))?;
        }
        Ok(ExpandedJob {
            labels: job.get_mut("labels").map(Value::take).unwrap_or_default(),
            parameter: job
                .get_mut("parameter")
                .map(Value::take)
                .unwrap_or_default(),
        })
    }

    /// Every job, in grid order, made one at a time.
    pub fn jobs<'a>(
        &'a self,
        parsed: &'a ParsedFile,
    ) -> impl Iterator<Item = Result<ExpandedJob, SpecError>> + 'a {
        (0..self.count).map(move |i| self.job(parsed, i))
    }
}

/// Expands the file's grid into its jobs, in the original djx's order (all
/// at once: for tests and small grids).
pub fn expand(parsed: &ParsedFile) -> Result<Vec<ExpandedJob>, SpecError> {
    let grid = Grid::new(parsed, DEFAULT_MAX_JOBS)?;
    grid.jobs(parsed).collect()
}

/// The error for a grid of more than `max_jobs` jobs: the count and the
/// dimensions that multiply to it.
fn too_many(parsed: &ParsedFile, dims: &[Dimension], max_jobs: u64) -> SpecError {
    let total = dims
        .iter()
        .try_fold(1u128, |n, d| n.checked_mul(d.len() as u128));
    let factors: Vec<String> = dims
        .iter()
        .map(|d| {
            let line = crate::spec::locate::locate(&parsed.text, &at(d.index, &[]))
                .map_or_else(String::new, |l| format!(" (line {l})"));
            format!("{} points of experiment.grid[{}]{line}", d.len(), d.index)
        })
        .collect();
    let total = total.map_or_else(|| "more than 2^128".to_owned(), thousands);
    parsed.error(
        &[Seg::Key("experiment"), Seg::Key("grid")],
        format!(
            "the grid has {total} jobs ({}), more than the limit of {}; \
             set `max_jobs:` in the file or `djx add --max-jobs N` to allow more",
            factors.join(" × "),
            thousands(max_jobs as u128)
        ),
    )
}

/// `1234567` as `1,234,567`.
fn thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The key path of grid dimension `i`, followed by `tail`.
fn at<'a>(i: usize, tail: &[Seg<'a>]) -> Vec<Seg<'a>> {
    let mut path = vec![Seg::Key("experiment"), Seg::Key("grid"), Seg::Index(i)];
    path.extend_from_slice(tail);
    path
}

/// Checks one raw dimension and gives it its typed form.
fn dimension(
    parsed: &ParsedFile,
    raw: &serde_yaml::Value,
    i: usize,
) -> Result<Dimension, SpecError> {
    match raw {
        serde_yaml::Value::Mapping(map) => {
            if map.is_empty() {
                return Err(parsed.error(&at(i, &[]), "an empty grid dimension gives no jobs"));
            }
            let mut keys = Vec::new();
            let mut values = Vec::new();
            for (k, v) in map {
                let key = yaml_key(k);
                check_key(&key).map_err(|m| parsed.error(&at(i, &[Seg::Key(&key)]), m))?;
                let serde_yaml::Value::Sequence(items) = v else {
                    return Err(parsed.error(
                        &at(i, &[Seg::Key(&key)]),
                        "in a zipped dimension every key maps to a list of values",
                    ));
                };
                let items = items
                    .iter()
                    .map(to_json)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|m| parsed.error(&at(i, &[Seg::Key(&key)]), m))?;
                keys.push(key);
                values.push(items);
            }
            let lens: Vec<usize> = values.iter().map(Vec::len).collect();
            if lens.iter().any(|&n| n != lens[0]) {
                let detail: Vec<String> = keys
                    .iter()
                    .zip(&lens)
                    .map(|(k, n)| format!("{k} has {n}"))
                    .collect();
                return Err(parsed.error(
                    &at(i, &[]),
                    format!("zipped lists must have equal length: {}", detail.join(", ")),
                ));
            }
            if lens[0] == 0 {
                return Err(parsed.error(&at(i, &[]), "an empty list gives no jobs"));
            }
            Ok(Dimension {
                points: Points::Zip { keys, values },
                index: i,
            })
        }
        serde_yaml::Value::Sequence(points) => {
            if points.is_empty() {
                return Err(parsed.error(&at(i, &[]), "an empty grid dimension gives no jobs"));
            }
            let mut out = Vec::with_capacity(points.len());
            for (j, point) in points.iter().enumerate() {
                let serde_yaml::Value::Mapping(map) = point else {
                    return Err(parsed.error(
                        &at(i, &[Seg::Index(j)]),
                        "each point of a list dimension is a mapping of dotted keys to values",
                    ));
                };
                let mut entries = Vec::new();
                for (k, v) in map {
                    let key = yaml_key(k);
                    let path = at(i, &[Seg::Index(j), Seg::Key(&key)]);
                    check_key(&key).map_err(|m| parsed.error(&path, m))?;
                    entries.push((key.clone(), to_json(v).map_err(|m| parsed.error(&path, m))?));
                }
                out.push(entries);
            }
            Ok(Dimension {
                points: Points::Merge(out),
                index: i,
            })
        }
        _ => Err(parsed.error(
            &at(i, &[]),
            "a grid dimension is a mapping of keys to lists (zipped) or a list of mappings (points)",
        )),
    }
}

/// A grid key must address the job's labels or parameters.
fn check_key(key: &str) -> Result<(), String> {
    let first = key.split('.').next().unwrap_or_default();
    if first != "labels" && first != "parameter" {
        return Err(format!(
            "a grid key starts with `labels.` or `parameter.`, not `{first}`"
        ));
    }
    if key.split('.').any(str::is_empty) {
        return Err("a dotted key has an empty segment".into());
    }
    Ok(())
}

/// Applies point `i` of `dim` to `job`. Errors carry the offending key.
fn apply(job: &mut Value, dim: &Dimension, i: usize) -> Result<(), (String, String)> {
    match &dim.points {
        Points::Zip { keys, values } => {
            for (key, vals) in keys.iter().zip(values) {
                set(job, key, vals[i].clone()).map_err(|m| (key.clone(), m))?;
            }
            if let [key] = keys.as_slice() {
                let last = key.rsplit('.').next().unwrap_or(key);
                set(job, &format!("labels.{last}"), values[0][i].clone())
                    .map_err(|m| (key.clone(), m))?;
            }
        }
        Points::Merge(points) => {
            for (key, value) in &points[i] {
                let slot = slot(job, key).map_err(|m| (key.clone(), m))?;
                *slot = merge(slot.take(), value.clone());
            }
        }
    }
    Ok(())
}

/// Sets the value at a dotted key.
fn set(job: &mut Value, key: &str, value: Value) -> Result<(), String> {
    *slot(job, key)? = value;
    Ok(())
}

/// The value at a dotted key, creating missing mappings on the way (the
/// final slot is `null` when new).
fn slot<'a>(job: &'a mut Value, key: &str) -> Result<&'a mut Value, String> {
    let mut current = job;
    let mut walked = String::new();
    for seg in key.split('.') {
        if current.is_null() {
            *current = Value::Object(Map::new());
        }
        let Value::Object(map) = current else {
            return Err(format!(
                "cannot set `{key}`: `{walked}` is {}, not a mapping",
                kind(current)
            ));
        };
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(seg);
        current = map.entry(seg.to_owned()).or_insert(Value::Null);
    }
    Ok(current)
}

/// The original djx's merge: mappings shallowly, equal-length lists element
/// by element, anything else replaced.
fn merge(old: Value, new: Value) -> Value {
    match (old, new) {
        (Value::Object(mut old), Value::Object(new)) => {
            old.extend(new);
            Value::Object(old)
        }
        (Value::Array(old), Value::Array(new)) if old.len() == new.len() => {
            Value::Array(old.into_iter().zip(new).map(|(o, n)| merge(o, n)).collect())
        }
        (_, new) => new,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}
