//! Experiment files that extend others: `extends: base.yml`, or a list.
//!
//! Each file is read and checked on its own (its YAML errors name it and
//! its line), then the files merge: mappings deeply, the extending file
//! winning over the files it extends and a later file of the list over an
//! earlier one; lists and scalars are replaced whole. Paths in a file
//! (`module`, each dataset) resolve relative to the file that wrote them.
//! A file that extends itself, directly or not, is an error that prints
//! the chain; so is a file that cannot be read, naming the file that
//! referred to it.
//!
//! The sources come back in precedence order (the extending file first),
//! so that an error in the merged experiment can be located in the file
//! that wrote the offending key ([`super::ParsedFile::error`]).

use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use super::locate::{Seg, locate};
use super::{SpecError, depth};

/// One file that went into an experiment.
#[derive(Clone, Debug)]
pub struct Source {
    /// Its path (relative paths as they were reached from the first file).
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// Its own YAML, without `extends`, its paths made absolute when it is
    /// not the first file.
    pub value: Value,
}

/// An experiment file and every file it extends.
#[derive(Debug)]
pub struct Loaded {
    /// The merged YAML (no `extends` key left), or `None` when the file
    /// extends nothing: it is then parsed as it is, with the parser's own
    /// lines.
    pub merged: Option<Value>,
    /// The files, in precedence order: the file given first, then what it
    /// extends, the last of a list first.
    pub sources: Vec<Source>,
}

/// Reads `text` (from `path`) and every file it extends, and merges them.
pub fn load(path: &Path, text: &str) -> Result<Loaded, SpecError> {
    // Not YAML: the typed parse reports it as it always has. An integer
    // beyond 64 bits is YAML, but no `Value` holds it: say so here, or the
    // typed parse would stop first at `extends`, which it does not know.
    let value: Value = match serde_yaml::from_str(text) {
        Ok(value) => value,
        Err(e) if super::is_wide_integer(&e.to_string()) => {
            return Err(super::yaml_error(path, &e));
        }
        Err(_) => Value::Null,
    };
    if !matches!(&value, Value::Mapping(m) if m.contains_key("extends")) {
        let main = Source {
            path: path.to_path_buf(),
            text: text.to_owned(),
            value,
        };
        return Ok(Loaded {
            merged: None,
            sources: vec![main],
        });
    }
    let mut chain = Vec::new();
    let mut sources = Vec::new();
    let merged = load_one(path, text.to_owned(), Some(value), &mut chain, &mut sources)?;
    Ok(Loaded {
        merged: Some(merged),
        sources,
    })
}

/// Loads one file and what it extends; returns its merged value and adds
/// its sources, in precedence order, to `sources`. `chain` holds the files
/// being loaded above this one, to find cycles.
fn load_one(
    path: &Path,
    text: String,
    parsed: Option<Value>,
    chain: &mut Vec<(PathBuf, PathBuf)>,
    sources: &mut Vec<Source>,
) -> Result<Value, SpecError> {
    let first = chain.is_empty();
    let whole = |message: String| SpecError {
        file: path.to_path_buf(),
        line: None,
        key: String::new(),
        message,
    };
    let value = match parsed {
        Some(value) => value,
        None => {
            depth::check(path, &text)?;
            serde_yaml::from_str(&text).map_err(|e| super::yaml_error(path, &e))?
        }
    };
    let mut own = match value {
        Value::Mapping(map) => map,
        Value::Null => Mapping::new(),
        _ => {
            return Err(whole(
                "an experiment file is a mapping of keys (name:, module:, …)".into(),
            ));
        }
    };
    let bases = bases(path, &text, own.remove("extends"))?;
    if !first {
        absolute_paths(path, &mut own);
    }
    let here = canonical(path);
    chain.push((here, path.to_path_buf()));
    let mut own_sources = vec![Source {
        path: path.to_path_buf(),
        text: text.clone(),
        value: Value::Mapping(own.clone()),
    }];
    let mut merged = Value::Mapping(Mapping::new());
    let mut base_sources = Vec::new();
    for (base, key) in &bases {
        let base_path = dir_of(path).join(base);
        let refer = |message: String| SpecError {
            file: path.to_path_buf(),
            line: locate(&text, key),
            key: super::key_text(key),
            message,
        };
        let base_text = super::read::read_text(&base_path).map_err(|e| {
            refer(format!(
                "cannot read {}, which this file extends: {e}",
                base_path.display()
            ))
        })?;
        let canon = canonical(&base_path);
        if chain.iter().any(|(c, _)| *c == canon) {
            let mut names: Vec<String> =
                chain.iter().map(|(_, p)| p.display().to_string()).collect();
            names.push(base_path.display().to_string());
            return Err(refer(format!(
                "the files extend each other in a cycle: {}",
                names.join(" → ")
            )));
        }
        let mut these = Vec::new();
        let value = load_one(&base_path, base_text, None, chain, &mut these)?;
        merged = merge(merged, value);
        // A later base wins over an earlier one: it comes first.
        base_sources.insert(0, these);
    }
    chain.pop();
    merged = merge(merged, Value::Mapping(own));
    own_sources.extend(base_sources.into_iter().flatten());
    sources.extend(own_sources);
    Ok(merged)
}

/// The files an `extends` value names, each with the key path it was
/// written at.
fn bases(
    path: &Path,
    text: &str,
    extends: Option<Value>,
) -> Result<Vec<(String, Vec<Seg<'static>>)>, SpecError> {
    let bad = || SpecError {
        file: path.to_path_buf(),
        line: locate(text, &[Seg::Key("extends")]),
        key: "extends".into(),
        message: "`extends` is a file name, or a list of file names, relative to this file".into(),
    };
    match extends {
        None => Ok(Vec::new()),
        Some(Value::String(base)) => Ok(vec![(base, vec![Seg::Key("extends")])]),
        Some(Value::Sequence(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(base) => Ok((base, vec![Seg::Key("extends"), Seg::Index(i)])),
                _ => Err(bad()),
            })
            .collect(),
        Some(_) => Err(bad()),
    }
}

/// The directory a file's relative paths start from.
fn dir_of(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new(""))
}

/// The file's identity for finding cycles: its canonical path, or the path
/// as given when it cannot be canonicalised.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Makes the `module` and dataset paths of an extended file absolute, from
/// that file's directory: in the merged experiment they no longer sit in
/// the file that wrote them.
fn absolute_paths(path: &Path, own: &mut Mapping) {
    let dir = std::path::absolute(dir_of(path)).unwrap_or_else(|_| dir_of(path).to_path_buf());
    let fix = |v: &mut Value| {
        if let Value::String(s) = v {
            *s = dir.join(&*s).display().to_string();
        }
    };
    if let Some(module) = own.get_mut("module") {
        fix(module);
    }
    if let Some(Value::Mapping(data)) = own.get_mut("data") {
        for (_, dataset) in data.iter_mut() {
            match dataset {
                Value::Mapping(long) => {
                    if let Some(source) = long.get_mut("source") {
                        fix(source);
                    }
                }
                short => fix(short),
            }
        }
    }
}

/// Merges `over` into `base`: mappings deeply (`over` wins), anything else
/// replaced by `over`.
pub fn merge(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Mapping(mut base), Value::Mapping(over)) => {
            for (key, value) in over {
                let merged = match base.remove(&key) {
                    Some(old) => merge(old, value),
                    None => value,
                };
                base.insert(key, merged);
            }
            Value::Mapping(base)
        }
        (_, over) => over,
    }
}

/// How many leading steps of `path` exist in `value`.
pub fn depth_in(value: &Value, path: &[Seg<'_>]) -> usize {
    let mut current = value;
    for (n, seg) in path.iter().enumerate() {
        let next = match (seg, current) {
            (Seg::Key(k), Value::Mapping(map)) => map.get(*k),
            (Seg::Index(i), Value::Sequence(items)) => items.get(*i),
            _ => None,
        };
        match next {
            Some(next) => current = next,
            None => return n,
        }
    }
    path.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(text: &str) -> Value {
        serde_yaml::from_str(text).expect("yaml")
    }

    #[test]
    fn mappings_merge_deeply_and_the_rest_is_replaced() {
        let base = y("a: {b: 1, c: [1, 2]}\nd: x\n");
        let over = y("a: {c: [3], e: 2}\nd: {f: 1}\n");
        assert_eq!(merge(base, over), y("a: {b: 1, c: [3], e: 2}\nd: {f: 1}\n"));
    }

    #[test]
    fn depth_follows_keys_and_indices() {
        let v = y("experiment:\n  grid:\n    - a: [1]\n");
        let path = [
            Seg::Key("experiment"),
            Seg::Key("grid"),
            Seg::Index(0),
            Seg::Key("b"),
        ];
        assert_eq!(depth_in(&v, &path), 3);
        assert_eq!(depth_in(&v, &path[..2]), 2);
    }
}
