//! Query parameters, checked before anything is read: unknown names,
//! repeated ones, numbers out of range and malformed sorts and filters are
//! a 400 that says what is wrong.
//!
//! The job table takes `offset`, `limit`, `sort` (a column, `-column` for
//! descending), `filter` (repeatable: `column OP value`, OP one of `=`,
//! `!=`, `<`, `<=`, `>`, `>=`, `~` for contains) and `agg` (how a metric
//! recorded several times is shown); `group` (repeatable, or comma
//! separated: the columns to group by, one row per group) and `spread`
//! (the grouped plots' error bars: `std`, `sem` or `minmax`).

use std::fmt::Write as _;

use super::error::WebError;
use crate::views::agg::Aggregate;
use crate::views::groups::Spread;

/// The most rows one page of the job table holds.
pub const MAX_LIMIT: usize = 1000;
/// Rows per page unless `limit=` says otherwise.
pub const DEFAULT_LIMIT: usize = 100;

/// A request's query parameters, in order.
#[derive(Clone, Debug, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// Refuses names other than `known` (`token` is always allowed: the
    /// token guard reads it).
    pub fn only(&self, known: &[&str]) -> Result<&Params, WebError> {
        for (name, _) in &self.0 {
            if name != "token" && !known.contains(&name.as_str()) {
                return Err(WebError::BadRequest(format!(
                    "unknown query parameter {name:?}; this page takes {}",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                )));
            }
        }
        Ok(self)
    }

    /// The value of `name`, if given; given twice is an error.
    pub fn one(&self, name: &str) -> Result<Option<&str>, WebError> {
        match self.all(name)[..] {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            _ => Err(WebError::BadRequest(format!("{name}= is given twice"))),
        }
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `name` as a whole number in `min..=max`, or `default`.
    pub fn number(
        &self,
        name: &str,
        default: usize,
        min: usize,
        max: usize,
    ) -> Result<usize, WebError> {
        let Some(text) = self.one(name)? else {
            return Ok(default);
        };
        match text.parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(WebError::BadRequest(format!(
                "{name}={text:?} is not a whole number from {min} to {max}"
            ))),
        }
    }

    /// The columns named by every `name=` (each may list several,
    /// separated by commas), in order, without repeats.
    pub fn columns(&self, name: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for value in self.all(name) {
            for column in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                if !out.iter().any(|c| c == column) {
                    out.push(column.to_owned());
                }
            }
        }
        out
    }

    /// `spread=`, or the default (`std`).
    pub fn spread(&self) -> Result<Spread, WebError> {
        self.one("spread")?
            .map_or(Ok(Spread::default()), str::parse)
            .map_err(WebError::BadRequest)
    }

    /// `agg=`, or the default (`last`).
    pub fn agg(&self) -> Result<Aggregate, WebError> {
        self.one("agg")?
            .map_or(Ok(Aggregate::default()), str::parse)
            .map_err(WebError::BadRequest)
    }
}

/// A filter's comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `~`: contains, ignoring case.
    Contains,
}

impl Op {
    /// The operators, longest first (so `<=` is not read as `<`).
    const TEXT: [(&'static str, Op); 7] = [
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("=", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
        ("~", Op::Contains),
    ];

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        Op::TEXT
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("=", |(text, _)| text)
    }
}

/// One filter: `column OP value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    /// The column (`status`, `labels.x`, `metrics.loss`, ...).
    pub column: String,
    /// The comparison.
    pub op: Op,
    /// The value compared with.
    pub value: String,
}

impl Filter {
    /// Parses `column OP value`.
    pub fn parse(text: &str) -> Result<Filter, WebError> {
        let found = text
            .char_indices()
            .find_map(|(i, _)| {
                Op::TEXT
                    .iter()
                    .find(|(op, _)| text[i..].starts_with(op))
                    .map(|(op, kind)| (i, op.len(), *kind))
            })
            // A column of only spaces names nothing (and would write back
            // as a filter that does not parse).
            .filter(|(i, _, _)| !text[..*i].trim().is_empty());
        let Some((at, len, op)) = found else {
            return Err(WebError::BadRequest(format!(
                "filter={text:?} is not COLUMN OP VALUE (OP one of = != < <= > >= ~), \
                 e.g. filter=status=FINISHED or filter=metrics.loss<0.1"
            )));
        };
        Ok(Filter {
            column: text[..at].trim().to_owned(),
            op,
            value: text[at + len..].trim().to_owned(),
        })
    }

    /// The filter as written.
    pub fn text(&self) -> String {
        format!("{}{}{}", self.column, self.op.as_str(), self.value)
    }
}

/// A sort: a column, ascending or descending.
#[derive(Clone, Debug, PartialEq)]
pub struct Sort {
    /// The column.
    pub column: String,
    /// Descending (`sort=-column`).
    pub desc: bool,
}

impl Sort {
    /// The sort as written in `sort=`.
    pub fn text(&self) -> String {
        format!("{}{}", if self.desc { "-" } else { "" }, self.column)
    }
}

/// What the job table is asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct JobsQuery {
    /// Rows to skip.
    pub offset: usize,
    /// Rows to give.
    pub limit: usize,
    /// The order (grid order when `None`).
    pub sort: Option<Sort>,
    /// Every filter must hold.
    pub filters: Vec<Filter>,
    /// How metrics recorded several times are shown.
    pub agg: Aggregate,
    /// The columns to group by (none: one row per job).
    pub group: Vec<String>,
    /// The grouped plots' error bars.
    pub spread: Spread,
}

impl Default for JobsQuery {
    fn default() -> JobsQuery {
        JobsQuery {
            offset: 0,
            limit: DEFAULT_LIMIT,
            sort: None,
            filters: Vec::new(),
            agg: Aggregate::default(),
            group: Vec::new(),
            spread: Spread::default(),
        }
    }
}

/// The names [`JobsQuery::parse`] reads.
pub const JOBS_PARAMS: [&str; 7] = [
    "offset", "limit", "sort", "filter", "agg", "group", "spread",
];

impl JobsQuery {
    /// Reads the job table's parameters (the caller checks for others).
    pub fn parse(p: &Params) -> Result<JobsQuery, WebError> {
        let sort = match p.one("sort")? {
            None | Some("") => None,
            Some(text) => {
                let (desc, column) = match text.strip_prefix('-') {
                    Some(column) => (true, column),
                    None => (false, text),
                };
                if column.is_empty() {
                    return Err(WebError::BadRequest("sort=- names no column".into()));
                }
                Some(Sort {
                    column: column.to_owned(),
                    desc,
                })
            }
        };
        Ok(JobsQuery {
            offset: p.number("offset", 0, 0, usize::MAX >> 1)?,
            limit: p.number("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)?,
            sort,
            filters: p
                .all("filter")
                .into_iter()
                .filter(|f| !f.trim().is_empty())
                .map(Filter::parse)
                .collect::<Result<_, _>>()?,
            agg: p.agg()?,
            group: p.columns("group"),
            spread: p.spread()?,
        })
    }

    /// The query string that asks for this (without `?`), leaving out
    /// defaults.
    pub fn to_query(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(sort) = &self.sort {
            pairs.push(("sort", sort.text()));
        }
        for f in &self.filters {
            pairs.push(("filter", f.text()));
        }
        if self.agg != Aggregate::default() {
            pairs.push(("agg", self.agg.to_string()));
        }
        if !self.group.is_empty() {
            pairs.push(("group", self.group.join(",")));
        }
        if self.spread != Spread::default() {
            pairs.push(("spread", self.spread.to_string()));
        }
        if self.offset > 0 {
            pairs.push(("offset", self.offset.to_string()));
        }
        if self.limit != DEFAULT_LIMIT {
            pairs.push(("limit", self.limit.to_string()));
        }
        encode_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
    }
}

/// `k=v&k=v`, each part percent-encoded.
pub fn encode_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        encode_into(&mut out, k);
        out.push('=');
        encode_into(&mut out, v);
    }
    out
}

/// Appends `text` percent-encoded for a URL query or path segment.
pub fn encode_into(out: &mut String, text: &str) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// Found by the property test of the query parsers: a column of only
    /// spaces was accepted, and written back as a filter that does not
    /// parse.
    #[test]
    fn a_filter_names_a_column() {
        for text in [">=4", " >=4", "  = x", "\t~a"] {
            assert!(Filter::parse(text).is_err(), "{text:?}");
        }
        let f = Filter::parse(" labels.x >= 4 ").expect("valid");
        assert_eq!(f.text(), "labels.x>=4");
        assert_eq!(Filter::parse(&f.text()).expect("again"), f);
    }

    #[test]
    fn parses_the_job_table_query() {
        let p = params(&[
            ("sort", "-metrics.acc"),
            ("filter", "labels.depth>=4"),
            ("filter", "status=FINISHED"),
            ("filter", ""),
            ("agg", "max"),
            ("group", "labels.depth, labels.width"),
            ("group", "labels.depth"),
            ("spread", "sem"),
            ("offset", "100"),
            ("limit", "50"),
        ]);
        let q = JobsQuery::parse(&p).expect("valid");
        assert_eq!(
            q.sort,
            Some(Sort {
                column: "metrics.acc".into(),
                desc: true
            })
        );
        assert_eq!(q.filters.len(), 2);
        assert_eq!(q.filters[0].op, Op::Ge);
        assert_eq!(q.filters[0].value, "4");
        assert_eq!(q.agg, Aggregate::Max);
        assert_eq!((q.offset, q.limit), (100, 50));
        assert_eq!(q.group, ["labels.depth", "labels.width"]);
        assert_eq!(q.spread, Spread::Sem);
        let again = JobsQuery::parse(&params(
            &url_pairs(&q.to_query())
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        ))
        .expect("round trip");
        assert_eq!(again, q);
    }

    fn url_pairs(query: &str) -> Vec<(String, String)> {
        let decode = |s: &str| {
            let bytes = s.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).expect("hex"));
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).expect("utf-8")
        };
        query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect()
    }

    #[test]
    fn bad_values_are_400s_that_say_why() {
        let bad = |pairs: &[(&str, &str)]| {
            let message = JobsQuery::parse(&params(pairs))
                .expect_err("invalid")
                .to_string();
            assert!(!message.is_empty());
            message
        };
        assert!(bad(&[("limit", "0")]).contains("limit"));
        assert!(bad(&[("limit", "1001")]).contains("1000"));
        assert!(bad(&[("offset", "-1")]).contains("offset"));
        assert!(bad(&[("agg", "median")]).contains("median"));
        assert!(bad(&[("filter", "no operator")]).contains("COLUMN OP VALUE"));
        assert!(bad(&[("filter", "=4")]).contains("COLUMN OP VALUE"));
        assert!(bad(&[("sort", "a"), ("sort", "b")]).contains("twice"));
        assert!(params(&[("x", "1")]).only(&JOBS_PARAMS).is_err());
        assert!(params(&[("token", "1")]).only(&JOBS_PARAMS).is_ok());
    }

    #[test]
    fn operators_are_read_longest_first() {
        let f = Filter::parse("metrics.loss<=0.5").expect("valid");
        assert_eq!(
            (f.column.as_str(), f.op, f.value.as_str()),
            ("metrics.loss", Op::Le, "0.5")
        );
        let f = Filter::parse("labels.name~Ab").expect("valid");
        assert_eq!(f.op, Op::Contains);
        assert_eq!(Filter::parse("status!=FAILED").expect("valid").op, Op::Ne);
    }
}
