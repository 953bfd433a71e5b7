//! Where downloaded bytes land, in folders other people may write to (a group folder, a
//! mounted share, a USB stick): every folder below the destination is entered without
//! following a symbolic link, every file is created new (never through a link, never over
//! something there), and a finished download is put in place without replacing what is there
//! unless asked — with the file system's own atomic no-replace rename where it has one, and
//! the weaker steps exFAT, FAT, SMB and FUSE allow where it has not.
//!
//! On Unix the folders are held open (`openat` and friends, via rustix), so a folder swapped
//! for a link after it was checked cannot redirect a write. Elsewhere (Windows) each step
//! checks the path's metadata first, which is as far as std goes.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use crate::base::error::{Error, ErrorKind};

/// What a name in a folder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Folder,
    /// A symbolic link (or a Windows reparse point): never written through.
    Link,
    Other,
}

/// A folder downloads are written in.
#[derive(Debug)]
pub struct Folder {
    path: PathBuf,
    #[cfg(unix)]
    fd: std::os::fd::OwnedFd,
}

/// A symbolic link where a folder or file was to be written.
#[derive(Debug)]
pub struct LinkRefused {
    pub path: PathBuf,
}

impl std::fmt::Display for LinkRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "this is a symbolic link, and s3share writes nothing through one: {}",
            self.path.display()
        )
    }
}

impl std::error::Error for LinkRefused {}

/// The error for a name that is a symbolic link where a folder or file was to be written.
pub fn link_refused(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        LinkRefused {
            path: path.to_owned(),
        },
    )
}

/// A folder step's failure in words: a link refused says so and names it.
pub fn folder_error(e: &io::Error, action: &str, path: &Path) -> Error {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<LinkRefused>())
    {
        Some(link) => Error::new(
            ErrorKind::InvalidInput,
            format!(
                "Not downloaded: a symbolic link is in the way, and s3share writes nothing through one (someone who can write to the folder may have put it there): {}",
                link.path.display()
            ),
        ),
        None => Error::local_io(action, path, e),
    }
}

#[cfg(unix)]
mod imp {
    use std::ffi::OsStr;
    use std::fs::File;
    use std::io;
    use std::os::fd::{AsFd as _, OwnedFd};

    use rustix::fs::{AtFlags, FileType, Mode, OFlags};

    use crate::transfer::download::folder::Kind;

    fn os(e: rustix::io::Errno) -> io::Error {
        io::Error::from_raw_os_error(e.raw_os_error())
    }

    pub fn open_dir(path: &std::path::Path) -> io::Result<OwnedFd> {
        rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(os)
    }

    pub fn subdir(dir: &OwnedFd, name: &OsStr, create: bool) -> io::Result<OwnedFd> {
        if create {
            match rustix::fs::mkdirat(dir.as_fd(), name, Mode::from_raw_mode(0o777)) {
                Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                Err(e) => return Err(os(e)),
            }
        }
        rustix::fs::openat(
            dir.as_fd(),
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(os)
    }

    pub fn kind(dir: &OwnedFd, name: &OsStr) -> io::Result<Option<Kind>> {
        match rustix::fs::statat(dir.as_fd(), name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(match FileType::from_raw_mode(st.st_mode) {
                FileType::RegularFile => Kind::File,
                FileType::Directory => Kind::Folder,
                FileType::Symlink => Kind::Link,
                _ => Kind::Other,
            })),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(os(e)),
        }
    }

    pub fn create_new(dir: &OwnedFd, name: &OsStr) -> io::Result<File> {
        let fd = rustix::fs::openat(
            dir.as_fd(),
            name,
            OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            // 0666 less the umask, as any other program's download.
            Mode::from_raw_mode(0o666),
        )
        .map_err(os)?;
        Ok(File::from(fd))
    }

    pub fn open_file(dir: &OwnedFd, name: &OsStr) -> io::Result<File> {
        let fd = rustix::fs::openat(
            dir.as_fd(),
            name,
            OFlags::RDWR | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(os)?;
        Ok(File::from(fd))
    }

    /// The file's identity (device, inode), to tell it is still the one created.
    pub fn identity(file: &File) -> io::Result<(u64, u64)> {
        let st = rustix::fs::fstat(file).map_err(os)?;
        #[expect(
            clippy::useless_conversion,
            reason = "st_dev and st_ino are not u64 on every platform"
        )]
        Ok((u64::from(st.st_dev), u64::from(st.st_ino)))
    }

    pub fn remove(dir: &OwnedFd, name: &OsStr) -> io::Result<()> {
        rustix::fs::unlinkat(dir.as_fd(), name, AtFlags::empty()).map_err(os)
    }

    pub fn rename_replace(dir: &OwnedFd, from: &OsStr, to: &OsStr) -> io::Result<()> {
        rustix::fs::renameat(dir.as_fd(), from, dir.as_fd(), to).map_err(os)
    }

    /// An atomic rename that fails when `to` exists; `Unsupported` where the file system (or
    /// the platform) has none.
    pub fn rename_noreplace(dir: &OwnedFd, from: &OsStr, to: &OsStr) -> io::Result<()> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::fs::RenameFlags;
            match rustix::fs::renameat_with(
                dir.as_fd(),
                from,
                dir.as_fd(),
                to,
                RenameFlags::NOREPLACE,
            ) {
                Ok(()) => Ok(()),
                Err(
                    rustix::io::Errno::INVAL
                    | rustix::io::Errno::NOSYS
                    | rustix::io::Errno::OPNOTSUPP,
                ) => Err(io::ErrorKind::Unsupported.into()),
                Err(e) => Err(os(e)),
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let _ = (dir, from, to);
            Err(io::ErrorKind::Unsupported.into())
        }
    }

    /// A hard link `to` of `from` (fails when `to` exists); `Unsupported` where the file system
    /// has no hard links (exFAT, FAT, many FUSE and SMB mounts).
    pub fn link(dir: &OwnedFd, from: &OsStr, to: &OsStr) -> io::Result<()> {
        match rustix::fs::linkat(dir.as_fd(), from, dir.as_fd(), to, AtFlags::empty()) {
            Ok(()) => Ok(()),
            Err(
                rustix::io::Errno::PERM
                | rustix::io::Errno::OPNOTSUPP
                | rustix::io::Errno::NOSYS
                | rustix::io::Errno::MLINK
                | rustix::io::Errno::XDEV,
            ) => Err(io::ErrorKind::Unsupported.into()),
            Err(e) => Err(os(e)),
        }
    }
}

impl Folder {
    /// The destination folder the user chose (a link there is their choice, and followed).
    pub fn open(path: &Path) -> io::Result<Self> {
        Ok(Self {
            path: path.to_owned(),
            #[cfg(unix)]
            fd: imp::open_dir(path)?,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The folder `name` in this one, made when `create` and missing, never through a link.
    pub fn subfolder(&self, name: &OsStr, create: bool) -> io::Result<Self> {
        let path = self.path.join(name);
        if self.kind(name)? == Some(Kind::Link) {
            return Err(link_refused(&path));
        }
        #[cfg(unix)]
        {
            let fd = imp::subdir(&self.fd, name, create).map_err(|e| {
                // It turned into a link between the look and the open.
                if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                    link_refused(&path)
                } else {
                    e
                }
            })?;
            Ok(Self { path, fd })
        }
        #[cfg(not(unix))]
        {
            if create && !path.exists() {
                std::fs::create_dir(&path).or_else(|e| {
                    if e.kind() == io::ErrorKind::AlreadyExists {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })?;
            }
            if self.kind(name)? != Some(Kind::Folder) {
                return Err(io::Error::new(
                    io::ErrorKind::NotADirectory,
                    format!("not a folder: {}", path.display()),
                ));
            }
            Ok(Self { path })
        }
    }

    /// The folder at `relative` below this one (each component entered as [`Self::subfolder`]).
    pub fn descend(&self, relative: &Path, create: bool) -> io::Result<Self> {
        let mut here = Self::open_again(self)?;
        for component in relative.components() {
            match component {
                std::path::Component::Normal(name) => here = here.subfolder(name, create)?,
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("not a plain relative path: {}", relative.display()),
                    ));
                }
            }
        }
        Ok(here)
    }

    #[cfg_attr(
        not(unix),
        expect(
            clippy::unnecessary_wraps,
            reason = "duplicating the folder's handle can fail on Unix"
        )
    )]
    fn open_again(other: &Self) -> io::Result<Self> {
        Ok(Self {
            path: other.path.clone(),
            #[cfg(unix)]
            fd: other.fd.try_clone()?,
        })
    }

    /// What `name` is here, without following a link; `None` when nothing has that name.
    pub fn kind(&self, name: &OsStr) -> io::Result<Option<Kind>> {
        #[cfg(unix)]
        {
            imp::kind(&self.fd, name)
        }
        #[cfg(not(unix))]
        {
            match std::fs::symlink_metadata(self.path.join(name)) {
                Ok(m) if m.file_type().is_symlink() => Ok(Some(Kind::Link)),
                Ok(m) if m.is_dir() => Ok(Some(Kind::Folder)),
                Ok(m) if m.is_file() => Ok(Some(Kind::File)),
                Ok(_) => Ok(Some(Kind::Other)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        }
    }

    /// A new file `name`, refused when anything (a link included) already has that name.
    pub fn create_new(&self, name: &OsStr) -> io::Result<File> {
        #[cfg(unix)]
        {
            imp::create_new(&self.fd, name)
        }
        #[cfg(not(unix))]
        {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(self.path.join(name))
        }
    }

    /// A new file with a random name starting with `prefix`: nobody can plant something at a
    /// name they cannot know.
    pub fn create_unique(&self, prefix: &str) -> io::Result<(OsString, File)> {
        for _ in 0..16 {
            let mut raw = [0u8; 12];
            getrandom::fill(&mut raw).map_err(|e| io::Error::other(e.to_string()))?;
            let name = OsString::from(format!("{prefix}{}", hex::encode(raw)));
            match self.create_new(&name) {
                Ok(f) => return Ok((name, f)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        Err(io::ErrorKind::AlreadyExists.into())
    }

    /// The existing regular file `name`, opened for writing, never through a link.
    pub fn open_file(&self, name: &OsStr) -> io::Result<File> {
        #[cfg(unix)]
        {
            imp::open_file(&self.fd, name)
        }
        #[cfg(not(unix))]
        {
            if self.kind(name)? == Some(Kind::Link) {
                return Err(link_refused(&self.path.join(name)));
            }
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(self.path.join(name))
        }
    }

    pub fn remove(&self, name: &OsStr) -> io::Result<()> {
        #[cfg(unix)]
        {
            imp::remove(&self.fd, name)
        }
        #[cfg(not(unix))]
        {
            std::fs::remove_file(self.path.join(name))
        }
    }

    /// Put the finished file `from` in place as `to`: over what is there when `replace`, else
    /// never over anything (`AlreadyExists`). Atomic where the file system can (a no-replace
    /// rename, or a hard link then the old name removed); on file systems with neither (exFAT,
    /// FAT, FUSE, SMB) the name is checked free just before a plain rename.
    pub fn put_in_place(&self, from: &OsStr, to: &OsStr, replace: bool) -> io::Result<()> {
        if replace {
            #[cfg(unix)]
            {
                return imp::rename_replace(&self.fd, from, to);
            }
            #[cfg(not(unix))]
            {
                return std::fs::rename(self.path.join(from), self.path.join(to));
            }
        }
        #[cfg(unix)]
        {
            match imp::rename_noreplace(&self.fd, from, to) {
                Err(e) if e.kind() == io::ErrorKind::Unsupported => {}
                done => return done,
            }
            match imp::link(&self.fd, from, to) {
                Ok(()) => return self.remove(from),
                Err(e) if e.kind() == io::ErrorKind::Unsupported => {}
                Err(e) => return Err(e),
            }
            if self.kind(to)?.is_some() {
                return Err(io::ErrorKind::AlreadyExists.into());
            }
            imp::rename_replace(&self.fd, from, to)
        }
        #[cfg(not(unix))]
        {
            let (src, dst) = (self.path.join(from), self.path.join(to));
            match std::fs::hard_link(&src, &dst) {
                Ok(()) => return std::fs::remove_file(&src),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(e),
                Err(_) => {}
            }
            if self.kind(to)?.is_some() {
                return Err(io::ErrorKind::AlreadyExists.into());
            }
            std::fs::rename(&src, &dst)
        }
    }
}

/// The identity of an open file: on Unix its device and inode, to tell that a partial file is
/// still the one s3share made; elsewhere its size and creation time, the best std offers.
pub fn identity(file: &File) -> io::Result<(u64, u64)> {
    #[cfg(unix)]
    {
        imp::identity(file)
    }
    #[cfg(not(unix))]
    {
        let m = file.metadata()?;
        let created = m
            .created()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        Ok((0, created))
    }
}

/// A file being written in a folder, removed when dropped unless it was put in place or kept
/// (for a resume): nothing half-written stays behind a failure.
#[derive(Debug)]
pub struct Scratch {
    folder: std::sync::Arc<Folder>,
    name: OsString,
    armed: bool,
}

impl Scratch {
    /// A new file with a random name starting with `prefix` in `folder`, and the file.
    pub fn create(folder: &std::sync::Arc<Folder>, prefix: &str) -> io::Result<(Self, File)> {
        let (name, file) = folder.create_unique(prefix)?;
        Ok((
            Self {
                folder: folder.clone(),
                name,
                armed: true,
            },
            file,
        ))
    }

    /// The existing file `name` in `folder`, to be removed as a scratch file is.
    pub fn adopt(folder: &std::sync::Arc<Folder>, name: OsString) -> Self {
        Self {
            folder: folder.clone(),
            name,
            armed: true,
        }
    }

    pub fn name(&self) -> &OsStr {
        &self.name
    }

    pub fn path(&self) -> PathBuf {
        self.folder.path().join(&self.name)
    }

    /// Rename it to `to` in its folder (see [`Folder::put_in_place`]); it is no longer scratch.
    pub fn put_in_place(mut self, to: &OsStr, replace: bool) -> io::Result<()> {
        self.folder.put_in_place(&self.name, to, replace)?;
        self.armed = false;
        Ok(())
    }

    /// Leave it where it is (an interrupted download, resumed later).
    pub fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.folder.remove(&self.name);
        }
    }
}
