//! The sbatch script of a [`SlurmJob`]: a plain bash file that a person can
//! read, with every Slurm option as an `#SBATCH` line, the store and data
//! settings as `export`s (never the password), and the worker as a job
//! step (`srun djx worker`).

use std::fmt::Write;

use super::SlurmJob;
use super::signals::{BATCH_SHELL_IGNORES, WARNING_LEAD, sbatch_signal};

/// Quotes `text` for bash: as it is when that is safe, else in single
/// quotes.
pub fn quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// The script's text.
pub fn render(job: &SlurmJob) -> String {
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
    line(&format!(
        "#SBATCH --output={}",
        job.log_dir.join("%A_%a.log").display()
    ));
    line(&format!("#SBATCH --chdir={}", job.workdir.display()));
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
    s
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
}
