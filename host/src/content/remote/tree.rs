//! A directory dataset in the bucket: each file as its own object
//! `data/<file digest>` (so a tree that changes in one file uploads one
//! file), and a listing `trees/<tree digest>` written after them, so a
//! listing that is visible always has its files.
//!
//! The listing is JSON: `{"entries": [{"path": "a/b.csv", "file": DIGEST},
//! {"path": "a", "dir": true}, {"path": "l", "link": "target"}]}`. A fetch
//! rebuilds the tree from it, checks each file by its digest and the whole
//! tree by the tree digest ([`digest_dir`]), so a substituted listing is
//! refused as surely as a substituted file; paths that would leave the tree
//! are refused before anything is written.

use std::fs;
use std::path::{Component, Path};

use serde::{Deserialize, Serialize};

use super::{Kind, Remote, RemoteError, Result, io_err};
use crate::content::dataset::{digest_dir, digest_file};
use crate::content::digest::Digest;

/// One entry of a listing.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// Its path in the tree, `/`-separated.
    pub path: String,
    /// A file: its content's digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<Digest>,
    /// A directory.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dir: bool,
    /// A symbolic link: its target, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// A tree's listing.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Listing {
    /// Every entry, parents before children.
    pub entries: Vec<Entry>,
}

impl Listing {
    /// The listing of the tree at `root`.
    pub fn of(root: &Path) -> Result<Listing> {
        let mut listing = Listing::default();
        walk(root, "", &mut listing)?;
        Ok(listing)
    }
}

fn walk(dir: &Path, rel: &str, out: &mut Listing) -> Result<()> {
    let mut children: Vec<_> = fs::read_dir(dir)
        .map_err(io_err("read", dir))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(io_err("read", dir))?;
    children.sort();
    for child in children {
        let name =
            child
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| RemoteError::BadTree {
                    location: child.display().to_string(),
                    message: "a file name that is not UTF-8 cannot be listed in the bucket".into(),
                })?;
        let path = if rel.is_empty() {
            name.to_owned()
        } else {
            format!("{rel}/{name}")
        };
        let meta = fs::symlink_metadata(&child).map_err(io_err("stat", &child))?;
        let mut entry = Entry {
            path: path.clone(),
            file: None,
            dir: false,
            link: None,
        };
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&child).map_err(io_err("read link", &child))?;
            entry.link = Some(target.to_string_lossy().into_owned());
            out.entries.push(entry);
        } else if meta.is_dir() {
            entry.dir = true;
            out.entries.push(entry);
            walk(&child, &path, out)?;
        } else {
            let digest = digest_file(&child).map_err(|e| RemoteError::Io {
                action: "hash",
                path: e.path,
                source: e.source,
            })?;
            entry.file = Some(digest);
            out.entries.push(entry);
        }
    }
    Ok(())
}

/// Uploads the tree at `root`, whose digest is `digest`: its files that the
/// bucket lacks, then its listing. Returns how many objects it uploaded.
pub fn upload(remote: &Remote, digest: &Digest, root: &Path) -> Result<usize> {
    if remote.contains(Kind::Tree, digest)? {
        return Ok(0);
    }
    let listing = Listing::of(root)?;
    let mut uploaded = 0;
    for entry in &listing.entries {
        if let Some(file) = &entry.file {
            uploaded += usize::from(remote.put_file(Kind::Data, file, &root.join(&entry.path))?);
        }
    }
    let json = serde_json::to_vec(&listing).map_err(|e| RemoteError::BadTree {
        location: remote.location(Kind::Tree, digest),
        message: e.to_string(),
    })?;
    uploaded += usize::from(remote.put_bytes(Kind::Tree, digest, json)?);
    Ok(uploaded)
}

/// Rebuilds tree `digest` from the bucket at `target` (which must not
/// exist), checking every file and then the whole tree.
pub fn download(remote: &Remote, digest: &Digest, target: &Path) -> Result<()> {
    let location = remote.location(Kind::Tree, digest);
    let bad = |message: String| RemoteError::BadTree {
        location: location.clone(),
        message,
    };
    let json = remote.get_unchecked(Kind::Tree, digest)?;
    let listing: Listing =
        serde_json::from_slice(&json).map_err(|e| bad(format!("not a tree listing: {e}")))?;
    fs::create_dir(target).map_err(io_err("create", target))?;
    for entry in &listing.entries {
        let rel = Path::new(&entry.path);
        if entry.path.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(bad(format!("the path {:?} leaves the tree", entry.path)));
        }
        let path = target.join(rel);
        match (&entry.file, entry.dir, &entry.link) {
            (Some(file), false, None) => remote.download(Kind::Data, file, &path)?,
            (None, true, None) => fs::create_dir(&path).map_err(io_err("create", &path))?,
            (None, false, Some(link)) => {
                std::os::unix::fs::symlink(link, &path).map_err(io_err("create link", &path))?
            }
            _ => {
                return Err(bad(format!(
                    "the entry {:?} is not one file, directory or link",
                    entry.path
                )));
            }
        }
    }
    let actual = digest_dir(target).map_err(|e| RemoteError::Io {
        action: "hash",
        path: e.path,
        source: e.source,
    })?;
    if actual != *digest {
        return Err(RemoteError::Corrupt {
            location,
            expected: *digest,
            actual,
        });
    }
    Ok(())
}

/// The file digests a listing names (for `djx gc`: they are in use while
/// the tree is).
pub fn files_of(remote: &Remote, digest: &Digest) -> Result<Vec<Digest>> {
    let json = remote.get_unchecked(Kind::Tree, digest)?;
    let listing: Listing = serde_json::from_slice(&json).map_err(|e| RemoteError::BadTree {
        location: remote.location(Kind::Tree, digest),
        message: format!("not a tree listing: {e}"),
    })?;
    Ok(listing.entries.iter().filter_map(|e| e.file).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_files_dirs_and_links_parents_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("sub")).expect("mkdir");
        fs::write(dir.path().join("sub/b.csv"), "3\n").expect("write");
        fs::write(dir.path().join("a.csv"), "1\n").expect("write");
        std::os::unix::fs::symlink("a.csv", dir.path().join("l")).expect("link");
        let listing = Listing::of(dir.path()).expect("list");
        let paths: Vec<&str> = listing.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["a.csv", "l", "sub", "sub/b.csv"]);
        assert_eq!(listing.entries[0].file, Some(Digest::of(b"1\n")));
        assert_eq!(listing.entries[1].link.as_deref(), Some("a.csv"));
        assert!(listing.entries[2].dir);
    }
}
