//! Which record contexts are step-like: a training loop's `step`, `epoch`
//! or `iteration`, the x axis of a metric curve.

use super::json_scan::{Field, field};

/// The context keys that count as steps, in order of preference.
pub const STEP_KEYS: [&str; 8] = [
    "step",
    "global_step",
    "epoch",
    "iteration",
    "iter",
    "batch",
    "i",
    "t",
];

/// The same keys as they appear in JSON text, for a quick check before
/// parsing.
const QUOTED: [&str; 8] = [
    "\"step\"",
    "\"global_step\"",
    "\"epoch\"",
    "\"iteration\"",
    "\"iter\"",
    "\"batch\"",
    "\"i\"",
    "\"t\"",
];

/// The first step key the context (a JSON object's text) has as a number,
/// and its value.
pub fn step_of(context: &str) -> Option<(&'static str, f64)> {
    if context.len() <= 2 {
        return None;
    }
    for (key, quoted) in STEP_KEYS.iter().zip(QUOTED) {
        if context.contains(quoted)
            && let Some(Field::Number(v)) = field(context, key)
        {
            return Some((key, v));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_preferred_numeric_key() {
        assert_eq!(
            step_of(r#"{"phase":"train","step":7}"#),
            Some(("step", 7.0))
        );
        assert_eq!(step_of(r#"{"epoch":2,"i":9}"#), Some(("epoch", 2.0)));
        assert_eq!(step_of(r#"{"id":3,"i":9}"#), Some(("i", 9.0)));
        assert_eq!(step_of(r#"{"step":"warmup"}"#), None);
        assert_eq!(step_of(r#"{"fold":1,"set":"test"}"#), None);
        assert_eq!(step_of("{}"), None);
    }
}
