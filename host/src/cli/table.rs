//! Plain aligned text tables for the terminal.

use std::io::Write;

/// Writes `rows` under `header`, columns padded to their widest cell. Cells
/// are cut to `max_width` characters.
pub fn write(
    out: &mut dyn Write,
    header: &[String],
    rows: &[Vec<String>],
    max_width: usize,
) -> std::io::Result<()> {
    let cut = |s: &str| -> String {
        let one_line = s.replace('\n', " ");
        if one_line.chars().count() > max_width {
            let mut c: String = one_line.chars().take(max_width.saturating_sub(1)).collect();
            c.push('…');
            c
        } else {
            one_line
        }
    };
    let header: Vec<String> = header.iter().map(|h| cut(h)).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| cut(c)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, c) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    let line = |out: &mut dyn Write, cells: &[String]| -> std::io::Result<()> {
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
    };
    line(out, &header)?;
    for row in &rows {
        line(out, row)?;
    }
    Ok(())
}
