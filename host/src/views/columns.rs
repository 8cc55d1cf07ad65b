//! The columns of an experiment's job table and the dimensions of its
//! plots, found from its jobs and its experiment file: every label, the
//! parameters that vary across the grid, and the grid's dimensions.

use std::collections::BTreeMap;

use serde_json::Value;

/// Calls `each(path, value)` for every leaf of `value`: nested objects
/// give dotted paths under `prefix` (`parameter.model_args.max_depth`, or
/// `model_args.max_depth` when `prefix` is empty); lists, scalars and
/// nested empty objects are leaves. The root itself is a leaf only when it
/// is not an object and `prefix` names it: a job without labels (or
/// parameters) has no column. The job table, its plots and the exports all
/// name columns this way.
pub fn leaves<'v>(prefix: &str, value: &'v Value, each: &mut dyn FnMut(&str, &'v Value)) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                below(&path, v, each);
            }
        }
        Value::Object(_) => {}
        _ if prefix.is_empty() => {}
        other => each(prefix, other),
    }
}

/// [`leaves`] below the root, where every value has a path.
fn below<'v>(path: &str, value: &'v Value, each: &mut dyn FnMut(&str, &'v Value)) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                below(&format!("{path}.{k}"), v, each);
            }
        }
        other => each(path, other),
    }
}

/// The value at dotted `path` (`labels.x`, `parameter.a.b`) of a job with
/// these labels and parameters; `Null` when there is none.
pub fn lookup(labels: &Value, parameter: &Value, path: &str) -> Value {
    let (root, rest) = match path.split_once('.') {
        Some(("labels", rest)) => (labels, rest),
        Some(("parameter", rest)) => (parameter, rest),
        _ => return Value::Null,
    };
    // Keys may hold dots themselves: try the longest key first.
    fn walk(v: &Value, rest: &str) -> Option<Value> {
        let map = v.as_object()?;
        if let Some(found) = map.get(rest) {
            return Some(found.clone());
        }
        let mut cut = rest.len();
        while let Some(dot) = rest[..cut].rfind('.') {
            if let Some(inner) = map.get(&rest[..dot])
                && let Some(found) = walk(inner, &rest[dot + 1..])
            {
                return Some(found);
            }
            cut = dot;
        }
        None
    }
    walk(root, rest).unwrap_or(Value::Null)
}

/// Which leaf paths the table shows: every label, and each parameter whose
/// value is not the same in every job (the others are constants).
#[derive(Clone, Debug, Default)]
pub struct Columns {
    /// `labels.*` paths, sorted.
    pub labels: Vec<String>,
    /// `parameter.*` paths that vary across the jobs, sorted.
    pub params: Vec<String>,
    /// `parameter.*` paths with one value in every job.
    pub constants: BTreeMap<String, Value>,
}

impl Columns {
    /// The columns of jobs given by their labels and parameters.
    pub fn of<'v>(jobs: impl Iterator<Item = (&'v Value, &'v Value)>) -> Columns {
        let mut labels = std::collections::BTreeSet::new();
        // Each parameter path: its first value, whether it varies, and in
        // how many jobs it is present.
        let mut params: BTreeMap<String, (&Value, bool, usize)> = BTreeMap::new();
        let mut count = 0usize;
        for (l, p) in jobs {
            count += 1;
            leaves("labels", l, &mut |path, _| {
                labels.insert(path.to_owned());
            });
            leaves("parameter", p, &mut |path, value| {
                let entry = params.entry(path.to_owned()).or_insert((value, false, 0));
                entry.1 |= entry.0 != value;
                entry.2 += 1;
            });
        }
        let mut out = Columns {
            labels: labels.into_iter().collect(),
            ..Columns::default()
        };
        for (path, (first, varies, present)) in params {
            if varies || present != count {
                out.params.push(path);
            } else {
                out.constants.insert(path, first.clone());
            }
        }
        out
    }

    /// The label and parameter columns, in table order.
    pub fn cells(&self) -> impl Iterator<Item = &String> {
        self.labels.iter().chain(&self.params)
    }
}

/// The grid's dimensions as the experiment file gives them: for each, the
/// path that names it best (its label if it has one, else its first key);
/// then each key of a random search's space. `None` when the file cannot
/// be read as YAML (an experiment stored by another tool).
pub fn grid_dimensions(source_text: &str) -> Option<Vec<String>> {
    let doc: serde_yaml::Value = serde_yaml::from_str(source_text).ok()?;
    let experiment = doc.get("experiment");
    let key_text = |k: &serde_yaml::Value| k.as_str().map(str::to_owned);
    let mut out = Vec::new();
    let dims = match experiment.and_then(|e| e.get("grid")) {
        Some(serde_yaml::Value::Sequence(dims)) => dims.as_slice(),
        _ => &[],
    };
    for dim in dims {
        let keys: Vec<String> = match dim {
            serde_yaml::Value::Mapping(map) => {
                let keys: Vec<String> = map.keys().filter_map(key_text).collect();
                // A one-key zipped dimension also sets `labels.<last>`.
                match keys.as_slice() {
                    [only] if !only.starts_with("labels.") => {
                        let last = only.rsplit('.').next().unwrap_or(only);
                        vec![format!("labels.{last}"), only.clone()]
                    }
                    _ => keys,
                }
            }
            serde_yaml::Value::Sequence(points) => {
                let mut keys = Vec::new();
                for point in points {
                    if let serde_yaml::Value::Mapping(map) = point {
                        for k in map.keys().filter_map(key_text) {
                            if !keys.contains(&k) {
                                keys.push(k);
                            }
                        }
                    }
                }
                keys
            }
            _ => Vec::new(),
        };
        let best = keys
            .iter()
            .find(|k| k.starts_with("labels."))
            .or(keys.first());
        if let Some(best) = best
            && !out.contains(best)
        {
            out.push(best.clone());
        }
    }
    let space = experiment
        .and_then(|e| e.get("random"))
        .and_then(|r| r.get("space"));
    if let Some(serde_yaml::Value::Mapping(space)) = space {
        for key in space.keys().filter_map(key_text) {
            if !out.contains(&key) {
                out.push(key);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paths(prefix: &str, value: &Value) -> Vec<String> {
        let mut out = Vec::new();
        leaves(prefix, value, &mut |path, v| {
            out.push(format!("{path}={v}"))
        });
        out
    }

    #[test]
    fn leaves_name_columns_with_or_without_a_prefix() {
        let nested = json!({"m": {"d": 2, "e": {}}, "f": [1]});
        assert_eq!(
            paths("parameter", &nested),
            ["parameter.f=[1]", "parameter.m.d=2", "parameter.m.e={}"]
        );
        assert_eq!(paths("", &nested), ["f=[1]", "m.d=2", "m.e={}"]);
        // An empty root has no column; a scalar root has one only if named.
        assert!(paths("labels", &json!({})).is_empty());
        assert!(paths("", &json!({})).is_empty());
        assert_eq!(paths("labels", &json!(5)), ["labels=5"]);
        assert!(paths("", &json!(5)).is_empty());
    }

    #[test]
    fn labels_always_parameters_when_they_vary() {
        let jobs = [
            (json!({"a": 1}), json!({"m": {"d": 2, "n": 100}, "s": true})),
            (json!({"a": 1}), json!({"m": {"d": 4, "n": 100}, "s": true})),
        ];
        let c = Columns::of(jobs.iter().map(|(l, p)| (l, p)));
        assert_eq!(c.labels, vec!["labels.a"]);
        assert_eq!(c.params, vec!["parameter.m.d"]);
        assert_eq!(c.constants["parameter.m.n"], json!(100));
        assert_eq!(c.constants["parameter.s"], json!(true));
    }

    #[test]
    fn a_parameter_missing_somewhere_varies() {
        let jobs = [(json!({}), json!({"x": 1})), (json!({}), json!({}))];
        let c = Columns::of(jobs.iter().map(|(l, p)| (l, p)));
        assert_eq!(c.params, vec!["parameter.x"]);
    }

    #[test]
    fn looks_up_dotted_paths() {
        let labels = json!({"a.b": 1, "c": {"d": 2}});
        let params = json!({"m": {"x.y": 3}});
        assert_eq!(lookup(&labels, &params, "labels.a.b"), json!(1));
        assert_eq!(lookup(&labels, &params, "labels.c.d"), json!(2));
        assert_eq!(lookup(&labels, &params, "parameter.m.x.y"), json!(3));
        assert_eq!(lookup(&labels, &params, "parameter.m"), json!({"x.y": 3}));
        assert_eq!(lookup(&labels, &params, "parameter.q"), Value::Null);
        assert_eq!(lookup(&labels, &params, "status"), Value::Null);
    }

    #[test]
    fn grid_dimensions_of_the_iris_file() {
        let source_text = "name: x\nexperiment:\n  grid:\n    - parameter.a: [0, 1]\n      labels.cv: [0, 1]\n    - parameter.model_args.max_depth: [2, 4]\n    - - parameter.m: {x: 1}\n        labels.size: few\n      - parameter.m: {x: 2}\n        labels.size: many\n    - - parameter.q: 1\n      - parameter.q: 2\n";
        assert_eq!(
            grid_dimensions(source_text),
            Some(vec![
                "labels.cv".to_owned(),
                "labels.max_depth".to_owned(),
                "labels.size".to_owned(),
                "parameter.q".to_owned(),
            ])
        );
        assert_eq!(grid_dimensions("name: x\n"), Some(vec![]));
        let random = "name: x\nexperiment:\n  grid:\n    - parameter.seed: [0, 1]\n  random:\n    samples: 4\n    seed: 7\n    space:\n      parameter.lr: {loguniform: [1.0e-4, 1.0e-1]}\n      parameter.depth: {int: [2, 12]}\n";
        assert_eq!(
            grid_dimensions(random),
            Some(vec![
                "labels.seed".to_owned(),
                "parameter.lr".to_owned(),
                "parameter.depth".to_owned(),
            ])
        );
        assert_eq!(grid_dimensions(": : :"), None);
    }
}
