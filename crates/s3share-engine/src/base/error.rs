//! The engine's error: a kind a person (or a script) can act on, and a message in plain words.
//!
//! Messages never embed a secret key, a session token or a presigned URL. Where a location helps
//! (`s3://bucket/key`, a local path), it comes last in the message.

use std::fmt;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

/// What went wrong, coarse enough to branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The bucket, object or local file does not exist.
    NotFound,
    /// The credentials in use may not do this.
    AccessDenied,
    /// No credentials could be found in the AWS chain.
    NoCredentials,
    /// The credentials (SSO session, assumed role, session token) have expired.
    ExpiredCredentials,
    /// The computer's clock differs too much from the server's.
    ClockSkew,
    /// Something the user typed or chose is not valid (URI, expiry, path, name).
    InvalidInput,
    /// The target exists and we will not silently replace it.
    AlreadyExists,
    /// The data did not arrive intact (checksum mismatch).
    Integrity,
    /// The server could not be reached or the connection broke.
    Network,
    /// A local file could not be read or written.
    LocalIo,
    /// The server answered with an error we have no better words for.
    Server,
}

/// The engine's error type.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    /// Technical detail for a second line ("S3 said: AccessDenied"), never a secret.
    detail: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            detail: None,
        }
    }

    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// A local I/O failure on `path`, in words that say which of the usual things happened.
    pub fn local_io(action: &str, path: &std::path::Path, err: &std::io::Error) -> Self {
        use std::io::ErrorKind as Io;
        let shown = path.display();
        match err.kind() {
            Io::NotFound => Self::new(
                ErrorKind::NotFound,
                format!("No such file or folder: {shown}"),
            ),
            Io::PermissionDenied => Self::new(
                ErrorKind::LocalIo,
                format!("Permission denied when trying to {action}: {shown}"),
            ),
            Io::IsADirectory => Self::invalid(format!("This is a folder, not a file: {shown}")),
            Io::AlreadyExists => {
                Self::new(ErrorKind::AlreadyExists, format!("Already exists: {shown}"))
            }
            Io::StorageFull => Self::new(
                ErrorKind::LocalIo,
                format!("The disk is full; could not {action}: {shown}"),
            ),
            _ => Self::new(ErrorKind::LocalIo, format!("Could not {action}: {shown}"))
                .with_detail(err.to_string()),
        }
    }

    /// Build an error from an S3 error code and HTTP status, as found in an SDK error or in the
    /// XML body of a failed presigned request. `target` is what was being acted on (`s3://b/k`).
    pub fn from_s3(
        code: Option<&str>,
        status: Option<u16>,
        s3_message: Option<&str>,
        target: &str,
    ) -> Self {
        let detail = match (code, s3_message) {
            (Some(c), Some(m)) => format!("S3 said: {c}: {m}"),
            (Some(c), None) => format!("S3 said: {c}"),
            (None, Some(m)) => format!("S3 said: {m}"),
            (None, None) => format!("HTTP status {}", status.unwrap_or(0)),
        };
        let err = match (code, status) {
            (Some("NoSuchBucket"), _) => {
                Self::new(ErrorKind::NotFound, format!("No such bucket: {target}"))
            }
            (Some("NoSuchKey"), _) => {
                Self::new(ErrorKind::NotFound, format!("No such object: {target}"))
            }
            (Some("NotFound") | None, Some(404)) => {
                Self::new(ErrorKind::NotFound, format!("Not found: {target}"))
            }
            (Some("ExpiredToken" | "ExpiredTokenException" | "TokenRefreshRequired"), _) => {
                Self::new(
                    ErrorKind::ExpiredCredentials,
                    "The credentials have expired: sign in again (for SSO: aws sso login --profile NAME)",
                )
            }
            (Some("InvalidAccessKeyId"), _) => Self::new(
                ErrorKind::AccessDenied,
                "The access key is not known to this server: check the profile or the endpoint",
            ),
            (Some("SignatureDoesNotMatch"), _) => Self::new(
                ErrorKind::AccessDenied,
                "The server rejected the signature: check the secret key and the endpoint",
            ),
            (Some("RequestTimeTooSkewed"), _) => Self::new(
                ErrorKind::ClockSkew,
                "This computer's clock is too far from the server's: set the clock right (enable NTP) and try again",
            ),
            (Some("PreconditionFailed"), _) | (None, Some(412)) => Self::new(
                ErrorKind::AlreadyExists,
                format!(
                    "An object with this name already exists (pass --overwrite to replace it): {target}"
                ),
            ),
            (
                Some(
                    "BadDigest"
                    | "InvalidDigest"
                    | "XAmzContentChecksumMismatch"
                    | "XAmzContentSHA256Mismatch",
                ),
                _,
            ) => Self::new(
                ErrorKind::Integrity,
                format!(
                    "The data was damaged on the way: the server's checksum did not match; nothing was stored: {target}"
                ),
            ),
            (Some("KeyTooLongError"), _) => Self::invalid(format!(
                "The object name is too long for this store: {target}"
            )),
            (Some("AccessDenied" | "AllAccessDisabled"), _) | (None, Some(403)) => {
                if s3_message.is_some_and(|m| m.contains("expired")) {
                    Self::new(
                        ErrorKind::AccessDenied,
                        format!("The link has expired: {target}"),
                    )
                } else {
                    Self::new(
                        ErrorKind::AccessDenied,
                        format!("Access denied: these credentials may not do this: {target}"),
                    )
                }
            }
            (Some("PermanentRedirect" | "AuthorizationHeaderMalformed"), _) | (None, Some(301)) => {
                Self::new(
                    ErrorKind::InvalidInput,
                    format!("The bucket is in another region than the one configured: {target}"),
                )
            }
            (_, Some(s)) if s >= 500 => Self::new(
                ErrorKind::Server,
                format!(
                    "The server failed to handle the request (HTTP {s}); try again later: {target}"
                ),
            ),
            _ => Self::new(
                ErrorKind::Server,
                format!("The server refused the request: {target}"),
            ),
        };
        err.with_detail(detail)
    }

    /// Convert an SDK error, naming what was acted on.
    pub fn from_sdk<E, R>(err: &SdkError<E, R>, target: &str) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: HttpStatus + fmt::Debug + 'static,
    {
        match err {
            SdkError::ConstructionFailure(_) => {
                // The most common construction failure is missing credentials.
                let text = source_chain(err);
                if text.contains("credentials") || text.contains("Credentials") {
                    credentials_error(&text)
                } else {
                    Self::invalid(format!("Could not build the request: {target}"))
                        .with_detail(text)
                }
            }
            SdkError::TimeoutError(_) => Self::new(
                ErrorKind::Network,
                format!("The server did not answer in time: {target}"),
            ),
            SdkError::DispatchFailure(d) => {
                let text = source_chain(err);
                if d.is_user()
                    || text.contains("credentials")
                    || text.contains("token")
                    || text.contains("Token")
                {
                    credentials_error(&text)
                } else {
                    Self::new(ErrorKind::Network, format!("Could not reach the server (is the network up and the endpoint right?): {target}"))
                        .with_detail(text)
                }
            }
            SdkError::ResponseError(_) => Self::new(
                ErrorKind::Network,
                format!("The server's answer could not be read: {target}"),
            )
            .with_detail(source_chain(err)),
            SdkError::ServiceError(se) => {
                let e = se.err();
                Self::from_s3(e.code(), Some(se.raw().status_code()), e.message(), target)
            }
            _ => Self::new(ErrorKind::Server, format!("The request failed: {target}"))
                .with_detail(source_chain(err)),
        }
    }
}

/// The HTTP status of a raw SDK response; lets `from_sdk` stay generic over the response type.
pub trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

pub(crate) fn credentials_error(text: &str) -> Error {
    let lower = text.to_lowercase();
    if lower.contains("expired") || lower.contains("sso") && lower.contains("token") {
        Error::new(
            ErrorKind::ExpiredCredentials,
            "The sign-in session has expired: run `aws sso login --profile NAME` (or refresh the credentials) and try again",
        )
    } else {
        Error::new(
            ErrorKind::NoCredentials,
            "No AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, pick a profile with --profile, or run `s3share local` for a store on this computer",
        )
    }
    .with_detail(text.to_owned())
}

/// The error and its causes on one line, for the detail field.
pub fn source_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_codes_map_to_kinds() {
        let cases = [
            (Some("NoSuchKey"), 404, ErrorKind::NotFound),
            (None, 404, ErrorKind::NotFound),
            (Some("AccessDenied"), 403, ErrorKind::AccessDenied),
            (Some("ExpiredToken"), 400, ErrorKind::ExpiredCredentials),
            (Some("RequestTimeTooSkewed"), 403, ErrorKind::ClockSkew),
            (Some("PreconditionFailed"), 412, ErrorKind::AlreadyExists),
            (Some("BadDigest"), 400, ErrorKind::Integrity),
            (Some("InternalError"), 500, ErrorKind::Server),
        ];
        for (code, status, kind) in cases {
            assert_eq!(
                Error::from_s3(code, Some(status), None, "s3://b/k").kind(),
                kind,
                "{code:?}"
            );
        }
    }

    #[test]
    fn io_errors_say_what_happened() {
        let p = std::path::Path::new("/tmp/x");
        let e = Error::local_io(
            "read",
            p,
            &std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.message().ends_with("/tmp/x"));
    }
}
