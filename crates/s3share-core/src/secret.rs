//! Secrets that never show themselves: in `Debug`, in logs, in panics.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A secret string (secret key, session token) whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself: only for signing and for the files meant to hold it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(**redacted**)")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        String::deserialize(de).map(Self)
    }
}

/// A long-term access key: its id and secret. What the embedded store is started with and
/// what a client of it signs with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let key = AccessKey {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"),
        };
        let shown = format!("{key:?}");
        assert!(
            shown.contains("AKIDEXAMPLE") && !shown.contains("EXAMPLEKEY"),
            "{shown}"
        );
    }
}
