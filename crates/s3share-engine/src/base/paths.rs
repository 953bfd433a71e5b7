//! Where s3share keeps its files, named once: the settings, the register of links, unfinished
//! uploads, the embedded store's folder and credentials.

use std::path::PathBuf;

use super::error::{Error, ErrorKind, Result};

/// The per-user folders (XDG on Linux: `~/.config/s3share`, `~/.local/share/s3share`, ...;
/// `%APPDATA%\s3share` on Windows).
#[derive(Debug, Clone)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub cache_dir: PathBuf,
}

impl Paths {
    pub fn for_user() -> Result<Self> {
        let dirs = directories::ProjectDirs::from("", "", "s3share").ok_or_else(|| {
            Error::new(
                ErrorKind::LocalIo,
                "Could not find the home folder to keep settings in",
            )
        })?;
        Ok(Self {
            config_dir: dirs.config_dir().to_owned(),
            data_dir: dirs.data_dir().to_owned(),
            cache_dir: dirs.cache_dir().to_owned(),
        })
    }

    /// Everything under one folder (tests, benchmarks, a portable setup).
    pub fn in_folder(dir: &std::path::Path) -> Self {
        Self {
            config_dir: dir.join("config"),
            data_dir: dir.join("data"),
            cache_dir: dir.join("cache"),
        }
    }

    /// The settings (`config.toml`; never secrets).
    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    /// The register of every link made (`links.json`, 0600).
    pub fn register_file(&self) -> PathBuf {
        self.data_dir.join("links.json")
    }

    /// The states of unfinished uploads (`uploads/`, 0600 files).
    pub fn uploads_dir(&self) -> PathBuf {
        self.data_dir.join("uploads")
    }

    /// The states of unfinished downloads (`downloads/`, 0600 files): which ranges are done
    /// and the partial file's name, kept out of every folder downloaded into.
    pub fn downloads_dir(&self) -> PathBuf {
        self.data_dir.join("downloads")
    }

    /// The embedded store's data (`local-store/`).
    pub fn local_store_dir(&self) -> PathBuf {
        self.data_dir.join("local-store")
    }

    /// The embedded store's generated credentials (0600).
    pub fn local_store_credentials(&self) -> PathBuf {
        self.config_dir.join("local-store-credentials.toml")
    }

    /// Where a running embedded store records its address, beside its folder.
    pub fn local_store_address(&self) -> PathBuf {
        self.data_dir.join("local-store.json")
    }
}
