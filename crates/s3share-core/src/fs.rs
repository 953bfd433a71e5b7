//! Files only their owner may read, written so a crash leaves the old content or the new one,
//! never a mix; and folders made so. All platform differences of s3share's file handling that
//! the store and the engine share sit here.
//!
//! On Unix, files are 0600 and folders 0700, and a folder is fsynced so the names in it are
//! durable. Windows has no modes (a user's profile folders are private to the user by their
//! ACLs) and no way to sync a folder: a rename there is made durable by the file system's own
//! journal (NTFS), so [`sync_dir`] is a no-op.

use std::fs::File;
use std::io::Write as _;
use std::path::Path;

/// Write `bytes` to `path` atomically, readable by the owner only (0600 on Unix): a temporary
/// file in the same folder (named `.s3share-…`, so a store's start-up clears one a crash
/// left), fsynced, then renamed over `path`. The folder is made if needed.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".s3share-")
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A folder only its owner can enter (0700 on Unix), made with its parents; its name is made
/// durable (its parent synced), or a write committed inside it could vanish with it.
pub fn private_dir(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(path)?;
    match path.parent() {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}

/// Make the names in folder `path` durable (renames, new files). A no-op where the platform
/// cannot sync a folder (Windows refuses to open one as a file).
pub fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(path)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Options that create a file readable by its owner only (0600 on Unix; on Windows the user's
/// profile folders are private already). On Windows the file is opened sharing read, write and
/// delete, as Unix files always are: another handle may still rename or delete it (a commit
/// over a file being read, a lease outliving its object).
pub fn private_file_options() -> std::fs::OpenOptions {
    let mut options = File::options();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt as _;
        /// `FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE`.
        const SHARE_ALL: u32 = 0x1 | 0x2 | 0x4;
        options.share_mode(SHARE_ALL);
    }
    options
}

/// Make `path` (a folder) the owner's only, where the platform has modes.
pub fn restrict_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_writes_replace_whole_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/file.toml");
        write_private(&path, b"one").expect("write");
        write_private(&path, b"two").expect("rewrite");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        let leftovers = std::fs::read_dir(dir.path().join("sub"))
            .expect("dir")
            .count();
        assert_eq!(leftovers, 1, "no temporary file stays behind");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            private_dir(&dir.path().join("a/b")).expect("dir");
            let mode = std::fs::metadata(dir.path().join("a/b"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }
}
