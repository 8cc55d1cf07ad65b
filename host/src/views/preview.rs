//! What an artifact looks like without downloading it: an image, the first
//! rows of a table (CSV, TSV, Parquet), JSON pretty-printed, the start of a
//! text, or only its size. The kind comes from the bytes first (an image's
//! signature, Parquet's magic) and from the name's extension after, so a
//! file called `x.png` that is not a PNG is not shown as one.
//!
//! Previews are made from bytes that were checked against their digest;
//! an artifact larger than [`MAX_BYTES`] is not read for a preview at all.

use bytes::Bytes;

/// The largest artifact read to make a preview.
pub const MAX_BYTES: u64 = 32 << 20;
/// Rows of a table shown.
pub const TABLE_ROWS: usize = 100;
/// Bytes of a text shown.
pub const TEXT_BYTES: usize = 64 << 10;
/// The largest JSON document pretty-printed (larger ones are text).
const JSON_BYTES: usize = 4 << 20;

/// How an artifact is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A raster image, with its media type.
    Image(&'static str),
    /// An SVG drawing: shown only as an image (`<img>`), where no script
    /// of it runs.
    Svg,
    /// Delimited text (`,` or tab).
    Delimited(u8),
    /// An Apache Parquet file.
    Parquet,
    /// JSON.
    Json,
    /// Other UTF-8 text.
    Text,
    /// Anything else: its size and a download link.
    Binary,
}

impl Kind {
    /// The kind of an artifact called `name` whose bytes start with
    /// `head`.
    pub fn of(name: &str, head: &[u8]) -> Kind {
        if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Kind::Image("image/png");
        }
        if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Kind::Image("image/jpeg");
        }
        if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
            return Kind::Image("image/gif");
        }
        if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
            return Kind::Image("image/webp");
        }
        if head.starts_with(b"PAR1") {
            return Kind::Parquet;
        }
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let Some(text) = utf8_prefix(head).and_then(|n| std::str::from_utf8(&head[..n]).ok())
        else {
            return Kind::Binary;
        };
        let start = text.trim_start_matches('\u{feff}').trim_start();
        match ext.as_str() {
            "svg" => Kind::Svg,
            "csv" => Kind::Delimited(b','),
            "tsv" | "tab" => Kind::Delimited(b'\t'),
            "json" | "geojson" | "ipynb" => Kind::Json,
            _ if start.starts_with("<svg")
                || (start.starts_with("<?xml") && start.contains("<svg")) =>
            {
                Kind::Svg
            }
            _ if start.starts_with('{') || start.starts_with('[') => Kind::Json,
            _ => Kind::Text,
        }
    }
}

/// How much of `head` is UTF-8, allowing a character cut at its end;
/// `None` when it is not UTF-8.
fn utf8_prefix(head: &[u8]) -> Option<usize> {
    match std::str::from_utf8(head) {
        Ok(_) => Some(head.len()),
        Err(e) if e.error_len().is_none() => Some(e.valid_up_to()),
        Err(_) => None,
    }
}

/// A preview.
#[derive(Clone, Debug, PartialEq)]
pub enum Preview {
    /// Shown as an image from the artifact's own URL.
    Image(&'static str),
    /// An SVG, shown as an image.
    Svg,
    /// The first rows of a table.
    Table {
        /// The column names.
        columns: Vec<String>,
        /// Up to [`TABLE_ROWS`] rows.
        rows: Vec<Vec<String>>,
        /// Whether there are more rows.
        more: bool,
    },
    /// JSON, pretty-printed.
    Json(String),
    /// The start of a text.
    Text {
        /// Up to [`TEXT_BYTES`] of it.
        text: String,
        /// Whether there is more.
        more: bool,
    },
    /// No preview: why.
    None(String),
}

/// The preview of artifact `name` with `bytes` (already checked against
/// its digest).
pub fn preview(name: &str, bytes: &[u8]) -> Preview {
    let head = &bytes[..bytes.len().min(TEXT_BYTES)];
    match Kind::of(name, head) {
        Kind::Image(mime) => Preview::Image(mime),
        Kind::Svg => Preview::Svg,
        Kind::Delimited(d) => delimited(bytes, d).unwrap_or_else(|_| text(bytes)),
        Kind::Parquet => parquet(bytes).unwrap_or_else(Preview::None),
        Kind::Json if bytes.len() <= JSON_BYTES => {
            match serde_json::from_slice::<serde_json::Value>(bytes) {
                Ok(v) => Preview::Json(serde_json::to_string_pretty(&v).unwrap_or_default()),
                Err(_) => text(bytes),
            }
        }
        Kind::Json | Kind::Text => text(bytes),
        Kind::Binary => Preview::None("binary".into()),
    }
}

/// The start of `bytes` as text (or no preview when it is not UTF-8).
fn text(bytes: &[u8]) -> Preview {
    let head = &bytes[..bytes.len().min(TEXT_BYTES)];
    match utf8_prefix(head).map(|cut| (cut, std::str::from_utf8(&head[..cut]))) {
        Some((cut, Ok(t))) => Preview::Text {
            text: t.to_owned(),
            more: bytes.len() > cut,
        },
        _ => Preview::None("binary".into()),
    }
}

fn delimited(bytes: &[u8], delimiter: u8) -> Result<Preview, String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(bytes);
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    let mut records = reader.records();
    for record in records.by_ref().take(TABLE_ROWS) {
        let record = record.map_err(|e| e.to_string())?;
        rows.push(record.iter().map(str::to_owned).collect());
    }
    let more = records.next().is_some();
    Ok(Preview::Table {
        columns,
        rows,
        more,
    })
}

fn parquet(bytes: &[u8]) -> Result<Preview, String> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(Bytes::copy_from_slice(bytes))
        .map_err(|e| format!("not a Parquet file djx can read: {e}"))?;
    let rows_total = reader.metadata().file_metadata().num_rows();
    let columns: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.path().string())
        .collect();
    let mut rows = Vec::new();
    for row in reader
        .get_row_iter(None)
        .map_err(|e| e.to_string())?
        .take(TABLE_ROWS)
    {
        let row = row.map_err(|e| format!("reading a row: {e}"))?;
        rows.push(
            row.get_column_iter()
                .map(|(_, field)| match field {
                    parquet::record::Field::Str(s) => s.clone(),
                    parquet::record::Field::Null => String::new(),
                    other => other.to_string(),
                })
                .collect(),
        );
    }
    Ok(Preview::Table {
        columns,
        more: rows_total > rows.len() as i64,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_bytes_first() {
        assert_eq!(
            Kind::of("x.bin", b"\x89PNG\r\n\x1a\n...."),
            Kind::Image("image/png")
        );
        assert_eq!(Kind::of("plot.png", b"<svg onload=alert(1)>"), Kind::Svg);
        assert_eq!(Kind::of("plot.png", b"hello"), Kind::Text);
        assert_eq!(Kind::of("a.csv", b"a,b\n1,2\n"), Kind::Delimited(b','));
        assert_eq!(Kind::of("a.tsv", b"a\tb\n"), Kind::Delimited(b'\t'));
        assert_eq!(Kind::of("m", b"{\"a\": 1}"), Kind::Json);
        assert_eq!(Kind::of("m.bin", &[0, 159, 146, 150]), Kind::Binary);
        assert_eq!(Kind::of("t.parquet", b"PAR1\x15"), Kind::Parquet);
        assert_eq!(
            Kind::of("page.html", b"<html><script>x</script>"),
            Kind::Text
        );
    }

    #[test]
    fn tables_stop_at_their_row_cap() {
        let mut csv = String::from("i,sq\n");
        for i in 0..250 {
            csv.push_str(&format!("{i},{}\n", i * i));
        }
        let Preview::Table {
            columns,
            rows,
            more,
        } = preview("t.csv", csv.as_bytes())
        else {
            panic!("a table");
        };
        assert_eq!(columns, ["i", "sq"]);
        assert_eq!(rows.len(), TABLE_ROWS);
        assert_eq!(rows[99], ["99", "9801"]);
        assert!(more);
    }

    #[test]
    fn json_is_pretty_and_text_is_cut() {
        assert_eq!(
            preview("m.json", b"{\"a\":[1,2]}"),
            Preview::Json("{\n  \"a\": [\n    1,\n    2\n  ]\n}".into())
        );
        let long = "é".repeat(TEXT_BYTES);
        let Preview::Text { text, more } = preview("log.txt", long.as_bytes()) else {
            panic!("text");
        };
        assert!(more && text.len() <= TEXT_BYTES && text.chars().all(|c| c == 'é'));
    }
}
