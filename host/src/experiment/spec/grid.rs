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
//! Random search ([`super::random`]) adds one more dimension after the
//! grid's, its samples: every sampled configuration runs on every grid
//! point, grid first (slowest). Each sampled value is set at its key, and
//! the job gets `labels.sample`. Successive halving ([`super::halving`])
//! adds a last dimension of one point, which sets the rung's budget and
//! `labels.rung`; [`Grid::rung`] makes the grid of a later rung.
//!
//! A [`Grid`] is checked and counted without expanding anything, and makes
//! its jobs one at a time ([`Grid::jobs`]): an experiment of a million jobs
//! costs the memory of one, and an impossible one (a thousand values in
//! each of four dimensions) is refused by its count before any job exists.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::locate::Seg;
use super::{Halving, ParsedFile, Space, SpecError, to_json, yaml_key};

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
    /// Samples of a random search: point i is sample `which[i]` (sample i
    /// when `which` is `None`), whose drawn values are set at their keys.
    Sample {
        space: Arc<Space>,
        which: Option<Arc<[u64]>>,
    },
    /// One point that sets each key (a halving rung's budget and label).
    Set(Vec<(String, Value)>),
}

/// Where a dimension was written, for errors.
#[derive(Clone, Copy, Debug)]
enum Origin {
    /// `experiment.grid[i]`.
    Grid(usize),
    /// `experiment.random.space`.
    Random,
    /// `experiment.halving`.
    Halving,
}

/// One checked dimension: its points and where it was written.
#[derive(Clone, Debug)]
pub struct Dimension {
    points: Points,
    origin: Origin,
}

impl Dimension {
    /// How many points it has.
    pub fn len(&self) -> u64 {
        match &self.points {
            Points::Zip { values, .. } => values.first().map_or(0, Vec::len) as u64,
            Points::Merge(points) => points.len() as u64,
            Points::Sample { space, which } => {
                which.as_ref().map_or(space.samples, |w| w.len() as u64)
            }
            Points::Set(_) => 1,
        }
    }

    /// Whether it has no points (never true of a checked dimension).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keys it sets, each with the path it was written at.
    fn keys(&self) -> Vec<(&str, Vec<Seg<'_>>)> {
        match &self.points {
            Points::Zip { keys, .. } => keys.iter().map(|k| (k.as_str(), self.at(k))).collect(),
            Points::Merge(points) => points
                .iter()
                .enumerate()
                .flat_map(|(j, point)| {
                    point.iter().map(move |(k, _)| {
                        let mut path = self.at("");
                        path.pop();
                        path.extend([Seg::Index(j), Seg::Key(k.as_str())]);
                        (k.as_str(), path)
                    })
                })
                .collect(),
            Points::Sample { space, .. } => space
                .dims
                .iter()
                .map(|(k, _)| (k.as_str(), self.at(k)))
                .collect(),
            Points::Set(_) => Vec::new(),
        }
    }

    /// The path of `key` in this dimension (`key` empty: a placeholder
    /// segment for the caller to replace).
    fn at<'a>(&self, key: &'a str) -> Vec<Seg<'a>> {
        match self.origin {
            Origin::Grid(i) => at(i, &[Seg::Key(key)]),
            Origin::Random => vec![
                Seg::Key("experiment"),
                Seg::Key("random"),
                Seg::Key("space"),
                Seg::Key(key),
            ],
            Origin::Halving => vec![
                Seg::Key("experiment"),
                Seg::Key("halving"),
                Seg::Key("budget"),
            ],
        }
    }

    /// `3 points of experiment.grid[1] (line 12)`, for the count error.
    fn describe(&self, parsed: &ParsedFile) -> String {
        let (what, path) = match self.origin {
            Origin::Grid(i) => (
                format!("{} points of experiment.grid[{i}]", self.len()),
                at(i, &[]),
            ),
            Origin::Random => (
                format!("{} samples of experiment.random", self.len()),
                vec![Seg::Key("experiment"), Seg::Key("random")],
            ),
            Origin::Halving => (
                "1 rung of experiment.halving".to_owned(),
                vec![Seg::Key("experiment"), Seg::Key("halving")],
            ),
        };
        let line = parsed
            .line_of(&path)
            .map_or_else(String::new, |l| format!(" (line {l})"));
        format!("{what}{line}")
    }
}

/// An experiment's base job and checked dimensions: the grid's, then the
/// samples of a random search, then a halving rung.
#[derive(Clone, Debug)]
pub struct Grid {
    base: Value,
    dims: Vec<Dimension>,
    count: u64,
    halving: Option<Arc<Halving>>,
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
        let mut dims = raw
            .iter()
            .enumerate()
            .map(|(i, raw)| dimension(parsed, raw, i))
            .collect::<Result<Vec<_>, _>>()?;
        let space = Space::new(parsed)?;
        if let Some(space) = &space {
            for (key, _) in &space.dims {
                if let Some(taken) = set_by(parsed, &dims, key) {
                    return Err(parsed.error(
                        &[
                            Seg::Key("experiment"),
                            Seg::Key("random"),
                            Seg::Key("space"),
                            Seg::Key(key),
                        ],
                        format!(
                            "`{key}` is also set by {taken}: a key is drawn or gridded, not both"
                        ),
                    ));
                }
            }
            dims.push(Dimension {
                points: Points::Sample {
                    space: Arc::new(space.clone()),
                    which: None,
                },
                origin: Origin::Random,
            });
        }
        let halving = Halving::new(
            parsed,
            &|key: &str| set_by(parsed, &dims, key),
            space.is_some(),
        )?
        .map(Arc::new);
        let mut grid = Grid {
            base: Value::Object(base),
            dims,
            count: 0,
            halving,
        };
        if let Some(halving) = grid.halving.clone() {
            grid.dims.push(rung_dimension(&halving, 0));
        }
        match grid.counted() {
            Some(count) if count <= max_jobs => Ok(Grid { count, ..grid }),
            _ => Err(too_many(parsed, &grid.dims, max_jobs)),
        }
    }

    /// The product of the dimensions' lengths, if it fits 64 bits.
    fn counted(&self) -> Option<u64> {
        self.dims
            .iter()
            .try_fold(1u64, |n, d| n.checked_mul(d.len()))
    }

    /// The successive-halving plan, if the experiment has one.
    pub fn halving(&self) -> Option<&Halving> {
        self.halving.as_deref()
    }

    /// The grid of halving rung `rung`: the configurations `samples` (sample
    /// indices, in the order their jobs are made) at the rung's budget, on
    /// every grid point. `None` when there is no such rung.
    pub fn rung(&self, rung: usize, samples: &[u64]) -> Option<Grid> {
        let halving = self.halving.as_ref()?;
        halving.budgets.get(rung)?;
        let mut grid = self.clone();
        for dim in &mut grid.dims {
            match &mut dim.points {
                Points::Sample { which, .. } => *which = Some(samples.into()),
                Points::Set(_) => *dim = rung_dimension(halving, rung),
                _ => {}
            }
        }
        grid.count = grid.counted()?;
        Some(grid)
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
        let mut digits = vec![0u64; self.dims.len()];
        for (slot, dim) in digits.iter_mut().zip(&self.dims).rev() {
            let n = dim.len();
            *slot = rest % n;
            rest /= n;
        }
        for (dim, &point) in self.dims.iter().zip(&digits) {
            apply(&mut job, dim, point).map_err(|(key, m)| parsed.error(&dim.at(&key), m))?;
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

/// The dimension of halving rung `rung`: one point setting its budget and
/// `labels.rung`.
fn rung_dimension(halving: &Halving, rung: usize) -> Dimension {
    let budget = halving.budgets.get(rung).cloned().unwrap_or(Value::Null);
    Dimension {
        points: Points::Set(vec![
            (halving.budget.clone(), budget),
            ("labels.rung".to_owned(), Value::from(rung)),
        ]),
        origin: Origin::Halving,
    }
}

/// Where a grid dimension of `dims` sets `key` (`experiment.grid[1] (line
/// 12)`), if one does.
fn set_by(parsed: &ParsedFile, dims: &[Dimension], key: &str) -> Option<String> {
    dims.iter().find_map(|dim| {
        let (_, path) = dim.keys().into_iter().find(|(k, _)| *k == key)?;
        let line = parsed
            .line_of(&path)
            .map_or_else(String::new, |l| format!(" (line {l})"));
        Some(format!("{}{line}", super::key_text(&path)))
    })
}

/// The error for a grid of more than `max_jobs` jobs: the count and the
/// dimensions that multiply to it.
fn too_many(parsed: &ParsedFile, dims: &[Dimension], max_jobs: u64) -> SpecError {
    let total = dims
        .iter()
        .try_fold(1u128, |n, d| n.checked_mul(u128::from(d.len())));
    let factors: Vec<String> = dims.iter().map(|d| d.describe(parsed)).collect();
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
                check_key(&key, "grid").map_err(|m| parsed.error(&at(i, &[Seg::Key(&key)]), m))?;
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
                origin: Origin::Grid(i),
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
                    check_key(&key, "grid").map_err(|m| parsed.error(&path, m))?;
                    entries.push((key.clone(), to_json(v).map_err(|m| parsed.error(&path, m))?));
                }
                out.push(entries);
            }
            Ok(Dimension {
                points: Points::Merge(out),
                origin: Origin::Grid(i),
            })
        }
        _ => Err(parsed.error(
            &at(i, &[]),
            "a grid dimension is a mapping of keys to lists (zipped) or a list of mappings (points)",
        )),
    }
}

/// A key (of the grid, the random space or the budget: `what`) must
/// address the job's labels or parameters.
pub(super) fn check_key(key: &str, what: &str) -> Result<(), String> {
    let first = key.split('.').next().unwrap_or_default();
    if first != "labels" && first != "parameter" {
        return Err(format!(
            "a {what} key starts with `labels.` or `parameter.`, not `{first}`"
        ));
    }
    if key.split('.').any(str::is_empty) {
        return Err("a dotted key has an empty segment".into());
    }
    Ok(())
}

/// Applies point `i` of `dim` to `job`. Errors carry the offending key.
fn apply(job: &mut Value, dim: &Dimension, i: u64) -> Result<(), (String, String)> {
    let i = i as usize;
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
        Points::Sample { space, which } => {
            let sample = which.as_ref().map_or(i as u64, |w| w[i]);
            for (key, value) in space.point(sample) {
                set(job, key, value).map_err(|m| (key.to_owned(), m))?;
            }
            set(job, "labels.sample", Value::from(sample))
                .map_err(|m| ("labels.sample".to_owned(), m))?;
        }
        Points::Set(values) => {
            for (key, value) in values {
                set(job, key, value.clone()).map_err(|m| (key.clone(), m))?;
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
