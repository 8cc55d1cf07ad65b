//! Committing what ended: a heartbeat renews the leases of running jobs and
//! commits ended attempts that waited long enough for company
//! ([`crate::run::pending`]); a commit writes a batch in one transaction and
//! then reports each job, finished, failed or (its lease lost) put back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::content::digest::Digest;
use crate::content::remote::RemoteError;
use crate::run::events::JobEvent;
use crate::run::pending::Done;
use crate::run::worker::{RunError, Runner, Shared};

impl Runner<'_> {
    /// Renews this worker's leases while jobs run, and commits ended
    /// attempts that waited long enough for company.
    pub(super) fn heartbeat(&self, done: &AtomicBool, shared: &Shared<'_>) -> Result<(), RunError> {
        let period = self.options.lease / 3;
        let mut last = Instant::now();
        while !done.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(10));
            if let Some(batch) = shared.pending.take_if_due(false) {
                self.flush(shared, batch)?;
            }
            if last.elapsed() >= period {
                last = Instant::now();
                if shared.running.load(Ordering::Relaxed) > 0 {
                    // A failed renewal is retried next period; if the lease
                    // is lost meanwhile, the fenced finish writes nothing.
                    let _ = self.store.renew(&self.worker, self.options.lease);
                }
            }
        }
        Ok(())
    }

    /// Commits ended attempts in one transaction, then reports them. With
    /// remote content, their artifacts are uploaded first, all at once; an
    /// attempt whose artifacts could not be is put back instead, with why
    /// in its log, so no committed record names an object the bucket lacks.
    pub(super) fn flush(&self, shared: &Shared<'_>, batch: Vec<Done>) -> Result<(), RunError> {
        let batch = self.publish(shared, batch)?;
        if batch.is_empty() {
            return Ok(());
        }
        let results: Vec<_> = batch.iter().map(Done::result).collect();
        let items: Vec<_> = batch.iter().map(|d| &d.job).zip(results.iter()).collect();
        // A retried commit is safe: each attempt is fenced by its attempt
        // number and lease, so if the first try committed, a retry changes
        // nothing.
        let kept = self.retrying().finish_all(&items)?;
        shared
            .running
            .fetch_sub(batch.len() as u64, Ordering::Relaxed);
        for (done, kept) in batch.iter().zip(kept) {
            let event = match (kept, &done.failure) {
                (false, _) => JobEvent::Released {
                    job: done.job.id,
                    why: None,
                },
                (true, None) => JobEvent::Finished { job: done.job.id },
                (true, Some(reason)) => JobEvent::Failed {
                    job: done.job.id,
                    reason: reason.clone(),
                },
            };
            shared.report(event);
        }
        Ok(())
    }

    /// Uploads the artifacts of `batch` to the remote content store (if
    /// any); puts back the attempts whose artifacts did not all get there,
    /// and returns the others.
    fn publish(&self, shared: &Shared<'_>, batch: Vec<Done>) -> Result<Vec<Done>, RunError> {
        if shared.artifacts.remote().is_none() {
            return Ok(batch);
        }
        let mut digests: Vec<Digest> = batch
            .iter()
            .flat_map(|d| d.artifacts.iter().map(|a| a.digest))
            .collect();
        digests.sort_unstable();
        digests.dedup();
        let published = shared.artifacts.publish(&digests);
        let failed: HashMap<Digest, RemoteError> = published.failed.into_iter().collect();
        let mut batch = batch;
        for done in &mut batch {
            done.packed = done
                .artifacts
                .iter()
                .filter_map(|a| Some((a.digest, *published.packed.get(&a.digest)?)))
                .collect();
        }
        if failed.is_empty() {
            return Ok(batch);
        }
        let mut kept = Vec::with_capacity(batch.len());
        for done in batch {
            let Some(error) = done.artifacts.iter().find_map(|a| failed.get(&a.digest)) else {
                kept.push(done);
                continue;
            };
            let why = format!("its artifacts could not be uploaded: {error}");
            let mut log = done.log.clone();
            log.extend_from_slice(
                format!("\n[djx] {why}; put back for another attempt\n").as_bytes(),
            );
            self.retrying().release_with_log(&done.job, &log)?;
            shared.running.fetch_sub(1, Ordering::Relaxed);
            shared.report(JobEvent::Released {
                job: done.job.id,
                why: Some(why),
            });
        }
        Ok(kept)
    }
}
