//! How deeply an experiment file nests, measured before it is parsed.
//!
//! A YAML parser's cost can grow with the square of the nesting depth: a
//! 200 KB file whose parameter nests 100,000 levels deep (`[[[[…]]]]`) took
//! 57 s to be refused. This scan is linear and refuses such a file at once.
//! It counts flow collections (`[`, `{`) where they can open one (at the
//! start of a value), outside quotes and comments, plus the block
//! indentation levels around them. It may count a little more than the
//! parser would, never less, and real experiment files nest a few levels.

use std::path::Path;

use super::SpecError;

/// The deepest nesting of mappings and lists an experiment file may have.
pub const MAX_DEPTH: usize = 100;

/// Refuses `text` if it nests deeper than [`MAX_DEPTH`].
pub fn check(path: &Path, text: &str) -> Result<(), SpecError> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if flow == 0 {
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            while indents.last().is_some_and(|&i| i >= indent) {
                indents.pop();
            }
            indents.push(indent);
        }
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        let mut at_value = flow > 0 || trimmed.starts_with(['[', '{']);
        for c in trimmed.chars() {
            match quote {
                Some(q) => {
                    if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    '#' if previous.is_whitespace() => break,
                    '"' | '\'' if at_value => quote = Some(c),
                    '[' | '{' if at_value => {
                        flow += 1;
                        let depth = indents.len() + flow;
                        if depth > MAX_DEPTH {
                            return Err(SpecError {
                                file: path.to_path_buf(),
                                line: Some(number + 1),
                                key: String::new(),
                                message: format!(
                                    "nested more than {MAX_DEPTH} levels deep; an experiment \
                                     file may nest mappings and lists {MAX_DEPTH} levels at most"
                                ),
                            });
                        }
                    }
                    ']' | '}' if flow > 0 => flow -= 1,
                    _ => {}
                },
            }
            if quote.is_none() && !c.is_whitespace() {
                // A flow collection or a quoted scalar starts a value: after
                // a key's colon, a list dash, an opening bracket or a comma.
                at_value = matches!(c, ':' | '-' | '[' | '{' | ',');
            }
            previous = c;
        }
        // Block depth counts nested dashes on one line (`- - a`) too.
        let dashes = trimmed.split(' ').take_while(|s| *s == "-").count();
        if flow == 0 && indents.len() + dashes > MAX_DEPTH {
            return Err(SpecError {
                file: path.to_path_buf(),
                line: Some(number + 1),
                key: String::new(),
                message: format!(
                    "nested more than {MAX_DEPTH} levels deep; an experiment file may nest \
                     mappings and lists {MAX_DEPTH} levels at most"
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(text: &str) -> bool {
        check(Path::new("x.yml"), text).is_ok()
    }

    #[test]
    fn ordinary_files_pass() {
        assert!(depth_ok(
            "name: a # [[[[\njob:\n  parameter: {a: [1, {b: [2]}], s: \"[[[[[\", t: 'x{{{'}\n  labels:\n    - - x\n"
        ));
        assert!(depth_ok("a: b[1]{2}\nc: 'it''s [ ok'\n"));
    }

    #[test]
    fn deep_flow_nesting_is_refused_at_its_line() {
        let deep = format!(
            "name: x\nx: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let err = check(Path::new("x.yml"), &deep).expect_err("too deep");
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("100 levels"), "{err}");
        let mappings = format!("x: {}1{}\n", "{a: ".repeat(150), "}".repeat(150));
        assert!(!depth_ok(&mappings));
        let fine = format!("x: {}1{}\n", "[".repeat(90), "]".repeat(90));
        assert!(depth_ok(&fine));
    }

    #[test]
    fn deep_block_nesting_is_refused() {
        let mut text = String::new();
        for level in 0..120 {
            text.push_str(&" ".repeat(level));
            text.push_str("a:\n");
        }
        assert!(!depth_ok(&text));
    }
}
