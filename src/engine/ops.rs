//! What a user does, once, for both fronts: upload files and folders (then share them),
//! download objects. The CLI and the GUI call these; neither builds keys, paths or follow-up
//! steps of its own.

use std::path::{Path, PathBuf};

use super::Connection;
use super::error::{Error, Result};
use super::expiry::Expiry;
use super::location::S3Uri;
use super::share::{ShareLink, ShareRequest, share};
use super::transfer::download::{download_to, free_local_name, resolve_destination};
use super::transfer::upload::{ChecksumAlgorithm, UploadRequest, free_key, upload as put_file};
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

/// Upload one file, then share it when asked.
pub async fn upload(
    conn: &Connection,
    job: &UploadJob,
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
    let done = put_file(conn, &request, progress).await?;
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
    progress: Progress<'_>,
) -> Result<PathBuf> {
    let target = resolve_destination(object, dest)?;
    let target = match clash {
        Clash::KeepBoth if target.exists() => free_local_name(&target),
        _ => target,
    };
    download_to(conn, object, &target, clash == Clash::Replace, progress).await
}
