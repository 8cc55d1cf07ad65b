//! The Slurm options of a submission, checked before anything is
//! submitted: [`SlurmOptions`] holds what the user typed, [`SlurmJob`] adds
//! what follows from the experiments and the store (memory, environment,
//! paths) and is all the script is written from.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::ClusterError;
use crate::content::layout::Layout;
use crate::run::signals::WARNING_LEAD;
use crate::runtime::limits::parse_duration;
use crate::store::Experiment;
use crate::store::postgres::PgConfig;

/// Memory a worker process needs beside its jobs' linear memories (the
/// engine, compiled code, record buffers), per task.
pub const HEADROOM_MIB: u64 = 512;

/// sbatch options djx writes itself; `--sbatch` may not set them.
const OWN_OPTIONS: &[(&str, &str)] = &[
    ("--array", "--workers"),
    ("-a", "--workers"),
    ("--cpus-per-task", "--slots"),
    ("-c", "--slots"),
    ("--time", "djx submit's --time"),
    ("-t", "djx submit's --time"),
    ("--partition", "djx submit's --partition"),
    ("-p", "djx submit's --partition"),
    ("--account", "djx submit's --account"),
    ("-A", "djx submit's --account"),
    ("--output", "the log files .djx/slurm/<jobid>_<task>.log"),
    ("-o", "the log files .djx/slurm/<jobid>_<task>.log"),
    ("--error", "the log files .djx/slurm/<jobid>_<task>.log"),
    ("-e", "the log files .djx/slurm/<jobid>_<task>.log"),
    (
        "--signal",
        "the warning signal djx handles (see the README)",
    ),
    ("--chdir", "the working directory of djx submit"),
    ("-D", "the working directory of djx submit"),
    ("--export", "--export=ALL, which passes the password on"),
    ("--parsable", "djx submit"),
    ("--wrap", "djx's script"),
];

/// sbatch's short options that take an argument: in a cluster such as
/// `-Jname`, what follows one is its argument (`sbatch --help`, Slurm 22.05).
const SHORT_WITH_ARGUMENT: &str = "aAbBcCdDeFGiJLmMnNopqStwx";
/// Its short options without one: a cluster goes on after them (`-Qo`).
const SHORT_FLAGS: &str = "hHkOQsvVW";

/// The option of djx's own that `arg` (one `--sbatch` value) sets, as
/// sbatch's parser (getopt_long) reads it: a long option by any prefix of
/// its name (`--sig=` is `--signal=`), a short one anywhere in a cluster
/// of flags (`-Qo/x` is `-Q -o /x`). `Err` names a short option djx does
/// not know, which it cannot check.
fn own_option(arg: &str) -> Result<Option<&'static (&'static str, &'static str)>, String> {
    let name = arg.split_once('=').map_or(arg, |(name, _)| name);
    if let Some(long) = name.strip_prefix("--") {
        return Ok(OWN_OPTIONS.iter().find(|(own, _)| {
            !long.is_empty() && own.strip_prefix("--").is_some_and(|o| o.starts_with(long))
        }));
    }
    for c in arg.chars().skip(1) {
        if let Some(own) = OWN_OPTIONS
            .iter()
            .find(|(own, _)| own.strip_prefix('-') == Some(c.encode_utf8(&mut [0; 4])))
        {
            return Ok(Some(own));
        }
        if SHORT_WITH_ARGUMENT.contains(c) {
            return Ok(None);
        }
        if !SHORT_FLAGS.contains(c) {
            return Err(format!(
                "-{c} is not a short sbatch option djx knows; write its long form (--name=value)"
            ));
        }
    }
    Ok(None)
}

/// A Slurm time limit, as sbatch takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlurmTime {
    /// The text for `--time` (`D-HH:MM:SS`, or Slurm's own form as typed).
    pub slurm: String,
    /// The limit, when djx can tell it.
    pub limit: Option<Duration>,
}

impl SlurmTime {
    /// From djx's durations (`90m`, `2h`, `1d`) or Slurm's own forms
    /// (`1:30:00`, `2-00:00:00`, `UNLIMITED`). A bare number is refused: it
    /// is minutes to Slurm and seconds to djx.
    pub fn parse(text: &str) -> Result<SlurmTime, ClusterError> {
        let bad = |message: String| ClusterError::Option {
            option: format!("--time {text}"),
            message,
        };
        let t = text.trim();
        if matches!(t, "UNLIMITED" | "unlimited" | "INFINITE" | "infinite") {
            return Ok(SlurmTime {
                slurm: "UNLIMITED".into(),
                limit: None,
            });
        }
        if t.contains(':') || t.contains('-') {
            let (days, clock) = match t.split_once('-') {
                Some((d, c)) => (Some(d), c),
                None => (None, t),
            };
            let numbers = |s: &str| {
                !s.is_empty()
                    && s.split(':')
                        .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            };
            let ok = days.is_none_or(|d| numbers(d) && !d.contains(':'))
                && numbers(clock)
                && clock.split(':').count() <= 3;
            if !ok {
                return Err(bad(
                    "not a Slurm time (MM:SS, HH:MM:SS, D-HH, D-HH:MM:SS) nor a duration (90m, 2h)"
                        .into(),
                ));
            }
            return Ok(SlurmTime {
                slurm: t.to_owned(),
                limit: None,
            });
        }
        if t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(format!(
                "say the unit: {t}m (Slurm reads a bare number as minutes), or {t}s"
            )));
        }
        let limit = match t.strip_suffix('d') {
            Some(days) => days
                .parse::<f64>()
                .ok()
                .filter(|d| d.is_finite() && *d > 0.0 && *d < 1e6)
                .map(|d| Duration::from_secs_f64(d * 86_400.0))
                .ok_or_else(|| bad("expected e.g. 90m, 2h, 1d".into()))?,
            None => parse_duration(t).map_err(|e| bad(e.to_string()))?,
        };
        let secs = limit.as_secs() + u64::from(limit.subsec_nanos() > 0);
        Ok(SlurmTime {
            slurm: format!(
                "{}-{:02}:{:02}:{:02}",
                secs / 86_400,
                secs % 86_400 / 3600,
                secs % 3600 / 60,
                secs % 60
            ),
            limit: Some(limit),
        })
    }
}

/// What the user asked for, checked.
#[derive(Clone, Debug)]
pub struct SlurmOptions {
    /// Array tasks, each one worker.
    pub workers: u32,
    /// Jobs each worker runs at once (its CPUs).
    pub slots: u32,
    /// The time limit of each task.
    pub time: Option<SlurmTime>,
    /// The partition.
    pub partition: Option<String>,
    /// The account.
    pub account: Option<String>,
    /// More sbatch options, one `--opt=value` each.
    pub sbatch: Vec<String>,
}

impl SlurmOptions {
    /// Checks the options: counts above zero, names that fit on an
    /// `#SBATCH` line, and no `--sbatch` option that djx sets itself.
    pub fn new(
        workers: u32,
        slots: u32,
        time: Option<&str>,
        partition: Option<String>,
        account: Option<String>,
        sbatch: Vec<String>,
    ) -> Result<SlurmOptions, ClusterError> {
        let bad = |option: String, message: &str| ClusterError::Option {
            option,
            message: message.to_owned(),
        };
        if workers == 0 {
            return Err(bad("--workers 0".into(), "at least one worker"));
        }
        if slots == 0 {
            return Err(bad("--slots 0".into(), "at least one slot"));
        }
        for (flag, value) in [("--partition", &partition), ("--account", &account)] {
            if let Some(v) = value
                && (v.is_empty()
                    || !v.chars().all(|c| c.is_ascii_graphic())
                    || v.contains(['\'', '"', '\\', '#']))
            {
                return Err(bad(
                    format!("{flag} {v:?}"),
                    "a Slurm name is printable characters without spaces or quotes",
                ));
            }
        }
        for arg in &sbatch {
            let shown = format!("--sbatch {arg:?}");
            if !arg.starts_with('-') {
                return Err(bad(
                    shown,
                    "an sbatch option starts with `-`, e.g. --sbatch=--qos=high",
                ));
            }
            if arg.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(bad(
                    shown,
                    "one option per --sbatch, written --opt=value, without spaces",
                ));
            }
            match own_option(arg) {
                Ok(Some((own, instead))) => {
                    return Err(bad(
                        shown,
                        &format!("this is {own} to sbatch, which djx sets itself; use {instead}"),
                    ));
                }
                Ok(None) => {}
                Err(why) => return Err(bad(shown, &why)),
            }
        }
        let time = time.map(SlurmTime::parse).transpose()?;
        Ok(SlurmOptions {
            workers,
            slots,
            time,
            partition,
            account,
            sbatch,
        })
    }

    /// The options as `djx submit` arguments (for the record of the
    /// submission).
    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            "--slurm".to_owned(),
            "--workers".to_owned(),
            self.workers.to_string(),
            "--slots".to_owned(),
            self.slots.to_string(),
        ];
        if let Some(t) = &self.time {
            args.extend(["--time".to_owned(), t.slurm.clone()]);
        }
        if let Some(p) = &self.partition {
            args.extend(["--partition".to_owned(), p.clone()]);
        }
        if let Some(a) = &self.account {
            args.extend(["--account".to_owned(), a.clone()]);
        }
        for s in &self.sbatch {
            args.push(format!("--sbatch={s}"));
        }
        args
    }

    /// Whether `--sbatch` sets the memory itself (`--mem`, `--mem-per-cpu`).
    pub fn sets_memory(&self) -> bool {
        self.sbatch.iter().any(|a| a.starts_with("--mem"))
    }
}

/// Everything a submission is written from: the options, the experiments,
/// and the store and data settings the workers get.
#[derive(Clone, Debug)]
pub struct SlurmJob {
    /// What the user asked for.
    pub options: SlurmOptions,
    /// The experiments the workers run.
    pub experiments: Vec<i64>,
    /// `--mem` of each task, in MiB: the largest memory limit of the
    /// experiments times the slots, plus [`HEADROOM_MIB`].
    pub memory_mib: u64,
    /// The longest job timeout of the experiments.
    pub job_timeout: Duration,
    /// The `djx` binary the tasks run.
    pub djx: PathBuf,
    /// The working directory of every task (that of `djx submit`).
    pub workdir: PathBuf,
    /// Where each task's log goes (`.djx/slurm`).
    pub log_dir: PathBuf,
    /// The settings every task gets, never the password.
    pub env: Vec<(String, String)>,
    /// Whether the store needs a password, which the tasks take from the
    /// environment sbatch passes on.
    pub password: bool,
}

impl SlurmJob {
    /// Resolves the options against the experiments, the store and the
    /// layout of `workdir`.
    pub fn new(
        options: SlurmOptions,
        experiments: &[Experiment],
        store: &PgConfig,
        layout: &Layout,
        workdir: &Path,
        djx: PathBuf,
    ) -> SlurmJob {
        let memory = experiments
            .iter()
            .map(|e| e.locked.limits.memory)
            .max()
            .unwrap_or(0);
        let job_timeout = experiments
            .iter()
            .map(|e| e.locked.limits.timeout)
            .max()
            .unwrap_or_default();
        let memory_mib = memory.div_ceil(1 << 20) * u64::from(options.slots) + HEADROOM_MIB;
        let absolute = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                workdir.join(p)
            }
        };
        let mut env = store.public_env().to_vec();
        match &layout.content {
            // Each node keeps its own copies; the bucket is what they share.
            // Its credentials are not written here: sbatch passes the
            // `AWS_*` variables on (--export=ALL), or the nodes have their own.
            Some(remote) => env.push(("DJX_CONTENT".into(), remote.url().to_owned())),
            None => {
                env.push((
                    "DJX_DATA_STORE".into(),
                    absolute(&layout.data).display().to_string(),
                ));
                env.push((
                    "DJX_ARTIFACT_STORE".into(),
                    absolute(&layout.artifacts).display().to_string(),
                ));
            }
        }
        for name in ["AWS_ENDPOINT_URL", "AWS_REGION", "DJX_CONTENT_RETRY"] {
            if let Some(v) = std::env::var("DJX_CONTENT")
                .ok()
                .and(std::env::var(name).ok())
            {
                env.push((name.into(), v));
            }
        }
        for name in ["DJX_CACHE_DIR", "DJX_DATA_TEMP"] {
            if let Some(v) = std::env::var_os(name).filter(|v| !v.is_empty()) {
                env.push((name.into(), absolute(Path::new(&v)).display().to_string()));
            }
        }
        if let Ok(v) = std::env::var("DJX_DURABILITY") {
            env.push(("DJX_DURABILITY".into(), v));
        }
        SlurmJob {
            experiments: experiments.iter().map(|e| e.id).collect(),
            memory_mib,
            job_timeout,
            djx,
            workdir: workdir.to_path_buf(),
            log_dir: layout.root.join("slurm"),
            env,
            password: store.password().is_some(),
            options,
        }
    }

    /// What may go wrong although the options are valid.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if let Some(limit) = self.options.time.as_ref().and_then(|t| t.limit)
            && limit < self.job_timeout + WARNING_LEAD
        {
            warnings.push(format!(
                "--time {} is shorter than the experiments' job timeout ({}s) plus the {}s warning: \
                 a long job may be put back before it can finish, in every task",
                self.options.time.as_ref().map_or("", |t| t.slurm.as_str()),
                self.job_timeout.as_secs(),
                WARNING_LEAD.as_secs()
            ));
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(sbatch: &[&str]) -> Result<SlurmOptions, ClusterError> {
        SlurmOptions::new(
            2,
            1,
            None,
            None,
            None,
            sbatch.iter().map(|s| s.to_string()).collect(),
        )
    }

    #[test]
    fn times_in_djx_and_slurm_forms() {
        let t = SlurmTime::parse("2h").expect("2h");
        assert_eq!(t.slurm, "0-02:00:00");
        assert_eq!(t.limit, Some(Duration::from_secs(7200)));
        assert_eq!(SlurmTime::parse("90s").expect("ok").slurm, "0-00:01:30");
        assert_eq!(SlurmTime::parse("1.5d").expect("ok").slurm, "1-12:00:00");
        assert_eq!(SlurmTime::parse("1:30:00").expect("ok").slurm, "1:30:00");
        assert_eq!(SlurmTime::parse("2-00").expect("ok").slurm, "2-00");
        let err = SlurmTime::parse("120")
            .expect_err("bare number")
            .to_string();
        assert!(err.contains("120m"), "{err}");
        assert!(SlurmTime::parse("1:x").is_err());
        assert!(SlurmTime::parse("2 weeks").is_err());
    }

    #[test]
    fn sbatch_options_djx_sets_are_refused() {
        assert!(options(&["--qos=high", "--requeue", "--mem=4G"]).is_ok());
        for own in [
            "--array=0-3",
            "-c4",
            "--signal=USR1@60",
            "--output=x",
            "--export=NONE",
        ] {
            let err = options(&[own]).expect_err(own).to_string();
            assert!(err.contains("which djx sets itself"), "{own}: {err}");
        }
        // Issue 21: sbatch reads any unambiguous prefix of a long option,
        // and short options in a cluster.
        for (abbreviated, own) in [
            ("--sig=KILL@1", "--signal"),
            ("--out=/tmp/x", "--output"),
            ("--arr=0-999", "--array"),
            ("--chd=/", "--chdir"),
            ("--ex=NONE", "--export"),
            ("--cpus=8", "--cpus-per-task"),
            ("--pars", "--parsable"),
            ("--parti=x", "--partition"),
            ("-Qo/tmp/x", "-o"),
            ("-vvD/", "-D"),
            ("-Ha0-9", "-a"),
        ] {
            let err = options(&[abbreviated]).expect_err(abbreviated).to_string();
            assert!(
                err.contains(&format!("this is {own} to sbatch")),
                "{abbreviated}: {err}"
            );
        }
        for fine in [
            "--time-min=10",
            "--export-file=f",
            "--qos=high",
            "-Jout-of-array",
            "-q",
            "--mem-per-cpu=2G",
        ] {
            assert!(options(&[fine]).is_ok(), "{fine}");
        }
        let err = options(&["-Zo/x"]).expect_err("unknown short").to_string();
        assert!(err.contains("-Z is not a short sbatch option"), "{err}");
        assert!(options(&["qos=high"]).is_err(), "not an option");
        assert!(options(&["--comment=a b"]).is_err(), "a space");
        assert!(
            options(&["--comment=a\n#SBATCH --x"]).is_err(),
            "a new line"
        );
        assert!(
            SlurmOptions::new(1, 1, None, Some("a b".into()), None, vec![]).is_err(),
            "a partition with a space"
        );
        assert!(SlurmOptions::new(0, 1, None, None, None, vec![]).is_err());
    }
}
