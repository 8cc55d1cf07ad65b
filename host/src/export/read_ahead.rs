//! Reading records on one thread while another writes them out.
//!
//! An export spends about a third of its time in the store (stepping
//! SQLite, or receiving rows from PostgreSQL) and the rest turning records
//! into CSV, JSON or Parquet. [`each_record`] reads on a thread of its own,
//! copying records into batches (their text is small), while the caller's
//! thread formats the previous batch: on two cores an export runs at the
//! speed of its slower half. At most [`IN_FLIGHT`] batches wait, so memory
//! stays bounded.

use std::sync::mpsc;

use crate::records::{RecordText, Records};
use crate::store::{Store, StoreError, StoredRecord};

/// Records per batch.
const BATCH: usize = 4096;

/// Batches read but not yet written, at most.
const IN_FLIGHT: usize = 4;

/// A batch of records copied out of the store.
#[derive(Default)]
struct Batch {
    records: Records,
    /// Per record: experiment, job, and which of `labels` is its job's.
    jobs: Vec<(i64, i64, usize)>,
    /// The labels of the batch's jobs, each once.
    labels: Vec<String>,
}

impl Batch {
    fn push(&mut self, r: &StoredRecord<'_>) {
        let same_job = self.jobs.last().is_some_and(|&(_, job, _)| job == r.job_id);
        if !same_job {
            self.labels.push(r.labels.to_owned());
        }
        self.jobs.push((r.exp_id, r.job_id, self.labels.len() - 1));
        self.records.push(r.record);
    }

    fn len(&self) -> usize {
        self.jobs.len()
    }

    fn get(&self, i: usize) -> Option<StoredRecord<'_>> {
        let &(exp_id, job_id, labels) = self.jobs.get(i)?;
        let record: RecordText<'_> = self.records.get(i)?;
        Some(StoredRecord {
            exp_id,
            job_id,
            labels: self.labels.get(labels)?,
            record,
        })
    }
}

/// Like [`Store::each_record`], with the reading done on another thread
/// (see the module docs). `f` runs on the calling thread, in record order.
pub fn each_record(
    store: &dyn Store,
    experiments: &[i64],
    f: &mut dyn FnMut(StoredRecord<'_>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let (send, receive) = mpsc::sync_channel::<Batch>(IN_FLIGHT);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut batch = Batch::default();
            store.each_record(experiments, &mut |r| {
                batch.push(&r);
                if batch.len() == BATCH {
                    // The writer stopped (an error): stop reading too.
                    send.send(std::mem::take(&mut batch))
                        .map_err(|_| StoreError::Config("the export stopped".into()))?;
                }
                Ok(())
            })?;
            if batch.len() > 0 {
                // A stopped writer reports its own error.
                let _ = send.send(batch);
            }
            Ok(())
        });
        let mut written = Ok(());
        for batch in receive.iter() {
            written = (0..batch.len()).try_for_each(|i| match batch.get(i) {
                Some(r) => f(r),
                None => Ok(()),
            });
            if written.is_err() {
                break;
            }
        }
        // Dropping the receiver ends a reader blocked on a full channel.
        drop(receive);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(StoreError::Config("the record reader panicked".into())));
        // The writer's error first: the reader's is then only "stopped".
        written.and(read)
    })
}
