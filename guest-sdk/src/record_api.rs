//! Records: the record builder, and context binding.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::artifact_api::Digest;
use crate::bindings::djx::job::records as wit;
use crate::bindings::djx::job::types::{ArtifactRef, Metric};
use crate::error::{Error, Result};

/// Starts a record of `event`. Add context, metrics and artifact references,
/// then [`emit`](RecordBuilder::emit) it:
///
/// ```no_run
/// # fn f(accuracy: f64, model: &djx::Digest) -> djx::Result<()> {
/// djx::record("cv fit finished")
///     .context("set", "test")
///     .metric("accuracy", accuracy)
///     .artifact("model", model)
///     .emit()?;
/// # Ok(()) }
/// ```
pub fn record(event: impl Into<String>) -> RecordBuilder {
    RecordBuilder {
        event: event.into(),
        context: Vec::new(),
        metrics: Vec::new(),
        artifacts: Vec::new(),
        error: None,
    }
}

/// A record being built. Nothing is sent until [`emit`](Self::emit).
#[must_use = "a record is only stored when emitted"]
pub struct RecordBuilder {
    event: String,
    /// The context as JSON text, written as values are added (`{"key":value,...`,
    /// closed by `emit`): no map and no `Value` tree per record. A key given
    /// twice is sent twice; the host keeps the last, as a map would.
    context: Vec<u8>,
    metrics: Vec<Metric>,
    artifacts: Vec<ArtifactRef>,
    error: Option<Error>,
}

impl RecordBuilder {
    /// Sets a context value (any serialisable value).
    pub fn context(mut self, key: impl Into<String>, value: impl Serialize) -> Self {
        let key = key.into();
        let start = self.context.len();
        self.context.push(if start == 0 { b'{' } else { b',' });
        let written = serde_json::to_writer(&mut self.context, &key).and_then(|()| {
            self.context.push(b':');
            serde_json::to_writer(&mut self.context, &value)
        });
        if let Err(e) = written {
            self.context.truncate(start);
            self.error = Some(Error::msg(format!("context {key:?}: {e}")));
        }
        self
    }

    /// Adds a metric.
    pub fn metric(mut self, name: impl Into<String>, value: f64) -> Self {
        self.metrics.push(Metric {
            name: name.into(),
            value,
        });
        self
    }

    /// Adds several metrics.
    pub fn metrics<K: Into<String>>(mut self, metrics: impl IntoIterator<Item = (K, f64)>) -> Self {
        for (name, value) in metrics {
            self = self.metric(name, value);
        }
        self
    }

    /// References an artifact this job stored.
    pub fn artifact(mut self, name: impl Into<String>, digest: &Digest) -> Self {
        self.artifacts.push(ArtifactRef {
            name: name.into(),
            digest: digest.as_str().to_owned(),
        });
        self
    }

    /// Sends the record to the host.
    pub fn emit(self) -> Result<()> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let mut context = self.context;
        if context.is_empty() {
            context.push(b'{');
        }
        context.push(b'}');
        // serde_json writes valid UTF-8 only.
        let context = String::from_utf8(context).map_err(Error::msg)?;
        wit::record(&self.event, &context, &self.metrics, &self.artifacts)
            .map_err(|e| Error::msg(format!("record {:?}: {e}", self.event)))
    }
}

/// Binds `key` to `value` in the context of every later record, like the
/// original djx's `djx.record.bind(key=value)`.
pub fn bind(key: impl Into<String>, value: impl Serialize) {
    let mut map = Map::new();
    // Serialising a plain value into JSON cannot fail; a failing custom
    // Serialize impl binds null.
    map.insert(
        key.into(),
        serde_json::to_value(value).unwrap_or(Value::Null),
    );
    // The host accepts any JSON object, which this is.
    let _ = wit::bind(&Value::Object(map).to_string());
}

/// Binds every key of a serialisable map or struct.
pub fn bind_json(context: impl Serialize) -> Result<()> {
    let value = serde_json::to_value(context)?;
    wit::bind(&value.to_string()).map_err(Error::msg)
}

/// Removes keys from the bound context.
pub fn unbind<S: AsRef<str>>(keys: &[S]) {
    let keys: Vec<String> = keys.iter().map(|k| k.as_ref().to_owned()).collect();
    wit::unbind(&keys);
}
