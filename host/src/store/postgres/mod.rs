//! The PostgreSQL store: one database shared by many `djx` processes on
//! many machines.
//!
//! Claims are one statement with `FOR UPDATE SKIP LOCKED`, so workers never
//! wait on each other or take the same job. Every change after a claim is
//! fenced by the lease owner. All tables live in one schema (`DJX_PG_SCHEMA`,
//! default `djx`). Migrations are embedded and run under an advisory lock, so
//! workers that start together migrate once. Connections use TLS as
//! `sslmode` says (see [`tls`]).

pub mod bulk;
mod config;
pub mod tls;

use std::sync::Mutex;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;
use tokio_postgres_rustls::MakeRustlsConnect;

pub use self::config::PgConfig;
use super::sql::Sql;
use super::sql::postgres::{PgConn, PgSql};
use super::sql_store::Backend;
use super::{Result, StoreError};
use crate::sync::Unpoisoned;

mod migrations {
    refinery::embed_migrations!("../migrations/postgres");
}

/// Connections per process.
const POOL_SIZE: usize = 16;

/// The PostgreSQL store. Its methods block on an internal tokio runtime.
pub struct PgStore {
    rt: tokio::runtime::Runtime,
    pool: Pool,
    config: PgConfig,
    tls: MakeRustlsConnect,
    listener: Mutex<Option<Listener>>,
}

/// A connection LISTENing on `djx_jobs`; each notification is a message.
struct Listener {
    _client: tokio_postgres::Client,
    notified: mpsc::UnboundedReceiver<()>,
}

/// A driver error as a store error: transient when the connection broke.
pub(crate) fn pg(e: tokio_postgres::Error) -> StoreError {
    // Connection exceptions (08), shutdowns (57P), serialization failures and
    // deadlocks, and errors with no SQLSTATE (I/O) may pass; others will not.
    let transient = e.is_closed()
        || e.code().is_none_or(|c| {
            let c = c.code();
            c.starts_with("08") || c.starts_with("57P") || c == "40001" || c == "40P01"
        });
    // tokio-postgres shows a server error as just "db error"; say what the
    // server said.
    let text = error_text(&e);
    if transient {
        StoreError::Unavailable(text)
    } else {
        StoreError::Postgres(text)
    }
}

/// The error's text with its causes (tokio-postgres shows a TLS failure
/// as just "error performing TLS handshake").
fn error_text(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = cause.source();
    }
    text
}

/// The rustls error behind a failed TLS handshake.
fn tls_failure(e: &tokio_postgres::Error) -> Option<&rustls::Error> {
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        source = cause.source();
    }
    None
}

/// Why connecting to the server failed, with a hint for TLS failures.
fn connect_error(config: &PgConfig, e: &tokio_postgres::Error) -> String {
    use rustls::CertificateError as Cert;
    let text = error_text(e);
    let tls = config.tls();
    let hint = match tls_failure(e) {
        Some(rustls::Error::InvalidCertificate(Cert::UnknownIssuer | Cert::BadSignature)) => {
            format!(
                " (the server's certificate is not signed by the CA in sslrootcert={})",
                tls.root_cert()
                    .map_or("?".into(), |p| p.display().to_string())
            )
        }
        Some(rustls::Error::InvalidCertificate(
            Cert::NotValidForName | Cert::NotValidForNameContext { .. },
        )) => " (sslmode=verify-full: the server's certificate does not name the host \
               connected to; connect by a name it has, or use sslmode=verify-ca)"
            .to_owned(),
        _ if text.contains("no encryption") => {
            format!(" (the server requires TLS, and sslmode is {})", tls.mode())
        }
        _ => String::new(),
    };
    format!("connecting to {config}: {text}{hint}")
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl PgStore {
    /// Connects, creating the schema and running migrations if needed.
    pub fn open(config: PgConfig) -> Result<PgStore> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("djx-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Postgres(format!("starting the tokio runtime: {e}")))?;
        let tls = config.tls().connector()?;
        let manager = Manager::from_config(
            config.connection(),
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Postgres(e.to_string()))?;
        let store = PgStore {
            rt,
            pool,
            config,
            tls,
            listener: Mutex::new(None),
        };
        store.rt.block_on(store.migrate())?;
        Ok(store)
    }

    /// The configuration (its `Display` never shows the password).
    pub fn config(&self) -> &PgConfig {
        &self.config
    }

    async fn migrate(&self) -> Result<()> {
        let (mut client, connection) = self
            .config
            .connection()
            .connect(self.tls.clone())
            .await
            .map_err(|e| StoreError::Postgres(connect_error(&self.config, &e)))?;
        let driver = tokio::spawn(connection);
        let schema = self.config.schema();
        // One process migrates; the others wait here, then find nothing to do.
        client
            .batch_execute("SELECT pg_advisory_lock(hashtext('djx migrations'))")
            .await
            .map_err(pg)?;
        let result = async {
            client
                .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .await
                .map_err(pg)?;
            migrations::migrations::runner()
                .set_grouped(true)
                .run_async(&mut client)
                .await
                .map(|_| ())
                .map_err(|e| StoreError::Migration(e.to_string()))
        }
        .await;
        let _ = client
            .batch_execute("SELECT pg_advisory_unlock(hashtext('djx migrations'))")
            .await;
        drop(client);
        driver.abort();
        result
    }

    async fn listen(&self) -> Result<Listener> {
        let (client, mut connection) = self
            .config
            .connection()
            .connect(self.tls.clone())
            .await
            .map_err(pg)?;
        let (tx, notified) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(Ok(message)) =
                std::future::poll_fn(|cx| connection.poll_message(cx)).await
            {
                if let AsyncMessage::Notification(_) = message
                    && tx.send(()).is_err()
                {
                    break;
                }
            }
            // Dropping `tx` tells the waiter the connection is gone.
        });
        client.batch_execute("LISTEN djx_jobs").await.map_err(pg)?;
        Ok(Listener {
            _client: client,
            notified,
        })
    }

    /// The SQL seam over transaction `tx`.
    fn sql<'c, 't>(&'c self, tx: &'c deadpool_postgres::Transaction<'t>) -> PgSql<'c, 't> {
        PgSql {
            rt: &self.rt,
            conn: PgConn::Transaction(tx),
        }
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(pool_err)
    }
}

impl Backend for PgStore {
    fn with_sql<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let mut client = self.rt.block_on(self.client())?;
        f(&mut PgSql {
            rt: &self.rt,
            conn: PgConn::Client(&mut client),
        })
    }

    fn in_transaction<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let mut client = self.rt.block_on(self.client())?;
        let tx = self.rt.block_on(client.transaction()).map_err(pg)?;
        let value = f(&mut self.sql(&tx))?;
        self.rt.block_on(tx.commit()).map_err(pg)?;
        Ok(value)
    }

    fn wait_for_work(&self, timeout: Duration) -> Result<()> {
        let mut guard = self.listener.lock_unpoisoned();
        self.rt.block_on(async {
            if guard.is_none() {
                *guard = Some(self.listen().await?);
            }
            let Some(listener) = guard.as_mut() else {
                return Ok(());
            };
            match tokio::time::timeout(timeout, listener.notified.recv()).await {
                Ok(Some(())) => while listener.notified.try_recv().is_ok() {},
                // The connection dropped: listen again next time.
                Ok(None) => *guard = None,
                Err(_elapsed) => {}
            }
            Ok(())
        })
    }
}
