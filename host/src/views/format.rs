//! How values read, in the terminal and on a page alike: numbers to six
//! significant digits, strings bare, lists and mappings as JSON, durations
//! and timestamps for people.

use serde_json::Value;

/// A number to six significant digits, without trailing zeros.
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let magnitude = v.abs().log10().floor() as i32;
    if !(-4..15).contains(&magnitude) {
        return format!("{v:.5e}");
    }
    let decimals = (5 - magnitude).max(0) as usize;
    let text = format!("{v:.decimals$}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_owned()
}

/// A JSON value as cell text: strings bare, null empty, numbers by
/// [`number`], anything else as JSON.
pub fn cell_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), number),
        other => other.to_string(),
    }
}

/// Milliseconds for people, as the CLI prints them.
pub fn duration_ms(ms: Option<i64>) -> String {
    match ms {
        None => String::new(),
        Some(ms) if ms < 1000 => format!("{ms}ms"),
        Some(ms) if ms < 60_000 => format!("{:.1}s", ms as f64 / 1000.0),
        Some(ms) => format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// A timestamp without its milliseconds and zone (`2026-11-27 15:48:32`).
pub fn when(text: &str) -> String {
    text.chars().take(19).collect::<String>().replace('T', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(4.0), "4");
        assert_eq!(number(0.9666666666), "0.966667");
        assert_eq!(number(123.456789), "123.457");
        assert_eq!(number(1e-7), "1.00000e-7");
        assert_eq!(number(-2.5), "-2.5");
        assert_eq!(number(f64::NAN), "");
    }
}
