//! Where a download goes: a folder or a file, a safe file name from a key, a free numbered
//! name for "Keep both".

use std::path::{Path, PathBuf};

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

/// Where a download of `object` to `dest` goes: into `dest` if it is a folder (or ends in `/`),
/// else `dest` itself.
pub fn resolve_destination(object: &S3Uri, dest: &Path) -> Result<PathBuf> {
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
        return Ok(dest.join(safe_file_name(object)?));
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
    Ok(dest.to_path_buf())
}

/// `name (1).ext` next to `path`: the first numbered name that does not exist ("Keep both").
pub fn free_local_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (1..=1000)
        .map(|n| path.with_file_name(numbered_name(&name, n)))
        .find(|p| !p.exists())
        .unwrap_or_else(|| path.to_owned())
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
