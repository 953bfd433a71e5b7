//! Blocking work (files, folder walks, fsyncs) off the async workers, with one way of saying
//! that it stopped.

use super::error::{Error, ErrorKind, Result};

/// Run `f` on the blocking pool and wait for it. A task that panicked or was cancelled is a
/// `LocalIo` error: every blocking step here is disk work.
pub async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(stopped(&e)))
}

/// [`run_blocking`] for work that returns an `io::Result` (positioned reads and writes).
pub async fn run_blocking_io<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
}

fn stopped(e: &tokio::task::JoinError) -> Error {
    Error::new(ErrorKind::LocalIo, "A background task stopped unexpectedly")
        .with_detail(e.to_string())
}
