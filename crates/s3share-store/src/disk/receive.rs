//! A request body into a staging file: hashed (MD5, CRC32C, SHA-256 when asked) as it arrives,
//! held to a limit, fsynced before it can be committed. Never held in memory.

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use md5::Digest as _;
use tokio::io::AsyncWriteExt as _;

/// A body received into a staging file, with its size and hashes.
pub(crate) struct Received {
    pub file: tempfile::NamedTempFile,
    pub size: u64,
    pub md5: [u8; 16],
    pub crc32c: u32,
    pub sha256: Option<[u8; 32]>,
}

/// Why receiving a body stopped.
pub(crate) enum ReceiveError {
    /// The client's stream broke off.
    Broken,
    /// More than the limit arrived.
    TooLarge,
    Io(std::io::Error),
}

/// Receive `body` into `file` (a new staging file), stopping once more than `limit` bytes came.
pub(crate) async fn receive<S, E>(
    file: tempfile::NamedTempFile,
    mut body: S,
    limit: u64,
    want_sha256: bool,
) -> Result<Received, ReceiveError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut out = tokio::io::BufWriter::with_capacity(
        256 * 1024,
        tokio::fs::File::from_std(file.reopen().map_err(ReceiveError::Io)?),
    );
    let mut md5 = md5::Md5::new();
    let mut crc = 0u32;
    let mut sha = want_sha256.then(sha2::Sha256::new);
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| ReceiveError::Broken)?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(ReceiveError::TooLarge);
        }
        md5.update(&chunk);
        crc = crc32c::crc32c_append(crc, &chunk);
        if let Some(s) = sha.as_mut() {
            s.update(&chunk);
        }
        out.write_all(&chunk).await.map_err(ReceiveError::Io)?;
    }
    out.flush().await.map_err(ReceiveError::Io)?;
    // Durable before it can be committed (on the blocking pool, not an async worker).
    out.get_ref().sync_all().await.map_err(ReceiveError::Io)?;
    Ok(Received {
        file,
        size,
        md5: md5.finalize().into(),
        crc32c: crc,
        sha256: sha.map(|s| s.finalize().into()),
    })
}
