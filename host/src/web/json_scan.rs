//! Reads the fields of a stored JSON object (a record's context or
//! metrics) without building a map: keys are borrowed from the text where
//! they can be, and values other than numbers are skipped. A job with a
//! million records is read in a fraction of the time a `serde_json::Value`
//! per record would take.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, Deserialize, IgnoredAny, MapAccess, SeqAccess, Visitor};

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
}

/// Calls `each(key, value)` for every field of the JSON object `text`, in
/// order. Returns false when `text` is not a JSON object.
pub fn each_field(text: &str, each: &mut dyn FnMut(&str, Field)) -> bool {
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_map(Fields { each, want: None }).is_ok()
}

/// The field `key` of the JSON object `text`, or `None` when it has no such
/// field (or is not an object).
pub fn field(text: &str, key: &str) -> Option<Field> {
    let mut found = None;
    let mut de = serde_json::Deserializer::from_str(text);
    let mut each = |_: &str, value: Field| found = Some(value);
    de.deserialize_map(Fields {
        each: &mut each,
        want: Some(key),
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

/// Visits the fields of a map; with `want`, only that key's value is
/// decoded and the others are skipped unread.
struct Fields<'a, 'k> {
    each: &'a mut dyn FnMut(&str, Field),
    want: Option<&'k str>,
}

impl<'de> Visitor<'de> for Fields<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if self.want.is_some_and(|w| w != key) {
                map.next_value::<IgnoredAny>()?;
            } else {
                let value = map.next_value::<Field>()?;
                (self.each)(&key, value);
            }
        }
        Ok(())
    }
}

/// A key, borrowed from the text unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
        struct FieldVisitor;
        impl<'de> Visitor<'de> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Field, E> {
                Ok(Field::Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Field, E> {
                Ok(Field::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Field, E> {
                Ok(Field::Number(v as f64))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Field, E> {
                Ok(Field::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Field, E> {
                Ok(Field::Null)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Field, E> {
                Ok(Field::Other)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Field, E> {
                Ok(Field::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
        }
        d.deserialize_any(FieldVisitor)
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
