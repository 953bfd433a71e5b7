//! Where a download goes: a file below a folder the user chose, a safe file name from a key,
//! a free numbered name for "Keep both".

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::folder::Folder;
use super::local_paths::segment_name;
use crate::base::error::{Error, ErrorKind, Result};
use crate::base::s3uri::S3Uri;
use crate::transfer::names::numbered_name;

/// A safe local file name from a key's last segment, written as a prefix download writes
/// it: never a path that leaves the folder. A key that names no file (`docs/`, `docs/..`) is
/// refused: the caller gives a file path instead.
pub fn safe_file_name(object: &S3Uri) -> Result<String> {
    let raw = object.file_name();
    if matches!(raw, "" | "." | "..") {
        return Err(Error::invalid(format!(
            "Cannot make a safe file name from this object's name; give a file path instead of a folder: {object}"
        )));
    }
    Ok(segment_name(raw))
}

/// A download's file: `relative` below `root`, the folder the user chose. Below `root` no
/// symbolic link is followed (folders others can write to may hold planted ones); `root`
/// itself, a link included, is the user's choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTarget {
    pub root: PathBuf,
    pub relative: PathBuf,
}

impl LocalTarget {
    /// The file `path`, in its own folder.
    pub fn file(path: &Path) -> Self {
        let root = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        Self {
            root,
            relative: PathBuf::from(path.file_name().unwrap_or_default()),
        }
    }

    /// The whole path, for people and for the download's state.
    pub fn path(&self) -> PathBuf {
        self.root.join(&self.relative)
    }

    /// The file's name.
    pub fn name(&self) -> OsString {
        self.relative.file_name().unwrap_or_default().to_owned()
    }

    /// The same target under another file name (Keep both).
    #[must_use]
    pub fn renamed(&self, name: &std::ffi::OsStr) -> Self {
        Self {
            root: self.root.clone(),
            relative: self.relative.with_file_name(name),
        }
    }

    /// Open (making them) the folders down to the file's, never through a link. Blocking.
    pub fn open_folder(&self) -> std::io::Result<Folder> {
        let parent = self.relative.parent().unwrap_or(Path::new(""));
        Folder::open(&self.root)?.descend(parent, true)
    }
}

/// Where a download of `object` to `dest` goes: into `dest` if it is a folder (or ends in `/`),
/// else `dest` itself.
pub fn resolve_destination(object: &S3Uri, dest: &Path) -> Result<LocalTarget> {
    let wants_dir = dest
        .as_os_str()
        .to_string_lossy()
        .ends_with(std::path::MAIN_SEPARATOR);
    if dest.is_dir() || wants_dir {
        if !dest.is_dir() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("No such folder: {}", dest.display()),
            ));
        }
        return Ok(LocalTarget {
            root: dest.to_owned(),
            relative: PathBuf::from(safe_file_name(object)?),
        });
    }
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("No such folder: {}", parent.display()),
        ));
    }
    Ok(LocalTarget::file(dest))
}

/// `name (1).ext` in `folder`: the first numbered name nothing has ("Keep both"); `name`
/// itself when all 1,000 are taken (the download then refuses).
pub fn free_local_name(folder: &Folder, name: &std::ffi::OsStr) -> OsString {
    let text = name.to_string_lossy();
    (1..=1000)
        .map(|n| OsString::from(numbered_name(&text, n)))
        .find(|candidate| folder.kind(candidate).ok() == Some(None))
        .unwrap_or_else(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_never_escape_the_folder() {
        let name = |k: &str| safe_file_name(&S3Uri::new("b", k));
        assert_eq!(name("docs/report.pdf").ok().as_deref(), Some("report.pdf"));
        assert_eq!(name("/etc/passwd").ok().as_deref(), Some("passwd"));
        assert_eq!(
            name("a\\..\\..\\evil").ok().as_deref(),
            Some("a%5C..%5C..%5Cevil")
        );
        assert_eq!(name("nul\0byte").ok().as_deref(), Some("nul%00byte"));
        assert!(name("docs/..").is_err());
        assert!(name("docs/.").is_err());
        assert!(name("docs/").is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_key_becomes_one_plain_file_name_or_is_refused(key in "\\PC{0,60}") {
            if let Ok(name) = safe_file_name(&S3Uri::new("bucket", key)) {
                proptest::prop_assert!(!name.is_empty() && name.len() <= 255);
                proptest::prop_assert!(name != "." && name != "..");
                proptest::prop_assert!(!name.contains(['/', '\\', '\0']));
                proptest::prop_assert!(!name.chars().any(char::is_control));
                let joined = Path::new("/dest").join(&name);
                proptest::prop_assert_eq!(joined.parent(), Some(Path::new("/dest")));
            }
        }
    }
}
