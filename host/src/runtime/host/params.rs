//! `djx:job/params`: the job's parameters and labels.

use crate::runtime::bindings::params::Host;
use crate::runtime::ctx::JobView;

impl Host for JobView<'_> {
    fn parameters(&mut self) -> wasmtime::Result<String> {
        Ok(self.ctx.params_json.clone())
    }

    fn labels(&mut self) -> wasmtime::Result<String> {
        Ok(self.ctx.labels_json.clone())
    }
}
