//! Reading a file for an upload: positioned reads of exactly the bytes that are sent, done on
//! a blocking thread just ahead of the sending, so a part is never held whole, several parts
//! read the same handle at once, and the async workers never wait on the disk.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use sha2::Digest as _;

use super::source::{ChecksumAlgorithm, changed_while_uploading};
use crate::base::blocking::run_blocking_io;
use crate::base::error::{Error, Result};
use crate::transfer::Progress;

/// Bytes read at a time: large enough for few thread hops, small for memory.
const CHUNK: usize = 512 * 1024;
/// Bytes read at a time for a checksum.
const SUM_CHUNK: usize = 128 * 1024;
/// Chunks read ahead of the sending, per body.
const AHEAD: usize = 2;

/// Fill `buf` from `file` at `offset`; a file that ends first has changed (`UnexpectedEof`).
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let n = std::os::windows::fs::FileExt::seek_read(
                file,
                &mut buf[done..],
                offset + done as u64,
            )?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        Ok(())
    }
}

/// The checksum (base64) of `len` bytes of `file` at `offset`, read on the blocking pool.
async fn checksum_range(
    file: Arc<File>,
    offset: u64,
    len: u64,
    algorithm: ChecksumAlgorithm,
) -> std::io::Result<String> {
    // Allocated before the hop, as in `range_stream`, so the blocking threads keep no arenas;
    // small enough to stay in the core's cache between the read that fills it and the CRC
    // that reads it.
    let mut buf = vec![0u8; SUM_CHUNK];
    run_blocking_io(move || {
        let mut crc = 0u32;
        let mut sha = sha2::Sha256::new();
        let mut at = offset;
        let end = offset + len;
        while at < end {
            let n = usize::try_from((end - at).min(buf.len() as u64)).unwrap_or(buf.len());
            read_exact_at(&file, &mut buf[..n], at)?;
            match algorithm {
                ChecksumAlgorithm::Crc32c => crc = crc32c::crc32c_append(crc, &buf[..n]),
                ChecksumAlgorithm::Sha256 => sha.update(&buf[..n]),
            }
            at += n as u64;
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        Ok(match algorithm {
            ChecksumAlgorithm::Crc32c => b64.encode(crc.to_be_bytes()),
            ChecksumAlgorithm::Sha256 => b64.encode(sha.finalize()),
        })
    })
    .await
}

/// The chunk buffers of one body, used again once the HTTP client has sent them: a fresh
/// buffer for every chunk was zeroed by the allocator and faulted in page by page, 5 % of an
/// upload's CPU on the sink.
#[derive(Clone, Default)]
struct ChunkPool(Arc<std::sync::Mutex<Vec<Vec<u8>>>>);

impl ChunkPool {
    /// A buffer of `n` bytes: one sent before, or a new one.
    fn take(&self, n: usize) -> Vec<u8> {
        let mut buf = s3share_core::lock(&self.0).pop().unwrap_or_default();
        buf.resize(n, 0);
        buf
    }
}

/// A chunk of a body that goes back to its pool when the client is done with it.
struct PooledChunk {
    buf: Vec<u8>,
    pool: ChunkPool,
}

impl AsRef<[u8]> for PooledChunk {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for PooledChunk {
    fn drop(&mut self) {
        let mut free = s3share_core::lock(&self.pool.0);
        if free.len() <= AHEAD {
            free.push(std::mem::take(&mut self.buf));
        }
    }
}

/// `len` bytes of `file` at `offset` as a body: each chunk read by one short task on the
/// blocking pool (one copy, from the page cache into the chunk that goes out), a couple of
/// chunks ahead of the sending. No thread is held between chunks, so many bodies at once never
/// starve the pool that the disk writes of an embedded store share.
fn range_stream(
    file: Arc<File>,
    offset: u64,
    len: u64,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let starts: Vec<(u64, usize)> = (0..len.div_ceil(CHUNK as u64))
        .map(|i| {
            let at = offset + i * CHUNK as u64;
            (
                at,
                usize::try_from((offset + len - at).min(CHUNK as u64)).unwrap_or(CHUNK),
            )
        })
        .collect();
    let pool = ChunkPool::default();
    futures_util::stream::iter(starts)
        .map(move |(at, n)| {
            let file = file.clone();
            // Taken here, on an async worker, not on the blocking thread: glibc gives each
            // thread that allocates its own arena, and a pool of them each keeping freed chunks
            // doubled the peak memory of an upload.
            let mut buf = pool.take(n);
            let pool = pool.clone();
            async move {
                tokio::task::spawn_blocking(move || {
                    read_exact_at(&file, &mut buf, at)
                        .map(|()| Bytes::from_owner(PooledChunk { buf, pool }))
                })
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
            }
        })
        .buffered(AHEAD)
}

/// Hash exactly `len` bytes of the open handle at `offset` (the bytes that will be sent). A
/// file that ends early has changed.
pub(super) async fn checksum_handle(
    file: &Arc<File>,
    (offset, len): (u64, u64),
    algorithm: ChecksumAlgorithm,
    path: &Path,
) -> Result<String> {
    checksum_range(file.clone(), offset, len, algorithm)
        .await
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                changed_while_uploading(path)
            } else {
                Error::local_io("read", path, &e)
            }
        })
}

/// "Is the file still as it was?", asked before the last bytes of a body go.
pub(super) type Unchanged = Arc<dyn Fn() -> bool + Send + Sync>;

/// Send `len` bytes of `file` from `offset` as the body of a presigned PUT, telling
/// `progress` as they leave; `unchanged` is asked before the last chunk, and a `false` breaks
/// the body off. Returns the response and how many bytes left.
pub(super) async fn put_body(
    request: reqwest::RequestBuilder,
    file: Arc<File>,
    (offset, len): (u64, u64),
    progress: Progress<'_>,
    unchanged: Unchanged,
    moved: &std::sync::atomic::AtomicU64,
) -> reqwest::Result<reqwest::Response> {
    // The body is read lazily by the HTTP client; progress is reported as chunks leave.
    let stream = range_stream(file, offset, len);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let mut read = 0u64;
    let stream = stream.map(move |chunk| {
        let chunk = chunk?;
        read += chunk.len() as u64;
        if read >= len && !unchanged() {
            return Err(std::io::Error::other(
                "the file changed while it was being uploaded",
            ));
        }
        let _ = tx.send(chunk.len() as u64);
        Ok(chunk)
    });
    let send = request
        .header("content-length", len)
        .body(reqwest::Body::wrap_stream(stream))
        .send();
    tokio::pin!(send);
    let count = |n: u64| {
        moved.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        progress.add(n);
    };
    let resp = loop {
        tokio::select! {
            r = &mut send => break r,
            Some(n) = rx.recv() => count(n),
        }
    };
    while let Ok(n) = rx.try_recv() {
        count(n);
    }
    resp
}
