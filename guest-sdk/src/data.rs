//! The job's inputs: parameters, labels and datasets.

use std::path::PathBuf;

use serde::de::DeserializeOwned;

use crate::bindings::djx::job::{datasets as wit, params as wit_params};
use crate::error::{Error, Result};

/// The job's parameters (its `parameter` subtree), deserialised into `T`.
pub fn params<T: DeserializeOwned>() -> Result<T> {
    serde_json::from_str(&wit_params::parameters()).map_err(|e| {
        Error::msg(format!(
            "the job's parameters do not fit {}: {e}",
            std::any::type_name::<T>()
        ))
    })
}

/// The job's parameters as canonical JSON text.
pub fn params_json() -> String {
    wit_params::parameters()
}

/// The job's labels (its `labels` subtree), deserialised into `T`.
pub fn labels<T: DeserializeOwned>() -> Result<T> {
    serde_json::from_str(&wit_params::labels()).map_err(|e| {
        Error::msg(format!(
            "the job's labels do not fit {}: {e}",
            std::any::type_name::<T>()
        ))
    })
}

/// The job's labels as canonical JSON text.
pub fn labels_json() -> String {
    wit_params::labels()
}

/// A dataset of the job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// Its name in the experiment file.
    pub name: String,
    /// The file (single-file dataset) or directory inside the sandbox.
    pub path: PathBuf,
    /// Its content digest (blake3, hex).
    pub digest: String,
}

impl From<wit::Dataset> for Dataset {
    fn from(d: wit::Dataset) -> Dataset {
        Dataset {
            name: d.name,
            path: PathBuf::from(d.path),
            digest: d.digest,
        }
    }
}

/// The path of the dataset `name`: the file of a single-file dataset, or
/// its directory. Read it with `std::fs`.
pub fn dataset(name: &str) -> Result<PathBuf> {
    Ok(dataset_info(name)?.path)
}

/// The dataset `name`, with its digest.
pub fn dataset_info(name: &str) -> Result<Dataset> {
    match wit::get(name) {
        Some(d) => Ok(d.into()),
        None => {
            let known: Vec<String> = wit::all().into_iter().map(|d| d.name).collect();
            Err(Error::msg(format!(
                "the job has no dataset {name:?} (it has: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )))
        }
    }
}

/// Every dataset of the job, sorted by name.
pub fn datasets() -> Vec<Dataset> {
    wit::all().into_iter().map(Dataset::from).collect()
}
