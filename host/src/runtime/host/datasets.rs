//! `djx:job/datasets`: where each dataset is inside the sandbox.

use crate::runtime::bindings::datasets::{Dataset, Host};
use crate::runtime::ctx::JobView;
use crate::runtime::job::DatasetMount;

fn to_wit(mount: &DatasetMount) -> Dataset {
    Dataset {
        name: mount.name.clone(),
        path: mount.guest_path(),
        digest: mount.digest.to_hex(),
    }
}

impl Host for JobView<'_> {
    fn get(&mut self, name: String) -> wasmtime::Result<Option<Dataset>> {
        Ok(self
            .ctx
            .datasets
            .iter()
            .filter(|d| !d.is_program_file())
            .find(|d| d.name == name)
            .map(to_wit))
    }

    fn all(&mut self) -> wasmtime::Result<Vec<Dataset>> {
        Ok(self
            .ctx
            .datasets
            .iter()
            .filter(|d| !d.is_program_file())
            .map(to_wit)
            .collect())
    }
}
