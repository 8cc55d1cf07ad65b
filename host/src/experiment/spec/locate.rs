//! Finds the line of a key path in block-style YAML text, for error
//! messages. serde_yaml reports lines for structural errors; checks that run
//! after parsing (an unequal zip list, a missing file) use this.
//!
//! Block style only: a path that goes through flow style (`{a: 1}`) yields
//! the line of its deepest block-style ancestor, which is still near.

/// One step of a key path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seg<'a> {
    /// A mapping key.
    Key(&'a str),
    /// A sequence index.
    Index(usize),
}

#[derive(Clone, Copy)]
struct Line<'a> {
    number: usize,
    indent: usize,
    text: &'a str,
}

/// The 1-based line of `path` in `yaml`, or of its deepest ancestor found.
pub fn locate(yaml: &str, path: &[Seg<'_>]) -> Option<usize> {
    let lines: Vec<Line<'_>> = yaml
        .lines()
        .enumerate()
        .filter_map(|(i, raw)| {
            let text = raw.trim_start();
            if text.is_empty() || text.starts_with('#') || text == "---" {
                return None;
            }
            Some(Line {
                number: i + 1,
                indent: raw.len() - text.len(),
                text,
            })
        })
        .collect();
    let mut block: Vec<Line<'_>> = lines;
    let mut found = None;
    for seg in path {
        let Some((line, rest)) = find(&block, *seg) else {
            break;
        };
        found = Some(line.number);
        block = rest;
    }
    found
}

/// Finds `seg` among the lines of a block (all of which belong to one
/// parent); returns its line and the lines of its own block.
fn find<'a>(block: &[Line<'a>], seg: Seg<'_>) -> Option<(Line<'a>, Vec<Line<'a>>)> {
    let base = block.first()?.indent;
    let mut index = 0;
    for (i, line) in block.iter().enumerate() {
        if line.indent != base {
            continue;
        }
        let hit = match seg {
            Seg::Key(key) => key_of(line.text) == Some(key),
            Seg::Index(want) => {
                if !line.text.starts_with('-') {
                    continue;
                }
                index += 1;
                index - 1 == want
            }
        };
        if !hit {
            continue;
        }
        // The child block: the rest of this line (after `key:` or `- `) and
        // the following lines indented deeper.
        let mut child = Vec::new();
        let rest = match seg {
            Seg::Key(_) => line.text.split_once(':').map(|(_, r)| r).unwrap_or(""),
            Seg::Index(_) => &line.text[1..],
        };
        let trimmed = rest.trim_start();
        if !trimmed.is_empty() && !trimmed.starts_with('#') && matches!(seg, Seg::Index(_)) {
            child.push(Line {
                number: line.number,
                indent: line.indent + 1 + (rest.len() - trimmed.len()),
                text: trimmed,
            });
        }
        child.extend(
            block[i + 1..]
                .iter()
                .take_while(|l| l.indent > base)
                .copied(),
        );
        return Some((*line, child));
    }
    None
}

/// The key of a `key: value` line, unquoted.
fn key_of(text: &str) -> Option<&str> {
    let text = text.trim_start_matches(['-', ' ']);
    let (key, _) = text.split_once(':')?;
    let key = key.trim();
    Some(
        key.strip_prefix('"')
            .and_then(|k| k.strip_suffix('"'))
            .or_else(|| key.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')))
            .unwrap_or(key),
    )
}

#[cfg(test)]
mod tests {
    use super::Seg::*;
    use super::*;

    const DOC: &str = "\
project: p
data:
  iris: data/iris.csv
  other: {source: x}
experiment:
  grid:
    - parameter.a: [1, 2]
      labels.b: [1]
    # a comment
    - - parameter.c: 1
      - parameter.c: 2
        labels.d: x
";

    #[test]
    fn finds_keys_and_items() {
        assert_eq!(locate(DOC, &[Key("data"), Key("iris")]), Some(3));
        assert_eq!(locate(DOC, &[Key("data"), Key("other")]), Some(4));
        assert_eq!(
            locate(DOC, &[Key("experiment"), Key("grid"), Index(0)]),
            Some(7)
        );
        assert_eq!(
            locate(
                DOC,
                &[Key("experiment"), Key("grid"), Index(0), Key("labels.b")]
            ),
            Some(8)
        );
        assert_eq!(
            locate(DOC, &[Key("experiment"), Key("grid"), Index(1)]),
            Some(10)
        );
        assert_eq!(
            locate(DOC, &[Key("experiment"), Key("grid"), Index(1), Index(1)]),
            Some(11)
        );
        assert_eq!(
            locate(
                DOC,
                &[
                    Key("experiment"),
                    Key("grid"),
                    Index(1),
                    Index(1),
                    Key("labels.d")
                ]
            ),
            Some(12)
        );
    }

    #[test]
    fn falls_back_to_the_deepest_ancestor() {
        assert_eq!(
            locate(DOC, &[Key("data"), Key("other"), Key("source")]),
            Some(4)
        );
        assert_eq!(locate(DOC, &[Key("nope")]), None);
    }
}
