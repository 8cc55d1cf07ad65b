//! The seam over PostgreSQL: statements prepared once per connection, the
//! named parameters numbered (see [`super::Query::postgres`]) and each value
//! converted to the type the server infers for its placeholder (`INTEGER`
//! columns take an `i32`, id lists a `BIGINT[]`). Blocking calls on the
//! store's runtime; streamed reads fetch through a portal, a batch at a time.

use tokio::runtime::Runtime;
use tokio_postgres::Row;
use tokio_postgres::types::{ToSql, Type};

use super::{Param, Query, RecordsAt, Sql, SqlRow, column_error};
use crate::records::Records;
use crate::store::postgres::{bulk, pg};
use crate::store::{NewJobs, Result, StoreError};

/// Rows per round trip when a read streams.
pub const FETCH_ROWS: i32 = 10_000;

/// A pooled connection, or a transaction on one.
pub enum PgConn<'c, 't> {
    /// Statements commit one by one.
    Client(&'c mut deadpool_postgres::Object),
    /// Statements run in this transaction.
    Transaction(&'c deadpool_postgres::Transaction<'t>),
}

/// A PostgreSQL connection as [`Sql`], blocking on `rt`.
pub struct PgSql<'c, 't> {
    /// The runtime the store's calls block on.
    pub rt: &'c Runtime,
    /// Where statements run.
    pub conn: PgConn<'c, 't>,
}

/// `params` in the order of the statement's numbered placeholders, each
/// as the type the server gave it.
fn ordered(
    names: &[String],
    types: &[Type],
    params: &[(&str, Param<'_>)],
    query: &Query,
) -> Result<Vec<Box<dyn ToSql + Sync + Send>>> {
    names
        .iter()
        .zip(types)
        .map(|(name, ty)| {
            let value = params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| *v)
                .ok_or_else(|| {
                    StoreError::Input(format!("{}: no value for :{name}", query.name))
                })?;
            Ok(typed(value, ty))
        })
        .collect()
}

/// One value as the placeholder's type wants it.
fn typed(value: Param<'_>, ty: &Type) -> Box<dyn ToSql + Sync + Send> {
    match value {
        Param::Int(n) if *ty == Type::INT4 => Box::new(n as i32),
        Param::OptInt(n) if *ty == Type::INT4 => Box::new(n.map(|n| n as i32)),
        Param::Int(n) => Box::new(n),
        Param::OptInt(n) => Box::new(n),
        Param::Real(x) => Box::new(x),
        Param::Bool(b) => Box::new(b),
        Param::Text(t) => Box::new(t.to_owned()),
        Param::OptText(t) => Box::new(t.map(str::to_owned)),
        Param::Bytes(b) => Box::new(b.to_vec()),
        Param::Ids(ids) => Box::new(ids.to_vec()),
        Param::Texts(texts) => Box::new(texts.to_vec()),
    }
}

fn refs(values: &[Box<dyn ToSql + Sync + Send>]) -> Vec<&(dyn ToSql + Sync)> {
    values
        .iter()
        .map(|v| v.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

impl PgSql<'_, '_> {
    async fn prepare(&self, text: &str) -> Result<tokio_postgres::Statement> {
        match &self.conn {
            PgConn::Client(c) => c.prepare_cached(text).await.map_err(pg),
            PgConn::Transaction(t) => t.prepare_cached(text).await.map_err(pg),
        }
    }

    async fn execute_prepared(
        &self,
        stmt: &tokio_postgres::Statement,
        values: &[&(dyn ToSql + Sync)],
    ) -> Result<u64> {
        match &self.conn {
            PgConn::Client(c) => c.execute(stmt, values).await.map_err(pg),
            PgConn::Transaction(t) => t.execute(stmt, values).await.map_err(pg),
        }
    }

    /// Runs PostgreSQL's own `text` with positional `values` (the bulk
    /// inserts, whose arrays are no [`Param`]); how many rows it changed.
    pub fn execute_values(&self, text: &str, values: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        self.rt.block_on(async {
            let stmt = self.prepare(text).await?;
            self.execute_prepared(&stmt, values).await
        })
    }
}

impl Sql for PgSql<'_, '_> {
    fn each(
        &mut self,
        query: &Query,
        params: &[(&str, Param<'_>)],
        each: &mut dyn FnMut(&dyn SqlRow) -> Result<()>,
    ) -> Result<()> {
        let (text, names) = query.postgres();
        let rows = self.rt.block_on(async {
            let stmt = self.prepare(text).await?;
            let values = ordered(names, stmt.params(), params, query)?;
            let values = refs(&values);
            match &self.conn {
                PgConn::Client(c) => c.query(&stmt, &values).await.map_err(pg),
                PgConn::Transaction(t) => t.query(&stmt, &values).await.map_err(pg),
            }
        })?;
        for row in &rows {
            each(&PgRow(row))?;
        }
        Ok(())
    }

    fn stream(
        &mut self,
        query: &Query,
        params: &[(&str, Param<'_>)],
        each: &mut dyn FnMut(&dyn SqlRow) -> Result<bool>,
    ) -> Result<()> {
        if let PgConn::Transaction(_) = self.conn {
            // Inside a write transaction: reads there are small.
            let mut go = true;
            return self.each(query, params, &mut |row| {
                if go {
                    go = each(row)?;
                }
                Ok(())
            });
        }
        let (text, names) = query.postgres();
        let rt = self.rt;
        match &mut self.conn {
            PgConn::Client(client) => rt.block_on(async {
                // A portal lives in a transaction (read only: this only reads).
                let tx = client
                    .build_transaction()
                    .read_only(true)
                    .start()
                    .await
                    .map_err(pg)?;
                let stmt = tx.prepare_cached(text).await.map_err(pg)?;
                let values = ordered(names, stmt.params(), params, query)?;
                let portal = tx.bind(&stmt, &refs(&values)).await.map_err(pg)?;
                loop {
                    let rows = tx.query_portal(&portal, FETCH_ROWS).await.map_err(pg)?;
                    for row in &rows {
                        if !each(&PgRow(row))? {
                            return Ok(());
                        }
                    }
                    if rows.len() < FETCH_ROWS as usize {
                        return Ok(());
                    }
                }
            }),
            PgConn::Transaction(_) => Ok(()),
        }
    }

    fn execute(&mut self, query: &Query, params: &[(&str, Param<'_>)]) -> Result<u64> {
        let (text, names) = query.postgres();
        self.rt.block_on(async {
            let stmt = self.prepare(text).await?;
            let values = ordered(names, stmt.params(), params, query)?;
            self.execute_prepared(&stmt, &refs(&values)).await
        })
    }

    fn insert_jobs(&mut self, experiment: i64, first: i64, jobs: &mut NewJobs<'_>) -> Result<i64> {
        bulk::insert_jobs(self, experiment, first, jobs)
    }

    fn insert_records(&mut self, at: RecordsAt, records: &Records) -> Result<()> {
        bulk::insert_records(self, at, records)
    }

    fn wake_workers(&mut self) -> Result<()> {
        self.execute_values("NOTIFY djx_jobs", &[])?;
        Ok(())
    }
}

struct PgRow<'r>(&'r Row);

impl PgRow<'_> {
    fn get<'a, T: tokio_postgres::types::FromSql<'a>>(&'a self, column: &str) -> Result<T> {
        self.0.try_get(column).map_err(|e| column_error(column, e))
    }
}

impl SqlRow for PgRow<'_> {
    fn int(&self, column: &str) -> Result<i64> {
        self.get::<i64>(column)
            .or_else(|_| self.get::<i32>(column).map(i64::from))
    }

    fn opt_int(&self, column: &str) -> Result<Option<i64>> {
        self.get::<Option<i64>>(column)
            .or_else(|_| self.get::<Option<i32>>(column).map(|n| n.map(i64::from)))
    }

    fn bool(&self, column: &str) -> Result<bool> {
        self.get(column)
    }

    fn text(&self, column: &str) -> Result<&str> {
        self.get(column)
    }

    fn opt_text(&self, column: &str) -> Result<Option<&str>> {
        self.get(column)
    }

    fn bytes(&self, column: &str) -> Result<&[u8]> {
        self.get(column)
    }
}
