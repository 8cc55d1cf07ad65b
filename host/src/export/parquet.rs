//! Parquet output: typed columns, written in row groups as rows stream in.
//!
//! Each column has one type, chosen before the first row from the kinds of
//! value it holds (see [`crate::records::kinds`]): `int64`, `double`, `bool`,
//! or a UTF-8 string; a column of mixed or structured values holds each
//! value's JSON text. Every column is optional: a missing value (or JSON
//! `null`) is a null. Rows are buffered column by column and written as a
//! row group once [`ROWS_PER_GROUP`] rows or [`BYTES_PER_GROUP`] bytes are
//! buffered, so memory does not grow with the export.

use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use parquet::basic::{Compression, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use serde_json::Value;

use crate::records::kinds::ColumnType;

/// Rows per row group, at most.
pub const ROWS_PER_GROUP: usize = 1 << 18;

/// Bytes of buffered values (8 per number, the length of each string) after
/// which a row group is written, whatever its row count.
pub const BYTES_PER_GROUP: usize = 16 << 20;

/// Why a Parquet file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ParquetWriteError {
    /// The parquet crate refused (an I/O error included).
    #[error("writing Parquet: {0}")]
    Parquet(#[from] ParquetError),
    /// A row was given more values than there are columns.
    #[error("a row has more values than the file has columns ({0})")]
    TooManyValues(usize),
    /// A value does not fit its column's type.
    #[error("column {column}: the value {value} is not of the column's type ({ty:?})")]
    Mismatch {
        /// The column's name.
        column: String,
        /// The value's JSON text.
        value: String,
        /// The column's type.
        ty: ColumnType,
    },
}

/// The values of one column buffered for the current row group.
enum Values {
    Bool(Vec<bool>),
    Int(Vec<i64>),
    Float(Vec<f64>),
    /// Strings (or JSON texts): their bytes end to end, and each end.
    Text {
        bytes: Vec<u8>,
        ends: Vec<usize>,
    },
}

struct Column {
    name: String,
    ty: ColumnType,
    values: Values,
    /// Per row: 1 for a value, 0 for a null.
    defined: Vec<i16>,
}

/// A Parquet file being written, row by row.
pub struct ParquetWriter<W: Write + Send> {
    file: SerializedFileWriter<W>,
    columns: Vec<Column>,
    rows: usize,
    bytes: usize,
    /// The column the next value goes to.
    next: usize,
}

impl<W: Write + Send> ParquetWriter<W> {
    /// Starts a file with these columns, in this order.
    pub fn new(out: W, columns: &[(String, ColumnType)]) -> Result<Self, ParquetWriteError> {
        let fields = columns
            .iter()
            .map(|(name, ty)| {
                let (physical, logical) = match ty {
                    ColumnType::Bool => (PhysicalType::BOOLEAN, None),
                    ColumnType::Int => (PhysicalType::INT64, None),
                    ColumnType::Float => (PhysicalType::DOUBLE, None),
                    ColumnType::String => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
                    ColumnType::Json => (PhysicalType::BYTE_ARRAY, Some(LogicalType::Json)),
                };
                Type::primitive_type_builder(name, physical)
                    .with_repetition(Repetition::OPTIONAL)
                    .with_logical_type(logical)
                    .build()
                    .map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let schema = Type::group_type_builder("djx")
            .with_fields(fields)
            .build()?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("djx {}", env!("CARGO_PKG_VERSION")))
            .build();
        let file = SerializedFileWriter::new(out, Arc::new(schema), Arc::new(properties))?;
        let columns = columns
            .iter()
            .map(|(name, ty)| Column {
                name: name.clone(),
                ty: *ty,
                values: match ty {
                    ColumnType::Bool => Values::Bool(Vec::new()),
                    ColumnType::Int => Values::Int(Vec::new()),
                    ColumnType::Float => Values::Float(Vec::new()),
                    ColumnType::String | ColumnType::Json => Values::Text {
                        bytes: Vec::new(),
                        ends: Vec::new(),
                    },
                },
                defined: Vec::new(),
            })
            .collect();
        Ok(ParquetWriter {
            file,
            columns,
            rows: 0,
            bytes: 0,
            next: 0,
        })
    }

    /// The next column's value: a null.
    pub fn null(&mut self) {
        if let Some(c) = self.columns.get_mut(self.next) {
            c.defined.push(0);
        }
        self.next += 1;
    }

    /// The next column's value: an integer (for an integer or float column).
    pub fn int(&mut self, v: i64) -> Result<(), ParquetWriteError> {
        let Some(c) = self.columns.get_mut(self.next) else {
            return Err(ParquetWriteError::TooManyValues(self.columns.len()));
        };
        match &mut c.values {
            Values::Int(values) => values.push(v),
            Values::Float(values) => values.push(v as f64),
            Values::Bool(_) | Values::Text { .. } => return Err(mismatch(c, &v.to_string())),
        }
        c.defined.push(1);
        self.bytes += 8;
        self.next += 1;
        Ok(())
    }

    /// The next column's value: a string (for a string column).
    pub fn str(&mut self, s: &str) -> Result<(), ParquetWriteError> {
        let Some(c) = self.columns.get_mut(self.next) else {
            return Err(ParquetWriteError::TooManyValues(self.columns.len()));
        };
        match (&mut c.values, c.ty) {
            (Values::Text { bytes, ends }, ColumnType::String) => {
                bytes.extend_from_slice(s.as_bytes());
                ends.push(bytes.len());
            }
            _ => return Err(mismatch(c, s)),
        }
        c.defined.push(1);
        self.bytes += s.len();
        self.next += 1;
        Ok(())
    }

    /// The next column's value, from its JSON text as stored (`None`, or
    /// `null`, is a null).
    pub fn raw(&mut self, raw: Option<&str>) -> Result<(), ParquetWriteError> {
        let raw = match raw {
            None | Some("null") => {
                self.null();
                return Ok(());
            }
            Some(raw) => raw,
        };
        let Some(c) = self.columns.get_mut(self.next) else {
            return Err(ParquetWriteError::TooManyValues(self.columns.len()));
        };
        let size = match (&mut c.values, c.ty) {
            (Values::Bool(values), _) => match raw {
                "true" | "false" => {
                    values.push(raw == "true");
                    Some(1)
                }
                _ => None,
            },
            (Values::Int(values), _) => raw.parse::<i64>().ok().map(|v| {
                values.push(v);
                8
            }),
            // JSON numbers only: a quoted "1" is a string, not a float.
            (Values::Float(values), _) => raw.parse::<f64>().ok().map(|v| {
                values.push(v);
                8
            }),
            (Values::Text { bytes, ends }, ColumnType::String) => {
                let start = bytes.len();
                unquote(raw, bytes).map(|()| {
                    ends.push(bytes.len());
                    bytes.len() - start
                })
            }
            (Values::Text { bytes, ends }, _) => {
                bytes.extend_from_slice(raw.as_bytes());
                ends.push(bytes.len());
                Some(raw.len())
            }
        };
        let Some(size) = size else {
            return Err(mismatch(c, raw));
        };
        c.defined.push(1);
        self.bytes += size;
        self.next += 1;
        Ok(())
    }

    /// The next column's value, from a parsed JSON value.
    pub fn value(&mut self, v: &Value) -> Result<(), ParquetWriteError> {
        match v {
            Value::Null => {
                self.null();
                Ok(())
            }
            Value::String(s) if self.next_type() == Some(ColumnType::String) => self.str(s),
            // An integer goes in as it is; other values through their
            // JSON text, as stored values do.
            Value::Number(n) if n.is_i64() && self.next_is_number() => {
                self.int(n.as_i64().unwrap_or_default())
            }
            _ => self.raw(Some(&v.to_string())),
        }
    }

    fn next_type(&self) -> Option<ColumnType> {
        self.columns.get(self.next).map(|c| c.ty)
    }

    fn next_is_number(&self) -> bool {
        matches!(self.next_type(), Some(ColumnType::Int | ColumnType::Float))
    }

    /// Ends the current row (columns not given a value are null), and
    /// writes a row group if enough is buffered.
    pub fn end_row(&mut self) -> Result<(), ParquetWriteError> {
        while self.next < self.columns.len() {
            self.null();
        }
        self.next = 0;
        self.rows += 1;
        if self.rows >= ROWS_PER_GROUP || self.bytes >= BYTES_PER_GROUP {
            self.write_group()?;
        }
        Ok(())
    }

    /// Writes the buffered rows as one row group.
    fn write_group(&mut self) -> Result<(), ParquetWriteError> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut group = self.file.next_row_group()?;
        for c in &mut self.columns {
            let Some(mut writer) = group.next_column()? else {
                break;
            };
            let defined = Some(&c.defined[..]);
            match &mut c.values {
                Values::Bool(v) => {
                    writer.typed::<BoolType>().write_batch(v, defined, None)?;
                    v.clear();
                }
                Values::Int(v) => {
                    writer.typed::<Int64Type>().write_batch(v, defined, None)?;
                    v.clear();
                }
                Values::Float(v) => {
                    writer.typed::<DoubleType>().write_batch(v, defined, None)?;
                    v.clear();
                }
                Values::Text { bytes, ends } => {
                    // One buffer for the group, shared by every value's slice.
                    let all = Bytes::from(std::mem::take(bytes));
                    let mut start = 0;
                    let values: Vec<ByteArray> = ends
                        .iter()
                        .map(|&end| {
                            let v = ByteArray::from(all.slice(start..end));
                            start = end;
                            v
                        })
                        .collect();
                    writer
                        .typed::<ByteArrayType>()
                        .write_batch(&values, defined, None)?;
                    ends.clear();
                }
            }
            c.defined.clear();
            writer.close()?;
        }
        group.close()?;
        self.rows = 0;
        self.bytes = 0;
        Ok(())
    }

    /// Writes what is buffered and the file's footer, and gives back the
    /// output.
    pub fn finish(mut self) -> Result<W, ParquetWriteError> {
        self.write_group()?;
        Ok(self.file.into_inner()?)
    }
}

fn mismatch(c: &Column, value: &str) -> ParquetWriteError {
    ParquetWriteError::Mismatch {
        column: c.name.clone(),
        value: value.to_owned(),
        ty: c.ty,
    }
}

/// Appends the string that the JSON string literal `raw` stands for to
/// `out`; `None` if `raw` is not a string literal.
fn unquote(raw: &str, out: &mut Vec<u8>) -> Option<()> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        out.extend_from_slice(inner.as_bytes());
        return Some(());
    }
    let s: String = serde_json::from_str(raw).ok()?;
    out.extend_from_slice(s.as_bytes());
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    fn read_back(bytes: Vec<u8>) -> Vec<Vec<Field>> {
        let reader = SerializedFileReader::new(Bytes::from(bytes)).expect("a parquet file");
        reader
            .get_row_iter(None)
            .expect("rows")
            .map(|row| {
                row.expect("a row")
                    .get_column_iter()
                    .map(|(_, f)| f.clone())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn typed_columns_round_trip_with_nulls() {
        let columns = [
            ("id".to_owned(), ColumnType::Int),
            ("acc".to_owned(), ColumnType::Float),
            ("ok".to_owned(), ColumnType::Bool),
            ("name".to_owned(), ColumnType::String),
            ("mixed".to_owned(), ColumnType::Json),
        ];
        let mut w = ParquetWriter::new(Vec::new(), &columns).expect("writer");
        w.int(7).expect("int");
        w.raw(Some("1")).expect("an integer in a float column");
        w.raw(Some("true")).expect("bool");
        w.raw(Some(r#""a\"b""#)).expect("escaped string");
        w.raw(Some("[1,2]")).expect("json");
        w.end_row().expect("row");
        w.int(8).expect("int");
        w.raw(Some("0.5")).expect("float");
        w.raw(None).expect("null");
        w.str("plain").expect("str");
        w.end_row().expect("a short row is null-filled");
        let rows = read_back(w.finish().expect("finish"));
        assert_eq!(
            rows[0],
            vec![
                Field::Long(7),
                Field::Double(1.0),
                Field::Bool(true),
                Field::Str("a\"b".into()),
                Field::Str("[1,2]".into()),
            ]
        );
        assert_eq!(
            rows[1],
            vec![
                Field::Long(8),
                Field::Double(0.5),
                Field::Null,
                Field::Str("plain".into()),
                Field::Null,
            ]
        );
    }

    #[test]
    fn a_value_of_another_type_is_refused_by_name() {
        let columns = [("metrics.loss".to_owned(), ColumnType::Float)];
        let mut w = ParquetWriter::new(Vec::new(), &columns).expect("writer");
        let e = w
            .raw(Some("\"high\""))
            .expect_err("a string in a float column");
        assert!(e.to_string().contains("metrics.loss"), "{e}");
    }

    #[test]
    fn many_rows_make_several_groups() {
        let columns = [("x".to_owned(), ColumnType::Int)];
        let mut w = ParquetWriter::new(Vec::new(), &columns).expect("writer");
        for i in 0..(ROWS_PER_GROUP as i64 + 10) {
            w.int(i).expect("int");
            w.end_row().expect("row");
        }
        let bytes = w.finish().expect("finish");
        let reader = SerializedFileReader::new(Bytes::from(bytes)).expect("file");
        assert_eq!(reader.metadata().num_row_groups(), 2);
        assert_eq!(
            reader.metadata().file_metadata().num_rows(),
            ROWS_PER_GROUP as i64 + 10
        );
    }
}
