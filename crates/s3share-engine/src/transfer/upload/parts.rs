//! Multipart upload by presigned UploadPart: any file up to 5 TiB, parts in parallel streamed
//! from disk (positioned reads, never a whole part in memory), each part checked by the server
//! (CRC32C), retried on transient failures, and resumable: the upload's state is saved after
//! every part, and the same upload run again asks the server which parts it holds (ListParts)
//! and sends only the rest.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::types::{
    ChecksumAlgorithm as SdkChecksum, CompletedMultipartUpload, CompletedPart,
};
use futures_util::StreamExt as _;

use super::body::{Unchanged, checksum_handle, put_body};
use super::source::{
    ChecksumAlgorithm, FileStamp, UploadOutcome, UploadRequest, changed_while_uploading,
    content_type_for, open_for_upload, refuse_existing,
};
use crate::base::error::{Error, ErrorKind, Result};
use crate::base::expiry::Expiry;
use crate::base::s3uri::S3Uri;
use crate::base::signing::{PresignInput, presign};
use crate::base::wording::human_size;
use crate::client::browse::head_object;
use crate::client::connection::Connection;
use crate::client::http::{network_error, response_error};
use crate::transfer::Progress;
use crate::transfer::resume::{DonePart, ResumeDir, UploadState};
use crate::transfer::retry::{backoff, transient};
use crate::transfer::saver::StateSaver;
use crate::transfer::settings::{MAX_OBJECT, TransferSettings, part_range, part_size_for};

fn modified_nanos(stamp: &FileStamp) -> i128 {
    stamp
        .modified
        .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| i128::try_from(d.as_nanos()).unwrap_or(0))
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

/// Start a new upload, or pick up the one an earlier run left (same file, unchanged). Returns
/// the state and the parts already done.
async fn begin(
    conn: &Connection,
    req: &UploadRequest,
    (file, stamp): (&Arc<std::fs::File>, FileStamp),
    part_size: u64,
    states: Option<&ResumeDir>,
    progress: Progress<'_>,
) -> Result<UploadState> {
    let endpoint = conn.endpoint_label();
    // Also when resuming: the name may have been taken since, so stop before sending more.
    if !req.overwrite {
        refuse_existing(conn, &req.object).await?;
    }
    if let Some(states) = states
        && let Some(mut state) = states.load(&endpoint, &req.object, &req.path)
    {
        let same_file =
            state.size == stamp.size && state.modified_unix_nanos == modified_nanos(&stamp);
        if !same_file {
            tracing::info!("the file changed since the interrupted upload; starting over");
            let _ = abort(conn, &req.object, &state.upload_id).await;
            states.forget(&endpoint, &req.object, &req.path);
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
            states.save_blocking(state.clone()).await?;
            return Ok(state);
        } else {
            states.forget(&endpoint, &req.object, &req.path);
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
    if let Some(states) = states {
        states.save_blocking(state.clone()).await?;
    }
    Ok(state)
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

/// Send `pending` parts, `parallel` at once, the state saved beside them as parts finish;
/// returns how it ended and the state with every part that was done. A state that could not
/// be saved does not stop the upload (it would only have served a resume): it is a warning.
async fn send_parts(
    job: &PartJob<'_>,
    pending: Vec<u32>,
    states: Option<&ResumeDir>,
    parallel: usize,
    progress: Progress<'_>,
) -> (Result<()>, UploadState) {
    let save = states.cloned().map(|st| {
        move |state: UploadState| {
            let st = st.clone();
            async move { st.save_blocking(state).await }
        }
    });
    let saver = StateSaver::start(job.state.clone(), save);
    let mut parts = futures_util::stream::iter(pending)
        .map(|n| async move { upload_part(job, n, progress).await.map(|p| (n, p)) })
        .buffer_unordered(parallel.max(1));
    let mut result = Ok(());
    while let Some(done) = parts.next().await {
        match done {
            Ok((n, part)) => saver.update(|s| {
                s.parts.insert(n, part);
            }),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    drop(parts);
    let (state, failed) = saver.finish().await;
    if let Some(e) = failed {
        tracing::warn!("the upload's state could not be saved, so it cannot resume: {e}");
    }
    (result, state)
}

/// Upload `req.path` to `req.object` in parts.
pub async fn upload_parts(
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
    let states = settings.state_dir.as_ref().map(ResumeDir::new);
    progress.set_total(size);
    let part_size = part_size_for(size, settings.part_size);
    let mut state = begin(
        conn,
        req,
        (&probe, stamp),
        part_size,
        states.as_ref(),
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
        send_parts(&job, pending, states.as_ref(), settings.parallel, progress).await;
    state = done;
    let endpoint = conn.endpoint_label();
    let forget = || {
        if let Some(st) = &states {
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
