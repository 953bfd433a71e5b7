//! `s3://bucket/key` addresses, as typed on the command line.

use std::fmt;
use std::str::FromStr;

use super::error::Error;
pub use s3share_core::limits::MAX_KEY_BYTES;

/// Where s3share keeps the share pages it writes, in the bucket of the files they list (its own
/// prefix, never among the user's files; the signer policy grants it on its own).
pub const PAGES_PREFIX: &str = ".s3share/pages/";

/// A bucket and an optional key (or prefix). The key is taken as typed: no percent-decoding,
/// since keys may hold `%`, `+`, `#` and `?` literally.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct S3Uri {
    pub bucket: String,
    pub key: String,
}

impl FromStr for S3Uri {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let rest = s.strip_prefix("s3://").ok_or_else(|| {
            Error::invalid(format!(
                "Not an S3 address: expected s3://BUCKET/KEY, got {s:?}"
            ))
        })?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        check_bucket_name(bucket)?;
        if key.len() > MAX_KEY_BYTES {
            return Err(Error::invalid(format!(
                "An object name can be at most 1024 bytes; this one has {}",
                key.len()
            )));
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }
}

impl fmt::Display for S3Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

impl S3Uri {
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    /// The key, which must name an object (not empty, not a folder).
    pub fn require_object(&self) -> Result<&str, Error> {
        if self.key.is_empty() || self.key.ends_with('/') {
            Err(Error::invalid(format!(
                "This names a bucket or folder, not an object: {self}"
            )))
        } else {
            Ok(&self.key)
        }
    }

    /// A bucket or a folder (a key that is empty or ends in `/`), as policies and upload
    /// requests need; `what` says what needs one ("A signer's policy covers a prefix").
    pub fn require_prefix(&self, what: &str) -> Result<(), Error> {
        if self.key.is_empty() || self.key.ends_with('/') {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "{what}: end it with a slash, like {self}/"
            )))
        }
    }

    /// The key, which must name an object that a URL can reach: a `.` or `..` segment
    /// (`a/../b`) is folded away by browsers and HTTP clients before the request is sent, so no
    /// link or presigned upload to such a key can work.
    pub fn require_linkable_object(&self) -> Result<&str, Error> {
        let key = self.require_object()?;
        if key
            .split('/')
            .any(|segment| segment == "." || segment == "..")
        {
            return Err(Error::invalid(format!(
                "This object name has a \".\" or \"..\" part between slashes, which web browsers and HTTP clients remove before sending, so a link to it cannot work; choose a name without one: {self}"
            )));
        }
        Ok(key)
    }

    /// The last path segment of the key: what a file downloaded from it is called.
    pub fn file_name(&self) -> &str {
        self.key.rsplit('/').next().unwrap_or("")
    }
}

/// Bucket names: 3 to 63 characters of lower-case letters, digits, dots and hyphens (plus the
/// upper case and underscores that some S3-compatible stores and old buckets allow).
pub fn check_bucket_name(bucket: &str) -> Result<(), Error> {
    let ok_chars = bucket
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if bucket.is_empty() {
        return Err(Error::invalid(
            "The S3 address has no bucket: expected s3://BUCKET/KEY",
        ));
    }
    if !(3..=63).contains(&bucket.len()) || !ok_chars {
        return Err(Error::invalid(format!(
            "Not a valid bucket name (3-63 letters, digits, dots, hyphens): {bucket:?}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_and_raw_key() {
        let u: S3Uri = "s3://shared/docs/a b+%#?.pdf".parse().expect("valid");
        assert_eq!(u.bucket, "shared");
        assert_eq!(u.key, "docs/a b+%#?.pdf");
        assert_eq!(u.file_name(), "a b+%#?.pdf");
        assert_eq!(
            "s3://shared".parse::<S3Uri>().map(|u| u.key).ok(),
            Some(String::new())
        );
        assert_eq!(
            "s3://bkt/x//y".parse::<S3Uri>().map(|u| u.key).ok(),
            Some("x//y".into())
        );
    }

    #[test]
    fn dot_segments_cannot_be_linked() {
        for bad in ["a/../b", "..", ".", "a/./b", "a/.."] {
            let err = S3Uri::new("bucket", bad)
                .require_linkable_object()
                .unwrap_err();
            assert!(err.message().contains("browsers"), "{err}");
        }
        for good in ["a/..b", "...", ".env", "a/.hidden/b", "a..b"] {
            assert!(
                S3Uri::new("bucket", good).require_linkable_object().is_ok(),
                "{good}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_fails_cleanly_and_keys_round_trip(
            bucket in "[a-z0-9.-]{0,70}",
            key in "\\PC{0,40}",
            junk in "\\PC{0,20}",
        ) {
            let _ = junk.parse::<S3Uri>();
            let text = format!("s3://{bucket}/{key}");
            match text.parse::<S3Uri>() {
                Ok(u) => {
                    proptest::prop_assert_eq!(&u.bucket, &bucket);
                    proptest::prop_assert_eq!(&u.key, &key);
                    proptest::prop_assert_eq!(u.to_string(), text);
                }
                Err(e) => proptest::prop_assert_eq!(e.kind(), crate::ErrorKind::InvalidInput),
            }
        }
    }

    #[test]
    fn rejects_bad_addresses() {
        for bad in [
            "shared/x",
            "http://shared/x",
            "s3://",
            "s3:///key",
            "s3://ab/k",
            "s3://bad bucket/k",
        ] {
            let err = bad.parse::<S3Uri>().unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{bad}");
        }
        let long = format!("s3://bucket/{}", "k".repeat(1025));
        assert!(long.parse::<S3Uri>().is_err());
        assert!(
            "s3://bucket/dir/"
                .parse::<S3Uri>()
                .expect("valid")
                .require_object()
                .is_err()
        );
    }
}
