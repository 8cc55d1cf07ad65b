//! Where the PostgreSQL store is: `DJX_DATABASE_URL` / `--database URL`, or
//! the original djx's `DJX_PG_HOST`, `DJX_PG_PORT`, `DJX_PG_USER`,
//! `DJX_PG_PASSWORD`, `DJX_PG_DBNAME`; the schema is `DJX_PG_SCHEMA`
//! (default `djx`); TLS is `sslmode` and `sslrootcert` in the URL, or
//! `DJX_PG_SSLMODE` and `DJX_PG_SSLROOTCERT`. The password is never
//! displayed.

use std::fmt;
use std::path::PathBuf;

use super::super::StoreError;
use super::tls::TlsSettings;

/// A PostgreSQL connection configuration and schema.
#[derive(Clone)]
pub struct PgConfig {
    config: tokio_postgres::Config,
    schema: String,
    tls: TlsSettings,
    /// The settings as variables a worker elsewhere can be given: every
    /// one but the password.
    public_env: Vec<(String, String)>,
}

/// The TLS parameters of a URL, and the URL without them (tokio-postgres
/// knows neither `verify-ca`, `verify-full` nor `sslrootcert`).
struct Split {
    rest: String,
    sslmode: Option<String>,
    sslrootcert: Option<String>,
}

impl PgConfig {
    /// From a `postgres://` URL (or key=value string) and a schema. Its
    /// `sslmode` and `sslrootcert` say how to use TLS (default `prefer`).
    pub fn from_url(url: &str, schema: &str) -> Result<PgConfig, StoreError> {
        PgConfig::parse_url(url, schema, None, &|_| None)
    }

    /// From a URL; `password` (DJX_PG_PASSWORD) applies when the URL has
    /// none, and `var` supplies `DJX_PG_SSLMODE` / `DJX_PG_SSLROOTCERT` for
    /// what the URL does not say.
    fn parse_url(
        url: &str,
        schema: &str,
        password: Option<String>,
        var: &dyn Fn(&str) -> Option<String>,
    ) -> Result<PgConfig, StoreError> {
        let split = split_tls(url)?;
        let mut config: tokio_postgres::Config = split.rest.parse().map_err(|e| {
            StoreError::Config(format!("invalid database URL (password not shown): {e}"))
        })?;
        if config.get_password().is_none()
            && let Some(password) = password
        {
            config.password(password);
        }
        let mut public_env = vec![("DJX_DATABASE_URL".to_owned(), without_password(url)?)];
        let sslmode = match split.sslmode {
            Some(mode) => Some((mode, "sslmode in the database URL")),
            None => var("DJX_PG_SSLMODE").map(|m| (m, "DJX_PG_SSLMODE")),
        };
        let sslrootcert = match split.sslrootcert {
            Some(path) => Some(path),
            None => var("DJX_PG_SSLROOTCERT").inspect(|path| {
                public_env.push(("DJX_PG_SSLROOTCERT".to_owned(), path.clone()));
            }),
        };
        if let Some((mode, "DJX_PG_SSLMODE")) = &sslmode {
            public_env.push(("DJX_PG_SSLMODE".to_owned(), mode.clone()));
        }
        let tls = TlsSettings::new(sslmode, sslrootcert.map(PathBuf::from))?;
        PgConfig::new(config, schema, tls, public_env)
    }

    /// From the environment: `DJX_DATABASE_URL`, else the `DJX_PG_*`
    /// variables; `None` when neither is set (djx then uses SQLite).
    /// `url` (from `--database`) wins over both.
    pub fn from_env(url: Option<&str>) -> Result<Option<PgConfig>, StoreError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let schema = var("DJX_PG_SCHEMA").unwrap_or_else(|| "djx".into());
        if let Some(url) = url.map(str::to_owned).or_else(|| var("DJX_DATABASE_URL")) {
            return PgConfig::parse_url(&url, &schema, var("DJX_PG_PASSWORD"), &var).map(Some);
        }
        let host = var("DJX_PG_HOST");
        let dbname = var("DJX_PG_DBNAME");
        if host.is_none() && dbname.is_none() {
            return Ok(None);
        }
        let mut public_env = Vec::new();
        for name in [
            "DJX_PG_HOST",
            "DJX_PG_PORT",
            "DJX_PG_USER",
            "DJX_PG_DBNAME",
            "DJX_PG_SSLMODE",
            "DJX_PG_SSLROOTCERT",
        ] {
            if let Some(value) = var(name) {
                public_env.push((name.to_owned(), value));
            }
        }
        let mut config = tokio_postgres::Config::new();
        config.host(host.as_deref().unwrap_or("localhost"));
        if let Some(port) = var("DJX_PG_PORT") {
            let port: u16 = port.parse().map_err(|_| {
                StoreError::Config(format!("DJX_PG_PORT={port:?} is not a port number"))
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
        let tls = TlsSettings::new(
            var("DJX_PG_SSLMODE").map(|m| (m, "DJX_PG_SSLMODE")),
            var("DJX_PG_SSLROOTCERT").map(PathBuf::from),
        )?;
        PgConfig::new(config, &schema, tls, public_env).map(Some)
    }

    fn new(
        mut config: tokio_postgres::Config,
        schema: &str,
        tls: TlsSettings,
        mut public_env: Vec<(String, String)>,
    ) -> Result<PgConfig, StoreError> {
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
        config.ssl_mode(tls.mode().negotiation());
        public_env.push(("DJX_PG_SCHEMA".to_owned(), schema.to_owned()));
        Ok(PgConfig {
            config,
            schema: schema.to_owned(),
            tls,
            public_env,
        })
    }

    /// How the connection uses TLS.
    pub fn tls(&self) -> &TlsSettings {
        &self.tls
    }

    /// The variables that give a `djx` elsewhere (a cluster's worker) this
    /// same store, every one but the password: the URL without its
    /// password, or the `DJX_PG_*` variables but `DJX_PG_PASSWORD`, and the
    /// schema.
    pub fn public_env(&self) -> &[(String, String)] {
        &self.public_env
    }

    /// The password, if the configuration has one (never display it).
    pub fn password(&self) -> Option<String> {
        self.config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned())
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
            "postgres://{}@{}:{port}/{} (schema {}, sslmode {})",
            self.config.get_user().unwrap_or("?"),
            hosts.join(","),
            self.config.get_dbname().unwrap_or(""),
            self.schema,
            self.tls.mode()
        )
    }
}

impl fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgConfig({self})")
    }
}

/// Splits `sslmode` and `sslrootcert` off a URL (`postgres://…?sslmode=…`)
/// or a key=value string (`host=… sslmode=…`).
fn split_tls(url: &str) -> Result<Split, StoreError> {
    let mut split = Split {
        rest: String::new(),
        sslmode: None,
        sslrootcert: None,
    };
    if is_url(url) {
        let Some((base, query)) = url.split_once('?') else {
            split.rest = url.to_owned();
            return Ok(split);
        };
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match percent_decode(key)?.as_str() {
                "sslmode" => split.sslmode = Some(percent_decode(value)?),
                "sslrootcert" => split.sslrootcert = Some(percent_decode(value)?),
                _ => kept.push(pair),
            }
        }
        split.rest = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return Ok(split);
    }
    let mut rest = String::new();
    let mut at = 0;
    for (key, value, range) in key_values(url)? {
        match key.as_str() {
            "sslmode" => split.sslmode = Some(value),
            "sslrootcert" => split.sslrootcert = Some(value),
            _ => continue,
        }
        rest.push_str(&url[at..range.start]);
        at = range.end;
    }
    rest.push_str(&url[at..]);
    split.rest = rest;
    Ok(split)
}

fn is_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Settings whose values are credentials: they never leave this process
/// except as `DJX_PG_PASSWORD` in a child's environment.
const SECRET_KEYS: &[&str] = &["password", "sslpassword"];

/// The URL or key=value string without any credential: a URL's user-info
/// password and its `password` and `sslpassword` query parameters (however
/// percent-encoded their names), a key=value string's `password` and
/// `sslpassword`.
fn without_password(url: &str) -> Result<String, StoreError> {
    if !is_url(url) {
        let mut out = String::new();
        let mut at = 0;
        for (key, _, range) in key_values(url)? {
            if SECRET_KEYS.contains(&key.as_str()) {
                out.push_str(&url[at..range.start]);
                at = range.end;
            }
        }
        out.push_str(&url[at..]);
        return Ok(out);
    }
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    // The user info ends at the last `@`, so that a password with an
    // unescaped `/` or `@` is cut whole.
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let mut out = match base[scheme_end..].rfind('@') {
        Some(at) => {
            let userinfo = &base[scheme_end..scheme_end + at];
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{}{user}{}", &base[..scheme_end], &base[scheme_end + at..])
        }
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let key = pair.split_once('=').map_or(pair, |(key, _)| key);
            if !SECRET_KEYS.contains(&percent_decode(key)?.as_str()) {
                kept.push(pair);
            }
        }
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
    }
    Ok(out)
}

/// The `key = value` pairs of a libpq key=value string, each with the
/// byte range it spans; values may be 'quoted' with `\` escapes.
fn key_values(text: &str) -> Result<Vec<(String, String, std::ops::Range<usize>)>, StoreError> {
    let bad = |why: &str| StoreError::Config(format!("invalid database settings: {why}"));
    let bytes = text.as_bytes();
    let mut pairs = Vec::new();
    let mut i = 0;
    let skip_ws = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    loop {
        i = skip_ws(i);
        if i >= bytes.len() {
            return Ok(pairs);
        }
        let start = i;
        while i < bytes.len() && bytes[i] != b'=' && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = text[start..i].to_owned();
        i = skip_ws(i);
        if bytes.get(i) != Some(&b'=') {
            return Err(bad(&format!("{key:?} has no `=`")));
        }
        i = skip_ws(i + 1);
        let mut value = String::new();
        if bytes.get(i) == Some(&b'\'') {
            i += 1;
            loop {
                match bytes.get(i) {
                    None => return Err(bad(&format!("the value of {key:?} is not closed by '"))),
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') if i + 1 < bytes.len() => {
                        let c = text[i + 1..].chars().next().unwrap_or_default();
                        value.push(c);
                        i += 1 + c.len_utf8().max(1);
                    }
                    Some(_) => {
                        let c = text[i..].chars().next().unwrap_or_default();
                        value.push(c);
                        i += c.len_utf8().max(1);
                    }
                }
            }
        } else {
            let from = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            value.push_str(&text[from..i]);
        }
        pairs.push((key, value, start..i));
    }
}

/// Decodes `%XX` escapes (and `+` stays `+`, as libpq reads URLs).
fn percent_decode(text: &str) -> Result<String, StoreError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    StoreError::Config(format!(
                        "invalid database URL: bad %-escape in the parameter {text:?}"
                    ))
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| {
        StoreError::Config(format!(
            "invalid database URL: the parameter {text:?} is not UTF-8"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::super::tls::SslMode;
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
    fn tls_parameters_come_from_the_url_as_libpq_spells_them() {
        let c = PgConfig::from_url(
            "postgres://alice:s3cret@db.example/exps?application_name=x&sslmode=require",
            "djx",
        )
        .expect("parses");
        assert_eq!(c.tls().mode(), SslMode::Require);
        assert_eq!(
            PgConfig::from_url("postgres://a@h/d", "djx")
                .expect("parses")
                .tls()
                .mode(),
            SslMode::Prefer,
            "libpq's default"
        );
        let err = PgConfig::from_url("postgres://a@h/d?sslmode=verify-fully", "djx")
            .expect_err("a typo is refused");
        assert!(err.to_string().contains("verify-fully"), "{err}");
        let c = PgConfig::from_url("host=h user=a sslmode = 'disable' dbname=d", "djx")
            .expect("key=value form");
        assert_eq!(c.tls().mode(), SslMode::Disable);
    }

    #[test]
    fn the_public_settings_have_no_password() {
        assert_eq!(
            without_password("postgres://alice:s3cret@db:5/x?sslmode=require").expect("ok"),
            "postgres://alice@db:5/x?sslmode=require"
        );
        assert_eq!(
            without_password("postgresql://alice@db/x").expect("ok"),
            "postgresql://alice@db/x"
        );
        assert_eq!(
            without_password("host=db password='a b\\'c' user=u").expect("ok"),
            "host=db  user=u"
        );
        let c =
            PgConfig::from_url("postgres://alice:s3cret@db.example/exps", "team").expect("parses");
        let shown = format!("{:?}", c.public_env());
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("team"), "{shown}");
        assert_eq!(c.password().as_deref(), Some("s3cret"));
    }

    /// Issue 21: `?password=` reached the Slurm script. Every form that
    /// carries a credential loses it, and only it.
    #[test]
    fn no_form_of_the_url_keeps_a_credential() {
        for (url, public) in [
            (
                "postgres://djx@127.0.0.1:5432/db?password=s3cret",
                "postgres://djx@127.0.0.1:5432/db",
            ),
            (
                "postgres://djx@h/db?application_name=a&password=s3cret&sslmode=disable",
                "postgres://djx@h/db?application_name=a&sslmode=disable",
            ),
            (
                "postgres://djx@h/db?%70assword=s3cret&sslpassword=s3cret",
                "postgres://djx@h/db",
            ),
            (
                "postgres://djx:s3cret@h/db?password=s3cret",
                "postgres://djx@h/db",
            ),
            ("postgres://djx:s3/cr@et@h/db", "postgres://djx@h/db"),
            ("postgres://:s3cret@h/db", "postgres://@h/db"),
            ("host=h sslpassword=s3cret dbname=d", "host=h  dbname=d"),
        ] {
            assert_eq!(without_password(url).expect(url), public, "{url}");
        }
        let c = PgConfig::from_url("postgres://djx@h/db?password=s3cret", "djx").expect("parses");
        assert!(!format!("{:?}", c.public_env()).contains("s3cret"));
        assert_eq!(c.password().as_deref(), Some("s3cret"));
    }

    #[test]
    fn rejects_unsafe_schema_names() {
        assert!(PgConfig::from_url("postgres://a@h/d", "djx; DROP TABLE x").is_err());
        assert!(PgConfig::from_url("postgres://a@h/d", "team_42").is_ok());
    }
}
