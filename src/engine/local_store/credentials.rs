//! The store's own access keys: generated on first run, kept 0600 in the config folder.

use std::path::Path;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::engine::config::write_private;
use crate::engine::error::{Error, ErrorKind, Result};
use crate::engine::presign::Secret;

const CREDENTIALS_FILE: &str = "local-store-credentials.toml";

/// An access key and its secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LocalCredentials {
    pub access_key_id: String,
    #[serde(with = "secret_serde")]
    pub secret_access_key: Secret,
}

mod secret_serde {
    use super::Secret;
    pub fn serialize<S: serde::Serializer>(s: &Secret, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.expose())
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Secret, D::Error> {
        let s: String = serde::Deserialize::deserialize(de)?;
        Ok(Secret::new(s))
    }
}

impl LocalCredentials {
    /// Fresh random credentials.
    pub fn generate() -> Result<Self> {
        let mut raw = [0u8; 30];
        getrandom::fill(&mut raw).map_err(|e| {
            Error::new(
                ErrorKind::LocalIo,
                "No randomness available to make credentials",
            )
            .with_detail(e.to_string())
        })?;
        let id: String = raw[..10]
            .iter()
            .map(|b| char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[usize::from(b % 32)]))
            .collect();
        Ok(Self {
            access_key_id: format!("S3SHARE{id}"),
            secret_access_key: Secret::new(
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw[10..]),
            ),
        })
    }

    /// The credentials kept (0600) in `config_dir`, made and saved on first use.
    pub fn load_or_create(config_dir: &Path) -> Result<Self> {
        let path = config_dir.join(CREDENTIALS_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                Error::invalid(format!(
                    "The local store's credentials file is damaged; delete it to make new ones: {}",
                    path.display()
                ))
                .with_detail(e.message().to_owned())
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let creds = Self::generate()?;
                let text = toml::to_string(&creds).map_err(|e| {
                    Error::new(ErrorKind::LocalIo, "Could not encode credentials")
                        .with_detail(e.to_string())
                })?;
                write_private(&path, text.as_bytes())
                    .map_err(|e| Error::local_io("write", &path, &e))?;
                Ok(creds)
            }
            Err(e) => Err(Error::local_io("read", &path, &e)),
        }
    }

    pub fn to_aws(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            &self.access_key_id,
            self.secret_access_key.expose(),
            None,
            None,
            "s3share-local-store",
        )
    }
}
