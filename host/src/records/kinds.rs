//! The kinds of value a column holds, and so the one type it gets in a
//! typed export (Parquet).
//!
//! A column of integers is `int64`, of floats (or of integers and floats,
//! as pandas reads numbers from CSV) `float64`, of booleans `bool`, of
//! strings `string`. A column whose values are of other kinds, or of
//! several (a string here and a number there), holds each value as its
//! JSON text. Missing values (and `null`) are missing in every type.

use serde_json::Value;

/// A set of value kinds, kept as letters: `b` boolean, `i` integer (64-bit
/// signed), `f` float, `s` string, `o` anything else (lists, mappings,
/// integers beyond 64-bit signed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Kinds(u8);

const BOOL: u8 = 1;
const INT: u8 = 2;
const FLOAT: u8 = 4;
const STRING: u8 = 8;
const OTHER: u8 = 16;
const LETTERS: [(u8, char); 5] = [
    (BOOL, 'b'),
    (INT, 'i'),
    (FLOAT, 'f'),
    (STRING, 's'),
    (OTHER, 'o'),
];

/// The type of a column in a typed export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// `bool`.
    Bool,
    /// `int64`.
    Int,
    /// `float64`.
    Float,
    /// `string`.
    String,
    /// Each value's JSON text, as a `string`.
    Json,
}

impl Kinds {
    /// The kind of a float (metrics are all floats).
    pub const FLOAT: Kinds = Kinds(FLOAT);
    /// The kind of a string (artifact digests are strings).
    pub const STRING: Kinds = Kinds(STRING);

    /// The kind of `value` (none for `null`).
    pub fn of_value(value: &Value) -> Kinds {
        Kinds(match value {
            Value::Null => 0,
            Value::Bool(_) => BOOL,
            Value::Number(n) if n.is_i64() => INT,
            Value::Number(n) if n.is_f64() => FLOAT,
            Value::String(_) => STRING,
            _ => OTHER,
        })
    }

    /// The kind of a value from its JSON text as stored.
    pub fn of_raw(raw: &str) -> Kinds {
        Kinds(match raw.as_bytes().first() {
            None | Some(b'n') => 0,
            Some(b't' | b'f') => BOOL,
            Some(b'"') => STRING,
            Some(b'[' | b'{') => OTHER,
            _ if raw.contains(['.', 'e', 'E']) => FLOAT,
            _ if raw.parse::<i64>().is_ok() => INT,
            _ => OTHER,
        })
    }

    /// Both sets together.
    pub fn with(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }

    /// The column type for values of these kinds.
    pub fn column_type(self) -> ColumnType {
        match self.0 {
            BOOL => ColumnType::Bool,
            INT => ColumnType::Int,
            FLOAT => ColumnType::Float,
            x if x == INT | FLOAT => ColumnType::Float,
            STRING => ColumnType::String,
            _ => ColumnType::Json,
        }
    }

    /// The letters of the set (see [`Kinds`]).
    pub fn letters(self) -> String {
        LETTERS
            .iter()
            .filter(|(bit, _)| self.0 & bit != 0)
            .map(|&(_, c)| c)
            .collect()
    }

    /// The set of `letters`; unknown letters are other kinds.
    pub fn from_letters(letters: &str) -> Kinds {
        Kinds(letters.chars().fold(0, |bits, c| {
            bits | LETTERS
                .iter()
                .find(|&&(_, l)| l == c)
                .map_or(OTHER, |&(bit, _)| bit)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_value_and_its_stored_text_have_one_kind() {
        for v in [
            json!(null),
            json!(true),
            json!(3),
            json!(-3),
            json!(1.0),
            json!(1e300),
            json!("x"),
            json!([1]),
            json!({"a": 1}),
            json!(u64::MAX),
        ] {
            let text = serde_json::to_string(&v).expect("json");
            assert_eq!(Kinds::of_value(&v), Kinds::of_raw(&text), "{text}");
        }
    }

    #[test]
    fn one_kind_one_type_several_json() {
        let of = |v: Value| Kinds::of_value(&v);
        assert_eq!(of(json!(1)).column_type(), ColumnType::Int);
        assert_eq!(
            of(json!(1)).with(of(json!(0.5))).column_type(),
            ColumnType::Float
        );
        assert_eq!(
            of(json!("a")).with(of(json!(null))).column_type(),
            ColumnType::String
        );
        assert_eq!(
            of(json!("a")).with(of(json!(1))).column_type(),
            ColumnType::Json
        );
        assert_eq!(of(json!([1])).column_type(), ColumnType::Json);
        let k = of(json!(1)).with(of(json!("a")));
        assert_eq!(Kinds::from_letters(&k.letters()), k);
        assert_eq!(k.letters(), "is");
    }
}
