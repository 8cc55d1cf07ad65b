//! The seam between the store and its two databases: one dialect of SQL,
//! rewritten for each, and one way to bind values and read columns.
//!
//! Queries are written once (`store/queries/*.sql`) with named parameters
//! (`:experiment`) and five macros for what the databases spell
//! differently:
//!
//! | macro | SQLite | PostgreSQL |
//! |---|---|---|
//! | `x IN_LIST(:ids)` (a list of ids or of texts) | `x IN (SELECT value FROM json_each(:ids))` | `x = ANY($n)` |
//! | `EACH_ID(:ids)` (a row source with column `id`) | `(SELECT value AS id FROM json_each(:ids))` | `unnest($n::BIGINT[]) AS id` |
//! | `HAS_KEY(obj, :key)` (a JSON object's text has the key) | `EXISTS (SELECT 1 FROM json_each(obj) WHERE key = :key)` | `obj::jsonb ? $n` |
//! | `SKIP_LOCKED(t)` (after a query that picks rows of `t` to change) | nothing | `FOR UPDATE OF t SKIP LOCKED` |
//! | `FOR_SHARE(t)` (rows of `t` that must not change until the commit) | nothing | `FOR SHARE OF t` |
//!
//! The row locks are PostgreSQL's: there, many workers write at once. A
//! SQLite write transaction (`BEGIN IMMEDIATE`) holds the whole file, so
//! its rows need none.
//!
//! PostgreSQL gets numbered placeholders in the order the names first
//! appear. A value is a [`Param`]; a list is bound as JSON text for SQLite
//! and as an array for PostgreSQL. Columns are read by name through
//! [`SqlRow`]. The one thing whose SQL really differs, adding rows in bulk
//! (multi-row `VALUES` against `unnest`), is a method of [`Sql`] that each
//! database implements in its own folder (`store/sqlite/bulk.rs`,
//! `store/postgres/bulk.rs`).

pub mod postgres;
pub mod sqlite;

use std::sync::OnceLock;

use super::{NewJobs, Result, StoreError};
use crate::records::Records;

/// A value bound to a named parameter.
#[derive(Clone, Copy, Debug)]
pub enum Param<'a> {
    /// An integer.
    Int(i64),
    /// An integer or NULL.
    OptInt(Option<i64>),
    /// A number.
    Real(f64),
    /// A boolean (0 or 1 in SQLite).
    Bool(bool),
    /// Text.
    Text(&'a str),
    /// Text or NULL.
    OptText(Option<&'a str>),
    /// Bytes.
    Bytes(&'a [u8]),
    /// A list of ids, for `IN_LIST` and `EACH_ID`.
    Ids(&'a [i64]),
    /// A list of texts, for `IN_LIST`.
    Texts(&'a [String]),
}

/// One row of a result, its columns read by name.
pub trait SqlRow {
    /// An integer column.
    fn int(&self, column: &str) -> Result<i64>;
    /// An integer column that may be NULL.
    fn opt_int(&self, column: &str) -> Result<Option<i64>>;
    /// A boolean column.
    fn bool(&self, column: &str) -> Result<bool>;
    /// A text column, borrowed from the row.
    fn text(&self, column: &str) -> Result<&str>;
    /// A text column that may be NULL.
    fn opt_text(&self, column: &str) -> Result<Option<&str>>;
    /// A bytes column.
    fn bytes(&self, column: &str) -> Result<&[u8]>;
}

/// A connection, or a transaction on one.
pub trait Sql {
    /// Calls `each` with every row of `query`. The rows may all be read
    /// before the first call: for queries of a few rows.
    fn each(
        &mut self,
        query: &Query,
        params: &[(&str, Param<'_>)],
        each: &mut dyn FnMut(&dyn SqlRow) -> Result<()>,
    ) -> Result<()>;

    /// Like [`Sql::each`], but memory holds a batch of rows however many
    /// there are; `each` returns false to stop early.
    fn stream(
        &mut self,
        query: &Query,
        params: &[(&str, Param<'_>)],
        each: &mut dyn FnMut(&dyn SqlRow) -> Result<bool>,
    ) -> Result<()>;

    /// Runs a statement; returns how many rows it changed.
    fn execute(&mut self, query: &Query, params: &[(&str, Param<'_>)]) -> Result<u64>;

    /// Adds `jobs` to experiment `experiment` at positions `first..`, in
    /// grid order, in batches; returns how many. If `jobs` yields an
    /// error, it comes back as [`StoreError::Input`].
    fn insert_jobs(&mut self, experiment: i64, first: i64, jobs: &mut NewJobs<'_>) -> Result<i64>;

    /// Adds `records` as records `at.first..` of an attempt, in batches.
    fn insert_records(&mut self, at: RecordsAt, records: &Records) -> Result<()>;

    /// Wakes the workers waiting for jobs when this transaction commits
    /// (PostgreSQL's `NOTIFY`; a SQLite worker polls).
    fn wake_workers(&mut self) -> Result<()>;
}

/// Where records go: records `first..` of attempt `attempt` of `job`.
#[derive(Clone, Copy, Debug)]
pub struct RecordsAt {
    /// The job.
    pub job: i64,
    /// The attempt.
    pub attempt: i64,
    /// The number of the first record.
    pub first: usize,
}

impl dyn Sql + '_ {
    /// Every row of `query`, decoded by `decode`.
    pub fn rows<T>(
        &mut self,
        query: &Query,
        params: &[(&str, Param<'_>)],
        decode: impl Fn(&dyn SqlRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.each(query, params, &mut |row| {
            out.push(decode(row)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row of `query`, if any, decoded by `decode`.
    pub fn first<T>(
        &mut self,
        query: &Query,
        params: &[(&str, Param<'_>)],
        decode: impl Fn(&dyn SqlRow) -> Result<T>,
    ) -> Result<Option<T>> {
        Ok(self.rows(query, params, decode)?.into_iter().next())
    }
}

/// A statement in the common dialect, with its text for each database
/// made on first use.
pub struct Query {
    /// The file it comes from, for errors.
    pub name: &'static str,
    text: &'static str,
    sqlite: OnceLock<String>,
    postgres: OnceLock<(String, Vec<String>)>,
}

impl Query {
    /// A statement named `name` with the common-dialect `text`.
    pub const fn new(name: &'static str, text: &'static str) -> Query {
        Query {
            name,
            text,
            sqlite: OnceLock::new(),
            postgres: OnceLock::new(),
        }
    }

    /// The statement for SQLite (named parameters stay named).
    pub fn sqlite(&self) -> &str {
        self.sqlite
            .get_or_init(|| expand(self.text, Dialect::Sqlite).0)
    }

    /// The statement for PostgreSQL, and the parameter names in the order
    /// of their numbers.
    pub fn postgres(&self) -> (&str, &[String]) {
        let (text, names) = self
            .postgres
            .get_or_init(|| expand(self.text, Dialect::Postgres));
        (text, names)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Dialect {
    Sqlite,
    Postgres,
}

/// Drops the comments, rewrites the macros, then (for PostgreSQL) the
/// named parameters as `$1`, `$2`… in order of first appearance. `::`
/// casts and string literals are left alone.
fn expand(text: &str, dialect: Dialect) -> (String, Vec<String>) {
    let text = expand_macros(&without_comments(text), dialect);
    if dialect == Dialect::Sqlite {
        return (text, Vec::new());
    }
    let mut names: Vec<String> = Vec::new();
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut quoted = false;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\'' {
            quoted = !quoted;
        }
        let starts_name = !quoted
            && c == b':'
            && bytes
                .get(i + 1)
                .is_some_and(|b| b.is_ascii_lowercase() || *b == b'_')
            && (i == 0 || bytes[i - 1] != b':');
        if starts_name {
            let end = bytes[i + 1..]
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                .map_or(bytes.len(), |n| i + 1 + n);
            let name = &text[i + 1..end];
            let number = match names.iter().position(|n| n == name) {
                Some(k) => k + 1,
                None => {
                    names.push(name.to_owned());
                    names.len()
                }
            };
            out.push_str(&format!("${number}"));
            i = end;
        } else {
            out.push(c as char);
            i += 1;
        }
    }
    (out, names)
}

/// `text` without its `--` comments (outside string literals), so that a
/// name in a comment is no parameter.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut quoted = false;
        let mut end = line.len();
        for (i, c) in line.char_indices() {
            match c {
                '\'' => quoted = !quoted,
                '-' if !quoted && line[i..].starts_with("--") => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let kept = line[..end].trim_end();
        if !kept.is_empty() {
            out.push_str(kept);
            out.push('\n');
        }
    }
    out
}

/// Rewrites the macros of the module's table.
fn expand_macros(text: &str, dialect: Dialect) -> String {
    let mut text = text.to_owned();
    for name in ["IN_LIST", "EACH_ID", "HAS_KEY", "SKIP_LOCKED", "FOR_SHARE"] {
        while let Some(start) = text.find(&format!("{name}(")) {
            let open = start + name.len() + 1;
            let Some(close) = text[open..].find(')').map(|n| open + n) else {
                break;
            };
            let args: Vec<&str> = text[open..close].split(',').map(str::trim).collect();
            let replacement = match (name, dialect, args.as_slice()) {
                ("IN_LIST", Dialect::Sqlite, [ids]) => {
                    format!("IN (SELECT value FROM json_each({ids}))")
                }
                ("IN_LIST", Dialect::Postgres, [ids]) => format!("= ANY({ids})"),
                ("EACH_ID", Dialect::Sqlite, [ids]) => {
                    format!("(SELECT value AS id FROM json_each({ids}))")
                }
                ("EACH_ID", Dialect::Postgres, [ids]) => format!("unnest({ids}::BIGINT[]) AS id"),
                ("HAS_KEY", Dialect::Sqlite, [object, key]) => {
                    format!("EXISTS (SELECT 1 FROM json_each({object}) WHERE key = {key})")
                }
                ("HAS_KEY", Dialect::Postgres, [object, key]) => {
                    format!("{object}::jsonb ? {key}")
                }
                ("SKIP_LOCKED" | "FOR_SHARE", Dialect::Sqlite, [_]) => String::new(),
                ("SKIP_LOCKED", Dialect::Postgres, [table]) => {
                    format!("FOR UPDATE OF {table} SKIP LOCKED")
                }
                ("FOR_SHARE", Dialect::Postgres, [table]) => format!("FOR SHARE OF {table}"),
                _ => break,
            };
            text.replace_range(start..=close, &replacement);
        }
    }
    text
}

/// The error for a column that is missing or of another type.
pub fn column_error(column: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        what: "column",
        message: format!("{column}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_for_postgres_and_kept_for_sqlite() {
        let text =
            "SELECT a::BIGINT, ':x' FROM t WHERE b = :first AND c IN_LIST(:ids) AND d = :first";
        let (pg, names) = expand(text, Dialect::Postgres);
        assert_eq!(
            pg,
            "SELECT a::BIGINT, ':x' FROM t WHERE b = $1 AND c = ANY($2) AND d = $1\n"
        );
        assert_eq!(names, ["first", "ids"]);
        let (lite, _) = expand(text, Dialect::Sqlite);
        assert_eq!(
            lite,
            "SELECT a::BIGINT, ':x' FROM t WHERE b = :first AND c IN (SELECT value FROM json_each(:ids)) AND d = :first\n"
        );
    }

    #[test]
    fn comments_name_no_parameters() {
        let text = "-- Uses :ignored.\nSELECT '--x' FROM t -- and :this\nWHERE a = :a\n";
        let (pg, names) = expand(text, Dialect::Postgres);
        assert_eq!(pg, "SELECT '--x' FROM t\nWHERE a = $1\n");
        assert_eq!(names, ["a"]);
    }

    #[test]
    fn macros_name_their_arguments() {
        let text = "SELECT id FROM EACH_ID(:e) WHERE HAS_KEY(r.metrics, :metric)";
        assert_eq!(
            expand(text, Dialect::Postgres).0,
            "SELECT id FROM unnest($1::BIGINT[]) AS id WHERE r.metrics::jsonb ? $2\n"
        );
        assert_eq!(
            expand(text, Dialect::Sqlite).0,
            "SELECT id FROM (SELECT value AS id FROM json_each(:e)) WHERE EXISTS (SELECT 1 FROM json_each(r.metrics) WHERE key = :metric)\n"
        );
    }

    #[test]
    fn row_locks_are_postgres_only() {
        let text =
            "SELECT id FROM job j WHERE a = :a SKIP_LOCKED(j)\nSELECT 1 FROM job FOR_SHARE(job)";
        assert_eq!(
            expand(text, Dialect::Postgres).0,
            "SELECT id FROM job j WHERE a = $1 FOR UPDATE OF j SKIP LOCKED\nSELECT 1 FROM job FOR SHARE OF job\n"
        );
        assert_eq!(
            expand(text, Dialect::Sqlite).0,
            "SELECT id FROM job j WHERE a = :a \nSELECT 1 FROM job \n"
        );
    }
}
