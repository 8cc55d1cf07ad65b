//! Reads the fields of a stored JSON object (a record's context or
//! metrics) without building a map, on [`crate::records::json_fields`] (the
//! exports' scanner): keys are borrowed from the text where they can be,
//! and values other than numbers are not decoded. A job with a million
//! records is read in a fraction of the time a `serde_json::Value` per
//! record would take. [`KeyPattern`] is the curves' faster path for one
//! key: it compares keys as written, without unescaping them.

use crate::records::json_fields;

/// A field's value, as far as a metric or a step needs it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Field {
    /// A number.
    Number(f64),
    /// `null` (djx stores a non-finite metric as `null`).
    Null,
    /// Anything else: a string, a boolean, a list or an object.
    Other,
}

impl Field {
    /// The number, if it is one.
    pub fn number(self) -> Option<f64> {
        match self {
            Field::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The field of a raw JSON value (its text, as [`json_fields`] gives it).
    fn of(raw: &str) -> Field {
        match raw.as_bytes().first() {
            Some(b'n') if raw == "null" => Field::Null,
            Some(c) if c.is_ascii_digit() || *c == b'-' => {
                raw.parse().map_or(Field::Other, Field::Number)
            }
            _ => Field::Other,
        }
    }
}

/// Calls `each(key, value)` for every field of the JSON object `text`, in
/// order. Returns false when `text` is not a JSON object.
pub fn each_field(text: &str, each: &mut dyn FnMut(&str, Field)) -> bool {
    json_fields::each_field(text, |key, raw| each(&key, Field::of(raw))).is_ok()
}

/// The field `key` of the JSON object `text` (its first, should a key
/// repeat), or `None` when it has no such field (or is not an object).
pub fn field(text: &str, key: &str) -> Option<Field> {
    let mut found = None;
    json_fields::each_field(text, |k, raw| {
        if found.is_none() && k == key {
            found = Some(Field::of(raw));
        }
    })
    .ok()?;
    found
}

/// A key to look up many times with [`KeyPattern::find`]: its text and its JSON
/// form.
#[derive(Clone, Debug)]
pub struct KeyPattern {
    plain: String,
    quoted: String,
}

impl KeyPattern {
    /// The pattern of `key`.
    pub fn new(key: &str) -> KeyPattern {
        KeyPattern {
            plain: key.to_owned(),
            quoted: serde_json::Value::from(key).to_string(),
        }
    }

    /// The key's text.
    pub fn key(&self) -> &str {
        &self.plain
    }

    /// The top-level field of the JSON object `text` with this key, found
    /// in one pass over the bytes (strings and nested values are skipped,
    /// not decoded), or `None`. djx stores contexts and metrics in
    /// canonical form, so a key is compared as written; one written with
    /// escapes is decoded first.
    pub fn find(&self, text: &str) -> Option<Field> {
        let b = text.as_bytes();
        let mut depth = 0usize;
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'"' => {
                    let start = i;
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                    let end = i.min(b.len());
                    if depth != 1 {
                        continue;
                    }
                    let mut j = end;
                    while j < b.len() && b[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if j >= b.len() || b[j] != b':' {
                        continue;
                    }
                    let raw = &text[start..end];
                    let same = raw == self.quoted
                        || (raw.contains('\\')
                            && serde_json::from_str::<String>(raw).is_ok_and(|k| k == self.plain));
                    if same {
                        return Some(value_at(text[j + 1..].trim_start()));
                    }
                    i = j + 1;
                }
                b'{' | b'[' => {
                    depth += 1;
                    i += 1;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return None;
                    }
                    i += 1;
                }
                _ => i += 1,
            }
        }
        None
    }
}

/// The JSON value at the start of `text`, as far as [`Field`] tells.
fn value_at(text: &str) -> Field {
    let b = text.as_bytes();
    match b.first() {
        Some(b'n') if text.starts_with("null") => Field::Null,
        Some(c) if c.is_ascii_digit() || *c == b'-' => {
            let end = b
                .iter()
                .position(|c| {
                    !(c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
                })
                .unwrap_or(b.len());
            text[..end].parse().map_or(Field::Other, Field::Number)
        }
        _ => Field::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_field() {
        let text = r#"{"a":"x","step":12,"z":{"step":3}}"#;
        assert_eq!(field(text, "step"), Some(Field::Number(12.0)));
        assert_eq!(field(text, "a"), Some(Field::Other));
        assert_eq!(field(text, "z"), Some(Field::Other));
        assert_eq!(field(text, "missing"), None);
        assert_eq!(field(r#"{"loss":null}"#, "loss"), Some(Field::Null));
        assert_eq!(field("[1]", "loss"), None);
        assert_eq!(field("not json", "loss"), None);
    }

    #[test]
    fn escaped_keys_match_their_text() {
        let text = r#"{"a\"b":1.5,"\u00e9":-2}"#;
        assert_eq!(field(text, "a\"b"), Some(Field::Number(1.5)));
        assert_eq!(field(text, "é"), Some(Field::Number(-2.0)));
    }

    #[test]
    fn the_one_pass_finder_agrees_with_the_parser() {
        let texts = [
            r#"{"phase":"train","step":7}"#,
            r#"{"a":{"step":1},"step":2}"#,
            r#"{"s":"x,\"step\":9","step":3}"#,
            r#"{"l":[{"step":5}],"step":-4.5e-3}"#,
            r#"{"step":null}"#,
            r#"{"step":"seven"}"#,
            r#"{"step":true}"#,
            r#"{"st\u0065p":12}"#,
            r#"{ "step" : 8 }"#,
            r#"{"loss":0.001,"m":1e300}"#,
            r#"{"a\"b":1.5}"#,
            r#"{}"#,
            r#"[1,2]"#,
            r#""step""#,
            r#"{"unterminated"#,
        ];
        for key in ["step", "loss", "m", "a\"b", "missing"] {
            let pattern = KeyPattern::new(key);
            for text in texts {
                assert_eq!(pattern.find(text), field(text, key), "{key} in {text}");
            }
        }
    }

    #[test]
    fn visits_every_field() {
        let mut seen = Vec::new();
        assert!(each_field(
            r#"{"m0":1,"m1":null,"m2":[1,2]}"#,
            &mut |k, v| { seen.push((k.to_owned(), v)) }
        ));
        assert_eq!(
            seen,
            vec![
                ("m0".to_owned(), Field::Number(1.0)),
                ("m1".to_owned(), Field::Null),
                ("m2".to_owned(), Field::Other)
            ]
        );
        assert!(!each_field("3", &mut |_, _| {}));
    }
}
