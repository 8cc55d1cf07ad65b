//! Canonical JSON: one byte encoding for one value.
//!
//! Object keys are sorted (serde_json's default map is ordered) and there
//! is no insignificant whitespace. Numbers keep the type they were written
//! with: an integer stays an integer (every digit of an `i64` or `u64`,
//! beyond 2^53 too), a float stays a float and is written in its shortest
//! round-trip form (`1.0`, `0.5`, `1000.0`, `1e16`). So `1` and `1.0` are
//! two values with two texts: a guest can tell them apart (a Python guest
//! gets `int` or `float`; in scikit-learn `max_features=1` is one feature
//! and `max_features=1.0` all of them), so the job key must as well.
//!
//! The one number normalised is negative zero: `-0.0` is written `0.0`,
//! because YAML and JSON readers disagree on keeping its sign and no
//! experiment means it as another value than zero.
//!
//! Parameters and labels are stored, hashed into the job key and handed to
//! the guest in this form.
//!
//! # Stores written before types were kept
//!
//! djx up to 0.1.0 rewrote every float with an integral value below 9e15
//! as an integer (`1.0` as `1`, `-0.0` as `0`) before it stored, hashed or
//! passed on a value. Such a store holds only values that this encoding
//! writes with the very same text (integers, non-integral floats, floats
//! of 9e15 and beyond), and its keys were computed from exactly that text.
//! So every stored key still matches its stored inputs, a job locked then
//! still runs with what its guest saw then, and its results stay valid
//! run-cache entries for new jobs whose values are integers. The test
//! `what_guests_see::a_store_written_before_typed_numbers_stays_valid` checks
//! this on a store file written by that version.

use serde_json::{Number, Value};

/// Returns `value` in canonical form (see the module docs): negative zero
/// becomes `0.0`; every other number keeps its type and value.
pub fn normalize(value: &Value) -> Value {
    match value {
        Value::Number(n) => Value::Number(normalize_number(n)),
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        other => other.clone(),
    }
}

fn normalize_number(n: &Number) -> Number {
    match n.as_f64() {
        // `-0.0 == 0.0`; integers (`is_f64` false) are never negative zero.
        Some(f) if n.is_f64() && f == 0.0 => Number::from_f64(0.0).unwrap_or_else(|| n.clone()),
        _ => n.clone(),
    }
}

/// The canonical JSON text of `value`.
pub fn to_string(value: &Value) -> String {
    // Serialising a `Value` cannot fail: its keys are strings and serde_json
    // writes non-finite floats as null.
    serde_json::to_string(&normalize(value)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_and_keeps_number_types() {
        let a = json!({"b": 2.0, "a": {"z": [1.5, -0.0, 0.0, 3], "y": true}});
        assert_eq!(
            to_string(&a),
            r#"{"a":{"y":true,"z":[1.5,0.0,0.0,3]},"b":2.0}"#
        );
    }

    #[test]
    fn an_integer_and_a_float_are_two_values() {
        assert_ne!(to_string(&json!({"x": 1})), to_string(&json!({"x": 1.0})));
        assert_eq!(to_string(&json!(-0.0)), to_string(&json!(0.0)));
    }

    #[test]
    fn one_value_one_text() {
        // Another spelling of the same value reads back to the same text.
        for (a, b) in [
            ("10.0", "1e1"),
            ("1000.0", "1e3"),
            ("0.5", "5e-1"),
            ("-0.0", "0.0"),
        ] {
            let a: Value = serde_json::from_str(a).expect("json");
            let b: Value = serde_json::from_str(b).expect("json");
            assert_eq!(to_string(&a), to_string(&b));
        }
        let from_text: Value = serde_json::from_str(r#"{"y": 3, "x": 10.0}"#).expect("json");
        assert_eq!(
            to_string(&from_text),
            to_string(&json!({"x": 10.0, "y": 3}))
        );
    }

    #[test]
    fn large_integers_keep_every_digit() {
        for text in [
            "9007199254740993",
            "-9223372036854775808",
            "18446744073709551615",
        ] {
            let v: Value = serde_json::from_str(text).expect("json");
            assert_eq!(to_string(&v), text);
        }
    }

    #[test]
    fn the_text_reads_back_as_the_same_value() {
        let v = json!({"a": [1, 1.0, 0.1, 1e16, 1.5e-7, 123456789.125, u64::MAX]});
        let text = to_string(&v);
        let back: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(back, v);
        assert_eq!(to_string(&back), text);
    }
}
