//! Download to a file or into a folder: written to a temporary file beside the target and
//! renamed into place when complete, so a failure never leaves a half-written file.

use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt as _;

use super::Progress;
use crate::engine::connection::Connection;
use crate::engine::error::{Error, ErrorKind, Result};
use crate::engine::location::S3Uri;

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
    Ok(super::paths::segment_name(raw))
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
        .map(|n| path.with_file_name(super::upload::numbered_key(&name, n)))
        .find(|p| !p.exists())
        .unwrap_or_else(|| path.to_owned())
}

/// Download `object` to the file `target` (already resolved and checked by
/// [`crate::engine::ops::download_file`]) in one stream. Returns the file written; without
/// `overwrite`, a file that appeared at `target` meanwhile is kept (the rename refuses).
pub async fn download_to(
    conn: &Connection,
    object: &S3Uri,
    target: &Path,
    overwrite: bool,
    progress: Progress<'_>,
) -> Result<PathBuf> {
    let target = target.to_path_buf();
    let (client, _) = conn.client_for_bucket(&object.bucket).await?;
    let mut resp = client
        .get_object()
        .bucket(&object.bucket)
        .key(&object.key)
        .send()
        .await
        .map_err(|e| Error::from_sdk(&e, &object.to_string()))?;
    let total = resp
        .content_length()
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0);
    let dir = target
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    // Dropped (deleted) on any early return: nothing half-written is left behind. Created with
    // 0666 less the umask, as any other program's download would be.
    let mut builder = tempfile::Builder::new();
    builder.prefix(".s3share-download-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let temp = builder
        .tempfile_in(&dir)
        .map_err(|e| Error::local_io("write in", &dir, &e))?;
    let std_file = temp
        .reopen()
        .map_err(|e| Error::local_io("write", temp.path(), &e))?;
    let mut file =
        tokio::io::BufWriter::with_capacity(256 * 1024, tokio::fs::File::from_std(std_file));
    let mut done = 0u64;
    progress.set_total(total);
    while let Some(chunk) = resp.body.next().await {
        let chunk = chunk.map_err(|e| {
            Error::new(
                ErrorKind::Network,
                format!("The download broke off; nothing was kept: {object}"),
            )
            .with_detail(super::super::error::source_chain(&e))
        })?;
        file.write_all(&chunk)
            .await
            .map_err(|e| Error::local_io("write", &target, &e))?;
        done += chunk.len() as u64;
        progress.add(chunk.len() as u64);
    }
    file.flush()
        .await
        .map_err(|e| Error::local_io("write", &target, &e))?;
    file.into_inner()
        .sync_all()
        .await
        .map_err(|e| Error::local_io("write", &target, &e))?;
    if total != 0 && done != total {
        return Err(Error::new(
            ErrorKind::Network,
            format!("The download ended early; nothing was kept: {object}"),
        ));
    }
    let persisted = if overwrite {
        temp.persist(&target)
    } else {
        temp.persist_noclobber(&target)
    };
    persisted.map_err(|e| Error::local_io("write", &target, &e.error))?;
    Ok(target)
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
