//! The job table: a summary's jobs filtered, sorted and cut to one page,
//! in memory. 100,000 jobs sort by a metric in milliseconds.

use std::cmp::Ordering;

use serde_json::{Map, Value, json};

use super::error::WebError;
use super::query::{Filter, JobsQuery, Op};
use crate::views::agg::Aggregate;
use crate::views::summary::{JobEntry, Summary};

/// A column of the job table.
#[derive(Clone, Debug)]
pub enum Column {
    /// The job id.
    Id,
    /// Its place in the grid.
    Position,
    /// Its status.
    Status,
    /// How long it ran (`duration_ms`).
    Duration,
    /// Its attempt number.
    Attempt,
    /// Its experiment's id (in a project's table).
    Experiment,
    /// A label or parameter column, by its place in [`Summary::columns`].
    Cell(usize),
    /// A parameter with the same value in every job.
    Constant(Value),
    /// A metric, by number.
    Metric(usize),
}

/// A cell's value for sorting and filtering.
#[derive(Clone, Debug, PartialEq)]
enum Key<'a> {
    Num(f64),
    Text(std::borrow::Cow<'a, str>),
    Missing,
}

impl Key<'_> {
    fn of(value: &Value) -> Key<'_> {
        match value {
            Value::Null => Key::Missing,
            Value::Number(n) => n.as_f64().map_or(Key::Missing, Key::Num),
            Value::String(s) => Key::Text(s.as_str().into()),
            other => Key::Text(other.to_string().into()),
        }
    }

    fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Key::Num(n) => Value::from(*n).to_string().into(),
            Key::Text(t) => t.as_ref().into(),
            Key::Missing => "".into(),
        }
    }

    /// Numbers before text; missing values are sorted apart by the caller.
    fn cmp(&self, other: &Key<'_>) -> Ordering {
        match (self, other) {
            (Key::Num(a), Key::Num(b)) => a.total_cmp(b),
            (Key::Num(_), _) => Ordering::Less,
            (_, Key::Num(_)) => Ordering::Greater,
            (a, b) => a.text().cmp(&b.text()),
        }
    }
}

impl Summary {
    /// The column called `name`: `id`, `position`, `status`,
    /// `duration_ms`, `attempt`, `labels.…`, `parameter.…` or
    /// `metrics.…`.
    pub fn column(&self, name: &str) -> Result<Column, WebError> {
        let column = match name {
            "id" => Some(Column::Id),
            "position" => Some(Column::Position),
            "status" => Some(Column::Status),
            "duration_ms" | "duration" => Some(Column::Duration),
            "attempt" => Some(Column::Attempt),
            crate::views::summary::EXPERIMENT => Some(Column::Experiment),
            _ => {
                if let Some(metric) = name.strip_prefix("metrics.") {
                    self.metric_id(metric).map(Column::Metric)
                } else if let Some(i) = self.columns.cells().position(|c| c == name) {
                    Some(Column::Cell(i))
                } else {
                    self.columns
                        .constants
                        .get(name)
                        .cloned()
                        .map(Column::Constant)
                }
            }
        };
        column.ok_or_else(|| {
            let mut known: Vec<String> = [
                "id",
                "experiment",
                "position",
                "status",
                "duration_ms",
                "attempt",
            ]
            .map(String::from)
            .to_vec();
            known.extend(self.columns.cells().cloned());
            known.extend(
                self.metric_order
                    .iter()
                    .map(|&m| format!("metrics.{}", self.metrics[m].name)),
            );
            WebError::BadRequest(format!(
                "unknown column {name:?}; the columns are {}",
                known.join(", ")
            ))
        })
    }

    fn key<'s>(&self, job: &'s JobEntry, column: &'s Column, agg: Aggregate) -> Key<'s> {
        match column {
            Column::Id => Key::Num(job.row.id as f64),
            Column::Position => Key::Num(job.row.position as f64),
            Column::Status => Key::Text(job.row.status.as_str().into()),
            Column::Duration => job
                .row
                .duration_ms
                .map_or(Key::Missing, |d| Key::Num(d as f64)),
            Column::Attempt => Key::Num(job.row.attempt as f64),
            Column::Experiment => Key::Num(job.row.experiment_id as f64),
            Column::Cell(i) => Key::of(&job.cells[*i]),
            Column::Constant(v) => Key::of(v),
            Column::Metric(m) => job.value(*m, agg).map_or(Key::Missing, Key::Num),
        }
    }
}

/// One page of the job table.
pub struct Page<'s> {
    /// Jobs in the experiment.
    pub total: usize,
    /// Jobs that pass the filters.
    pub matched: usize,
    /// The rows of this page.
    pub rows: Vec<&'s JobEntry>,
}

/// Whether `key` passes `op value`: numbers compare as numbers, anything
/// else as text.
fn passes(key: &Key<'_>, op: Op, value: &str) -> bool {
    let wanted = value.parse::<f64>().ok();
    let order = match (key, wanted) {
        (Key::Num(a), Some(b)) => a.total_cmp(&b),
        _ => key.text().as_ref().cmp(value),
    };
    match op {
        Op::Eq => order.is_eq(),
        Op::Ne => order.is_ne(),
        Op::Lt => !matches!(key, Key::Missing) && order.is_lt(),
        Op::Le => !matches!(key, Key::Missing) && order.is_le(),
        Op::Gt => !matches!(key, Key::Missing) && order.is_gt(),
        Op::Ge => !matches!(key, Key::Missing) && order.is_ge(),
        Op::Contains => key.text().to_lowercase().contains(&value.to_lowercase()),
    }
}

/// Which jobs of `summary` pass every filter of `query` (by place).
/// Unknown columns are a 400.
pub fn kept(summary: &Summary, filters: &[Filter], agg: Aggregate) -> Result<Vec<bool>, WebError> {
    let filters: Vec<(Column, &Filter)> = filters
        .iter()
        .map(|f| Ok((summary.column(&f.column)?, f)))
        .collect::<Result<_, WebError>>()?;
    Ok(summary
        .jobs
        .iter()
        .map(|job| {
            filters
                .iter()
                .all(|(c, f)| passes(&summary.key(job, c, agg), f.op, &f.value))
        })
        .collect())
}

/// The page `query` asks for. Unknown columns are a 400.
pub fn page<'s>(summary: &'s Summary, query: &JobsQuery) -> Result<Page<'s>, WebError> {
    let keep = kept(summary, &query.filters, query.agg)?;
    let sort = query
        .sort
        .as_ref()
        .map(|s| Ok::<_, WebError>((summary.column(&s.column)?, s.desc)))
        .transpose()?;
    let agg = query.agg;
    let mut picked: Vec<&JobEntry> = summary
        .jobs
        .iter()
        .zip(&keep)
        .filter(|(_, kept)| **kept)
        .map(|(job, _)| job)
        .collect();
    let matched = picked.len();
    if let Some((column, desc)) = &sort {
        let mut keyed: Vec<(Key<'_>, &JobEntry)> = picked
            .iter()
            .map(|job| (summary.key(job, column, agg), *job))
            .collect();
        // Missing values last either way; ties keep grid order.
        keyed.sort_by(|(a, _), (b, _)| match (a, b) {
            (Key::Missing, Key::Missing) => Ordering::Equal,
            (Key::Missing, _) => Ordering::Greater,
            (_, Key::Missing) => Ordering::Less,
            (a, b) if *desc => b.cmp(a),
            (a, b) => a.cmp(b),
        });
        picked = keyed.into_iter().map(|(_, job)| job).collect();
    }
    let rows = picked
        .into_iter()
        .skip(query.offset)
        .take(query.limit)
        .collect();
    Ok(Page {
        total: summary.jobs.len(),
        matched,
        rows,
    })
}

/// A row as JSON: the fields of `djx jobs --json`, and `metrics` (each
/// metric aggregated by `agg`; null when the job has no finite value).
pub fn row_json(summary: &Summary, job: &JobEntry, agg: Aggregate) -> Value {
    let mut row = serde_json::to_value(&job.row).unwrap_or(Value::Null);
    let metrics: Map<String, Value> = summary
        .metric_order
        .iter()
        .filter(|&&m| job.metric(m).is_some())
        .map(|&m| (summary.metrics[m].name.clone(), json!(job.value(m, agg))))
        .collect();
    if let Value::Object(map) = &mut row {
        map.insert("metrics".into(), Value::Object(metrics));
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_as_numbers_text_as_text() {
        assert!(passes(&Key::Num(10.0), Op::Gt, "9"));
        assert!(passes(&Key::Num(4.0), Op::Eq, "4.0"));
        assert!(passes(&Key::Text("FINISHED".into()), Op::Eq, "FINISHED"));
        assert!(passes(&Key::Text("many_both".into()), Op::Contains, "BOTH"));
        assert!(!passes(&Key::Missing, Op::Lt, "1"));
        assert!(passes(&Key::Missing, Op::Eq, ""));
        assert!(passes(&Key::Text("b".into()), Op::Gt, "a"));
    }
}
