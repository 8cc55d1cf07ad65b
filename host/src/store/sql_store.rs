//! The store, written once over [`sql`](super::sql): every [`Store`]
//! method, reading columns by name. A [`Backend`] (SQLite or PostgreSQL)
//! gives connections and transactions; what runs in them is the same on
//! both (the writes are in [`adding`](super::adding) and
//! [`attempts`](super::attempts)).

use std::time::Duration;

use super::sql::{Param, RecordsAt, Sql};
use super::{
    ArtifactUse, AttemptRow, ClaimedJob, Ended, Experiment, ExperimentSummary, JobRow, NewJobs,
    NewRung, NewSubmission, RecordRow, Result, Rung, RungJob, StatusCounts, Store, StoreError,
    StoredRecord, Submission,
};
use super::{adding, attempts, codec, rows};
use crate::content::digest::Digest;
use crate::content::remote::PackRef;
use crate::experiment::locked::LockedExperiment;
use crate::records::keys::RecordKeys;
use crate::records::{ArtifactInfo, RecordText, Records};
use crate::store::timestamp::{now_ms, now_text};
use crate::views::curve_sketch::StoredCurve;

/// What one database gives the store: connections and transactions.
pub trait Backend: Send + Sync {
    /// Runs `f` on a connection; each statement commits by itself.
    fn with_sql<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T>;

    /// Runs `f` in a write transaction (SQLite takes the write lock at its
    /// start), committed when `f` returns `Ok`.
    fn in_transaction<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T>;

    /// The transaction of [`Store::add_experiment`], which may write a
    /// million jobs.
    fn in_bulk_transaction<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        self.in_transaction(f)
    }

    /// The transaction of [`Store::append_records`], which streams records
    /// while other threads claim and finish jobs.
    fn in_append_transaction<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        self.in_transaction(f)
    }

    /// See [`Store::wait_for_work`].
    fn wait_for_work(&self, timeout: Duration) -> Result<()> {
        std::thread::sleep(timeout);
        Ok(())
    }
}

impl<B: Backend> Store for B {
    fn add_experiment(
        &self,
        experiment: &LockedExperiment,
        jobs: &mut NewJobs<'_>,
        module: &[u8],
    ) -> Result<i64> {
        self.in_bulk_transaction(|db| adding::add_experiment(db, experiment, jobs, module))
    }

    fn module(&self, digest: &Digest) -> Result<Option<Vec<u8>>> {
        let hex = digest.to_hex();
        self.with_sql(|db| {
            db.first(
                query!("module.sql"),
                &[("digest", Param::Text(&hex))],
                |r| Ok(r.bytes("wasm")?.to_vec()),
            )
        })
    }

    fn reap(&self, experiments: &[i64], dead_owners: &[String]) -> Result<usize> {
        self.in_transaction(|db| attempts::reap(db, experiments, dead_owners))
    }

    fn claim(
        &self,
        worker: &str,
        experiments: &[i64],
        n: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>> {
        self.in_transaction(|db| attempts::claim(db, worker, experiments, n, lease))
    }

    fn renew(&self, worker: &str, lease: Duration) -> Result<()> {
        let expires_ms = now_ms() + lease.as_millis() as i64;
        self.with_sql(|db| {
            db.execute(
                query!("renew.sql"),
                &[
                    ("worker", Param::Text(worker)),
                    ("expires_ms", Param::Int(expires_ms)),
                ],
            )
        })?;
        Ok(())
    }

    fn finish_all(&self, worker: &str, attempts: &[Ended<'_>]) -> Result<Vec<bool>> {
        self.in_transaction(|db| attempts::finish_all(db, worker, attempts))
    }

    fn append_records(
        &self,
        worker: &str,
        job: i64,
        attempt: i64,
        first: usize,
        records: &Records,
    ) -> Result<bool> {
        let at = RecordsAt {
            job,
            attempt,
            first,
        };
        self.in_append_transaction(|db| attempts::append_records(db, worker, at, records))
    }

    fn link_cached(&self, worker: &str, experiments: &[i64]) -> Result<u64> {
        self.in_transaction(|db| attempts::link_cached(db, worker, experiments))
    }

    fn release(&self, worker: &str, jobs: &[i64]) -> Result<()> {
        self.in_transaction(|db| attempts::release(db, worker, jobs))
    }

    fn release_with_log(&self, worker: &str, job: &ClaimedJob, log: &[u8]) -> Result<bool> {
        self.in_transaction(|db| attempts::release_with_log(db, worker, job, log))
    }

    fn lease_owners(&self, experiments: &[i64]) -> Result<Vec<String>> {
        self.with_sql(|db| {
            db.rows(
                query!("lease_owners.sql"),
                &[("experiments", Param::Ids(experiments))],
                |r| Ok(r.text("lease_owner")?.to_owned()),
            )
        })
    }

    fn experiments(&self) -> Result<Vec<ExperimentSummary>> {
        self.with_sql(|db| {
            let list = db.rows(query!("experiment_list.sql"), &[], |r| {
                Ok(ExperimentSummary {
                    id: r.int("id")?,
                    project: r.opt_text("project")?.map(str::to_owned),
                    name: r.text("name")?.to_owned(),
                    created_at: r.text("created_at")?.to_owned(),
                    jobs: StatusCounts::default(),
                })
            })?;
            let counts = db.rows(query!("job_counts.sql"), &[], |r| {
                Ok((
                    r.int("experiment_id")?,
                    r.text("status")?.to_owned(),
                    r.int("n")?,
                ))
            })?;
            codec::with_counts(list, counts)
        })
    }

    fn experiment(&self, id: i64) -> Result<Experiment> {
        let columns = self.with_sql(|db| {
            db.first(query!("experiment.sql"), &[("id", Param::Int(id))], |r| {
                rows::experiment(id, r)
            })
        })?;
        columns.ok_or(StoreError::NoExperiment(id))
    }

    fn each_job(&self, experiment: i64, f: &mut dyn FnMut(JobRow) -> Result<()>) -> Result<()> {
        let query = job_query!(
            "jobs.sql",
            "WHERE job.experiment_id = :experiment ORDER BY job.position\n"
        );
        self.with_sql(|db| {
            db.stream(query, &[("experiment", Param::Int(experiment))], &mut |r| {
                f(rows::job(r)?)?;
                Ok(true)
            })
        })
    }

    fn job(&self, id: i64) -> Result<JobRow> {
        let query = job_query!("job.sql", "WHERE job.id = :id\n");
        self.with_sql(|db| db.first(query, &[("id", Param::Int(id))], rows::job))?
            .ok_or(StoreError::NoJob(id))
    }

    fn each_record(
        &self,
        experiments: &[i64],
        f: &mut dyn FnMut(StoredRecord<'_>) -> Result<()>,
    ) -> Result<()> {
        self.with_sql(|db| {
            db.stream(
                query!("records.sql"),
                &[("experiments", Param::Ids(experiments))],
                &mut |r| {
                    f(StoredRecord {
                        exp_id: r.int("exp_id")?,
                        job_id: r.int("job_id")?,
                        labels: r.text("labels")?,
                        record: rows::record_text(r)?,
                    })?;
                    Ok(true)
                },
            )
        })
    }

    fn record_keys(&self, experiments: &[i64]) -> Result<Option<RecordKeys>> {
        self.with_sql(|db| {
            let ids = db.rows(
                query!("record_key_sets.sql"),
                &[("experiments", Param::Ids(experiments))],
                |r| r.opt_int("key_set"),
            )?;
            // An attempt from before key sets: the keys must be read from
            // the records.
            let Some(ids) = ids.into_iter().collect::<Option<Vec<i64>>>() else {
                return Ok(None);
            };
            let texts = db.rows(query!("key_sets.sql"), &[("ids", Param::Ids(&ids))], |r| {
                Ok(r.text("keys")?.to_owned())
            })?;
            codec::merge_key_sets(texts.iter().map(String::as_str)).map(Some)
        })
    }

    fn attempt_records(&self, job: i64, attempt: i64) -> Result<Vec<RecordRow>> {
        self.with_sql(|db| {
            db.rows(
                query!("attempt_records.sql"),
                &attempt_of(job, attempt),
                rows::record,
            )
        })
    }

    fn attempt_artifacts(&self, job: i64, attempt: i64) -> Result<Vec<ArtifactInfo>> {
        self.with_sql(|db| {
            db.rows(
                query!("attempt_artifacts.sql"),
                &attempt_of(job, attempt),
                rows::artifact,
            )
        })
    }

    fn attempts(&self, job: i64) -> Result<Vec<AttemptRow>> {
        self.with_sql(|db| {
            db.rows(
                query!("attempts.sql"),
                &[("job", Param::Int(job))],
                rows::attempt,
            )
        })
    }

    fn experiment_artifact_names(&self, experiment: i64) -> Result<Vec<(String, u64)>> {
        self.with_sql(|db| {
            db.rows(
                query!("experiment_artifact_names.sql"),
                &[("experiment", Param::Int(experiment))],
                |r| Ok((r.text("name")?.to_owned(), r.int("jobs")? as u64)),
            )
        })
    }

    fn experiment_artifacts(
        &self,
        experiment: i64,
        name: &str,
        limit: u64,
    ) -> Result<Vec<(i64, ArtifactInfo)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with_sql(|db| {
            db.rows(
                query!("experiment_artifacts.sql"),
                &[
                    ("experiment", Param::Int(experiment)),
                    ("name", Param::Text(name)),
                    ("limit", Param::Int(limit)),
                ],
                |r| Ok((r.int("job_id")?, rows::artifact(r)?)),
            )
        })
    }

    fn artifact_uses(&self, digest_prefix: &str) -> Result<Vec<ArtifactUse>> {
        self.with_sql(|db| {
            db.rows(
                query!("artifact_uses.sql"),
                &[("prefix", Param::Text(digest_prefix))],
                rows::artifact_use,
            )
        })
    }

    fn artifact_pack(&self, digest: &Digest) -> Result<Option<PackRef>> {
        let hex = digest.to_hex();
        self.with_sql(|db| {
            db.first(
                query!("artifact_pack.sql"),
                &[("digest", Param::Text(&hex))],
                |r| {
                    Ok(PackRef {
                        pack: codec::digest(r.text("pack")?, "artifact pack")?,
                        offset: r.int("pack_offset")? as u64,
                        len: r.int("size")? as u64,
                    })
                },
            )
        })
    }

    fn artifact_packs(&self) -> Result<Vec<Digest>> {
        self.with_sql(|db| {
            db.rows(query!("artifact_packs.sql"), &[], |r| {
                codec::digest(r.text("pack")?, "artifact pack")
            })
        })
    }

    fn module_digests(&self) -> Result<Vec<Digest>> {
        self.with_sql(|db| {
            db.rows(query!("module_digests.sql"), &[], |r| {
                codec::digest(r.text("digest")?, "module digest")
            })
        })
    }

    fn attempt_log(&self, job: i64, attempt: i64) -> Result<Vec<u8>> {
        let log = self.with_sql(|db| {
            db.first(query!("attempt_log.sql"), &attempt_of(job, attempt), |r| {
                Ok(r.bytes("log")?.to_vec())
            })
        })?;
        Ok(log.unwrap_or_default())
    }

    fn attempt_curve(&self, job: i64, attempt: i64, name: &str) -> Result<Option<StoredCurve>> {
        let params = [
            &attempt_of(job, attempt)[..],
            &[("name", Param::Text(name))],
        ]
        .concat();
        self.with_sql(|db| {
            db.first(query!("attempt_curve.sql"), &params, |r| {
                let bytes = r.bytes("sketch")?;
                let sketch = StoredCurve::sketch_of(bytes).ok_or_else(|| StoreError::Corrupt {
                    what: "curve sketch",
                    message: format!(
                        "{name:?} in attempt {attempt} of job {job} has {} bytes, \
                         not a whole number of points",
                        bytes.len()
                    ),
                })?;
                Ok(StoredCurve {
                    name: name.to_owned(),
                    x: r.opt_text("x")?.map(str::to_owned),
                    total: r.int("total")? as u64,
                    points: r.int("points")? as u64,
                    sketch,
                })
            })
        })
    }

    fn add_submission(&self, submission: &NewSubmission, experiments: &[i64]) -> Result<()> {
        let at = now_text();
        self.with_sql(|db| {
            db.execute(
                query!("insert_submission.sql"),
                &[
                    ("experiments", Param::Ids(experiments)),
                    ("scheduler", Param::Text(&submission.scheduler)),
                    ("job", Param::Text(&submission.scheduler_job)),
                    ("at", Param::Text(&at)),
                    ("command", Param::Text(&submission.command)),
                    ("workers", Param::Int(i64::from(submission.workers))),
                    ("slots", Param::Int(i64::from(submission.slots))),
                ],
            )
        })?;
        Ok(())
    }

    fn submissions(&self, experiments: &[i64]) -> Result<Vec<Submission>> {
        self.with_sql(|db| {
            db.rows(
                query!("submissions.sql"),
                &[("experiments", Param::Ids(experiments))],
                rows::submission,
            )
        })
    }

    fn status_counts(&self, experiment: i64) -> Result<StatusCounts> {
        let rows = self.with_sql(|db| {
            db.rows(
                query!("status_counts.sql"),
                &[("experiment", Param::Int(experiment))],
                |r| Ok((codec::status(r.text("status")?)?, r.int("n")?)),
            )
        })?;
        let mut counts = StatusCounts::default();
        for (status, n) in rows {
            counts.add(status, n as u64);
        }
        Ok(counts)
    }

    fn job_states(&self, experiment: i64) -> Result<Vec<JobRow>> {
        self.with_sql(|db| {
            db.rows(
                query!("job_states.sql"),
                &[("experiment", Param::Int(experiment))],
                rows::job,
            )
        })
    }

    fn visit_metric_records(
        &self,
        experiment: i64,
        jobs: Option<&[i64]>,
        visit: &mut dyn FnMut(i64, &str, &str),
    ) -> Result<()> {
        self.with_sql(|db| {
            db.stream(
                query!("metric_records.sql"),
                &[
                    ("experiment", Param::Int(experiment)),
                    ("all", Param::Bool(jobs.is_none())),
                    ("jobs", Param::Ids(jobs.unwrap_or_default())),
                ],
                &mut |r| {
                    visit(r.int("id")?, r.text("context")?, r.text("metrics")?);
                    Ok(true)
                },
            )
        })
    }

    fn visit_attempt_records(
        &self,
        job: i64,
        attempt: i64,
        visit: &mut dyn FnMut(RecordText<'_>) -> bool,
    ) -> Result<()> {
        self.with_sql(|db| {
            db.stream(
                query!("visit_records.sql"),
                &attempt_of(job, attempt),
                &mut |r| Ok(visit(rows::record_text(r)?)),
            )
        })
    }

    fn visit_attempt_metrics(
        &self,
        job: i64,
        attempt: i64,
        visit: &mut dyn FnMut(&str, &str),
    ) -> Result<()> {
        self.with_sql(|db| {
            db.stream(
                query!("attempt_metrics.sql"),
                &attempt_of(job, attempt),
                &mut |r| {
                    visit(r.text("context")?, r.text("metrics")?);
                    Ok(true)
                },
            )
        })
    }

    fn wait_for_work(&self, timeout: Duration) -> Result<()> {
        Backend::wait_for_work(self, timeout)
    }

    fn rungs(&self, experiments: &[i64]) -> Result<Vec<Rung>> {
        self.with_sql(|db| {
            db.rows(
                query!("rungs.sql"),
                &[("experiments", Param::Ids(experiments))],
                rows::rung,
            )
        })
    }

    fn rung_jobs(&self, rung: &Rung, metric: &str) -> Result<Vec<RungJob>> {
        let positions = rung.positions();
        self.with_sql(|db| {
            db.rows(
                query!("rung_jobs.sql"),
                &[
                    ("experiment", Param::Int(rung.experiment_id)),
                    ("first", Param::Int(positions.start)),
                    ("end", Param::Int(positions.end)),
                    ("metric", Param::Text(metric)),
                ],
                rows::rung_job,
            )
        })
    }

    fn add_rung(&self, rung: &NewRung, jobs: &mut NewJobs<'_>) -> Result<bool> {
        self.in_transaction(|db| adding::add_rung(db, rung, jobs))
    }

    fn stop_sweep(&self, rung: &Rung, reason: &str) -> Result<()> {
        let positions = rung.positions();
        self.in_transaction(|db| {
            db.execute(
                query!("stop_rung.sql"),
                &[
                    ("experiment", Param::Int(rung.experiment_id)),
                    ("rung", Param::Int(i64::from(rung.rung))),
                    ("reason", Param::Text(reason)),
                ],
            )?;
            db.execute(
                query!("stop_rung_jobs.sql"),
                &[
                    ("experiment", Param::Int(rung.experiment_id)),
                    ("first", Param::Int(positions.start)),
                    ("end", Param::Int(positions.end)),
                    ("reason", Param::Text(reason)),
                ],
            )?;
            Ok(())
        })
    }
}

/// The parameters naming one attempt.
fn attempt_of(job: i64, attempt: i64) -> [(&'static str, Param<'static>); 2] {
    [("job", Param::Int(job)), ("attempt", Param::Int(attempt))]
}
