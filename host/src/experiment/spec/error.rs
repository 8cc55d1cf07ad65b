//! Errors in an experiment file: each names the file, the line and the key.

use std::fmt;
use std::path::PathBuf;

/// An error in an experiment file.
#[derive(Debug, thiserror::Error)]
pub struct SpecError {
    /// The experiment file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The dotted key path, e.g. `experiment.grid[1]`; empty for the file
    /// as a whole.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}
