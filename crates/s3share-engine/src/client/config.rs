//! The saved settings (TOML; never secrets): connections, the default expiry, the app's own.

use std::path::Path;

use s3share_core::fs::write_private;
use serde::{Deserialize, Serialize};

use super::connection::ConnectionSettings;
use crate::base::error::{Error, ErrorKind, Result};

/// Saved settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Saved connections (custom endpoints, chosen profiles).
    pub connections: Vec<ConnectionSettings>,
    /// The expiry new links get, as typed (`15m`).
    pub default_expiry: Option<String>,
    /// The desktop app's own settings.
    pub app: AppSettings,
}

/// How the desktop app looks and what it remembers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSettings {
    /// Copy a link for every upload dropped on the window.
    pub share_on_drop: bool,
    pub theme: Theme,
    /// The window's inner size in points, as it was when the app closed.
    pub window_size: Option<[f32; 2]>,
    /// The connection used last, by its label.
    pub last_connection: Option<String>,
    /// The bucket and prefix shown last (`s3://bucket/prefix/`).
    pub last_location: Option<String>,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            share_on_drop: true,
            theme: Theme::System,
            window_size: None,
            last_connection: None,
            last_location: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Follow the desktop's light or dark setting.
    #[default]
    System,
    Light,
    Dark,
}

impl Config {
    /// Load `path`; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                Error::invalid(format!(
                    "The settings file is not valid TOML: {}",
                    path.display()
                ))
                .with_detail(e.message().to_owned())
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::local_io("read", path, &e)),
        }
    }

    /// Save atomically (0600: connection names and endpoints are nobody else's business).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = toml::to_string_pretty(self).map_err(|e| {
            Error::new(ErrorKind::LocalIo, "Could not encode the settings")
                .with_detail(e.to_string())
        })?;
        write_private(path, text.as_bytes()).map_err(|e| Error::local_io("write", path, &e))
    }

    pub fn find(&self, name: &str) -> Option<&ConnectionSettings> {
        self.connections
            .iter()
            .find(|c| c.name.as_deref() == Some(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_privately() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/config.toml");
        let cfg = Config {
            connections: vec![ConnectionSettings {
                name: Some("minio".into()),
                endpoint: Some("https://minio.example.com".into()),
                path_style: true,
                ..ConnectionSettings::default()
            }],
            default_expiry: Some("15m".into()),
            app: AppSettings {
                share_on_drop: false,
                theme: Theme::Dark,
                window_size: Some([900.0, 600.0]),
                last_connection: Some("minio".into()),
                last_location: Some("s3://b/p/".into()),
            },
        };
        cfg.save(&path).expect("save");
        assert_eq!(Config::load(&path).expect("load"), cfg);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            Config::load(&dir.path().join("none.toml")).expect("missing is empty"),
            Config::default()
        );
    }
}
