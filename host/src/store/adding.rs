//! Writing an experiment, its jobs and its rungs, inside the caller's
//! transaction: the same statements on both databases, the jobs in bulk
//! ([`Sql::insert_jobs`]).

use super::codec;
use super::sql::{Param, Sql};
use super::{NewJobs, NewRung, Result, StoreError};
use crate::experiment::locked::LockedExperiment;
use crate::store::timestamp::now_text;

/// Adds experiment `e` with its module and its jobs, and rung 0 if it is
/// a halving sweep; wakes waiting workers at the commit. Returns its id.
pub fn add_experiment(
    db: &mut dyn Sql,
    e: &LockedExperiment,
    jobs: &mut NewJobs<'_>,
    module: &[u8],
) -> Result<i64> {
    let id = insert_experiment(db, e, module)?;
    let count = db.insert_jobs(id, 0, jobs)?;
    if let Some(rung) = first_rung(e, id, count) {
        insert_rung(db, &rung, false)?;
    }
    db.wake_workers()?;
    Ok(id)
}

/// Adds `rung` and its jobs, unless another worker added the rung first;
/// returns whether this call did. The caller's transaction makes racing
/// workers wait: one inserts the rung and its jobs, the others find the
/// rung there and write nothing.
pub fn add_rung(db: &mut dyn Sql, rung: &NewRung, jobs: &mut NewJobs<'_>) -> Result<bool> {
    if !insert_rung(db, rung, true)? {
        return Ok(false);
    }
    let count = db.insert_jobs(rung.experiment_id, rung.first_position, jobs)?;
    check_rung_jobs(rung, count)?;
    db.wake_workers()?;
    Ok(true)
}

/// Stores `module` (once) and the row of experiment `e`, in the caller's
/// transaction; returns the experiment's id.
fn insert_experiment(db: &mut dyn Sql, e: &LockedExperiment, module: &[u8]) -> Result<i64> {
    let json = codec::experiment_json(e)?;
    let module_digest = e.module_digest.to_hex();
    db.execute(
        query!("insert_module.sql"),
        &[
            ("digest", Param::Text(&module_digest)),
            ("wasm", Param::Bytes(module)),
        ],
    )?;
    let (created_at, source_digest) = (now_text(), e.source_digest.to_hex());
    let determinism = e.determinism.to_string();
    let id = db.first(
        query!("insert_experiment.sql"),
        &[
            ("project", Param::OptText(e.project.as_deref())),
            ("name", Param::Text(&e.name)),
            ("description", Param::OptText(e.description.as_deref())),
            ("created_at", Param::Text(&created_at)),
            ("source_path", Param::Text(&e.source_path)),
            ("source_digest", Param::Text(&source_digest)),
            ("spec", Param::Text(&e.source_text)),
            ("module_digest", Param::Text(&module_digest)),
            ("datasets", Param::Text(&json.datasets)),
            ("limits", Param::Text(&json.limits)),
            ("determinism", Param::Text(&determinism)),
            ("retries", Param::Int(i64::from(e.retries))),
            ("engine", Param::Text(&json.engine)),
            ("provenance", Param::Text(&json.provenance)),
            ("digest_log", Param::Bool(e.digest_log)),
            ("sweep", Param::OptText(json.sweep.as_deref())),
            ("invocation", Param::Text(&json.invocation)),
        ],
        |r| r.int("id"),
    )?;
    id.ok_or_else(|| StoreError::Input("adding the experiment returned no id".into()))
}

/// Adds `rung` in the caller's transaction, unless another worker added it
/// first; returns whether this call did. Rung 0, added with its experiment,
/// has no samples and no worker (`added_by_worker` false).
fn insert_rung(db: &mut dyn Sql, rung: &NewRung, added_by_worker: bool) -> Result<bool> {
    let samples = codec::rung_samples(&rung.samples);
    let now = now_text();
    let inserted = db.execute(
        query!("insert_rung.sql"),
        &[
            ("experiment", Param::Int(rung.experiment_id)),
            ("rung", Param::Int(i64::from(rung.rung))),
            ("rungs", Param::Int(i64::from(rung.rungs))),
            ("first_position", Param::Int(rung.first_position)),
            ("jobs", Param::Int(rung.jobs)),
            (
                "samples",
                Param::OptText(added_by_worker.then_some(samples.as_str())),
            ),
            ("now", Param::Text(&now)),
            (
                "worker",
                Param::OptText(added_by_worker.then_some(rung.worker.as_str())),
            ),
        ],
    )?;
    Ok(inserted > 0)
}

/// Rung 0 of a halving experiment `e` (id `id`): the `jobs` added with it.
fn first_rung(e: &LockedExperiment, id: i64, jobs: i64) -> Option<NewRung> {
    e.sweep.as_ref().map(|plan| NewRung {
        experiment_id: id,
        rung: 0,
        rungs: plan.rungs,
        first_position: 0,
        jobs,
        samples: Vec::new(),
        worker: String::new(),
    })
}

/// Refuses a rung whose jobs are not the ones it was planned with.
fn check_rung_jobs(rung: &NewRung, count: i64) -> Result<()> {
    if count == rung.jobs {
        return Ok(());
    }
    Err(StoreError::Input(format!(
        "rung {} of experiment {} was to have {} jobs, and {count} were made",
        rung.rung, rung.experiment_id, rung.jobs
    )))
}
