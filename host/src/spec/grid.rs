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

use serde_json::{Map, Value};

use super::locate::Seg;
use super::{ParsedFile, SpecError, to_json, yaml_key};

/// One job of the grid.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExpandedJob {
    /// The job's labels (an object).
    pub labels: Value,
    /// The job's parameters (an object).
    pub parameter: Value,
}

/// How a dimension's points apply to a job.
enum Dimension {
    /// Zipped lists: point i sets each key to values[i].
    Zip {
        keys: Vec<String>,
        values: Vec<Vec<Value>>,
    },
    /// One mapping per point, merged in.
    Points(Vec<Vec<(String, Value)>>),
}

impl Dimension {
    fn len(&self) -> usize {
        match self {
            Dimension::Zip { values, .. } => values.first().map_or(0, Vec::len),
            Dimension::Points(points) => points.len(),
        }
    }
}

/// Expands the file's grid into its jobs, in the original djx's order.
pub fn expand(parsed: &ParsedFile) -> Result<Vec<ExpandedJob>, SpecError> {
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
    let grid = parsed
        .file
        .experiment
        .as_ref()
        .map(|e| e.grid.as_slice())
        .unwrap_or_default();

    let mut jobs = vec![Value::Object(base)];
    for (i, raw) in grid.iter().enumerate() {
        let dim = dimension(parsed, raw, i)?;
        let mut next = Vec::with_capacity(jobs.len() * dim.len());
        for job in &jobs {
            for point in 0..dim.len() {
                let mut job = job.clone();
                apply(&mut job, &dim, point)
                    .map_err(|(key, m)| parsed.error(&at(i, &[Seg::Key(&key)]), m))?;
                next.push(job);
            }
        }
        jobs = next;
    }
    Ok(jobs
        .into_iter()
        .map(|mut job| ExpandedJob {
            labels: job.get_mut("labels").map(Value::take).unwrap_or_default(),
            parameter: job
                .get_mut("parameter")
                .map(Value::take)
                .unwrap_or_default(),
        })
        .collect())
}

/// Checks one raw dimension and gives it its typed form.
/// The key path of grid dimension `i`, followed by `tail`.
fn at<'a>(i: usize, tail: &[Seg<'a>]) -> Vec<Seg<'a>> {
    let mut path = vec![Seg::Key("experiment"), Seg::Key("grid"), Seg::Index(i)];
    path.extend_from_slice(tail);
    path
}

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
            Ok(Dimension::Zip { keys, values })
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
            Ok(Dimension::Points(out))
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
    match dim {
        Dimension::Zip { keys, values } => {
            for (key, vals) in keys.iter().zip(values) {
                set(job, key, vals[i].clone()).map_err(|m| (key.clone(), m))?;
            }
            if let [key] = keys.as_slice() {
                let last = key.rsplit('.').next().unwrap_or(key);
                set(job, &format!("labels.{last}"), values[0][i].clone())
                    .map_err(|m| (key.clone(), m))?;
            }
        }
        Dimension::Points(points) => {
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
