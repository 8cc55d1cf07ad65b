//! Resolving an experiment file into what the store keeps: every input
//! pinned by digest, the module type-checked against the `djx:job` world,
//! the grid checked and counted. Only this resolved form is stored and run;
//! its jobs are made one at a time as they are stored. A dry run
//! ([`Pinning::DryRun`]) digests the inputs without storing them.

use std::path::Path;

use crate::content::canonical;
use crate::content::dataset::DatasetKind;
use crate::content::dataset::digest_path;
use crate::content::digest::Digest;
use crate::content::layout::Layout;
use crate::content::store::{import_dataset, store_module};
use crate::experiment::lock::KeyMaker;
use crate::experiment::locked::LockedExperiment;
use crate::experiment::program;
use crate::experiment::provenance::{Provenance, SourceFile};
use crate::experiment::spec::locate::Seg;
use crate::experiment::spec::{self, DEFAULT_MAX_JOBS, Grid, ParsedFile, SpecError};
use crate::runtime::job::{guest_dir, is_program_file};
use crate::runtime::{EngineProfile, Runtime};
use crate::store::{DatasetRef, NewJob, SweepPlan};

/// An experiment ready to add.
#[derive(Debug)]
pub struct Resolved {
    /// The experiment.
    pub experiment: LockedExperiment,
    /// Non-fatal findings to show the user.
    pub warnings: Vec<SpecError>,
    /// The module's bytes.
    pub module: Vec<u8>,
    /// The parsed file (for locating errors in jobs).
    parsed: ParsedFile,
    /// The grid its jobs come from.
    grid: Grid,
}

impl Resolved {
    /// How many jobs the experiment has (for a halving sweep: its first
    /// rung).
    pub fn job_count(&self) -> u64 {
        self.grid.len()
    }

    /// The experiment's jobs, locked, in grid order, made one at a time.
    pub fn jobs(&self) -> impl Iterator<Item = Result<NewJob, SpecError>> + '_ {
        locked_jobs(&self.experiment, &self.grid, &self.parsed)
    }

    /// The grid the jobs come from.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }
}

/// The jobs of `grid` (from `parsed`) as jobs of `experiment`: locked, in
/// grid order, made one at a time.
pub fn locked_jobs<'a>(
    experiment: &LockedExperiment,
    grid: &'a Grid,
    parsed: &'a ParsedFile,
) -> impl Iterator<Item = Result<NewJob, SpecError>> + 'a {
    let keys = KeyMaker::new(experiment);
    grid.jobs(parsed).map(move |job| {
        let job = job?;
        let labels = canonical::to_string(&job.labels);
        let parameter = canonical::to_string(&job.parameter);
        Ok(NewJob {
            key: keys.key(&labels, &parameter),
            labels,
            parameter,
        })
    })
}

/// What resolving does with the inputs it pins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pinning {
    /// Import the datasets and the module into their stores (`djx add`).
    Store,
    /// Only digest them (`djx add --dry-run`): nothing is written.
    DryRun,
}

/// Parses, checks and pins the experiment file at `path`. Writes only to
/// the content-addressed data and module stores (never the database), so a
/// failure leaves nothing visible behind; with [`Pinning::DryRun`] not even
/// there. `runtime` type-checks the module. `max_jobs` overrides the file's
/// `max_jobs:`.
pub fn resolve(
    path: &Path,
    layout: &Layout,
    runtime: &Runtime,
    max_jobs: Option<u64>,
    pinning: Pinning,
) -> Result<Resolved, SpecError> {
    let mut parsed = spec::parse_file(path)?;
    let warnings = std::mem::take(&mut parsed.warnings);
    // Counted first: an impossible grid is refused before anything else.
    let limit = max_jobs
        .or(parsed.file.max_jobs)
        .unwrap_or(DEFAULT_MAX_JOBS);
    let grid = Grid::new(&parsed, limit)?;
    let file = &parsed.file;

    let program = program::resolve(&parsed, &layout.temp)?;
    let module_path = &program.module;
    let module_key = [Seg::Key(program.key)];
    let wasm = std::fs::read(module_path).map_err(|e| {
        parsed.error(
            &module_key,
            format!("cannot read the module {}: {e}", module_path.display()),
        )
    })?;
    runtime
        .load(&module_path.display().to_string(), &wasm)
        .map_err(|e| parsed.error(&module_key, e.to_string()))?;

    let mut datasets = pin_datasets(&parsed, layout, pinning)?;
    for f in &program.files {
        let key: Vec<Seg<'_>> = f.key.iter().map(|k| Seg::Key(k)).collect();
        datasets.push(pin(&parsed, layout, pinning, &key, &f.source, &f.guest)?);
    }
    datasets.sort_by(|a, b| a.name.cmp(&b.name));
    check_mounts(&parsed, &datasets)?;
    let module_digest = match pinning {
        Pinning::Store => store_module(&layout.modules, &wasm)
            .map_err(|e| parsed.error(&module_key, format!("storing the module: {e}")))?,
        Pinning::DryRun => Digest::of(&wasm),
    };
    let mut provenance = Provenance::capture(path, &program.origin, &wasm);
    provenance.files = parsed
        .sources
        .iter()
        .map(|s| SourceFile {
            path: s.path.display().to_string(),
            digest: Digest::of(s.text.as_bytes()),
        })
        .collect();
    // A file two others extend went in once.
    let mut seen = std::collections::HashSet::new();
    provenance.files.retain(|f| seen.insert(f.path.clone()));
    let experiment = LockedExperiment {
        project: file.project.clone(),
        name: file.name.clone(),
        description: file.description.clone(),
        source_path: path.display().to_string(),
        source_digest: Digest::of(parsed.text.as_bytes()),
        source_text: parsed.text.clone(),
        module_digest,
        datasets,
        invocation: program.invocation.clone(),
        limits: file.limits.clone(),
        determinism: file.determinism,
        retries: file.retries,
        engine: EngineProfile::of(file.determinism),
        provenance,
        digest_log: file.digest_log,
        sweep: grid.halving().map(|h| SweepPlan {
            rungs: h.budgets.len() as u32,
            document: parsed.document.clone(),
        }),
    };
    Ok(Resolved {
        experiment,
        warnings,
        module: wasm,
        parsed,
        grid,
    })
}

/// Pins every dataset of the file: imported into the data store (or only
/// digested, for a dry run), in the file's order.
fn pin_datasets(
    parsed: &ParsedFile,
    layout: &Layout,
    pinning: Pinning,
) -> Result<Vec<DatasetRef>, SpecError> {
    let mut datasets = Vec::new();
    for (name, data) in &parsed.file.data {
        let key = [Seg::Key("data"), Seg::Key(name)];
        let source = parsed.base_dir().join(&data.source);
        datasets.push(pin(parsed, layout, pinning, &key, &source, name)?);
    }
    Ok(datasets)
}

/// Pins the file or directory at `source` (named at `key` of the file) as
/// the dataset or program file `name`. A dataset's file keeps its own name
/// in the sandbox; a program file's is the last part of its path there.
fn pin(
    parsed: &ParsedFile,
    layout: &Layout,
    pinning: Pinning,
    key: &[Seg<'_>],
    source: &Path,
    name: &str,
) -> Result<DatasetRef, SpecError> {
    let what = if is_program_file(name) {
        format!("{} (mounted at {name})", source.display())
    } else {
        format!("dataset {name:?}")
    };
    if !source.exists() {
        return Err(parsed.error(key, format!("{what}: {} does not exist", source.display())));
    }
    let (digest, kind) = match pinning {
        Pinning::Store => import_dataset(&layout.data, source)
            .map_err(|e| parsed.error(key, format!("importing {what}: {e}")))?,
        Pinning::DryRun => {
            digest_path(source).map_err(|e| parsed.error(key, format!("digesting {what}: {e}")))?
        }
    };
    let file = match kind {
        DatasetKind::Dir => None,
        DatasetKind::File if is_program_file(name) => name.rsplit('/').next().map(str::to_owned),
        DatasetKind::File => Some(
            source
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| parsed.error(key, "the dataset's file name is not UTF-8"))?
                .to_owned(),
        ),
    };
    Ok(DatasetRef {
        name: name.to_owned(),
        digest,
        file,
    })
}

/// Refuses two program files that the sandbox would mount at one
/// directory (a file is mounted alone, at its parent).
fn check_mounts(parsed: &ParsedFile, datasets: &[DatasetRef]) -> Result<(), SpecError> {
    let mut seen = std::collections::BTreeMap::new();
    for d in datasets.iter().filter(|d| is_program_file(&d.name)) {
        let dir = guest_dir(&d.name, d.file.as_deref());
        if let Some(other) = seen.insert(dir.clone(), &d.name) {
            return Err(parsed.error(
                &[Seg::Key("files")],
                format!(
                    "{other} and {} would both be mounted at {dir}: a file is mounted alone \
                     in its directory, so give a directory, or files in different ones",
                    d.name
                ),
            ));
        }
    }
    Ok(())
}
