//! Property and fuzz-style tests of what parses untrusted input: the
//! experiment parser (with `extends:`), grid expansion, the canonical form
//! and the UI's query parsers. Each draws a fixed number of cases from a
//! seeded generator (splitmix64), so a run is repeatable and bounded; a
//! failure prints the case. `DJX_PROPERTY_CASES` multiplies the counts for
//! a longer run (`DJX_PROPERTY_CASES=20 cargo test --release properties`).

use std::panic::{AssertUnwindSafe, catch_unwind};

use djx_host::content::canonical;
use djx_host::experiment::spec::grid::{Grid, expand};
use djx_host::experiment::spec::parse_str;
use djx_host::web::error::WebError;
use djx_host::web::query::{Filter, JobsQuery, Params};
use serde_json::{Value, json};

use crate::support::TestDir;

/// A small, seeded generator: splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// How many cases: `base` times `DJX_PROPERTY_CASES` (1 by default).
fn cases(base: u64) -> u64 {
    let factor = std::env::var("DJX_PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1);
    base * factor.max(1)
}

const KEYS: &[&str] = &[
    "name",
    "project",
    "module",
    "data",
    "iris",
    "source",
    "timestamp",
    "job",
    "labels",
    "parameter",
    "experiment",
    "grid",
    "random",
    "samples",
    "seed",
    "space",
    "method",
    "halving",
    "budget",
    "eta",
    "min",
    "max",
    "limits",
    "timeout",
    "memory",
    "records",
    "max_jobs",
    "extends",
    "save",
    "int",
    "intlog",
    "uniform",
    "loguniform",
    "choice",
    "labels.fold",
    "parameter.lr",
    "parameter.a.b",
    "labels",
    "x",
];

const SCALARS: &[&str] = &[
    "1",
    "0",
    "-1",
    "1.0",
    "-0.0",
    "1e3",
    "1.5e-7",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "9007199254740993",
    "0x10",
    "0o7",
    "true",
    "False",
    "null",
    "~",
    ".inf",
    "-.inf",
    ".nan",
    "'a: b'",
    "\"q\\\"uote\"",
    "\"\\u0000\"",
    "[]",
    "{}",
    "[1, 2]",
    "{a: 1}",
    "60s",
    "90m",
    "256MiB",
    "0B",
    "abc",
    "'<img src=x onerror=alert(1)>'",
    "é",
    "data/iris.csv",
    "job.wasm",
    "../x.yml",
    "&a 1",
    "*a",
    "!!str 5",
    "!!int x",
    "|\n  text",
    ">-\n  folded",
    "-",
    "?",
    "#c",
];

/// A random YAML value at `depth`, indented by `indent` spaces.
fn value(rng: &mut Rng, depth: u32, indent: usize) -> String {
    let kinds = if depth > 3 { 1 } else { 5 };
    match rng.below(kinds) {
        0 | 4 => (*rng.pick(SCALARS)).to_owned(),
        1 => {
            let n = rng.below(4);
            let items: Vec<String> = (0..n).map(|_| (*rng.pick(SCALARS)).to_owned()).collect();
            format!("[{}]", items.join(", "))
        }
        2 => {
            let pad = " ".repeat(indent + 2);
            let mut out = String::new();
            for _ in 0..=rng.below(3) {
                let key = rng.pick(KEYS);
                out.push_str(&format!(
                    "\n{pad}{key}: {}",
                    value(rng, depth + 1, indent + 2)
                ));
            }
            out
        }
        _ => {
            let pad = " ".repeat(indent + 2);
            let mut out = String::new();
            for _ in 0..=rng.below(3) {
                out.push_str(&format!("\n{pad}- {}", value(rng, depth + 1, indent + 4)));
            }
            out
        }
    }
}

/// Scalars that are valid YAML on their own.
const PLAIN: &[&str] = &[
    "1",
    "0",
    "-1",
    "1.0",
    "-0.0",
    "1e3",
    "2.5",
    "true",
    "null",
    "abc",
    "'a: b'",
    "\"x#y\"",
    "18446744073709551615",
    "9007199254740993",
    "é",
    "[1, 2.0]",
    "{k: v}",
];

/// An experiment file that is mostly right: the keys djx knows, in the
/// places it knows them, with values of any type.
fn plausible(rng: &mut Rng) -> String {
    let s = |rng: &mut Rng| (*rng.pick(PLAIN)).to_owned();
    let mut text = String::from("name: n\nmodule: job.wasm\n");
    if rng.chance(20) {
        text.push_str("extends: x.yml\n");
    }
    if rng.chance(70) {
        text.push_str(&format!(
            "job:\n  labels: {{a: {}}}\n  parameter:\n    lr: {}\n    b: {{c: {}}}\n",
            s(rng),
            s(rng),
            s(rng)
        ));
    }
    if rng.chance(30) {
        text.push_str(&format!(
            "limits: {{timeout: {}, memory: {}}}\n",
            rng.pick(&["60s", "1h", "5", "x"]),
            rng.pick(&["256MiB", "1GiB", "0", "-1"])
        ));
    }
    match rng.below(3) {
        0 => {
            text.push_str("experiment:\n  grid:\n");
            for i in 0..=rng.below(3) {
                let root = *rng.pick(&["labels", "parameter", "job", "x"]);
                let items: Vec<String> = (0..rng.below(4)).map(|_| s(rng)).collect();
                text.push_str(&format!("    - {root}.k{i}: [{}]\n", items.join(", ")));
            }
        }
        1 => {
            text.push_str(&format!(
                "experiment:\n  random:\n    samples: {}\n    seed: {}\n    space:\n",
                rng.pick(&["1", "3", "0", "-2", "x"]),
                s(rng)
            ));
            for i in 0..=rng.below(2) {
                let dist =
                    *rng.pick(&["int", "intlog", "uniform", "loguniform", "choice", "sobol"]);
                text.push_str(&format!(
                    "      parameter.p{i}: {{{dist}: [{}, {}]}}\n",
                    s(rng),
                    s(rng)
                ));
            }
        }
        _ => {}
    }
    text
}

/// A random experiment file, often mangled.
fn document(rng: &mut Rng) -> String {
    let mut text = String::new();
    if rng.chance(60) {
        text = plausible(rng);
    } else {
        for _ in 0..rng.below(7) {
            let key = rng.pick(KEYS);
            text.push_str(&format!("{key}: {}\n", value(rng, 0, 0)));
        }
    }
    if rng.chance(30) && !text.is_empty() {
        // Cut at a character boundary.
        let mut at = rng.below(text.len() as u64) as usize;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.truncate(at);
    }
    if rng.chance(30) {
        let junk = [
            " ", "\t", ":", "\n", "-", "[", "]", "{", "}", "#", "&", "*", "!", "|", ">", "'", "\"",
            "%", "@", "`", ",", "\u{feff}", "\u{0}",
        ];
        for _ in 0..=rng.below(3) {
            let mut at = rng.below(text.len() as u64 + 1) as usize;
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let piece: &str = rng.pick::<&str>(&junk);
            text.insert_str(at, piece);
        }
    }
    text
}

/// The experiment parser never panics, whatever the text; every error
/// names the file, and a line inside it when it names one; what parses
/// expands without panicking, into as many jobs as the grid counts.
#[test]
fn the_experiment_parser_never_panics_and_every_error_names_its_file() {
    let t = TestDir::new();
    // A base file for `extends:` to find, and one that is not YAML.
    std::fs::write(
        t.path().join("x.yml"),
        "name: base\nmodule: job.wasm\njob: {parameter: {lr: 0.1}}\n",
    )
    .expect("write");
    let path = t.path().join("exp.yml");
    let mut rng = Rng(0x5EED_0001);
    let (mut parsed_ok, mut failed) = (0u64, 0u64);
    for case in 0..cases(10_000) {
        let text = document(&mut rng);
        let lines = text.lines().count().max(1);
        let result = catch_unwind(AssertUnwindSafe(|| parse_str(&path, text.clone())));
        let Ok(result) = result else {
            panic!("case {case}: the parser panicked on\n{text}");
        };
        let parsed = match result {
            Err(e) => {
                failed += 1;
                assert!(
                    e.file == path || e.file.parent() == Some(t.path()),
                    "case {case}: the error names {} in\n{text}",
                    e.file.display()
                );
                let shown = e.to_string();
                assert!(
                    shown.starts_with(&e.file.display().to_string()),
                    "case {case}: {shown}"
                );
                if let (Some(line), true) = (e.line, e.file == path) {
                    assert!(
                        (1..=lines + 1).contains(&line),
                        "case {case}: line {line} of {lines}: {shown}\n{text}"
                    );
                }
                continue;
            }
            Ok(parsed) => parsed,
        };
        parsed_ok += 1;
        let expanded = catch_unwind(AssertUnwindSafe(|| {
            let grid = Grid::new(&parsed, 1000)?;
            let jobs: Result<Vec<_>, _> = grid.jobs(&parsed).collect();
            jobs.map(|jobs| (grid.len(), jobs.len() as u64))
        }));
        match expanded {
            Err(_) => panic!("case {case}: expansion panicked on\n{text}"),
            Ok(Ok((count, made))) => assert_eq!(count, made, "case {case}:\n{text}"),
            Ok(Err(_)) => {}
        }
    }
    eprintln!("experiment parser: {parsed_ok} files parsed, {failed} refused");
    // The generator must reach both sides, or the property says little.
    assert!(
        parsed_ok > 0 && failed > 0,
        "parsed {parsed_ok}, refused {failed}"
    );
}

/// A random value for a grid list: integers, floats (1 and 1.0 are
/// distinct values), strings and small mappings, each list without
/// repeats.
fn grid_values(rng: &mut Rng, n: u64) -> Vec<Value> {
    let kind = rng.below(4);
    (0..n)
        .map(|i| match kind {
            0 => json!(i as i64 * 7 - 3),
            1 => json!(i as f64 * 0.5 + 0.25),
            2 => json!(format!("s{i}: '#")),
            _ if i % 2 == 0 => json!(i / 2),
            _ => json!((i / 2) as f64),
        })
        .collect()
}

/// Grid expansion: as many jobs as the product of the entries' lengths
/// (zipped keys count once), every job different, and every value where
/// its key says; `1` and `1.0` in one list are two jobs.
#[test]
fn grid_expansion_counts_the_product_and_makes_every_job_once() {
    let t = TestDir::new();
    let path = t.path().join("grid.yml");
    let mut rng = Rng(0x5EED_0002);
    for case in 0..cases(1000) {
        let mut text = String::from(
            "name: g\nmodule: job.wasm\njob: {labels: {}, parameter: {}}\nexperiment:\n  grid:\n",
        );
        let mut product = 1u64;
        let mut expected: Vec<(String, Vec<Value>)> = Vec::new();
        for entry in 0..=rng.below(3) {
            let n = 1 + rng.below(4);
            product *= n;
            for zipped in 0..=rng.below(2) {
                let root = if rng.chance(50) {
                    "labels"
                } else {
                    "parameter"
                };
                let key = format!("{root}.k{entry}_{zipped}");
                let values = grid_values(&mut rng, n);
                let list = serde_json::to_string(&values).expect("json");
                let dash = if zipped == 0 { "-" } else { " " };
                text.push_str(&format!("    {dash} {key}: {list}\n"));
                expected.push((key, values));
            }
        }
        let parsed =
            parse_str(&path, text.clone()).unwrap_or_else(|e| panic!("case {case}: {e}\n{text}"));
        let jobs = expand(&parsed).unwrap_or_else(|e| panic!("case {case}: {e}\n{text}"));
        assert_eq!(jobs.len() as u64, product, "case {case}:\n{text}");
        let mut seen = std::collections::BTreeSet::new();
        for job in &jobs {
            let whole = json!({"labels": job.labels, "parameter": job.parameter});
            assert!(
                seen.insert(canonical::to_string(&whole)),
                "case {case}: a job twice: {whole}\n{text}"
            );
            for (key, values) in &expected {
                let (root, leaf) = key.split_once('.').expect("dotted");
                let got = &whole[root][leaf];
                assert!(
                    values
                        .iter()
                        .any(|v| v == got && v.is_f64() == got.is_f64()),
                    "case {case}: {key} = {got}, not one of {values:?}"
                );
            }
        }
    }
}

/// A random JSON value: integers across the 64-bit ranges, floats
/// including -0.0 and values that are whole numbers, strings, nesting.
fn json_value(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth > 3 { 5 } else { 7 }) {
        0 => json!(rng.next() as i64),
        1 => json!(rng.next()),
        2 => {
            let f = f64::from_bits(rng.next());
            if f.is_finite() { json!(f) } else { json!(-0.0) }
        }
        3 => json!((rng.below(2000) as f64 - 1000.0) / 4.0),
        4 => json!(format!("k{}\u{e9}\"", rng.below(50))),
        5 => Value::Array(
            (0..rng.below(4))
                .map(|_| json_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.below(4))
                .map(|i| {
                    (
                        format!("k{}", (i * 7 + rng.below(5)) % 9),
                        json_value(rng, depth + 1),
                    )
                })
                .collect(),
        ),
    }
}

/// The canonical form: the same text after a round trip through JSON, the
/// same value when normalised twice, and an integer never equal to the
/// float of the same value.
#[test]
fn the_canonical_form_round_trips_and_keeps_integers_and_floats_apart() {
    let mut rng = Rng(0x5EED_0003);
    for case in 0..cases(10_000) {
        let v = json_value(&mut rng, 0);
        let text = canonical::to_string(&v);
        let back: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("case {case}: {e}: {text}"));
        assert_eq!(canonical::to_string(&back), text, "case {case}: {v}");
        assert_eq!(
            canonical::normalize(&canonical::normalize(&v)),
            canonical::normalize(&v),
            "case {case}"
        );
        let n = rng.below(1 << 53) as i64 - (1 << 52);
        assert_ne!(
            canonical::to_string(&json!(n)),
            canonical::to_string(&json!(n as f64)),
            "case {case}: {n}"
        );
    }
}

/// Random text for a query value.
fn query_text(rng: &mut Rng) -> String {
    const PARTS: &[&str] = &[
        "id",
        "status",
        "labels.fold",
        "metrics.acc",
        "parameter.lr",
        "-",
        "=",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "~",
        "0",
        "1e308",
        "-1",
        "99999999999999999999999",
        "NaN",
        "null",
        "mean",
        "last",
        " ",
        "%",
        "\u{0}",
        "é",
        ".",
        "..",
        "labels.",
        "metrics.",
        ",",
    ];
    (0..rng.below(5)).map(|_| *rng.pick(PARTS)).collect()
}

/// The UI's query parsers: whatever the query, a page of jobs or a 400,
/// never a panic or a 500.
#[test]
fn the_ui_query_parsers_answer_every_query_with_a_page_or_a_400() {
    let mut rng = Rng(0x5EED_0004);
    let names = [
        "offset", "limit", "sort", "filter", "agg", "metric", "x", "", "token",
    ];
    for case in 0..cases(10_000) {
        let filter = query_text(&mut rng);
        match catch_unwind(|| Filter::parse(&filter)) {
            Err(_) => panic!("case {case}: Filter::parse panicked on {filter:?}"),
            Ok(Err(WebError::BadRequest(_)) | Ok(_)) => {}
            Ok(Err(e)) => panic!("case {case}: {filter:?} gave {e:?}, not a 400"),
        }
        let pairs: Vec<(String, String)> = (0..rng.below(5))
            .map(|_| ((*rng.pick(&names)).to_owned(), query_text(&mut rng)))
            .collect();
        let params = Params(pairs.clone());
        match catch_unwind(AssertUnwindSafe(|| JobsQuery::parse(&params))) {
            Err(_) => panic!("case {case}: JobsQuery::parse panicked on {pairs:?}"),
            Ok(Ok(query)) => {
                // What parses can be written back and parses the same.
                let again: Vec<(String, String)> =
                    url_pairs(&query.to_query()).into_iter().collect();
                let reparsed = JobsQuery::parse(&Params(again))
                    .unwrap_or_else(|e| panic!("case {case}: {pairs:?} → {e}"));
                assert_eq!(reparsed.to_query(), query.to_query(), "case {case}");
            }
            Ok(Err(WebError::BadRequest(message))) => {
                assert!(!message.is_empty(), "case {case}: a 400 with no message");
            }
            Ok(Err(e)) => panic!("case {case}: {pairs:?} gave {e:?}, not a 400"),
        }
    }
}

/// The pairs of an encoded query string.
fn url_pairs(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let bytes = s.replace('+', " ").into_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let hex = bytes.get(i + 1..i + 3).map(String::from_utf8_lossy);
            if bytes[i] == b'%'
                && let Some(Ok(b)) = hex.map(|h| u8::from_str_radix(&h, 16))
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The helper above decodes what `encode_pairs` writes.
#[test]
fn url_pairs_decodes_the_ui_encoding() {
    let pairs = [("filter", "labels.x>=4 & é%"), ("sort", "-metrics.acc")];
    let encoded = djx_host::web::query::encode_pairs(pairs.iter().copied());
    let decoded = url_pairs(&encoded);
    let want: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(decoded, want, "{encoded}");
}
