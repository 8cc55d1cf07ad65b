//! `djx:job/records`: records, and the context bound into each of them.

use std::collections::BTreeSet;

use serde_json::Map;

use crate::content::digest::Digest;
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
        let count = self.ctx.record_count();
        if count as u64 >= limits.records {
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
        let (context, metrics, refs) = match check(self, &context, metrics, artifacts) {
            Ok(parts) => parts,
            Err(message) => return Ok(Err(message)),
        };
        let ctx = &mut *self.ctx;
        let at = ctx.records.len();
        ctx.records
            .push_merged(&event, &ctx.bound, &context, &metrics, &refs);
        let size = self.ctx.records.get(at).map_or(0, |r| r.size());
        let limits = &self.ctx.limits;
        let broken = if size > limits.record_size {
            Some(LimitExceeded::bytes(
                LimitKind::RecordSize,
                limits.record_size,
                format!("record {:?} is {size} bytes", cut(&event)),
            ))
        } else if self.ctx.record_bytes + size > limits.record_bytes {
            Some(LimitExceeded::bytes(
                LimitKind::RecordBytes,
                limits.record_bytes,
                format!(
                    "{} records take {} bytes",
                    count + 1,
                    self.ctx.record_bytes + size
                ),
            ))
        } else {
            None
        };
        if let Some(limit) = broken {
            // The job ends here; the record over the limit is not kept.
            self.ctx.records.truncate(at);
            return Err(wasmtime::Error::new(limit));
        }
        self.ctx.record_bytes += size;
        let ctx = &mut *self.ctx;
        ctx.record_keys
            .add_record(&ctx.bound, &context, &metrics, &refs);
        if let Some(stream) = &mut ctx.stream {
            stream.sketch(&ctx.bound, &context, &metrics);
            stream.feed(&mut ctx.records);
        }
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

/// The parts of a record: its own context (merged over the bound context
/// when written), the metrics and the artifact references, each checked.
type Parts = (
    Map<String, serde_json::Value>,
    Vec<(String, f64)>,
    Vec<(String, Digest)>,
);

/// Checks a record's parts.
fn check(
    view: &JobView<'_>,
    context: &str,
    metrics: Vec<Metric>,
    artifacts: Vec<ArtifactRef>,
) -> Result<Parts, String> {
    let own = json_object("record context", context)?;
    for (i, metric) in metrics.iter().enumerate() {
        if metric.name.is_empty() {
            return Err("a metric name is empty".into());
        }
        // Records have few metrics: comparing with the earlier ones is
        // cheaper than building a set, up to a few dozen.
        let twice = if metrics.len() <= 32 {
            metrics[..i].iter().any(|m| m.name == metric.name)
        } else {
            false
        };
        if twice {
            return Err(format!(
                "metric {:?} appears twice in one record",
                metric.name
            ));
        }
    }
    if metrics.len() > 32 {
        let mut names = BTreeSet::new();
        if let Some(m) = metrics.iter().find(|m| !names.insert(m.name.as_str())) {
            return Err(format!("metric {:?} appears twice in one record", m.name));
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
    Ok((
        own,
        metrics.into_iter().map(|m| (m.name, m.value)).collect(),
        refs,
    ))
}

fn cut(text: &str) -> String {
    text.chars().take(80).collect()
}
