//! `djx:job/logging`: levelled messages into the job's log.

use crate::runtime::bindings::logging::{Host, Level};
use crate::runtime::ctx::JobView;
use crate::runtime::log::Stream;

impl Host for JobView<'_> {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let tag = match level {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        };
        let line = format!("[{tag}] {message}\n");
        self.ctx
            .log
            .append(Stream::Log, line.as_bytes())
            .map_err(wasmtime::Error::new)
    }
}
