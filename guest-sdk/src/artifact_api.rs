//! Artifacts: bytes stored by the host under their blake3 digest.

use std::fmt;

use crate::bindings::djx::job::artifacts as wit;
use crate::error::{Error, Result};

/// The digest of a stored artifact (64 hex characters).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    /// A digest from hex text, e.g. one read back from a record. The host
    /// checks it when a record references it.
    pub fn from_hex(hex: &str) -> Digest {
        Digest(hex.to_owned())
    }

    /// The digest as hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.0)
    }
}

/// Storing artifacts.
pub mod artifact {
    use super::*;

    /// Stores `bytes` as the artifact `name`; returns its digest.
    pub fn save(name: &str, bytes: impl AsRef<[u8]>) -> Result<Digest> {
        wit::save(name, bytes.as_ref())
            .map(Digest)
            .map_err(|e| Error::msg(format!("saving artifact {name:?}: {e}")))
    }

    /// Stores a file the job wrote under `/tmp` as the artifact `name`.
    pub fn save_file(name: &str, path: impl AsRef<std::path::Path>) -> Result<Digest> {
        let path = path.as_ref().to_string_lossy();
        wit::save_file(name, &path)
            .map(Digest)
            .map_err(|e| Error::msg(format!("saving artifact {name:?} from {path}: {e}")))
    }

    /// Streams an artifact in chunks; implements [`std::io::Write`].
    pub struct Writer {
        name: String,
        inner: wit::Writer,
    }

    impl Writer {
        /// Starts the artifact `name`.
        pub fn new(name: &str) -> Writer {
            Writer {
                name: name.to_owned(),
                inner: wit::Writer::new(name),
            }
        }

        /// Ends the artifact; returns its digest.
        pub fn finish(self) -> Result<Digest> {
            self.inner
                .finish()
                .map(Digest)
                .map_err(|e| Error::msg(format!("finishing artifact {:?}: {e}", self.name)))
        }
    }

    impl std::io::Write for Writer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.inner.write(buf).map_err(std::io::Error::other)?;
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
