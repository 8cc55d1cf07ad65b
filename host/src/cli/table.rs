//! Plain aligned text tables for the terminal, streamed.
//!
//! Aligning a column needs its widest cell, and a listing of a million rows
//! must not wait for (or hold) all of them. So a [`TableStream`] aligns its
//! columns on the first [`ALIGN_ROWS`] rows, prints them, and then prints
//! every later row as it comes with the same widths (a longer cell pushes
//! the rest of its line right).

use std::io::Write;

/// Rows a table looks at to choose its column widths.
pub const ALIGN_ROWS: usize = 1000;

/// A table written row by row: aligned on its first [`ALIGN_ROWS`] rows.
pub struct TableStream<'w> {
    out: &'w mut dyn Write,
    header: Vec<String>,
    max_width: usize,
    /// Rows waiting for the widths, until there are enough of them.
    pending: Vec<Vec<String>>,
    /// The widths, once chosen.
    widths: Option<Vec<usize>>,
}

impl<'w> TableStream<'w> {
    /// A table with `header` whose cells are cut to `max_width` characters.
    pub fn new(out: &'w mut dyn Write, header: &[String], max_width: usize) -> TableStream<'w> {
        TableStream {
            out,
            header: header.iter().map(|h| cut(h, max_width)).collect(),
            max_width,
            pending: Vec::new(),
            widths: None,
        }
    }

    /// Adds a row.
    pub fn push(&mut self, row: Vec<String>) -> std::io::Result<()> {
        let row: Vec<String> = row.iter().map(|c| cut(c, self.max_width)).collect();
        match &self.widths {
            Some(widths) => line(self.out, widths, &row),
            None => {
                self.pending.push(row);
                if self.pending.len() >= ALIGN_ROWS {
                    self.flush_pending()?;
                }
                Ok(())
            }
        }
    }

    /// Writes what is left; the table is complete.
    pub fn finish(mut self) -> std::io::Result<()> {
        if self.widths.is_none() {
            self.flush_pending()?;
        }
        self.out.flush()
    }

    /// Chooses the widths from the header and the pending rows, and writes
    /// them all.
    fn flush_pending(&mut self) -> std::io::Result<()> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.pending {
            for (i, c) in row.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(c.chars().count());
                }
            }
        }
        line(self.out, &widths, &self.header)?;
        for row in std::mem::take(&mut self.pending) {
            line(self.out, &widths, &row)?;
        }
        self.widths = Some(widths);
        Ok(())
    }
}

/// Writes `rows` under `header`, columns padded to their widest cell (of
/// the first [`ALIGN_ROWS`] rows). Cells are cut to `max_width` characters.
pub fn write(
    out: &mut dyn Write,
    header: &[String],
    rows: &[Vec<String>],
    max_width: usize,
) -> std::io::Result<()> {
    let mut table = TableStream::new(out, header, max_width);
    for row in rows {
        table.push(row.clone())?;
    }
    table.finish()
}

/// One line of a cell: newlines become spaces, and a cell longer than
/// `max_width` characters ends in `…`.
fn cut(s: &str, max_width: usize) -> String {
    let one_line = s.replace('\n', " ");
    if one_line.chars().count() > max_width {
        let mut c: String = one_line.chars().take(max_width.saturating_sub(1)).collect();
        c.push('…');
        c
    } else {
        one_line
    }
}

/// Writes `cells` padded to `widths`, two spaces apart.
fn line(out: &mut dyn Write, widths: &[usize], cells: &[String]) -> std::io::Result<()> {
    let mut text = String::new();
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            text.push_str("  ");
        }
        let pad = widths
            .get(i)
            .copied()
            .unwrap_or(0)
            .saturating_sub(c.chars().count());
        text.push_str(c);
        if i + 1 < cells.len() {
            text.extend(std::iter::repeat_n(' ', pad));
        }
    }
    writeln!(out, "{}", text.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(header: &[&str], rows: &[&[&str]]) -> String {
        let header: Vec<String> = header.iter().map(|s| s.to_string()).collect();
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect();
        let mut out = Vec::new();
        write(&mut out, &header, &rows, 10).expect("write");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn aligns_columns_and_cuts_long_cells() {
        assert_eq!(
            text(&["id", "name"], &[&["1", "a"], &["22", "a very long name"]]),
            "id  name\n1   a\n22  a very lo…\n"
        );
    }

    #[test]
    fn rows_after_the_first_thousand_keep_their_widths() {
        let header = vec!["id".to_owned(), "x".to_owned()];
        let mut out = Vec::new();
        let mut table = TableStream::new(&mut out, &header, 40);
        for i in 0..ALIGN_ROWS {
            table.push(vec![i.to_string(), "y".into()]).expect("push");
        }
        table.push(vec!["123456".into(), "z".into()]).expect("push");
        table.finish().expect("finish");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.starts_with("id   x\n0    y\n"), "{text}");
        assert!(text.ends_with("999  y\n123456  z\n"), "{text}");
    }
}
