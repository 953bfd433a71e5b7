//! Uploads and downloads, on a session: files and folders planned into uploads (then shared),
//! objects and whole prefixes downloaded, unfinished uploads resumed or given up.

use std::path::{Path, PathBuf};

use super::session::Session;
use crate::base::blocking::run_blocking;
use crate::base::error::{Error, ErrorKind, Result};
use crate::base::expiry::Expiry;
use crate::base::s3uri::S3Uri;
use crate::client::browse::list_recursive;
use crate::links::share::ShareLink;
use crate::transfer::Progress;
use crate::transfer::download::download_object;
use crate::transfer::download::folder::folder_error;
use crate::transfer::download::local_paths::plan_paths;
use crate::transfer::download::ranges::discard_partial;
use crate::transfer::download::target::{LocalTarget, free_local_name, resolve_destination};
use crate::transfer::resume::{ResumeDir, UploadState};
use crate::transfer::upload::parts::abort;
use crate::transfer::upload::{
    ChecksumAlgorithm, PlannedFile, UploadRequest, free_key, upload_file,
};

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

impl Clash {
    /// `--overwrite` given or not.
    pub fn from_overwrite(overwrite: bool) -> Self {
        if overwrite {
            Self::Replace
        } else {
            Self::Refuse
        }
    }
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
/// Folders are walked on the blocking pool.
pub async fn plan_uploads(paths: Vec<PathBuf>, dest: S3Uri) -> Result<UploadPlan> {
    run_blocking(move || plan_uploads_blocking(&paths, &dest)).await
}

fn plan_uploads_blocking(paths: &[PathBuf], dest: &S3Uri) -> Result<UploadPlan> {
    let into_prefix = dest.key.is_empty() || dest.key.ends_with('/');
    let (files, mut errors) = if into_prefix {
        crate::transfer::upload::plan_uploads(paths, &dest.key)
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

/// One file of a folder download.
#[derive(Debug, Clone)]
pub struct PlannedDownload {
    pub object: S3Uri,
    pub target: LocalTarget,
    pub size: u64,
    /// Its name was taken by another key's path (`a` beside `a/b`): it got a numbered one.
    pub renamed: bool,
}

/// A multipart upload the server holds, begun by anyone.
#[derive(Debug, Clone)]
pub struct ServerUpload {
    pub key: String,
    pub upload_id: String,
    pub initiated: Option<time::OffsetDateTime>,
}

impl Session {
    fn resume_dir(&self) -> Option<ResumeDir> {
        self.transfer_settings()
            .state_dir
            .as_ref()
            .map(ResumeDir::new)
    }

    /// Upload one file (one PUT, or in parts above the threshold), then share it when asked.
    pub async fn upload(&self, job: &UploadJob, progress: Progress<'_>) -> Result<Uploaded> {
        let conn = self.connection();
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
        let done = upload_file(conn, &request, self.transfer_settings(), progress).await?;
        let link = match job.share {
            Some(expires) => Some(self.share_object(object.clone(), expires).await),
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
        &self,
        object: &S3Uri,
        dest: &Path,
        clash: Clash,
        progress: Progress<'_>,
    ) -> Result<PathBuf> {
        let target = resolve_destination(object, dest)?;
        self.download_file(object, &target, clash, progress).await
    }

    /// Download `object` to `target`: one stream, or parallel ranges that resume above the
    /// threshold. The folders below the target's root are made as needed, none entered
    /// through a symbolic link; nothing is put over what is there unless `clash` says so.
    /// Returns the file written.
    pub async fn download_file(
        &self,
        object: &S3Uri,
        target: &LocalTarget,
        clash: Clash,
        progress: Progress<'_>,
    ) -> Result<PathBuf> {
        object.require_object()?;
        let overwrite = clash == Clash::Replace;
        let wanted = target.clone();
        let (folder, name) = run_blocking(move || {
            let shown = wanted.path();
            let folder = wanted
                .open_folder()
                .map_err(|e| folder_error(&e, "create the folder", &shown))?;
            let mut name = wanted.name();
            if clash == Clash::KeepBoth && folder.kind(&name).ok().flatten().is_some() {
                name = free_local_name(&folder, &name);
            }
            match folder.kind(&name) {
                Ok(Some(_)) if !overwrite => {
                    return Err(Error::new(
                        ErrorKind::AlreadyExists,
                        format!(
                            "A file with this name already exists (pass --overwrite to replace it): {}",
                            folder.path().join(&name).display()
                        ),
                    ));
                }
                Ok(Some(crate::transfer::download::folder::Kind::Folder)) => {
                    return Err(Error::invalid(format!(
                        "A folder has this name; it is not replaced by a file: {}",
                        folder.path().join(&name).display()
                    )));
                }
                Ok(_) => {}
                Err(e) => return Err(folder_error(&e, "read", &folder.path().join(&name))),
            }
            Ok((std::sync::Arc::new(folder), name))
        })
        .await?;
        download_object(
            self.connection(),
            object,
            (&folder, &name),
            overwrite,
            self.transfer_settings(),
            progress,
        )
        .await
        .map_err(|e| {
            if e.kind() == ErrorKind::AlreadyExists {
                Error::new(
                    ErrorKind::AlreadyExists,
                    format!(
                        "A file with this name appeared while it downloaded; it was kept (pass --overwrite to replace it): {}",
                        folder.path().join(&name).display()
                    ),
                )
            } else {
                e
            }
        })?;
        Ok(folder.path().join(name))
    }

    /// Forget an interrupted download of `object` to `target` (Cancel).
    pub fn discard_download(&self, object: &S3Uri, target: &LocalTarget) {
        discard_partial(self.transfer_settings(), object, &target.path());
    }

    /// Expand `items` of `bucket` (objects, and prefixes ending in `/` for everything under
    /// them) into files under `dir`, mirroring each key's layout below `base` (the folder
    /// shown, or the prefix asked for). Keys become paths that never leave `dir`; clashes are
    /// kept, renamed.
    pub async fn plan_downloads(
        &self,
        bucket: &str,
        items: &[String],
        base: &str,
        dir: &Path,
    ) -> Result<Vec<PlannedDownload>> {
        let mut objects: Vec<(String, u64)> = Vec::new();
        for item in items {
            if item.is_empty() || item.ends_with('/') {
                for o in list_recursive(self.connection(), bucket, item).await? {
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
                    target: LocalTarget {
                        root: dir.to_owned(),
                        relative: target.strip_prefix(dir).unwrap_or(&target).to_owned(),
                    },
                    renamed,
                })
                .collect(),
        )
    }

    /// The uploads an earlier run left unfinished (to resume or discard), oldest first.
    pub async fn unfinished_uploads(&self) -> Vec<UploadState> {
        let dir = self.resume_dir();
        run_blocking(move || Ok(dir.map(|d| d.list()).unwrap_or_default()))
            .await
            .unwrap_or_default()
    }

    /// Give up an unfinished upload: abort it on the server and forget it here.
    pub async fn discard_upload(&self, state: &UploadState) -> Result<()> {
        abort(self.connection(), &state.object(), &state.upload_id).await?;
        if let Some(dir) = self.resume_dir() {
            dir.forget(&state.endpoint, &state.object(), &state.path);
        }
        Ok(())
    }

    /// Give up the upload of `path` to `object`, if one is remembered (Cancel of a multipart
    /// upload: its parts are aborted on the server).
    pub async fn discard_upload_of(&self, path: &Path, object: &S3Uri) -> Result<()> {
        let Some(dir) = self.resume_dir() else {
            return Ok(());
        };
        let endpoint = self.connection().endpoint_label();
        let (object, path) = (object.clone(), path.to_owned());
        // A small file read (and a canonicalize) on the blocking pool, not an async worker.
        let found = run_blocking(move || Ok(dir.load(&endpoint, &object, &path)))
            .await
            .ok()
            .flatten();
        match found {
            Some(state) => self.discard_upload(&state).await,
            None => Ok(()),
        }
    }

    /// Every unfinished multipart upload in `bucket` (all pages).
    pub async fn server_uploads(&self, bucket: &str) -> Result<Vec<ServerUpload>> {
        let (client, _) = self.connection().client_for_bucket(bucket).await?;
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
    pub async fn abort_server_upload(&self, bucket: &str, upload: &ServerUpload) -> Result<()> {
        let object = S3Uri::new(bucket, upload.key.clone());
        abort(self.connection(), &object, &upload.upload_id).await?;
        if let Some(dir) = self.resume_dir() {
            for s in dir.list() {
                if s.upload_id == upload.upload_id {
                    dir.forget(&s.endpoint, &s.object(), &s.path);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_takes_files_and_folders_a_key_takes_one_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.txt");
        let b = dir.path().join("b.txt");
        let folder = dir.path().join("photos");
        std::fs::write(&a, b"a").expect("write");
        std::fs::write(&b, b"bb").expect("write");
        std::fs::create_dir_all(folder.join("..x")).expect("dirs");
        std::fs::write(folder.join("..x/c.jpg"), b"c").expect("write");
        let into = S3Uri::new("b", "in/");
        let plan =
            plan_uploads_blocking(&[a.clone(), b.clone(), folder.clone()], &into).expect("plan");
        let keys: Vec<&str> = plan.files.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["in/a.txt", "in/b.txt", "in/photos/..x/c.jpg"]);
        let named = plan_uploads_blocking(std::slice::from_ref(&a), &S3Uri::new("b", "in/x.txt"))
            .expect("plan");
        assert_eq!(named.files[0].key, "in/x.txt");
        assert_eq!(named.files[0].size, 1);
        let several = plan_uploads_blocking(&[a.clone(), b], &S3Uri::new("b", "in/x.txt"));
        assert!(
            several
                .expect_err("two files, one key")
                .message()
                .contains("slash")
        );
        let folder_to_key = plan_uploads_blocking(&[folder], &S3Uri::new("b", "in/x"));
        assert!(folder_to_key.is_err());
        let dots = plan_uploads_blocking(&[a], &S3Uri::new("b", "in/../x.txt")).expect("plan");
        assert!(dots.files.is_empty() && dots.errors.len() == 1, "{dots:?}");
    }

    #[test]
    fn overwrite_means_replace() {
        assert_eq!(Clash::from_overwrite(true), Clash::Replace);
        assert_eq!(Clash::from_overwrite(false), Clash::Refuse);
        assert_eq!(Clash::default(), Clash::Refuse);
    }
}
