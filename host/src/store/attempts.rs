//! The life of an attempt, in statements both databases share: claimed,
//! its records streamed, finished, or put back. Each function runs inside
//! the caller's transaction. Every change after the claim is fenced by the
//! lease: a worker that lost it changes nothing.

use std::time::Duration;

use super::rows;
use super::sql::{Param, RecordsAt, Sql};
use super::{AttemptResult, ClaimedJob, Ended, Result};
use crate::content::digest::Digest;
use crate::records::Records;
use crate::store::timestamp::{now_ms, now_text};

/// Claims up to `n` unassigned jobs of `experiments` for `worker`, each
/// held for `lease` unless renewed; in experiment and job order.
pub fn claim(
    db: &mut dyn Sql,
    worker: &str,
    experiments: &[i64],
    n: usize,
    lease: Duration,
) -> Result<Vec<ClaimedJob>> {
    let now = now_text();
    let mut jobs = db.rows(
        query!("claim.sql"),
        &[
            ("worker", Param::Text(worker)),
            (
                "expires_ms",
                Param::Int(now_ms() + lease.as_millis() as i64),
            ),
            ("now", Param::Text(&now)),
            ("experiments", Param::Ids(experiments)),
            ("n", Param::Int(n as i64)),
        ],
        rows::claimed_job,
    )?;
    // RETURNING gives the rows in no order.
    jobs.sort_by_key(|j| (j.experiment_id, j.id));
    Ok(jobs)
}

/// Ends each of `attempts` that `worker` still holds, with its records,
/// curve sketches, artifacts, log and attempt row; says, for each,
/// whether it was kept.
pub fn finish_all(db: &mut dyn Sql, worker: &str, attempts: &[Ended<'_>]) -> Result<Vec<bool>> {
    let now = now_text();
    attempts
        .iter()
        .map(|(job, result)| finish_one(db, worker, job, result, &now))
        .collect()
}

/// Ends one attempt; false (writing nothing) when `worker` no longer holds
/// the job.
fn finish_one(
    db: &mut dyn Sql,
    worker: &str,
    job: &ClaimedJob,
    result: &AttemptResult<'_>,
    now: &str,
) -> Result<bool> {
    let this = [
        ("job", Param::Int(job.id)),
        ("attempt", Param::Int(job.attempt)),
    ];
    let changed = db.execute(
        query!("finish.sql"),
        &[
            ("status", Param::Text(result.status().as_str())),
            ("reason", Param::OptText(result.failure.as_deref())),
            ("now", Param::Text(now)),
            (
                "duration_ms",
                Param::Int(result.duration.as_millis() as i64),
            ),
            ("id", Param::Int(job.id)),
            ("attempt", Param::Int(job.attempt)),
            ("worker", Param::Text(worker)),
        ],
    )?;
    if changed != 1 {
        // The lease is gone: write nothing.
        return Ok(false);
    }
    let at = RecordsAt {
        job: job.id,
        attempt: job.attempt,
        first: result.stored_records,
    };
    db.insert_records(at, result.records)?;
    for (seq, a) in result.artifacts.iter().enumerate() {
        let digest = a.digest.to_hex();
        let packed = result.packed.get(&a.digest);
        let pack = packed.map(|p| p.pack.to_hex());
        let artifact = [
            ("seq", Param::Int(seq as i64)),
            ("name", Param::Text(&a.name)),
            ("digest", Param::Text(&digest)),
            ("size", Param::Int(a.size as i64)),
            ("pack", Param::OptText(pack.as_deref())),
            (
                "pack_offset",
                Param::OptInt(packed.map(|p| p.offset as i64)),
            ),
        ];
        db.execute(
            query!("insert_artifact.sql"),
            &[&this[..], &artifact].concat(),
        )?;
    }
    for curve in result.curves {
        let sketch = curve.sketch_bytes();
        let row = [
            ("name", Param::Text(&curve.name)),
            ("x", Param::OptText(curve.x.as_deref())),
            ("total", Param::Int(curve.total as i64)),
            ("points", Param::Int(curve.points as i64)),
            ("sketch", Param::Bytes(&sketch)),
        ];
        db.execute(query!("insert_curve.sql"), &[&this[..], &row].concat())?;
    }
    if !result.log.is_empty() {
        let log = ("log", Param::Bytes(result.log));
        db.execute(query!("insert_log.sql"), &[this[0], this[1], log])?;
    }
    let keys = result.record_keys.to_text();
    let key_digest = Digest::of(keys.as_bytes()).to_hex();
    db.execute(
        query!("insert_key_set.sql"),
        &[
            ("digest", Param::Text(&key_digest)),
            ("keys", Param::Text(&keys)),
        ],
    )?;
    let result_digest = result.result_digest.map(|d| d.to_hex());
    db.execute(
        query!("insert_attempt.sql"),
        &[
            ("id", Param::Int(job.id)),
            ("attempt", Param::Int(job.attempt)),
            ("result_digest", Param::OptText(result_digest.as_deref())),
            ("key_digest", Param::Text(&key_digest)),
        ],
    )?;
    Ok(true)
}

/// Writes `records` as records `at.first..` of attempt `at.attempt` of job
/// `at.job` if `worker` still holds it; returns whether it did.
pub fn append_records(
    db: &mut dyn Sql,
    worker: &str,
    at: RecordsAt,
    records: &Records,
) -> Result<bool> {
    let held = db.first(
        query!("lease_held.sql"),
        &[
            ("id", Param::Int(at.job)),
            ("attempt", Param::Int(at.attempt)),
            ("worker", Param::Text(worker)),
        ],
        |_| Ok(()),
    )?;
    if held.is_none() {
        return Ok(false);
    }
    db.insert_records(at, records)?;
    Ok(true)
}

/// Puts back the jobs of `experiments` whose lease expired or whose owner
/// is one of `dead_owners`; returns how many.
pub fn reap(db: &mut dyn Sql, experiments: &[i64], dead_owners: &[String]) -> Result<usize> {
    let now = now_text();
    put_back(
        db,
        query!("reap.sql"),
        &[
            ("now", Param::Text(&now)),
            ("now_ms", Param::Int(now_ms())),
            ("experiments", Param::Ids(experiments)),
            ("dead_owners", Param::Texts(dead_owners)),
        ],
    )
}

/// Returns `jobs` that `worker` holds to the queue, and wakes waiting
/// workers at the commit.
pub fn release(db: &mut dyn Sql, worker: &str, jobs: &[i64]) -> Result<()> {
    put_back(
        db,
        query!("release.sql"),
        &[("worker", Param::Text(worker)), ("jobs", Param::Ids(jobs))],
    )?;
    db.wake_workers()
}

/// Puts back `job` if `worker` still holds its attempt, keeping `log` as
/// that attempt's log (why it could not end); returns whether it did.
pub fn release_with_log(
    db: &mut dyn Sql,
    worker: &str,
    job: &ClaimedJob,
    log: &[u8],
) -> Result<bool> {
    let params = [
        ("worker", Param::Text(worker)),
        ("jobs", Param::Ids(std::slice::from_ref(&job.id))),
    ];
    let held = db
        .rows(query!("release.sql"), &params, |r| r.int("attempt"))?
        .contains(&job.attempt);
    if held {
        db.execute(
            query!("drop_records.sql"),
            &[("jobs", Param::Ids(&[job.id]))],
        )?;
        let this = [
            ("job", Param::Int(job.id)),
            ("attempt", Param::Int(job.attempt)),
            ("log", Param::Bytes(log)),
        ];
        db.execute(query!("insert_log.sql"), &this)?;
    }
    db.wake_workers()?;
    Ok(held)
}

/// Runs `put_back` (an UPDATE returning the id of each job it puts back)
/// and deletes the records those attempts streamed; returns how many jobs
/// it put back.
fn put_back(
    db: &mut dyn Sql,
    put_back: &super::sql::Query,
    params: &[(&str, Param<'_>)],
) -> Result<usize> {
    let jobs = db.rows(put_back, params, |r| r.int("id"))?;
    if !jobs.is_empty() {
        db.execute(query!("drop_records.sql"), &[("jobs", Param::Ids(&jobs))])?;
    }
    Ok(jobs.len())
}

/// The run-cache: finishes every unassigned job of `experiments` whose key
/// matches a finished job's, with an attempt pointing at that job's;
/// returns how many.
pub fn link_cached(db: &mut dyn Sql, worker: &str, experiments: &[i64]) -> Result<u64> {
    let now = now_text();
    let params = [
        ("worker", Param::Text(worker)),
        ("now", Param::Text(&now)),
        ("experiments", Param::Ids(experiments)),
    ];
    let linked = db.execute(query!("cache_attempts.sql"), &params)?;
    if linked > 0 {
        let finished = db.execute(query!("cache_jobs.sql"), &params)?;
        debug_assert_eq!(linked, finished);
    }
    Ok(linked)
}
