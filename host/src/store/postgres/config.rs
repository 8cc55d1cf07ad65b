//! Where the PostgreSQL store is: `DJX_DATABASE_URL` / `--database URL`, or
//! the original djx's `DJX_PG_HOST`, `DJX_PG_PORT`, `DJX_PG_USER`,
//! `DJX_PG_PASSWORD`, `DJX_PG_DBNAME`; the schema is `DJX_PG_SCHEMA`
//! (default `djx`). The password is never displayed.

use std::fmt;

use super::super::StoreError;

/// A PostgreSQL connection configuration and schema.
#[derive(Clone)]
pub struct PgConfig {
    config: tokio_postgres::Config,
    schema: String,
}

impl PgConfig {
    /// From a `postgres://` URL (or key=value string) and a schema.
    pub fn from_url(url: &str, schema: &str) -> Result<PgConfig, StoreError> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| {
            StoreError::Postgres(format!("invalid database URL (password not shown): {e}"))
        })?;
        PgConfig::new(config, schema)
    }

    /// From the environment: `DJX_DATABASE_URL`, else the `DJX_PG_*`
    /// variables; `None` when neither is set (djx then uses SQLite).
    /// `url` (from `--database`) wins over both.
    pub fn from_env(url: Option<&str>) -> Result<Option<PgConfig>, StoreError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let schema = var("DJX_PG_SCHEMA").unwrap_or_else(|| "djx".into());
        if let Some(url) = url.map(str::to_owned).or_else(|| var("DJX_DATABASE_URL")) {
            return PgConfig::from_url(&url, &schema).map(Some);
        }
        let host = var("DJX_PG_HOST");
        let dbname = var("DJX_PG_DBNAME");
        if host.is_none() && dbname.is_none() {
            return Ok(None);
        }
        let mut config = tokio_postgres::Config::new();
        config.host(host.as_deref().unwrap_or("localhost"));
        if let Some(port) = var("DJX_PG_PORT") {
            let port: u16 = port.parse().map_err(|_| {
                StoreError::Postgres(format!("DJX_PG_PORT={port:?} is not a port number"))
            })?;
            config.port(port);
        }
        if let Some(user) = var("DJX_PG_USER") {
            config.user(&user);
        }
        if let Some(password) = var("DJX_PG_PASSWORD") {
            config.password(password);
        }
        if let Some(dbname) = dbname {
            config.dbname(&dbname);
        }
        PgConfig::new(config, &schema).map(Some)
    }

    fn new(mut config: tokio_postgres::Config, schema: &str) -> Result<PgConfig, StoreError> {
        let valid = !schema.is_empty()
            && schema.len() <= 63
            && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(StoreError::Postgres(format!(
                "DJX_PG_SCHEMA={schema:?}: a schema name is lowercase letters, digits and '_'"
            )));
        }
        config.options(format!("-c search_path={schema}"));
        config.application_name("djx");
        config.connect_timeout(std::time::Duration::from_secs(10));
        Ok(PgConfig {
            config,
            schema: schema.to_owned(),
        })
    }

    /// The connection configuration.
    pub fn connection(&self) -> tokio_postgres::Config {
        self.config.clone()
    }

    /// The schema every table lives in.
    pub fn schema(&self) -> &str {
        &self.schema
    }
}

impl fmt::Display for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|h| match h {
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        write!(
            f,
            "postgres://{}@{}:{port}/{} (schema {})",
            self.config.get_user().unwrap_or("?"),
            hosts.join(","),
            self.config.get_dbname().unwrap_or(""),
            self.schema
        )
    }
}

impl fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgConfig({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_never_shows_the_password() {
        let c = PgConfig::from_url("postgres://alice:s3cret@db.example:6543/exps", "djx")
            .expect("parses");
        let shown = format!("{c} {c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("alice@db.example:6543/exps"), "{shown}");
    }

    #[test]
    fn rejects_unsafe_schema_names() {
        assert!(PgConfig::from_url("postgres://a@h/d", "djx; DROP TABLE x").is_err());
        assert!(PgConfig::from_url("postgres://a@h/d", "team_42").is_ok());
    }
}
