//! Canonical JSON: one byte encoding for one value.
//!
//! Object keys are sorted (serde_json's default map is ordered), there is no
//! insignificant whitespace, and numbers are normalised: a float with an
//! integral value that fits in an `i64` is written as an integer, so `2.0`
//! and `2` encode the same. Parameters are stored and hashed in this form.

use serde_json::{Number, Value};

/// Returns `value` with every number normalised (see the module docs).
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
    if n.is_i64() || n.is_u64() {
        return n.clone();
    }
    match n.as_f64() {
        // -0.0 == 0.0, and both become 0.
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Number::from(f as i64),
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
    fn sorts_keys_and_normalises_numbers() {
        let a = json!({"b": 2.0, "a": {"z": [1.5, -0.0], "y": true}});
        assert_eq!(to_string(&a), r#"{"a":{"y":true,"z":[1.5,0]},"b":2}"#);
    }

    #[test]
    fn same_value_same_text() {
        let from_yaml: Value = serde_json::from_str(r#"{"x": 10.0, "y": 3}"#).expect("json");
        let from_int = json!({"y": 3, "x": 10});
        assert_eq!(to_string(&from_yaml), to_string(&from_int));
    }
}
