//! What can stop the store from starting or serving: the port, the folder, the disk, the
//! credentials file. Requests are answered in S3's own errors, never in these.

use std::fmt;
use std::path::PathBuf;

/// Why the store could not start (or seed a folder).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The port is taken (or not ours to use).
    #[error("Could not listen on 127.0.0.1:{port} (is the port in use?)")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    /// Another store holds this folder's lock.
    #[error(
        "Another s3share store is using this folder (s3share local, or another window): {}",
        path.display()
    )]
    InUse { path: PathBuf },
    /// A file or folder of the store could not be read or written.
    #[error("{}", io_words(action, path, source))]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The credentials file is there but not readable as credentials.
    #[error(
        "The local store's credentials file is damaged; delete it to make new ones: {}",
        path.display()
    )]
    DamagedCredentials { path: PathBuf, detail: String },
    /// The system gave no randomness to make keys with.
    #[error("No randomness available to make credentials")]
    NoRandomness,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// "Permission denied when trying to create the store folder: /path", and the like: the usual
/// failures in words, the path last.
fn io_words(action: &str, path: &std::path::Path, err: &std::io::Error) -> String {
    use std::io::ErrorKind as Io;
    let shown = path.display();
    match err.kind() {
        Io::NotFound => format!("No such file or folder: {shown}"),
        Io::PermissionDenied => format!("Permission denied when trying to {action}: {shown}"),
        Io::StorageFull => format!("The disk is full; could not {action}: {shown}"),
        _ => format!("Could not {action} ({}): {shown}", Kind(err.kind())),
    }
}

struct Kind(std::io::ErrorKind);

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // io::ErrorKind's Display is its description ("permission denied").
        fmt::Display::fmt(&self.0, f)
    }
}
