//! `djx:job/records`: records, and the context bound into each of them.

use std::collections::BTreeSet;

use crate::digest::Digest;
use crate::record::Record;
use crate::runtime::bindings::records::Host;
use crate::runtime::bindings::types::{ArtifactRef, Metric};
use crate::runtime::ctx::JobView;
use crate::runtime::host::json_object;
use crate::runtime::limits::{LimitExceeded, LimitKind};

impl Host for JobView<'_> {
    fn record(
        &mut self,
        event: String,
        context: String,
        metrics: Vec<Metric>,
        artifacts: Vec<ArtifactRef>,
    ) -> wasmtime::Result<Result<(), String>> {
        let limits = &self.ctx.limits;
        if self.ctx.records.len() as u64 >= limits.records {
            return Err(wasmtime::Error::new(LimitExceeded {
                kind: LimitKind::Records,
                limit: limits.records.to_string(),
                detail: format!(
                    "record {:?} would be number {}",
                    cut(&event),
                    limits.records + 1
                ),
            }));
        }
        let record = match build(self, event, &context, metrics, artifacts) {
            Ok(record) => record,
            Err(message) => return Ok(Err(message)),
        };
        let limits = &self.ctx.limits;
        let size = record.encoded_size();
        if size > limits.record_size {
            return Err(wasmtime::Error::new(LimitExceeded::bytes(
                LimitKind::RecordSize,
                limits.record_size,
                format!("record {:?} is {size} bytes", cut(&record.event)),
            )));
        }
        if self.ctx.record_bytes + size > limits.record_bytes {
            return Err(wasmtime::Error::new(LimitExceeded::bytes(
                LimitKind::RecordBytes,
                limits.record_bytes,
                format!(
                    "{} records take {} bytes",
                    self.ctx.records.len() + 1,
                    self.ctx.record_bytes + size
                ),
            )));
        }
        self.ctx.record_bytes += size;
        self.ctx.records.push(record);
        Ok(Ok(()))
    }

    fn bind(&mut self, context: String) -> wasmtime::Result<Result<(), String>> {
        Ok(json_object("bound context", &context).map(|map| self.ctx.bound.extend(map)))
    }

    fn unbind(&mut self, keys: Vec<String>) -> wasmtime::Result<()> {
        for key in keys {
            self.ctx.bound.remove(&key);
        }
        Ok(())
    }
}

/// Checks a record's parts and merges the bound context in.
fn build(
    view: &JobView<'_>,
    event: String,
    context: &str,
    metrics: Vec<Metric>,
    artifacts: Vec<ArtifactRef>,
) -> Result<Record, String> {
    let own = json_object("record context", context)?;
    let mut merged = view.ctx.bound.clone();
    merged.extend(own);
    let mut names = BTreeSet::new();
    for metric in &metrics {
        if metric.name.is_empty() {
            return Err("a metric name is empty".into());
        }
        if !names.insert(metric.name.as_str()) {
            return Err(format!(
                "metric {:?} appears twice in one record",
                metric.name
            ));
        }
    }
    let mut refs = Vec::with_capacity(artifacts.len());
    for a in artifacts {
        let digest: Digest = a
            .digest
            .parse()
            .map_err(|e| format!("artifact reference {:?}: {e}", a.name))?;
        if !view.ctx.artifact_digests.contains(&digest) {
            return Err(format!(
                "artifact reference {:?} names {digest}, which this job has not stored",
                a.name
            ));
        }
        refs.push((a.name, digest));
    }
    Ok(Record {
        event,
        context: merged,
        metrics: metrics.into_iter().map(|m| (m.name, m.value)).collect(),
        artifacts: refs,
    })
}

fn cut(text: &str) -> String {
    text.chars().take(80).collect()
}
