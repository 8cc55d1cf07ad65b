//! Per-job limits: what a job may use before the host stops it.
//!
//! Every size a guest controls is capped. Limits are given per experiment
//! (`limits:` in the YAML) or on the command line (`djx exec --timeout`), as
//! human-readable durations (`90s`, `5m`, `1h`, `250ms`) and sizes (`256MiB`,
//! `1GiB`, `10MB`, `4096`).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The limits a job runs under. `Default` gives the documented defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Wall-clock time for one job (epoch interruption).
    #[serde(with = "duration_text")]
    pub timeout: Duration,
    /// Linear memory the guest may grow to, in bytes (all memories together).
    #[serde(with = "size_text")]
    pub memory: u64,
    /// Records one job may emit.
    #[serde(with = "count_text")]
    pub records: u64,
    /// Encoded bytes of one record (event, context, metrics, references).
    #[serde(with = "size_text")]
    pub record_size: u64,
    /// Encoded bytes of all records of one job together.
    #[serde(with = "size_text")]
    pub record_bytes: u64,
    /// Bytes of all artifacts of one job together.
    #[serde(with = "size_text")]
    pub artifact_bytes: u64,
    /// Bytes of the job's log: stdout, stderr and log messages together.
    #[serde(with = "size_text")]
    pub log_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            timeout: Duration::from_secs(15 * 60),
            memory: 2 << 30,
            records: 1_000_000,
            record_size: 1 << 20,
            record_bytes: 256 << 20,
            artifact_bytes: 4 << 30,
            log_bytes: 16 << 20,
        }
    }
}

/// Which limit a job broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// `timeout`
    Timeout,
    /// `memory`
    Memory,
    /// `records`
    Records,
    /// `record_size`
    RecordSize,
    /// `record_bytes`
    RecordBytes,
    /// `artifact_bytes`
    ArtifactBytes,
    /// `log_bytes`
    LogBytes,
}

impl LimitKind {
    /// The limit's key, as written under `limits:` in an experiment file.
    pub fn key(self) -> &'static str {
        match self {
            LimitKind::Timeout => "timeout",
            LimitKind::Memory => "memory",
            LimitKind::Records => "records",
            LimitKind::RecordSize => "record_size",
            LimitKind::RecordBytes => "record_bytes",
            LimitKind::ArtifactBytes => "artifact_bytes",
            LimitKind::LogBytes => "log_bytes",
        }
    }
}

/// A job broke one of its limits. Host functions return this as a trap, and
/// the job's failure reason is its message.
#[derive(Debug, thiserror::Error)]
#[error("limit exceeded: {} = {limit} ({detail})", kind.key())]
pub struct LimitExceeded {
    /// Which limit.
    pub kind: LimitKind,
    /// The limit's value, human-readable.
    pub limit: String,
    /// What the job tried to do.
    pub detail: String,
}

impl LimitExceeded {
    /// A broken size limit of `limit` bytes.
    pub fn bytes(kind: LimitKind, limit: u64, detail: impl Into<String>) -> LimitExceeded {
        LimitExceeded {
            kind,
            limit: format_size(limit),
            detail: detail.into(),
        }
    }
}

/// A limit value that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("invalid {what} {text:?}: {hint}")]
pub struct InvalidLimit {
    what: &'static str,
    text: String,
    hint: &'static str,
}

/// Parses a duration: a number with a unit `ms`, `s`, `m` or `h`; a bare
/// number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, InvalidLimit> {
    let invalid = || InvalidLimit {
        what: "duration",
        text: text.to_owned(),
        hint: "expected e.g. 90s, 5m, 1h, 250ms",
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().map_err(|_| invalid())?;
    let scale = match unit.trim() {
        "ms" => 1e-3,
        "" | "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(invalid()),
    };
    let secs = value * scale;
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(invalid());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses a size in bytes: a number with an optional unit `B`, `KB`, `MB`,
/// `GB` (powers of 1000) or `KiB`, `MiB`, `GiB` (powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, InvalidLimit> {
    let invalid = || InvalidLimit {
        what: "size",
        text: text.to_owned(),
        hint: "expected e.g. 256MiB, 1GiB, 10MB, 4096",
    };
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: u64 = num.parse().map_err(|_| invalid())?;
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return Err(invalid()),
    };
    value.checked_mul(scale).ok_or_else(invalid)
}

/// Formats a byte count with the largest binary unit that divides it.
pub fn format_size(bytes: u64) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    format!("{bytes}B")
}

/// Formats a duration the way `parse_duration` reads it.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Accepts a number (seconds) or a duration string.
mod duration_text {
    use super::*;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(*d))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        match NumberOrText::deserialize(d)? {
            NumberOrText::Number(secs) => parse_duration(&secs.to_string()),
            NumberOrText::Text(text) => parse_duration(&text),
        }
        .map_err(serde::de::Error::custom)
    }
}

/// Accepts a number (bytes) or a size string.
mod size_text {
    use super::*;

    pub fn serialize<S: serde::Serializer>(bytes: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_size(*bytes))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match NumberOrText::deserialize(d)? {
            NumberOrText::Number(n) => parse_size(&n.to_string()),
            NumberOrText::Text(text) => parse_size(&text),
        }
        .map_err(serde::de::Error::custom)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Number(u64),
    Text(String),
}

/// A count: a number, or a string of digits (from the command line).
mod count_text {
    use super::*;

    pub fn serialize<S: serde::Serializer>(n: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(*n)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match NumberOrText::deserialize(d)? {
            NumberOrText::Number(n) => Ok(n),
            NumberOrText::Text(text) => text.trim().parse().map_err(|_| {
                serde::de::Error::custom(format!("invalid count {text:?}: expected a whole number"))
            }),
        }
    }
}

impl fmt::Display for Limits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "timeout={} memory={} records={} record_size={} record_bytes={} artifact_bytes={} log_bytes={}",
            format_duration(self.timeout),
            format_size(self.memory),
            self.records,
            format_size(self.record_size),
            format_size(self.record_bytes),
            format_size(self.artifact_bytes),
            format_size(self.log_bytes),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s").ok(), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("5m").ok(), Some(Duration::from_secs(300)));
        assert_eq!(
            parse_duration("250ms").ok(),
            Some(Duration::from_millis(250))
        );
        assert_eq!(parse_duration("2").ok(), Some(Duration::from_secs(2)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("256MiB").ok(), Some(256 << 20));
        assert_eq!(parse_size("10MB").ok(), Some(10_000_000));
        assert_eq!(parse_size("4096").ok(), Some(4096));
        assert!(parse_size("1.5GiB").is_err());
        assert!(parse_size("99999999999999GiB").is_err());
        assert_eq!(format_size(256 << 20), "256MiB");
        assert_eq!(format_size(1000), "1000B");
    }

    #[test]
    fn yaml_form_round_trips() {
        let limits: Limits =
            serde_json::from_str(r#"{"timeout": "60s", "memory": "256MiB"}"#).expect("parses");
        assert_eq!(limits.timeout, Duration::from_secs(60));
        assert_eq!(limits.memory, 256 << 20);
        assert_eq!(limits.records, Limits::default().records);
        let text = serde_json::to_string(&limits).expect("serialises");
        let back: Limits = serde_json::from_str(&text).expect("round trip");
        assert_eq!(back, limits);
    }

    #[test]
    fn unknown_limit_is_an_error() {
        let err = serde_json::from_str::<Limits>(r#"{"cpu": 2}"#).expect_err("unknown key");
        assert!(err.to_string().contains("unknown field `cpu`"), "{err}");
    }
}
