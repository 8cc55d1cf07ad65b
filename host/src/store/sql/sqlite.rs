//! The seam over SQLite: statements prepared once per connection
//! (rusqlite's statement cache), named parameters bound by name, a list of
//! ids bound as JSON text for `json_each`.

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, Row, ToSql};

use super::{Param, Query, RecordsAt, Sql, SqlRow, column_error};
use crate::records::Records;
use crate::store::sqlite::bulk;
use crate::store::{NewJobs, Result, StoreError};

/// A SQLite connection (or a transaction, which derefs to one) as [`Sql`].
pub struct SqliteSql<'c>(pub &'c Connection);

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Param::Int(n) => ToSqlOutput::from(n),
            Param::OptInt(n) => {
                n.map_or(ToSqlOutput::from(rusqlite::types::Null), ToSqlOutput::from)
            }
            Param::Real(x) => ToSqlOutput::from(x),
            Param::Bool(b) => ToSqlOutput::from(i64::from(b)),
            Param::Text(t) => ToSqlOutput::from(t),
            Param::OptText(t) => {
                t.map_or(ToSqlOutput::from(rusqlite::types::Null), ToSqlOutput::from)
            }
            Param::Bytes(b) => ToSqlOutput::from(b),
            Param::Ids(ids) => ToSqlOutput::from(serde_json::Value::from(ids.to_vec()).to_string()),
            Param::Texts(texts) => {
                ToSqlOutput::from(serde_json::Value::from(texts.to_vec()).to_string())
            }
        })
    }
}

/// Binds `params` by name to the statement's `:name` parameters; a
/// parameter with no value is an error, not a NULL.
fn bind(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: &[(&str, Param<'_>)],
    query: &Query,
) -> Result<()> {
    for index in 1..=stmt.parameter_count() {
        let name = stmt
            .parameter_name(index)
            .and_then(|n| n.strip_prefix(':'))
            .unwrap_or_default();
        let value = params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| StoreError::Input(format!("{}: no value for :{name}", query.name)))?;
        stmt.raw_bind_parameter(index, value)?;
    }
    Ok(())
}

impl Sql for SqliteSql<'_> {
    fn each(
        &mut self,
        query: &Query,
        params: &[(&str, Param<'_>)],
        each: &mut dyn FnMut(&dyn SqlRow) -> Result<()>,
    ) -> Result<()> {
        self.stream(query, params, &mut |row| each(row).map(|()| true))
    }

    fn stream(
        &mut self,
        query: &Query,
        params: &[(&str, Param<'_>)],
        each: &mut dyn FnMut(&dyn SqlRow) -> Result<bool>,
    ) -> Result<()> {
        let mut stmt = self.0.prepare_cached(query.sqlite())?;
        bind(&mut stmt, params, query)?;
        // The names once per statement: rusqlite's lookup by name asks
        // SQLite for every column's name at every call, and an export reads
        // millions of rows.
        let names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next()? {
            if !each(&LiteRow { row, names: &names })? {
                break;
            }
        }
        Ok(())
    }

    fn execute(&mut self, query: &Query, params: &[(&str, Param<'_>)]) -> Result<u64> {
        let mut stmt = self.0.prepare_cached(query.sqlite())?;
        bind(&mut stmt, params, query)?;
        Ok(stmt.raw_execute()? as u64)
    }

    fn insert_jobs(&mut self, experiment: i64, first: i64, jobs: &mut NewJobs<'_>) -> Result<i64> {
        bulk::insert_jobs(self.0, experiment, first, jobs)
    }

    fn insert_records(&mut self, at: RecordsAt, records: &Records) -> Result<()> {
        bulk::insert_records(self.0, at, records)
    }

    fn wake_workers(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A row, and its statement's column names.
struct LiteRow<'r, 's> {
    row: &'r Row<'s>,
    names: &'r [String],
}

impl LiteRow<'_, '_> {
    fn value(&self, column: &str) -> Result<ValueRef<'_>> {
        let index = self
            .names
            .iter()
            .position(|name| name == column)
            .ok_or_else(|| column_error(column, "no such column"))?;
        Ok(self.row.get_ref(index)?)
    }
}

impl SqlRow for LiteRow<'_, '_> {
    fn int(&self, column: &str) -> Result<i64> {
        self.value(column)?
            .as_i64()
            .map_err(|e| column_error(column, e))
    }

    fn opt_int(&self, column: &str) -> Result<Option<i64>> {
        self.value(column)?
            .as_i64_or_null()
            .map_err(|e| column_error(column, e))
    }

    fn bool(&self, column: &str) -> Result<bool> {
        Ok(self.int(column)? != 0)
    }

    fn text(&self, column: &str) -> Result<&str> {
        self.value(column)?
            .as_str()
            .map_err(|e| column_error(column, e))
    }

    fn opt_text(&self, column: &str) -> Result<Option<&str>> {
        self.value(column)?
            .as_str_or_null()
            .map_err(|e| column_error(column, e))
    }

    fn bytes(&self, column: &str) -> Result<&[u8]> {
        self.value(column)?
            .as_bytes()
            .map_err(|e| column_error(column, e))
    }
}
