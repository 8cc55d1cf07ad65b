//! What the store commands share: opening the store, naming experiments.

use std::sync::OnceLock;

use anyhow::{Context, bail};
use djx_host::content::layout::Layout;
use djx_host::store::Store;
use djx_host::store::postgres::{PgConfig, PgStore};
use djx_host::store::sqlite::SqliteStore;

/// The djx home of this process (`.djx` in the working directory).
pub fn layout() -> anyhow::Result<Layout> {
    let cwd = std::env::current_dir().context("reading the working directory")?;
    Ok(Layout::from_env(&cwd).with_content()?)
}

/// `--database`, set once by `main`.
pub static DATABASE: OnceLock<Option<String>> = OnceLock::new();

/// Opens the store: PostgreSQL when `--database`, `DJX_DATABASE_URL` or the
/// `DJX_PG_*` variables say so, else the embedded SQLite file.
pub fn open_store(layout: &Layout) -> anyhow::Result<Box<dyn Store>> {
    let url = DATABASE.get().and_then(Option::as_deref);
    if let Some(config) = PgConfig::from_env(url)? {
        let shown = config.to_string();
        let store = PgStore::open(config).with_context(|| format!("opening the store {shown}"))?;
        return Ok(Box::new(store));
    }
    let store = SqliteStore::open(&layout.db)
        .with_context(|| format!("opening the store {}", layout.db.display()))?;
    Ok(Box::new(store))
}

/// An experiment named on the command line: an id, or `last`.
#[derive(Clone, Debug)]
pub enum ExpRef {
    /// By id.
    Id(i64),
    /// The most recently added experiment.
    Last,
}

/// Parses an experiment reference (for clap).
pub fn parse_exp(text: &str) -> Result<ExpRef, String> {
    if text == "last" {
        return Ok(ExpRef::Last);
    }
    text.parse()
        .map(ExpRef::Id)
        .map_err(|_| format!("{text:?} is not an experiment id (a number, or `last`)"))
}

/// Resolves experiment references to ids that exist.
pub fn resolve_exps(store: &dyn Store, refs: &[ExpRef]) -> anyhow::Result<Vec<i64>> {
    let all = store.experiments()?;
    refs.iter()
        .map(|r| match r {
            ExpRef::Id(id) if all.iter().any(|e| e.id == *id) => Ok(*id),
            ExpRef::Id(id) => bail!("no experiment {id} (`djx ls` lists them)"),
            ExpRef::Last => all
                .last()
                .map(|e| e.id)
                .context("there are no experiments yet (`djx add FILE`)"),
        })
        .collect()
}

/// The attempt whose records, artifacts and log are attempt `attempt` of
/// `job`'s result: itself, or, for a job from the run-cache, the attempt it
/// reuses.
pub fn result_attempt(store: &dyn Store, job: i64, attempt: i64) -> anyhow::Result<(i64, i64)> {
    Ok(store
        .attempts(job)?
        .iter()
        .find(|a| a.attempt == attempt)
        .map_or((job, attempt), djx_host::store::AttemptRow::result_attempt))
}

/// A compact `k=v, k=v` rendering of a JSON object (for tables).
pub fn compact(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect::<Vec<_>>()
            .join(" "),
        other => cell(other),
    }
}

/// One JSON value as a table or CSV cell: strings bare, null empty, lists
/// and mappings as JSON.
pub fn cell(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
