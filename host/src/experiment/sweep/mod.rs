//! Successive-halving sweeps, as they run: a sweep's plan made back into
//! the grid of any rung ([`Sweep`]), the ranking that decides which
//! configurations a rung promotes ([`promote`]), adding the next rung
//! once a rung has ended ([`advance`]), and the plan and rungs as stored
//! ([`rungs`]).
//!
//! `djx add` stores rung 0 with the experiment. When every job of a rung
//! has ended, the worker that finds it so (of `djx run` or `djx worker`)
//! ranks the rung's configurations and adds the next rung, its jobs and
//! its row in one transaction; the rung's row is unique, so of many racing
//! workers exactly one adds it. Results are deterministic, so every worker
//! that ranks a rung ranks it the same way.

pub mod advance;
pub mod promote;
pub mod rungs;

use std::path::Path;

use crate::experiment::locked::LockedExperiment;
use crate::experiment::resolve::locked_jobs;
use crate::experiment::spec::{self, Grid, Halving, ParsedFile, SpecError};
use crate::store::{NewJob, SweepPlan};

/// A sweep's plan, parsed: what every rung's jobs are made from.
#[derive(Debug)]
pub struct Sweep {
    parsed: ParsedFile,
    grid: Grid,
    halving: Halving,
}

impl Sweep {
    /// Parses a stored plan.
    pub fn new(plan: &SweepPlan) -> Result<Sweep, SpecError> {
        let parsed = spec::parse_str(Path::new("(the stored sweep plan)"), plan.document.clone())?;
        let grid = Grid::new(&parsed, u64::MAX)?;
        let Some(halving) = grid.halving().cloned() else {
            return Err(parsed.error(&[], "the stored sweep plan has no `experiment.halving`"));
        };
        Ok(Sweep {
            parsed,
            grid,
            halving,
        })
    }

    /// The halving settings.
    pub fn halving(&self) -> &Halving {
        &self.halving
    }

    /// How many rungs the sweep has.
    pub fn rungs(&self) -> usize {
        self.halving().budgets.len()
    }

    /// The budget of rung `rung`.
    pub fn budget(&self, rung: usize) -> Option<&serde_json::Value> {
        self.halving().budgets.get(rung)
    }

    /// The grid of rung `rung` running the configurations `samples`.
    pub fn rung_grid(&self, rung: usize, samples: &[u64]) -> Option<Grid> {
        self.grid.rung(rung, samples)
    }

    /// The locked jobs of `grid` (a rung's) as jobs of `experiment`.
    pub fn jobs<'a>(
        &'a self,
        experiment: &LockedExperiment,
        grid: &'a Grid,
    ) -> impl Iterator<Item = Result<NewJob, String>> + 'a {
        locked_jobs(experiment, grid, &self.parsed).map(|job| job.map_err(|e| e.to_string()))
    }
}
