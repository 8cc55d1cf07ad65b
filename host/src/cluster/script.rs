//! The sbatch script of a [`SlurmJob`]: a plain bash file that a person can
//! read, with every Slurm option as an `#SBATCH` line, the store and data
//! settings as `export`s (never the password), and the worker as a job
//! step (`srun djx worker`).

use std::fmt::Write;

use super::{ClusterError, SlurmJob};
use crate::run::signals::{BATCH_SHELL_IGNORES, WARNING_LEAD, sbatch_signal};

/// Whether `text` needs no quoting, for bash or on an `#SBATCH` line.
fn is_plain(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b))
}

/// Quotes `text` for bash: as it is when that is safe, else in single
/// quotes.
pub fn quote(text: &str) -> String {
    if is_plain(text) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Writes `value` as one argument of an `#SBATCH` line, as sbatch's own
/// parser reads it back (Slurm's `src/sbatch/opt.c`, `_get_argument`):
/// whitespace ends a bare argument, an unquoted `#` starts a comment, and
/// quotes and backslashes are taken away. So anything but plain characters
/// goes in double quotes, with `\` and `"` escaped by a backslash. A line
/// break ends the directive whatever the quoting, so it is refused.
pub fn sbatch_word(what: &'static str, value: &str) -> Result<String, ClusterError> {
    if value.contains(['\n', '\r']) {
        return Err(ClusterError::ScriptPath {
            what,
            path: value.to_owned(),
            why: "a line break ends an #SBATCH line, and sbatch has no way to escape it",
            what_not: "line break",
        });
    }
    Ok(if is_plain(value) {
        value.to_owned()
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    })
}

/// The `--output` pattern of the tasks' logs in `dir`. Slurm expands `%`
/// sequences in it (a literal `%` is `%%`), and a backslash anywhere turns
/// every expansion off, which would write all the tasks into one file.
fn log_pattern(dir: &std::path::Path) -> Result<String, ClusterError> {
    let dir = dir.display().to_string();
    if dir.contains('\\') {
        return Err(ClusterError::ScriptPath {
            what: "the log directory",
            path: dir,
            why: "a backslash in --output turns off Slurm's %A and %a, so every task would \
                  write one file",
            what_not: "backslash",
        });
    }
    sbatch_word(
        "the log directory",
        &format!("{}/%A_%a.log", dir.replace('%', "%%")),
    )
}

/// The script's text, or why a path cannot be written into it.
pub fn render(job: &SlurmJob) -> Result<String, ClusterError> {
    let chdir = sbatch_word("the working directory", &job.workdir.display().to_string())?;
    let output = log_pattern(&job.log_dir)?;
    let o = &job.options;
    let exps: Vec<String> = job.experiments.iter().map(i64::to_string).collect();
    let mut s = String::new();
    let mut line = |text: &str| {
        s.push_str(text);
        s.push('\n');
    };
    line("#!/bin/bash");
    line(&format!(
        "# djx workers for experiment{} {}, written by `djx submit` (djx {}).",
        if exps.len() == 1 { "" } else { "s" },
        exps.join(", "),
        env!("CARGO_PKG_VERSION")
    ));
    line("# Each task of the array is one `djx worker`; the workers share the");
    line("# PostgreSQL store below and run the jobs until none is left.");
    line(&format!(
        "#SBATCH --job-name=djx-{}",
        exps.join("-").chars().take(40).collect::<String>()
    ));
    line(&format!("#SBATCH --array=0-{}", o.workers - 1));
    line(&format!("#SBATCH --cpus-per-task={}", o.slots));
    if !o.sets_memory() {
        line(&format!(
            "# --mem: the largest memory limit of the experiments times {} slot(s), plus {} MiB",
            o.slots,
            super::options::HEADROOM_MIB
        ));
        line(&format!("#SBATCH --mem={}M", job.memory_mib));
    }
    if let Some(t) = &o.time {
        line(&format!("#SBATCH --time={}", t.slurm));
    }
    if let Some(p) = &o.partition {
        line(&format!("#SBATCH --partition={p}"));
    }
    if let Some(a) = &o.account {
        line(&format!("#SBATCH --account={a}"));
    }
    line(&format!("#SBATCH --output={output}"));
    line(&format!("#SBATCH --chdir={chdir}"));
    line("#SBATCH --export=ALL");
    line(&format!(
        "# SIGTERM to the worker {} s before the time limit (and on scancel, preemption):",
        WARNING_LEAD.as_secs()
    ));
    line("# it stops claiming, puts its running jobs back and exits 0, so no job is");
    line("# lost and none runs twice.");
    line(&format!("#SBATCH {}", sbatch_signal()));
    for extra in &o.sbatch {
        line(&format!("#SBATCH {extra}"));
    }
    line("");
    line("set -euo pipefail");
    line("");
    line("# The store and data settings of `djx submit`.");
    for (name, value) in &job.env {
        line(&format!("export {name}={}", quote(value)));
    }
    if job.password {
        line("# The database password is not in this file: sbatch passes DJX_PG_PASSWORD");
        line("# on from the environment `djx submit` ran in (--export=ALL).");
        line("if [ -z \"${DJX_PG_PASSWORD:-}\" ]; then");
        line(
            "    echo \"djx: DJX_PG_PASSWORD is not in this job's environment: submit with djx submit\" >&2",
        );
        line("    exit 1");
        line("fi");
    }
    line("");
    line("# The worker is a job step, so Slurm's signals (the warning, scancel");
    line("# --signal=TERM) reach it; this shell ignores them and waits for it.");
    line(&format!("trap : {BATCH_SHELL_IGNORES}"));
    let mut worker = format!(
        "srun --ntasks=1 --cpus-per-task={} {} worker",
        o.slots,
        quote(&job.djx.display().to_string())
    );
    // `write!` to a String cannot fail.
    for id in &exps {
        let _ = write!(worker, " --exp {id}");
    }
    let _ = write!(worker, " --slots {} --until-empty", o.slots);
    line(&worker);
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_plain_words_and_escapes_the_rest() {
        assert_eq!(quote("/a/b.c"), "/a/b.c");
        assert_eq!(
            quote("postgres://u@h/d?sslmode=require&x=1"),
            "'postgres://u@h/d?sslmode=require&x=1'"
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }

    /// Issue 21: paths with spaces, `#`, quotes or an option-like word
    /// broke the `#SBATCH` lines, or were read as options.
    #[test]
    fn sbatch_words_read_back_as_one_argument() {
        assert_eq!(sbatch_word("x", "/a/b").expect("plain"), "/a/b");
        assert_eq!(
            sbatch_word("x", "/tmp/my study").expect("space"),
            "\"/tmp/my study\""
        );
        assert_eq!(
            sbatch_word("x", "/tmp/a --sig=BOGUS").expect("option-like"),
            "\"/tmp/a --sig=BOGUS\""
        );
        assert_eq!(
            sbatch_word("x", r#"/t/"q"\b#c"#).expect("quotes"),
            r#""/t/\"q\"\\b#c""#
        );
        let err = sbatch_word("the working directory", "/tmp/x/nl\ntouch /tmp/pwned\n#")
            .expect_err("a line break")
            .to_string();
        assert!(err.contains("line break"), "{err}");
        assert_eq!(
            log_pattern(std::path::Path::new("/w/100%/.djx/slurm")).expect("percent"),
            "/w/100%%/.djx/slurm/%A_%a.log"
        );
        assert!(log_pattern(std::path::Path::new(r"/w/a\b")).is_err());
    }
}
