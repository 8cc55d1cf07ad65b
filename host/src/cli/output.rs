//! Writing a user's file (`-o FILE`) so that a failure part-way leaves the
//! old file as it was: the bytes go to a temporary file in the same
//! directory, which is synced and then renamed over the target only when
//! everything was written (`commit`). A full disk, a file size limit, a
//! closed pipe or a signal leaves no partial file, and the temporary one
//! is removed. `-` (or no path) is standard output. A target that is not a
//! regular file (`/dev/null`, a FIFO, `/dev/stdout`) is written in place:
//! renaming over it would replace the device or pipe.

use std::fs::{self, File};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Where a command's output goes, until [`Output::commit`].
pub struct Output {
    inner: Inner,
}

enum Inner {
    /// A temporary file beside `target`, renamed over it on commit.
    Atomic {
        writer: BufWriter<tempfile::NamedTempFile>,
        target: PathBuf,
    },
    /// A file that is not a regular file, written in place.
    InPlace(BufWriter<File>),
    /// Standard output.
    Stdout(BufWriter<io::Stdout>),
}

/// Buffer size: large enough that Parquet's row groups go out in few
/// writes.
const BUFFER: usize = 1 << 20;

impl Output {
    /// The file `path`, or standard output for `None` and `-`.
    pub fn create(path: &Option<PathBuf>) -> anyhow::Result<Output> {
        let inner = match path {
            Some(p) if p.as_os_str() != "-" => file(p)?,
            _ => Inner::Stdout(BufWriter::with_capacity(BUFFER, io::stdout())),
        };
        Ok(Output { inner })
    }

    /// As [`Output::create`], for a binary format: standard output only
    /// when it is not a terminal.
    pub fn binary(path: &Option<PathBuf>, format: &str) -> anyhow::Result<Output> {
        let to_stdout = path.as_ref().is_none_or(|p| p.as_os_str() == "-");
        if to_stdout && io::stdout().is_terminal() {
            anyhow::bail!("{format} is binary: write it to a file with -o FILE");
        }
        Output::create(path)
    }

    /// Writes `bytes` to `path` (`-` for standard output) and commits;
    /// returns whether they went to standard output.
    pub fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<bool> {
        let mut out = Output::create(&Some(path.to_path_buf()))?;
        out.write_all(bytes)
            .with_context(|| format!("writing {}", path.display()))?;
        let to_stdout = matches!(out.inner, Inner::Stdout(_));
        out.commit()?;
        Ok(to_stdout)
    }

    /// The writer the bytes go to.
    fn writer(&mut self) -> &mut dyn Write {
        match &mut self.inner {
            Inner::Atomic { writer, .. } => writer,
            Inner::InPlace(writer) => writer,
            Inner::Stdout(writer) => writer,
        }
    }

    /// Flushes everything; for a file, syncs it and renames it over the
    /// target. Until this returns, the target is as it was.
    pub fn commit(self) -> anyhow::Result<()> {
        match self.inner {
            Inner::Atomic { writer, target } => {
                let temp = writer
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("writing {}", target.display()))?;
                temp.as_file()
                    .sync_all()
                    .with_context(|| format!("syncing {}", target.display()))?;
                temp.persist(&target)
                    .map_err(|e| e.error)
                    .with_context(|| format!("replacing {}", target.display()))?;
                Ok(())
            }
            Inner::InPlace(mut writer) => Ok(writer.flush()?),
            Inner::Stdout(mut writer) => Ok(writer.flush()?),
        }
    }
}

/// The output for the file `path`.
fn file(path: &Path) -> anyhow::Result<Inner> {
    let creating = || format!("creating {}", path.display());
    // Through a symbolic link: the file it names.
    let existing = fs::metadata(path).ok();
    match &existing {
        Some(meta) if meta.is_dir() => anyhow::bail!("{} is a directory", path.display()),
        Some(meta) if !meta.is_file() => {
            let f = fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(creating)?;
            return Ok(Inner::InPlace(BufWriter::with_capacity(BUFFER, f)));
        }
        _ => {}
    }
    // Through a symbolic link, the file it names is replaced, not the link.
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".part");
    // The file keeps the target's permissions, or those a new file gets.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = existing.map_or(0o666, |m| m.permissions().mode() & 0o7777);
        builder.permissions(fs::Permissions::from_mode(mode));
    }
    let temp = builder.tempfile_in(&dir).with_context(creating)?;
    Ok(Inner::Atomic {
        writer: BufWriter::with_capacity(BUFFER, temp),
        target,
    })
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer().write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer().flush()
    }
}
