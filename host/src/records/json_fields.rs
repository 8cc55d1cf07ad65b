//! The top-level fields of a JSON object's text, read without building a
//! map: each key (unescaped) with its value's raw text.
//!
//! Exports read every stored record (tens of millions of them), and a
//! record's context and metrics are small JSON objects: walking the text
//! once costs a fraction of parsing it into maps. The text is what djx
//! wrote (valid JSON); anything else ends the walk with an error.

use std::borrow::Cow;

/// An object's text that is not what djx writes.
#[derive(Debug, thiserror::Error)]
#[error("not a JSON object at byte {at}: {text:.80}")]
pub struct NotAnObject {
    /// Where reading failed.
    pub at: usize,
    /// The text.
    pub text: String,
}

/// Calls `f(key, raw value)` for each top-level field of the object `text`,
/// in order.
pub fn each_field<'a>(
    text: &'a str,
    mut f: impl FnMut(Cow<'a, str>, &'a str),
) -> Result<(), NotAnObject> {
    let bytes = text.as_bytes();
    let fail = |at: usize| NotAnObject {
        at,
        text: text.to_owned(),
    };
    let mut i = skip_ws(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return Err(fail(i));
    }
    i = skip_ws(bytes, i + 1);
    if bytes.get(i) == Some(&b'}') {
        return Ok(());
    }
    loop {
        let key_end = string_end(bytes, i).ok_or_else(|| fail(i))?;
        let key = unescape(&text[i..key_end]).ok_or_else(|| fail(i))?;
        i = skip_ws(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            return Err(fail(i));
        }
        let start = skip_ws(bytes, i + 1);
        let end = value_end(bytes, start).ok_or_else(|| fail(start))?;
        f(key, &text[start..end]);
        i = skip_ws(bytes, end);
        match bytes.get(i) {
            Some(b',') => i = skip_ws(bytes, i + 1),
            Some(b'}') => return Ok(()),
            _ => return Err(fail(i)),
        }
    }
}

/// A raw JSON value as a table or CSV cell: a string unescaped, `null`
/// empty, anything else (numbers, booleans, lists, objects) as written.
pub fn cell(raw: &str) -> Cow<'_, str> {
    match raw.as_bytes().first() {
        Some(b'"') => unescape(raw).unwrap_or(Cow::Borrowed(raw)),
        _ if raw == "null" => Cow::Borrowed(""),
        _ => Cow::Borrowed(raw),
    }
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The end (exclusive) of the string starting at `i` (its opening quote).
fn string_end(bytes: &[u8], i: usize) -> Option<usize> {
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        match bytes.get(j)? {
            b'"' => return Some(j + 1),
            b'\\' => j += 2,
            _ => j += 1,
        }
    }
}

/// The end (exclusive) of the value starting at `i`.
fn value_end(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i)? {
        b'"' => string_end(bytes, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match bytes.get(j)? {
                    b'"' => {
                        j = string_end(bytes, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while bytes
                .get(j)
                .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// The text of a JSON string literal (with its quotes), unescaped.
fn unescape(literal: &str) -> Option<Cow<'_, str>> {
    let inner = literal.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(literal).ok().map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        each_field(text, |k, v| out.push((k.into_owned(), v.to_owned()))).expect("object");
        out
    }

    #[test]
    fn reads_each_field_with_its_raw_value() {
        let text =
            r#"{"a":1,"b c":"x\"y","d":{"e":[1,{"f":"}"}]},"g":null,"h":-1.5e-7,"i\u00e9":true}"#;
        assert_eq!(
            fields(text),
            [
                ("a", "1"),
                ("b c", r#""x\"y""#),
                ("d", r#"{"e":[1,{"f":"}"}]}"#),
                ("g", "null"),
                ("h", "-1.5e-7"),
                ("ié", "true"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert!(fields("{}").is_empty());
        assert_eq!(fields(r#" { "a" : [ ] } "#), [("a".into(), "[ ]".into())]);
    }

    #[test]
    fn cells_show_values_as_an_export_does() {
        assert_eq!(cell(r#""x\ny""#), "x\ny");
        assert_eq!(cell("null"), "");
        assert_eq!(cell("1.0"), "1.0");
        assert_eq!(cell("[1,2]"), "[1,2]");
    }

    #[test]
    fn what_is_not_an_object_is_an_error() {
        for text in [
            "",
            "[]",
            "{\"a\"}",
            "{\"a\":1",
            "{\"a\":1 \"b\":2}",
            "{\"a\":}",
        ] {
            assert!(each_field(text, |_, _| {}).is_err(), "{text:?}");
        }
    }

    #[test]
    fn agrees_with_serde_json_on_stored_texts() {
        let value =
            serde_json::json!({"s": "a,b}", "n": 3, "f": 0.25, "l": [1, "]"], "o": {"p": null}});
        let text = serde_json::to_string(&value).expect("json");
        let mut seen = serde_json::Map::new();
        each_field(&text, |k, v| {
            seen.insert(
                k.into_owned(),
                serde_json::from_str(v).expect("raw value is JSON"),
            );
        })
        .expect("object");
        assert_eq!(serde_json::Value::Object(seen), value);
    }
}
