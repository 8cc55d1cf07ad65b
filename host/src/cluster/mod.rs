//! Running djx's workers on a Slurm cluster (`djx submit --slurm`).
//!
//! As submitit does it: one object, [`SlurmJob`], collects and checks every
//! option before anything is submitted ([`options`]); the sbatch script is
//! a plain file a person can read ([`script`]); [`submit`] hands it to
//! `sbatch`; [`signals`] is the one place that says what a signal does to a
//! worker; [`local_paths`] says which paths the nodes surely cannot share.
//!
//! Each task of the job array is one `djx worker --until-empty` on the
//! shared PostgreSQL store, so the workers coordinate as they do anywhere:
//! claims with `SKIP LOCKED`, fenced finishes, leases.

pub mod local_paths;
pub mod options;
pub mod script;
pub mod submit;

pub use self::options::{SlurmJob, SlurmOptions, SlurmTime};

/// Why `djx submit` will not submit.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The store is the embedded SQLite file.
    #[error(
        "djx submit needs the PostgreSQL store: the nodes of a cluster cannot share one SQLite \
         file. Set DJX_DATABASE_URL (or --database postgres://…), `djx add` the experiment \
         there, and submit again"
    )]
    EmbeddedStore,
    /// An option is wrong.
    #[error("{option}: {message}")]
    Option {
        /// Which option, as typed.
        option: String,
        /// What is wrong with it.
        message: String,
    },
    /// A store or the working directory is on a path the nodes cannot
    /// share.
    #[error(
        "{what} {path} {why}: the workers on the cluster's other nodes would not see it. {hint}"
    )]
    NotShared {
        /// What the path is (`DJX_DATA_STORE`, …).
        what: String,
        /// The path.
        path: String,
        /// Why it is not shared.
        why: String,
        /// What to do.
        hint: &'static str,
    },
    /// A path cannot be written into the sbatch script so that sbatch reads
    /// it back as it is.
    #[error(
        "{what} {path:?} cannot be written into an sbatch script: {why}. Run djx submit from a \
         directory whose path has no {what_not}"
    )]
    ScriptPath {
        /// What the path is (the working directory, the log directory).
        what: &'static str,
        /// The path.
        path: String,
        /// Why not.
        why: &'static str,
        /// What such a path must not have.
        what_not: &'static str,
    },
    /// `sbatch` is not there.
    #[error(
        "sbatch is not on PATH: run djx submit --slurm on a machine of the Slurm cluster (a login \
         node), or use --dry-run to only print the script"
    )]
    NoSbatch,
    /// `sbatch` refused the script.
    #[error("sbatch failed ({status}): {stderr}")]
    Sbatch {
        /// Its exit status.
        status: String,
        /// What it said.
        stderr: String,
    },
    /// Running a Slurm command failed.
    #[error("running {command}: {source}")]
    Io {
        /// The command.
        command: String,
        /// The I/O error.
        source: std::io::Error,
    },
}
