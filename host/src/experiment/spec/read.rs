//! Reading an experiment file, or a file it extends, with bounds: only a
//! regular file is read (a FIFO would wait forever, `/dev/zero` would never
//! end), and only up to [`max_bytes`] (4 MiB unless `DJX_MAX_EXPERIMENT_FILE`
//! says otherwise), checked before a byte is read and again while reading,
//! for a file that grows.

use std::io::Read;
use std::path::Path;

use crate::runtime::limits::parse_size;

/// The default largest experiment file: a grid of a million points written
/// out by hand is far smaller.
pub const DEFAULT_MAX_BYTES: u64 = 4 << 20;

/// The variable that raises (or lowers) the largest experiment file.
pub const MAX_BYTES_VAR: &str = "DJX_MAX_EXPERIMENT_FILE";

/// The largest experiment file: `DJX_MAX_EXPERIMENT_FILE` (a size such as
/// `16MiB`), else [`DEFAULT_MAX_BYTES`].
pub fn max_bytes() -> Result<u64, String> {
    match std::env::var(MAX_BYTES_VAR) {
        Ok(text) if !text.trim().is_empty() => {
            parse_size(text.trim()).map_err(|e| format!("{MAX_BYTES_VAR}={text:?}: {e}"))
        }
        _ => Ok(DEFAULT_MAX_BYTES),
    }
}

/// The text of the file at `path`, or what is wrong, in words that fit
/// after "cannot read …: ".
pub fn read_text(path: &Path) -> Result<String, String> {
    let limit = max_bytes()?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // Opening a FIFO without O_NONBLOCK waits for a writer.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(if meta.is_dir() {
            "it is a directory".to_owned()
        } else {
            "it is not a regular file (a device, a FIFO or a socket)".to_owned()
        });
    }
    let too_big = || {
        format!(
            "it is larger than {limit} bytes, the limit for an experiment file \
             (set {MAX_BYTES_VAR}, e.g. {MAX_BYTES_VAR}=64MiB, to raise it)"
        )
    };
    if meta.len() > limit {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "it is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_fifos_directories_and_large_files_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = read_text(Path::new("/dev/zero")).expect_err("a device");
        assert!(err.contains("not a regular file"), "{err}");
        let err = read_text(dir.path()).expect_err("a directory");
        assert!(err.contains("directory"), "{err}");
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("no NUL");
        // SAFETY: a valid C string; mkfifo only creates the node.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_text(&fifo).expect_err("a FIFO, without waiting");
        assert!(err.contains("not a regular file"), "{err}");
        let big = dir.path().join("big.yml");
        std::fs::write(&big, vec![b'#'; (DEFAULT_MAX_BYTES + 1) as usize]).expect("write");
        let err = read_text(&big).expect_err("too large");
        assert!(err.contains(MAX_BYTES_VAR), "{err}");
        let ok = dir.path().join("ok.yml");
        std::fs::write(&ok, "name: x\n").expect("write");
        assert_eq!(read_text(&ok).expect("a small file"), "name: x\n");
    }
}
