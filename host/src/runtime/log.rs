//! The job's log: stdout, stderr and `logging.log` messages, in the order
//! they were written, under one byte limit.
//!
//! The guest's stdout and stderr are [`LogPipe`]s writing into a shared
//! [`JobLog`]. A write past the limit traps with a message naming it, rather
//! than failing the write (which a Rust guest would turn into a panic about
//! "failed printing to stdout").

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

use crate::runtime::limits::{LimitExceeded, LimitKind};
use crate::sync::Unpoisoned;

/// Which stream a log chunk came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// The guest's stdout.
    Stdout,
    /// The guest's stderr.
    Stderr,
    /// A `logging.log` message.
    Log,
}

/// Consecutive bytes written to one stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogChunk {
    /// Where the bytes came from.
    pub stream: Stream,
    /// The bytes.
    pub bytes: Vec<u8>,
}

#[derive(Default)]
struct Inner {
    chunks: Vec<LogChunk>,
    len: u64,
}

/// A job's log, shared between its pipes and the host.
#[derive(Clone)]
pub struct JobLog {
    inner: Arc<Mutex<Inner>>,
    limit: u64,
}

impl JobLog {
    /// An empty log holding at most `limit` bytes.
    pub fn new(limit: u64) -> JobLog {
        JobLog {
            inner: Arc::default(),
            limit,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a writer panicked; the bytes are fine.
        self.inner.lock_unpoisoned()
    }

    /// Appends `bytes` from `stream`, or fails if the log would pass its limit.
    pub fn append(&self, stream: Stream, bytes: &[u8]) -> Result<(), LimitExceeded> {
        let mut inner = self.lock();
        let len = inner.len + bytes.len() as u64;
        if len > self.limit {
            return Err(LimitExceeded::bytes(
                LimitKind::LogBytes,
                self.limit,
                format!("stdout, stderr and log messages reached {len} bytes"),
            ));
        }
        inner.len = len;
        match inner.chunks.last_mut() {
            Some(last) if last.stream == stream => last.bytes.extend_from_slice(bytes),
            _ => inner.chunks.push(LogChunk {
                stream,
                bytes: bytes.to_vec(),
            }),
        }
        Ok(())
    }

    /// Everything written so far.
    pub fn chunks(&self) -> Vec<LogChunk> {
        self.lock().chunks.clone()
    }

    /// A pipe that writes into this log as `stream`.
    pub fn pipe(&self, stream: Stream) -> LogPipe {
        LogPipe {
            log: self.clone(),
            stream,
        }
    }
}

/// A guest stdout or stderr that writes into a [`JobLog`].
#[derive(Clone)]
pub struct LogPipe {
    log: JobLog,
    stream: Stream,
}

/// How much a guest may write per `check-write`. The limit is enforced on
/// the write itself, so this only bounds one write's size.
const WRITE_BUDGET: usize = 64 << 10;

impl OutputStream for LogPipe {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.log
            .append(self.stream, &bytes)
            .map_err(|e| StreamError::Trap(wasmtime::Error::new(e)))
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(WRITE_BUDGET)
    }
}

impl Pollable for LogPipe {
    fn ready<'a, 'b>(&'a mut self) -> Pin<Box<dyn Future<Output = ()> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(async {})
    }
}

impl AsyncWrite for LogPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(
            self.log
                .append(self.stream, buf)
                .map(|()| buf.len())
                .map_err(io::Error::other),
        )
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for LogPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}
