//! A grid dimension as the plots and the groups see it: its distinct
//! values in order (numbers ascending, anything else in the order the grid
//! gives it) and each job's place among them.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::Value;

use super::summary::Summary;

/// Orders numbers by value (and anything else after them, by its JSON
/// text).
pub fn order(a: &Value, b: &Value) -> Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.to_string().cmp(&b.to_string()),
    }
}

/// One dimension, coded.
#[derive(Clone, Debug)]
pub struct CodedDim {
    /// The column path (`labels.fold`, `parameter.lr`).
    pub path: String,
    /// Its distinct values, in order.
    pub values: Vec<Value>,
    /// Whether every value is a number.
    pub numeric: bool,
    /// Each job's value, as its place in `values` (in the summary's job
    /// order).
    pub codes: Vec<usize>,
}

/// Codes column `path` of every job of `summary`.
pub fn code(summary: &Summary, path: &str) -> CodedDim {
    let values: Vec<Value> = summary
        .jobs
        .iter()
        .map(|job| summary.path_value(job, path))
        .collect();
    let numeric = values.iter().all(Value::is_number);
    let mut distinct: Vec<&Value> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for v in &values {
        if seen.insert(v.to_string()) {
            distinct.push(v);
        }
    }
    if numeric {
        distinct.sort_by(|a, b| order(a, b));
    }
    let index: HashMap<String, usize> = distinct
        .iter()
        .enumerate()
        .map(|(i, v)| (v.to_string(), i))
        .collect();
    let codes = values
        .iter()
        .map(|v| index.get(&v.to_string()).copied().unwrap_or_default())
        .collect();
    CodedDim {
        path: path.to_owned(),
        values: distinct.into_iter().cloned().collect(),
        numeric,
        codes,
    }
}
