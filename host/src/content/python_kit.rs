//! The djx guest kit for Python (`guest-sdk/python/djx`), as built into
//! this djx: `djx build` puts it into a component, and an experiment with
//! `python:` mounts it read-only (content-addressed, like the script) for
//! the WASI Python to import.

use std::path::Path;

use crate::content::digest::Digest;

/// The kit's files: name and text.
pub const FILES: [(&str, &str); 7] = [
    (
        "__init__.py",
        include_str!("../../../guest-sdk/python/djx/__init__.py"),
    ),
    (
        "_backend.py",
        include_str!("../../../guest-sdk/python/djx/_backend.py"),
    ),
    (
        "_error.py",
        include_str!("../../../guest-sdk/python/djx/_error.py"),
    ),
    (
        "_protocol.py",
        include_str!("../../../guest-sdk/python/djx/_protocol.py"),
    ),
    (
        "_wit.py",
        include_str!("../../../guest-sdk/python/djx/_wit.py"),
    ),
    (
        "artifact.py",
        include_str!("../../../guest-sdk/python/djx/artifact.py"),
    ),
    (
        "log.py",
        include_str!("../../../guest-sdk/python/djx/log.py"),
    ),
];

/// The kit's digest, as `djx build` records it in a component.
pub fn digest() -> Digest {
    let mut hasher = blake3::Hasher::new_derive_key("djx python kit v1");
    for (name, text) in FILES {
        hasher.update(&(name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update(blake3::hash(text.as_bytes()).as_bytes());
    }
    hasher.finalize().into()
}

/// Writes the kit as the package directory `dir/djx`.
pub fn write_package(dir: &Path) -> std::io::Result<()> {
    let package = dir.join("djx");
    std::fs::create_dir_all(&package)?;
    for (name, text) in FILES {
        std::fs::write(package.join(name), text)?;
    }
    Ok(())
}
