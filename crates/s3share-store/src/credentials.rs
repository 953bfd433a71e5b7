//! The store's own access keys: generated on first run, kept 0600 where the caller says.

use std::path::Path;

use base64::Engine as _;
use s3share_core::{AccessKey, Secret};

use crate::error::{StoreError, StoreResult};

/// The credentials file's name in the user's config folder.
pub const CREDENTIALS_FILE: &str = "local-store-credentials.toml";

/// Fresh random credentials: an id `S3SHARE…` and a 160-bit secret.
pub fn generate() -> StoreResult<AccessKey> {
    let mut raw = [0u8; 30];
    getrandom::fill(&mut raw).map_err(|_| StoreError::NoRandomness)?;
    let id: String = raw[..10]
        .iter()
        .map(|b| char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[usize::from(b % 32)]))
        .collect();
    Ok(AccessKey {
        access_key_id: format!("S3SHARE{id}"),
        secret_access_key: Secret::new(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw[10..]),
        ),
    })
}

/// The credentials kept (0600) in the file `path`, made and saved on first use.
pub fn load_or_create(path: &Path) -> StoreResult<AccessKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| StoreError::DamagedCredentials {
            path: path.to_owned(),
            detail: e.message().to_owned(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let creds = generate()?;
            let text = toml::to_string(&creds).map_err(|e| StoreError::Io {
                action: "encode the credentials",
                path: path.to_owned(),
                source: std::io::Error::other(e),
            })?;
            s3share_core::fs::write_private(path, text.as_bytes()).map_err(|source| {
                StoreError::Io {
                    action: "write the credentials",
                    path: path.to_owned(),
                    source,
                }
            })?;
            Ok(creds)
        }
        Err(source) => Err(StoreError::Io {
            action: "read the credentials",
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_then_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("conf").join(CREDENTIALS_FILE);
        let first = load_or_create(&path).expect("made");
        assert!(first.access_key_id.starts_with("S3SHARE"));
        assert_eq!(load_or_create(&path).expect("read"), first);
        std::fs::write(&path, "not = [toml").expect("damage");
        assert!(matches!(
            load_or_create(&path),
            Err(StoreError::DamagedCredentials { .. })
        ));
    }
}
