//! What a user does, once, for both fronts: upload files and folders (then share them),
//! download objects. The CLI and the GUI call these; neither builds keys, paths or follow-up
//! steps of its own.

use std::path::{Path, PathBuf};

use super::Connection;
use super::browse::{head_object, list_recursive};
use super::error::{Error, Result};
use super::expiry::Expiry;
use super::location::S3Uri;
use super::share::{ShareLink, ShareRequest, share};
use super::transfer::download::{download_to, free_local_name, resolve_destination};
use super::transfer::multipart::{
    self, ResumeStore, TransferSettings, UploadState, upload_multipart,
};
use super::transfer::paths::plan_paths;
use super::transfer::ranged::download_ranged;
use super::transfer::upload::{
    ChecksumAlgorithm, MAX_SINGLE_PUT, UploadRequest, free_key, upload as put_file,
};
use super::transfer::{PlannedFile, Progress};

/// What to do when the name is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clash {
    /// Replace nothing: fail with `AlreadyExists` (the GUI then asks).
    #[default]
    Refuse,
    Replace,
    /// Keep both: the new one gets a numbered name (`report (1).pdf`).
    KeepBoth,
}

/// Files and folders to upload, expanded.
#[derive(Debug, Default)]
pub struct UploadPlan {
    pub files: Vec<PlannedFile>,
    /// Paths that cannot be uploaded, each with its reason; the rest still go.
    pub errors: Vec<Error>,
}

/// Expand `paths` into uploads to `dest`: into a prefix (`s3://b/p/`, or the bucket) each file
/// keeps its name and each folder its name and layout; to a full key (`s3://b/p/name`) exactly
/// one file goes, under that name. Keys a link could not reach (`.`/`..` segments) are refused.
/// Blocking (folders are walked): run it off the UI thread.
pub fn plan_uploads(paths: &[PathBuf], dest: &S3Uri) -> Result<UploadPlan> {
    let into_prefix = dest.key.is_empty() || dest.key.ends_with('/');
    let (files, mut errors) = if into_prefix {
        super::transfer::plan_uploads(paths, &dest.key)
    } else {
        let [path] = paths else {
            return Err(Error::invalid(format!(
                "Several files go into a folder: end the destination with a slash, like {dest}/"
            )));
        };
        if path.is_dir() {
            return Err(Error::invalid(format!(
                "A folder goes into a folder: end the destination with a slash, like {dest}/"
            )));
        }
        let size = std::fs::metadata(path).map_or(0, |m| m.len());
        let file = PlannedFile {
            path: path.clone(),
            key: dest.key.clone(),
            size,
        };
        (vec![file], Vec::new())
    };
    let mut ok = Vec::with_capacity(files.len());
    for f in files {
        match S3Uri::new(dest.bucket.clone(), f.key.clone()).require_linkable_object() {
            Ok(_) => ok.push(f),
            Err(e) => errors.push(e),
        }
    }
    Ok(UploadPlan { files: ok, errors })
}

/// One file to upload, and what follows.
#[derive(Debug, Clone)]
pub struct UploadJob {
    pub path: PathBuf,
    pub object: S3Uri,
    pub clash: Clash,
    pub checksum: ChecksumAlgorithm,
    /// Sign a download link for the uploaded object, living this long.
    pub share: Option<Expiry>,
}

/// An upload that landed.
#[derive(Debug)]
pub struct Uploaded {
    /// Where it landed (a numbered name with [`Clash::KeepBoth`]).
    pub object: S3Uri,
    pub size: u64,
    /// The link, when one was asked for: the upload stands even if signing failed.
    pub link: Option<Result<ShareLink>>,
}

/// Upload one file (one PUT, or in parts above the threshold), then share it when asked.
pub async fn upload(
    conn: &Connection,
    job: &UploadJob,
    settings: &TransferSettings,
    progress: Progress<'_>,
) -> Result<Uploaded> {
    let object = match job.clash {
        Clash::KeepBoth => free_key(conn, &job.object).await?,
        Clash::Refuse | Clash::Replace => job.object.clone(),
    };
    let request = UploadRequest {
        path: job.path.clone(),
        object: object.clone(),
        overwrite: job.clash == Clash::Replace,
        checksum: job.checksum,
    };
    let size = tokio::fs::metadata(&job.path).await.map_or(0, |m| m.len());
    let done = if size > settings.multipart_threshold || size > MAX_SINGLE_PUT {
        upload_multipart(conn, &request, settings, progress).await?
    } else {
        put_file(conn, &request, progress).await?
    };
    let link = match job.share {
        Some(expires) => Some(
            share(
                conn,
                &ShareRequest {
                    object: object.clone(),
                    expires,
                    download_name: None,
                    now: None,
                },
            )
            .await,
        ),
        None => None,
    };
    Ok(Uploaded {
        object,
        size: done.size,
        link,
    })
}

/// Download `object` to `dest`: into it when it is a folder (or ends in `/`), else as that
/// file. The destination is resolved here, once. Returns the file written.
pub async fn download(
    conn: &Connection,
    object: &S3Uri,
    dest: &Path,
    clash: Clash,
    settings: &TransferSettings,
    progress: Progress<'_>,
) -> Result<PathBuf> {
    let target = resolve_destination(object, dest)?;
    download_file(conn, object, &target, clash, settings, progress).await
}

/// Download `object` to the file `target`: one stream, or parallel ranges that resume above
/// the multipart threshold.
pub async fn download_file(
    conn: &Connection,
    object: &S3Uri,
    target: &Path,
    clash: Clash,
    settings: &TransferSettings,
    progress: Progress<'_>,
) -> Result<PathBuf> {
    object.require_object()?;
    let target = match clash {
        Clash::KeepBoth if target.exists() => free_local_name(target),
        _ => target.to_owned(),
    };
    let overwrite = clash == Clash::Replace;
    if !overwrite && target.exists() {
        return Err(Error::new(
            super::error::ErrorKind::AlreadyExists,
            format!(
                "A file with this name already exists (pass --overwrite to replace it): {}",
                target.display()
            ),
        ));
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| Error::local_io("create the folder", dir, &e))?;
    }
    let head = head_object(conn, object).await?;
    if head.size > settings.multipart_threshold {
        download_ranged(conn, object, head, &target, overwrite, settings, progress).await
    } else {
        download_to(conn, object, &target, overwrite, progress).await
    }
}

/// One file of a folder download.
#[derive(Debug, Clone)]
pub struct PlannedDownload {
    pub object: S3Uri,
    pub target: PathBuf,
    pub size: u64,
    /// Its name was taken by another key's path (`a` beside `a/b`): it got a numbered one.
    pub renamed: bool,
}

/// Expand `items` of `bucket` (objects, and prefixes ending in `/` for everything under them)
/// into files under `dir`, mirroring each key's layout below `base` (the folder shown, or the
/// prefix asked for). Keys become paths that never leave `dir`; clashes are kept, renamed.
pub async fn plan_downloads(
    conn: &Connection,
    bucket: &str,
    items: &[String],
    base: &str,
    dir: &Path,
) -> Result<Vec<PlannedDownload>> {
    let mut objects: Vec<(String, u64)> = Vec::new();
    for item in items {
        if item.is_empty() || item.ends_with('/') {
            for o in list_recursive(conn, bucket, item).await? {
                objects.push((o.key, o.size));
            }
        } else {
            objects.push((item.clone(), 0));
        }
    }
    objects.sort();
    objects.dedup_by(|a, b| a.0 == b.0);
    let sizes: std::collections::HashMap<&str, u64> =
        objects.iter().map(|(k, s)| (k.as_str(), *s)).collect();
    Ok(
        plan_paths(objects.iter().map(|(k, _)| k.as_str()), base, dir)
            .into_iter()
            .map(|(key, target, renamed)| PlannedDownload {
                size: sizes.get(key.as_str()).copied().unwrap_or(0),
                object: S3Uri::new(bucket, key),
                target,
                renamed,
            })
            .collect(),
    )
}

/// The uploads an earlier run left unfinished (to resume or discard), oldest first.
pub fn unfinished_uploads(settings: &TransferSettings) -> Vec<UploadState> {
    settings
        .state_dir
        .as_ref()
        .map(|d| ResumeStore::new(d).list())
        .unwrap_or_default()
}

/// Give up an unfinished upload: abort it on the server and forget it here.
pub async fn discard_upload(
    conn: &Connection,
    state: &UploadState,
    settings: &TransferSettings,
) -> Result<()> {
    multipart::abort(conn, &state.object(), &state.upload_id).await?;
    if let Some(dir) = &settings.state_dir {
        ResumeStore::new(dir).forget(&state.endpoint, &state.object(), &state.path);
    }
    Ok(())
}

/// Give up the upload of `path` to `object`, if one is remembered (Cancel of a multipart
/// upload: its parts are aborted on the server).
pub async fn discard_upload_of(
    conn: &Connection,
    path: &Path,
    object: &S3Uri,
    settings: &TransferSettings,
) -> Result<()> {
    let Some(dir) = &settings.state_dir else {
        return Ok(());
    };
    let (store, endpoint) = (ResumeStore::new(dir), multipart::endpoint_label(conn));
    let (object, path) = (object.clone(), path.to_owned());
    // A small file read (and a canonicalize) on the blocking pool, not an async worker.
    let found = tokio::task::spawn_blocking(move || store.load(&endpoint, &object, &path))
        .await
        .ok()
        .flatten();
    match found {
        Some(state) => discard_upload(conn, &state, settings).await,
        None => Ok(()),
    }
}

/// A multipart upload the server holds, begun by anyone.
#[derive(Debug, Clone)]
pub struct ServerUpload {
    pub key: String,
    pub upload_id: String,
    pub initiated: Option<time::OffsetDateTime>,
}

/// Every unfinished multipart upload in `bucket` (all pages).
pub async fn server_uploads(conn: &Connection, bucket: &str) -> Result<Vec<ServerUpload>> {
    let (client, _) = conn.client_for_bucket(bucket).await?;
    let mut out = Vec::new();
    let (mut key_marker, mut id_marker): (Option<String>, Option<String>) = (None, None);
    loop {
        let page = client
            .list_multipart_uploads()
            .bucket(bucket)
            .set_key_marker(key_marker.clone())
            .set_upload_id_marker(id_marker.clone())
            .send()
            .await
            .map_err(|e| Error::from_sdk(&e, &format!("s3://{bucket}")))?;
        for u in page.uploads() {
            out.push(ServerUpload {
                key: u.key().unwrap_or_default().to_owned(),
                upload_id: u.upload_id().unwrap_or_default().to_owned(),
                initiated: u
                    .initiated()
                    .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t.secs()).ok()),
            });
        }
        let next = (
            page.next_key_marker().map(str::to_owned),
            page.next_upload_id_marker().map(str::to_owned),
        );
        if page.is_truncated() != Some(true)
            || next.0.is_none()
            || next == (key_marker.clone(), id_marker.clone())
        {
            return Ok(out);
        }
        (key_marker, id_marker) = next;
    }
}

/// Abort one server upload, and forget it here if it was ours.
pub async fn abort_server_upload(
    conn: &Connection,
    bucket: &str,
    upload: &ServerUpload,
    settings: &TransferSettings,
) -> Result<()> {
    let object = S3Uri::new(bucket, upload.key.clone());
    multipart::abort(conn, &object, &upload.upload_id).await?;
    if let Some(dir) = &settings.state_dir {
        let store = ResumeStore::new(dir);
        for s in store.list() {
            if s.upload_id == upload.upload_id {
                store.forget(&s.endpoint, &s.object(), &s.path);
            }
        }
    }
    Ok(())
}
