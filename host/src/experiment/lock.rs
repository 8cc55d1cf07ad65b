//! Locked jobs and their keys.
//!
//! A job is locked when it is added: everything that can change its result
//! is pinned by value or digest. The **job key** is the blake3 of the
//! locked form's canonical JSON, so two jobs with the same key must give the
//! same bits, and a finished result can stand for every job with its key.
//!
//! Labels are part of the key: a guest can read them (`djx::labels()`), so
//! they can change what it computes.

use serde::Serialize;
use serde_json::Value;

use crate::content::canonical;
use crate::content::digest::Digest;
use crate::experiment::locked::LockedExperiment;
use crate::runtime::{EngineProfile, Invocation, Limits};
use crate::store::DatasetRef;

/// The version of the locked form; part of every key, so a change to the
/// form never makes an old key collide with a new one.
const LOCK_VERSION: u32 = 1;

/// Everything a job's result depends on.
#[derive(Clone, Debug, Serialize)]
pub struct LockedJob<'a> {
    /// The locked form's version.
    pub version: u32,
    /// The component's digest.
    pub module: Digest,
    /// The parameters.
    pub parameter: &'a Value,
    /// The labels (the guest can read them).
    pub labels: &'a Value,
    /// The datasets by name, digest and file name, sorted by name.
    pub datasets: &'a [DatasetRef],
    /// The limits (a limit decides whether a job finishes).
    pub limits: &'a Limits,
    /// The engine settings that can change results.
    pub engine: &'a EngineProfile,
    /// A WASI program's arguments and environment; left out when empty,
    /// so the keys of jobs without them are what they always were.
    #[serde(skip_serializing_if = "Invocation::is_empty")]
    pub invocation: &'a Invocation,
}

impl<'a> LockedJob<'a> {
    /// The locked form of one job. `datasets` must be sorted by name, as an
    /// experiment stores them.
    pub fn new(
        module: Digest,
        parameter: &'a Value,
        labels: &'a Value,
        datasets: &'a [DatasetRef],
        limits: &'a Limits,
        engine: &'a EngineProfile,
    ) -> LockedJob<'a> {
        LockedJob {
            version: LOCK_VERSION,
            module,
            parameter,
            labels,
            datasets,
            limits,
            engine,
            invocation: Invocation::none(),
        }
    }

    /// The locked form of the job of `experiment` with `parameter` and
    /// `labels`.
    pub fn of(
        experiment: &'a LockedExperiment,
        parameter: &'a Value,
        labels: &'a Value,
    ) -> LockedJob<'a> {
        LockedJob {
            invocation: &experiment.invocation,
            ..LockedJob::new(
                experiment.module_digest,
                parameter,
                labels,
                &experiment.datasets,
                &experiment.limits,
                &experiment.engine,
            )
        }
    }

    /// The locked form as canonical JSON: sorted keys, numbers as typed.
    pub fn canonical(&self) -> String {
        // Serialising plain data into a `Value` cannot fail.
        canonical::to_string(&serde_json::to_value(self).unwrap_or(Value::Null))
    }

    /// The job key: blake3 of [`LockedJob::canonical`].
    pub fn key(&self) -> Digest {
        Digest::of(self.canonical().as_bytes())
    }
}

/// The job keys of one experiment, made fast for a million jobs.
///
/// Every job of an experiment has the same locked form but for its labels
/// and parameters, so the canonical text around them is made once, and a
/// key is blake3 over the pieces with the job's own canonical texts in
/// between: the same bytes, and so the same key, as [`LockedJob::key`].
#[derive(Clone, Debug)]
pub struct KeyMaker {
    /// The canonical text up to the labels.
    head: String,
    /// Between the labels and the parameters.
    middle: String,
    /// After the parameters.
    tail: String,
}

impl KeyMaker {
    /// The key maker of `experiment`'s jobs.
    pub fn new(experiment: &LockedExperiment) -> KeyMaker {
        // Markers no canonical text of a real value contains: a string
        // with a NUL, which canonical JSON escapes.
        let labels = Value::String("\0djx labels\0".into());
        let parameter = Value::String("\0djx parameter\0".into());
        let text = LockedJob::of(experiment, &parameter, &labels).canonical();
        let mark = |v: &Value| serde_json::to_string(v).unwrap_or_default();
        let (head, rest) = text.split_once(&mark(&labels)).unwrap_or((&text, ""));
        let (middle, tail) = rest.split_once(&mark(&parameter)).unwrap_or((rest, ""));
        KeyMaker {
            head: head.to_owned(),
            middle: middle.to_owned(),
            tail: tail.to_owned(),
        }
    }

    /// The key of the job whose labels and parameters have the canonical
    /// texts `labels` and `parameter` ([`canonical::to_string`]).
    pub fn key(&self, labels: &str, parameter: &str) -> Digest {
        let mut hasher = blake3::Hasher::new();
        for piece in [
            self.head.as_str(),
            labels,
            self.middle.as_str(),
            parameter,
            self.tail.as_str(),
        ] {
            hasher.update(piece.as_bytes());
        }
        hasher.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Determinism;
    use serde_json::json;

    fn key(params: Value, labels: Value, limits: &Limits, profile: &EngineProfile) -> Digest {
        let datasets = [DatasetRef {
            name: "iris".into(),
            digest: Digest::of(b"data"),
            file: Some("iris.csv".into()),
        }];
        LockedJob::new(
            Digest::of(b"module"),
            &params,
            &labels,
            &datasets,
            limits,
            profile,
        )
        .key()
    }

    #[test]
    fn one_value_one_key() {
        let limits = Limits::default();
        let native = EngineProfile::of(Determinism::Native);
        let a = key(
            json!({"a": 1, "b": 2.0, "c": -0.0}),
            json!({}),
            &limits,
            &native,
        );
        let b = key(
            json!({"c": 0.0, "b": 2.0, "a": 1}),
            json!({}),
            &limits,
            &native,
        );
        assert_eq!(a, b, "key order and the sign of zero do not matter");
    }

    #[test]
    fn an_integer_and_a_float_have_two_keys() {
        // The guest can tell them apart, so they may give other results.
        let limits = Limits::default();
        let native = EngineProfile::of(Determinism::Native);
        let int = key(json!({"max_features": 1}), json!({}), &limits, &native);
        let float = key(json!({"max_features": 1.0}), json!({}), &limits, &native);
        assert_ne!(int, float);
        let label_int = key(json!({}), json!({"fold": 1}), &limits, &native);
        let label_float = key(json!({}), json!({"fold": 1.0}), &limits, &native);
        assert_ne!(label_int, label_float);
    }

    #[test]
    fn the_key_maker_gives_the_locked_forms_keys() {
        let experiment = LockedExperiment {
            project: None,
            name: "keys".into(),
            description: None,
            source_path: "keys.yml".into(),
            source_digest: Digest::of(b"file"),
            source_text: String::new(),
            module_digest: Digest::of(b"module"),
            datasets: vec![DatasetRef {
                name: "iris".into(),
                digest: Digest::of(b"data"),
                file: Some("iris.csv".into()),
            }],
            invocation: Invocation {
                args: vec!["-c".into(), "print('labels')".into()],
                env: [("A".to_owned(), "parameter".to_owned())].into(),
            },
            limits: Limits::default(),
            determinism: Determinism::Portable,
            retries: 0,
            engine: EngineProfile::of(Determinism::Portable),
            provenance: Default::default(),
            digest_log: true,
            sweep: None,
        };
        let maker = KeyMaker::new(&experiment);
        for (params, labels) in [
            (json!({}), json!({})),
            (
                json!({"a": 1, "b": [1.0, "x"], "c": {"z": -0.0}}),
                json!({"fold": 2}),
            ),
            (
                json!({"labels": "\u{0}djx labels\u{0}"}),
                json!({"s": "}{,\""}),
            ),
        ] {
            let expected = LockedJob::of(&experiment, &params, &labels).key();
            let made = maker.key(
                &canonical::to_string(&labels),
                &canonical::to_string(&params),
            );
            assert_eq!(made, expected, "{params} {labels}");
        }
    }

    #[test]
    fn every_input_changes_the_key() {
        let limits = Limits::default();
        let native = EngineProfile::of(Determinism::Native);
        let base = key(json!({"a": 1}), json!({}), &limits, &native);
        assert_ne!(base, key(json!({"a": 2}), json!({}), &limits, &native));
        assert_ne!(
            base,
            key(json!({"a": 1}), json!({"fold": 1}), &limits, &native)
        );
        let tighter = Limits {
            timeout: std::time::Duration::from_secs(1),
            ..Limits::default()
        };
        assert_ne!(base, key(json!({"a": 1}), json!({}), &tighter, &native));
        let portable = EngineProfile::of(Determinism::Portable);
        assert_ne!(base, key(json!({"a": 1}), json!({}), &limits, &portable));
    }
}
