//! Multipart upload by presigned UploadPart: any file up to 5 TiB, parts in parallel streamed
//! from disk (positioned reads, never a whole part in memory), each part checked by the server
//! (CRC32C), retried on transient failures, and resumable: the upload's state is saved after
//! every part, and the same upload run again asks the server which parts it holds (ListParts)
//! and sends only the rest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::types::{
    ChecksumAlgorithm as SdkChecksum, CompletedMultipartUpload, CompletedPart,
};
use futures_util::{StreamExt as _, TryStreamExt as _};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::Progress;
use super::upload::{
    ChecksumAlgorithm, FileStamp, Unchanged, UploadOutcome, UploadRequest, changed_while_uploading,
    checksum_handle, content_type_for, open_for_upload, put_body, refuse_existing,
};
use crate::engine::browse::head_object;
use crate::engine::connection::Connection;
use crate::engine::error::{Error, ErrorKind, Result};
use crate::engine::expiry::Expiry;
use crate::engine::humanize::human_size;
use crate::engine::location::S3Uri;
use crate::engine::presign::{PresignInput, presign};
use crate::engine::share::{network_error, response_error};

/// S3's limits.
pub const MAX_PARTS: u64 = 10_000;
pub const MIN_PART: u64 = 5 * 1024 * 1024;
pub const MAX_PART: u64 = 5 * 1024 * 1024 * 1024;
pub const MAX_OBJECT: u64 = 5 * 1024 * 1024 * 1024 * 1024;

/// How transfers are cut up and retried.
#[derive(Debug, Clone)]
pub struct TransferSettings {
    /// Files larger than this go in parts.
    pub multipart_threshold: u64,
    /// The part size asked for; grown so a file fits in 10,000 parts.
    pub part_size: u64,
    /// Parts (or ranges) in flight at once.
    pub parallel: usize,
    /// Attempts after the first for a part that failed transiently.
    pub retries: u32,
    /// Where unfinished uploads are remembered (`None`: nowhere, no resume).
    pub state_dir: Option<PathBuf>,
}

impl Default for TransferSettings {
    fn default() -> Self {
        Self {
            multipart_threshold: 64 * 1024 * 1024,
            part_size: 16 * 1024 * 1024,
            parallel: 4,
            retries: 5,
            state_dir: None,
        }
    }
}

/// The part size for a file of `size` bytes: the one asked for (at least 5 MiB), grown to a
/// whole MiB so the file fits in 10,000 parts.
pub fn part_size_for(size: u64, wanted: u64) -> u64 {
    const MIB: u64 = 1024 * 1024;
    let fit = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    wanted.max(MIN_PART).max(fit).min(MAX_PART)
}

/// A part done: what Complete needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DonePart {
    pub etag: String,
    pub crc32c: String,
}

/// What is remembered of an unfinished upload (0600, in the state folder), saved after each part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadState {
    /// The endpoint (or `aws`) the upload is on.
    pub endpoint: String,
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub part_size: u64,
    pub path: PathBuf,
    pub size: u64,
    /// The file's modification time (nanoseconds since the epoch) when the upload began.
    pub modified_unix_nanos: i128,
    pub overwrite: bool,
    pub started_unix: i64,
    pub parts: BTreeMap<u32, DonePart>,
}

impl UploadState {
    /// Bytes the parts done so far hold.
    pub fn bytes_done(&self) -> u64 {
        self.parts
            .keys()
            .map(|n| part_range(self.size, self.part_size, *n).1)
            .sum()
    }

    pub fn object(&self) -> S3Uri {
        S3Uri::new(self.bucket.clone(), self.key.clone())
    }
}

/// The byte range (offset, length) of part `n` (1-based).
fn part_range(size: u64, part_size: u64, n: u32) -> (u64, u64) {
    let offset = u64::from(n - 1) * part_size;
    (offset, part_size.min(size.saturating_sub(offset)))
}

/// The unfinished uploads remembered in a folder.
#[derive(Debug, Clone)]
pub struct ResumeStore {
    dir: PathBuf,
}

fn modified_nanos(stamp: &FileStamp) -> i128 {
    stamp
        .modified
        .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| i128::try_from(d.as_nanos()).unwrap_or(0))
}

impl ResumeStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The state file of the upload of `path` to `object` on `endpoint`.
    fn file(&self, endpoint: &str, object: &S3Uri, path: &Path) -> PathBuf {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        let id =
            sha2::Sha256::digest(format!("{endpoint}\n{object}\n{}", path.display()).as_bytes());
        self.dir.join(format!("{}.json", hex::encode(&id[..16])))
    }

    /// The remembered upload of `path` to `object` on `endpoint`, if any.
    pub fn load(&self, endpoint: &str, object: &S3Uri, path: &Path) -> Option<UploadState> {
        let text = std::fs::read(self.file(endpoint, object, path)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    fn save(&self, state: &UploadState) -> Result<()> {
        let path = self.file(&state.endpoint, &state.object(), &state.path);
        let json = serde_json::to_vec_pretty(state).map_err(|e| {
            Error::new(ErrorKind::LocalIo, "Could not encode the upload's state")
                .with_detail(e.to_string())
        })?;
        crate::engine::config::write_private(&path, &json)
            .map_err(|e| Error::local_io("write", &path, &e))
    }

    /// [`Self::save`] on the blocking pool: the write is fsynced, no work for an async worker.
    async fn save_blocking(&self, state: UploadState) -> Result<()> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.save(&state))
            .await
            .unwrap_or_else(|e| {
                Err(
                    Error::new(ErrorKind::LocalIo, "Saving the upload's state stopped")
                        .with_detail(e.to_string()),
                )
            })
    }

    /// Forget the upload of `path` to `object` (finished, discarded or no longer on the server).
    pub fn forget(&self, endpoint: &str, object: &S3Uri, path: &Path) {
        let _ = std::fs::remove_file(self.file(endpoint, object, path));
    }

    /// Every unfinished upload remembered here, oldest first.
    pub fn list(&self) -> Vec<UploadState> {
        let mut all: Vec<UploadState> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read(e.path()).ok())
            .filter_map(|t| serde_json::from_slice(&t).ok())
            .collect();
        all.sort_by_key(|s: &UploadState| s.started_unix);
        all
    }
}

/// The parts the server holds for an upload (ListParts, every page): number → (ETag, CRC32C,
/// size). `None` when the server no longer knows the upload.
async fn server_parts(
    conn: &Connection,
    object: &S3Uri,
    upload_id: &str,
) -> Result<Option<BTreeMap<u32, (String, Option<String>, u64)>>> {
    let (client, _) = conn.client_for_bucket(&object.bucket).await?;
    let mut parts = BTreeMap::new();
    let mut marker: Option<String> = None;
    loop {
        let out = client
            .list_parts()
            .bucket(&object.bucket)
            .key(&object.key)
            .upload_id(upload_id)
            .set_part_number_marker(marker.clone())
            .send()
            .await;
        let out = match out {
            Ok(o) => o,
            Err(e) => {
                let err = Error::from_sdk(&e, &object.to_string());
                let gone = e
                    .as_service_error()
                    .and_then(aws_sdk_s3::error::ProvideErrorMetadata::code)
                    == Some("NoSuchUpload");
                return if gone || err.kind() == ErrorKind::NotFound {
                    Ok(None)
                } else {
                    Err(err)
                };
            }
        };
        for p in out.parts() {
            if let Some(n) = p.part_number().and_then(|n| u32::try_from(n).ok()) {
                parts.insert(
                    n,
                    (
                        p.e_tag().unwrap_or_default().to_owned(),
                        p.checksum_crc32_c().map(str::to_owned),
                        p.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                    ),
                );
            }
        }
        match out.next_part_number_marker() {
            Some(m) if out.is_truncated() == Some(true) && marker.as_deref() != Some(m) => {
                marker = Some(m.to_owned());
            }
            _ => return Ok(Some(parts)),
        }
    }
}

/// Abort an upload on the server (its parts cost storage until then).
pub async fn abort(conn: &Connection, object: &S3Uri, upload_id: &str) -> Result<()> {
    let (client, _) = conn.client_for_bucket(&object.bucket).await?;
    match client
        .abort_multipart_upload()
        .bucket(&object.bucket)
        .key(&object.key)
        .upload_id(upload_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let gone = e
                .as_service_error()
                .and_then(aws_sdk_s3::error::ProvideErrorMetadata::code)
                == Some("NoSuchUpload");
            if gone {
                Ok(())
            } else {
                Err(Error::from_sdk(&e, &object.to_string()))
            }
        }
    }
}

/// The identity of a connection's endpoint in saved states.
pub fn endpoint_label(conn: &Connection) -> String {
    conn.endpoint().map_or_else(
        || "aws".to_owned(),
        |e| format!("{}://{}{}", e.scheme, e.authority, e.base_path),
    )
}

/// Start a new upload, or pick up the one an earlier run left (same file, unchanged). Returns
/// the state and the parts already done.
async fn begin(
    conn: &Connection,
    req: &UploadRequest,
    (file, stamp): (&Arc<std::fs::File>, FileStamp),
    part_size: u64,
    store: Option<&ResumeStore>,
    progress: Progress<'_>,
) -> Result<UploadState> {
    let endpoint = endpoint_label(conn);
    // Also when resuming: the name may have been taken since, so stop before sending more.
    if !req.overwrite {
        refuse_existing(conn, &req.object).await?;
    }
    if let Some(store) = store
        && let Some(mut state) = store.load(&endpoint, &req.object, &req.path)
    {
        let same_file =
            state.size == stamp.size && state.modified_unix_nanos == modified_nanos(&stamp);
        if !same_file {
            tracing::info!("the file changed since the interrupted upload; starting over");
            let _ = abort(conn, &req.object, &state.upload_id).await;
            store.forget(&endpoint, &req.object, &req.path);
        } else if let Some(held) = server_parts(conn, &req.object, &state.upload_id).await? {
            // The server's word counts, and the file's: keep a part only if the server holds it
            // whole and its CRC32C is that of the same bytes of the file now.
            let count = state.size.div_ceil(state.part_size).max(1);
            let mut kept = BTreeMap::new();
            for (n, (etag, crc, size)) in held {
                let range = part_range(state.size, state.part_size, n.max(1));
                let known = crc.or_else(|| state.parts.get(&n).map(|p| p.crc32c.clone()));
                let (true, Some(crc)) = (n >= 1 && u64::from(n) <= count && size == range.1, known)
                else {
                    continue;
                };
                let here =
                    checksum_handle(file, range, ChecksumAlgorithm::Crc32c, &req.path).await?;
                if here == crc {
                    kept.insert(n, DonePart { etag, crc32c: crc });
                }
            }
            state.parts = kept;
            progress.resumed(
                state.bytes_done(),
                u32::try_from(state.parts.len()).unwrap_or(0),
            );
            store.save_blocking(state.clone()).await?;
            return Ok(state);
        } else {
            store.forget(&endpoint, &req.object, &req.path);
        }
    }
    let (client, _) = conn.client_for_bucket(&req.object.bucket).await?;
    let created = client
        .create_multipart_upload()
        .bucket(&req.object.bucket)
        .key(&req.object.key)
        .content_type(content_type_for(&req.object.key, &req.path))
        .checksum_algorithm(SdkChecksum::Crc32C)
        .send()
        .await
        .map_err(|e| Error::from_sdk(&e, &req.object.to_string()))?;
    let upload_id = created
        .upload_id()
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Server,
                format!("The server gave no upload id: {}", req.object),
            )
        })?
        .to_owned();
    let state = UploadState {
        endpoint,
        bucket: req.object.bucket.clone(),
        key: req.object.key.clone(),
        upload_id,
        part_size,
        path: std::fs::canonicalize(&req.path).unwrap_or_else(|_| req.path.clone()),
        size: stamp.size,
        modified_unix_nanos: modified_nanos(&stamp),
        overwrite: req.overwrite,
        started_unix: time::OffsetDateTime::now_utc().unix_timestamp(),
        parts: BTreeMap::new(),
    };
    if let Some(store) = store {
        store.save_blocking(state.clone()).await?;
    }
    Ok(state)
}

/// Is a failure worth another try (the network, a timeout, the server busy or failing)?
pub(super) fn transient(status: Option<u16>, err: &Error) -> bool {
    match status {
        Some(s) => matches!(s, 408 | 429 | 500 | 502 | 503 | 504),
        None => err.kind() == ErrorKind::Network,
    }
}

/// The wait before attempt `attempt` (1-based): exponential, capped, with jitter so parallel
/// parts do not retry in step.
pub(super) fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(250) * 2u32.saturating_pow(attempt.saturating_sub(1).min(5));
    let base = base.min(Duration::from_secs(8));
    let mut r = [0u8; 2];
    let _ = getrandom::fill(&mut r);
    let jitter = f64::from(u16::from_le_bytes(r)) / f64::from(u16::MAX);
    base.mul_f64(0.5 + 0.5 * jitter)
}

/// What one part's upload needs.
struct PartJob<'a> {
    conn: &'a Connection,
    req: &'a UploadRequest,
    state: &'a UploadState,
    region: &'a str,
    retries: u32,
    unchanged: Unchanged,
    /// The one handle every part is read from (positioned reads), the one that was checked.
    file: Arc<std::fs::File>,
}

/// Upload part `n`: checksum it in place, presign it just before sending (again for each
/// attempt, so a long upload's URLs never expire), retry transient failures.
async fn upload_part(job: &PartJob<'_>, n: u32, progress: Progress<'_>) -> Result<DonePart> {
    let (offset, len) = part_range(job.state.size, job.state.part_size, n);
    let path = &job.req.path;
    let crc = checksum_handle(&job.file, (offset, len), ChecksumAlgorithm::Crc32c, path).await?;
    if !(job.unchanged)() {
        return Err(changed_while_uploading(path));
    }
    let addr = job
        .conn
        .object_address(&job.req.object.bucket, &job.req.object.key, job.region);
    let number = n.to_string();
    let mut attempt = 0;
    loop {
        let creds = job.conn.signing_credentials().await?;
        let signed = presign(
            &creds,
            &PresignInput {
                method: "PUT",
                scheme: &addr.scheme,
                authority: &addr.authority,
                path: &addr.path,
                query: &[("partNumber", &number), ("uploadId", &job.state.upload_id)],
                headers: &[("x-amz-checksum-crc32c", &crc)],
                region: job.region,
                expires: Expiry::new(Duration::from_secs(3600))?,
                now: SystemTime::now(),
            },
        );
        let mut request = job.conn.http().put(signed.url());
        for (h, v) in &signed.headers {
            request = request.header(h.as_str(), v.as_str());
        }
        // A stalled connection ends: a minute, plus time for the part at 256 KiB/s.
        let limit = Duration::from_secs(60 + len / (256 * 1024));
        let counted = std::sync::atomic::AtomicU64::new(0);
        let sent = tokio::time::timeout(
            limit,
            put_body(
                request,
                job.file.clone(),
                (offset, len),
                progress,
                job.unchanged.clone(),
                &counted,
            ),
        )
        .await;
        let (status, err) = match sent {
            Ok(Ok(resp)) if resp.status().is_success() => {
                let etag = resp
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                progress.part_done();
                return Ok(DonePart { etag, crc32c: crc });
            }
            Ok(Ok(resp)) => {
                let status = resp.status().as_u16();
                (Some(status), response_error(resp, &job.req.object).await)
            }
            Ok(Err(e)) => (None, network_error(e, &job.req.object)),
            Err(_) => (
                None,
                Error::new(
                    ErrorKind::Network,
                    format!(
                        "The server stopped taking a part; it was sent again: {}",
                        job.req.object
                    ),
                ),
            ),
        };
        // The bytes of this attempt go back: they are sent again.
        let moved = counted.load(std::sync::atomic::Ordering::Relaxed);
        progress.take_back(moved);
        if !(job.unchanged)() {
            return Err(changed_while_uploading(path));
        }
        // An expired part URL (a clock jump, a very slow part) is signed anew once.
        let expired = status == Some(403) && err.message().contains("expired");
        attempt += 1;
        if !(transient(status, &err) || expired) || attempt > job.retries {
            return Err(err);
        }
        progress.retried();
        tracing::debug!(
            part = n,
            attempt,
            "retrying a part after a transient failure"
        );
        tokio::time::sleep(backoff(attempt)).await;
    }
}

/// Send `pending` parts, `parallel` at once, saving the state after each; returns how it
/// ended and the state with every part that was done.
async fn send_parts(
    job: &PartJob<'_>,
    pending: Vec<u32>,
    store: Option<&ResumeStore>,
    parallel: usize,
    progress: Progress<'_>,
) -> (Result<()>, UploadState) {
    let saved = std::sync::Mutex::new(job.state.clone());
    let result: Result<()> = futures_util::stream::iter(pending)
        .map(|n| async move { upload_part(job, n, progress).await.map(|p| (n, p)) })
        .buffer_unordered(parallel.max(1))
        .try_for_each(|(n, part)| {
            let snapshot = {
                let mut s = crate::engine::connection::lock(&saved);
                s.parts.insert(n, part);
                s.clone()
            };
            let store = store.cloned();
            async move {
                match store {
                    Some(st) => st.save_blocking(snapshot).await,
                    None => Ok(()),
                }
            }
        })
        .await;
    let state = saved
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    (result, state)
}

/// Upload `req.path` to `req.object` in parts.
pub async fn upload_multipart(
    conn: &Connection,
    req: &UploadRequest,
    settings: &TransferSettings,
    progress: Progress<'_>,
) -> Result<UploadOutcome> {
    req.object.require_linkable_object()?;
    let (file, size) = open_for_upload(&req.path).await?;
    if size > MAX_OBJECT {
        return Err(Error::invalid(format!(
            "This file is larger than 5 TiB, the most one object can hold: {}",
            req.path.display()
        )));
    }
    let stamp = FileStamp::now(&file, &req.path).await?;
    let probe = Arc::new(file.into_std().await);
    let unchanged: Unchanged = {
        let probe = probe.clone();
        Arc::new(move || probe.metadata().is_ok_and(|m| FileStamp::of(&m) == stamp))
    };
    let region = conn.bucket_region(&req.object.bucket).await?;
    let store = settings.state_dir.as_ref().map(ResumeStore::new);
    progress.set_total(size);
    let part_size = part_size_for(size, settings.part_size);
    let mut state = begin(
        conn,
        req,
        (&probe, stamp),
        part_size,
        store.as_ref(),
        progress,
    )
    .await?;
    let count = u32::try_from(size.div_ceil(state.part_size).max(1)).unwrap_or(u32::MAX);
    progress.set_parts(count);
    if state.bytes_done() > 0 {
        tracing::info!(
            done = %human_size(state.bytes_done()),
            size = %human_size(size),
            "resuming an interrupted upload"
        );
    }
    let pending: Vec<u32> = (1..=count)
        .filter(|n| !state.parts.contains_key(n))
        .collect();
    let job = PartJob {
        conn,
        req,
        state: &state,
        region: &region,
        retries: settings.retries,
        unchanged: unchanged.clone(),
        file: probe.clone(),
    };
    let (result, done) =
        send_parts(&job, pending, store.as_ref(), settings.parallel, progress).await;
    state = done;
    let endpoint = endpoint_label(conn);
    let forget = || {
        if let Some(st) = &store {
            st.forget(&endpoint, &req.object, &req.path);
        }
    };
    if let Err(e) = result {
        if e.kind() == ErrorKind::Integrity {
            // Nothing of a changed file is kept.
            let _ = abort(conn, &req.object, &state.upload_id).await;
            forget();
        }
        return Err(e);
    }
    if !unchanged() {
        let _ = abort(conn, &req.object, &state.upload_id).await;
        forget();
        return Err(changed_while_uploading(&req.path));
    }
    // Refused because the name was taken meanwhile: the parts stay, so the same upload with
    // --overwrite (Replace) finishes without sending them again.
    complete(conn, req, &state).await?;
    forget();
    progress.finish();
    Ok(UploadOutcome {
        object: req.object.clone(),
        size,
    })
}

/// Complete the upload (refusing to replace an object unless asked) and check what landed.
async fn complete(conn: &Connection, req: &UploadRequest, state: &UploadState) -> Result<()> {
    let (client, _) = conn.client_for_bucket(&req.object.bucket).await?;
    let parts: Vec<CompletedPart> = state
        .parts
        .iter()
        .map(|(n, p)| {
            CompletedPart::builder()
                .part_number(i32::try_from(*n).unwrap_or(i32::MAX))
                .e_tag(&p.etag)
                .checksum_crc32_c(&p.crc32c)
                .build()
        })
        .collect();
    let mut request = client
        .complete_multipart_upload()
        .bucket(&req.object.bucket)
        .key(&req.object.key)
        .upload_id(&state.upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        );
    if !req.overwrite {
        request = request.if_none_match("*");
    }
    request
        .send()
        .await
        .map_err(|e| Error::from_sdk(&e, &req.object.to_string()))?;
    let landed = head_object(conn, &req.object).await?;
    if landed.size != state.size {
        return Err(Error::new(
            ErrorKind::Integrity,
            format!(
                "The stored object has {} bytes, the file {}: {}",
                landed.size, state.size, req.object
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_file_up_to_5_tib_fits_in_10000_parts() {
        const MIB: u64 = 1024 * 1024;
        assert_eq!(part_size_for(100 * MIB, 16 * MIB), 16 * MIB);
        assert_eq!(part_size_for(100 * MIB, MIB), 5 * MIB);
        for size in [MAX_OBJECT, MAX_OBJECT - 1, 200 * 1024 * MIB, 1] {
            let part = part_size_for(size, 16 * MIB);
            assert!(size.div_ceil(part) <= MAX_PARTS, "{size}: {part}");
            assert!((MIN_PART..=MAX_PART).contains(&part));
        }
        assert_eq!(part_range(25, 10, 3), (20, 5));
        assert_eq!(part_range(30, 10, 3), (20, 10));
    }

    #[test]
    fn backoff_grows_and_stays_bounded() {
        assert!(backoff(1) <= Duration::from_millis(250));
        assert!(backoff(4) >= Duration::from_secs(1));
        assert!(backoff(30) <= Duration::from_secs(8));
    }
}
