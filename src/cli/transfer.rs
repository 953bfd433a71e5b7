//! `upload`, `download` and `uploads`: the transfers, with bars and a summary. The work is
//! in `engine::ops`.

use std::path::{Path, PathBuf};

use super::progress::Bars;
use super::{GlobalArgs, connect, shown};
use crate::engine::base::expiry::Expiry;
use crate::engine::base::s3uri::S3Uri;
use crate::engine::base::wording::{format_iso, human_size};
use crate::engine::ops::{self, Clash, UploadJob};
use crate::engine::transfer::TransferSettings;
use crate::engine::transfer::upload::ChecksumAlgorithm;
use crate::engine::{Error, ErrorKind};

/// What `upload` was asked.
pub struct UploadArgs {
    pub paths: Vec<PathBuf>,
    pub dest: S3Uri,
    pub overwrite: bool,
    pub checksum: ChecksumAlgorithm,
    pub share: Option<Expiry>,
}

/// The end of a command over several files: the failures named, one line each, and a
/// non-zero exit when any failed.
fn summary(failed: Vec<(String, Error)>, total: usize, what: &str) -> anyhow::Result<()> {
    if failed.is_empty() {
        return Ok(());
    }
    if total == 1 {
        let mut only = failed;
        if let Some((_, e)) = only.pop() {
            return Err(e.into());
        }
        return Ok(());
    }
    for (name, e) in &failed {
        eprintln!("error: {}: {}", shown(name), shown(e.message()));
    }
    Err(Error::new(
        ErrorKind::Server,
        format!("{} of {total} {what} failed (see above)", failed.len()),
    )
    .into())
}

pub async fn upload(
    global: &GlobalArgs,
    args: UploadArgs,
    settings: &TransferSettings,
) -> anyhow::Result<()> {
    let plan = ops::plan_uploads(args.paths.clone(), args.dest.clone()).await?;
    let total = plan.files.len() + plan.errors.len();
    let mut failed: Vec<(String, Error)> = plan
        .errors
        .into_iter()
        .map(|e| (String::from("upload"), e))
        .collect();
    if total == 1 && !failed.is_empty() {
        return summary(failed, total, "uploads");
    }
    let session = connect(global)
        .await?
        .with_transfer_settings(settings.clone());
    let bars = Bars::new(
        plan.files.len(),
        plan.files.iter().map(|f| f.size).sum(),
        "uploaded",
    );
    for file in &plan.files {
        let name = file.path.display().to_string();
        let job = UploadJob {
            path: file.path.clone(),
            object: S3Uri::new(args.dest.bucket.clone(), file.key.clone()),
            clash: Clash::from_overwrite(args.overwrite),
            checksum: args.checksum,
            share: args.share,
        };
        let (progress, bar) = bars.file(&shown(&name));
        let result = session.upload(&job, &progress).await;
        bars.file_done(&bar, &progress);
        match result {
            Ok(done) => {
                let retries = progress.snapshot().retries;
                bars.note(&format!(
                    "uploaded {} ({} bytes) to {}{}",
                    shown(&name),
                    done.size,
                    shown(&done.object.to_string()),
                    if retries > 0 {
                        format!(" ({retries} requests retried)")
                    } else {
                        String::new()
                    }
                ));
                match done.link {
                    Some(Ok(link)) => {
                        for w in link.warnings() {
                            bars.note(&w);
                        }
                        if let Some(note) = &link.register_note {
                            bars.note(&shown(note));
                        }
                        println!("{}", link.url());
                    }
                    Some(Err(e)) => failed.push((format!("{name} (uploaded, but no link)"), e)),
                    None => {}
                }
            }
            Err(e) => failed.push((name, e)),
        }
    }
    bars.finish();
    summary(failed, total, "uploads")
}

/// `download s3://B/KEY PATH` for one object; `download s3://B/PREFIX/ DIR/` for everything
/// under a prefix, its layout mirrored under DIR.
pub async fn download(
    global: &GlobalArgs,
    source: &S3Uri,
    dest: &Path,
    overwrite: bool,
    settings: &TransferSettings,
) -> anyhow::Result<()> {
    let clash = Clash::from_overwrite(overwrite);
    let session = connect(global)
        .await?
        .with_transfer_settings(settings.clone());
    let whole_prefix = source.key.is_empty() || source.key.ends_with('/');
    if !whole_prefix {
        let bars = Bars::new(1, 0, "downloaded");
        let (progress, bar) = bars.file(&shown(source.file_name()));
        let written = session.download(source, dest, clash, &progress).await;
        bars.file_done(&bar, &progress);
        let written = written?;
        eprintln!(
            "downloaded {} to {}",
            shown(&source.to_string()),
            shown(&written.display().to_string())
        );
        return Ok(());
    }
    if dest.exists() && !dest.is_dir() {
        return Err(Error::invalid(format!(
            "A prefix downloads into a folder, and this is a file: {}",
            dest.display()
        ))
        .into());
    }
    let plan = session
        .plan_downloads(
            &source.bucket,
            std::slice::from_ref(&source.key),
            &source.key,
            dest,
        )
        .await?;
    if plan.is_empty() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("Nothing to download under {source}"),
        )
        .into());
    }
    let bars = Bars::new(plan.len(), plan.iter().map(|p| p.size).sum(), "downloaded");
    let mut failed = Vec::new();
    let mut done = 0usize;
    for file in &plan {
        let (progress, bar) = bars.file(&shown(&file.object.key));
        let result = session
            .download_file(&file.object, &file.target, clash, &progress)
            .await;
        bars.file_done(&bar, &progress);
        match result {
            Ok(path) => {
                done += 1;
                if file.renamed {
                    bars.note(&format!(
                        "note: {} was saved as {}: its name is also a folder or another key's",
                        shown(&file.object.key),
                        shown(&path.display().to_string())
                    ));
                }
            }
            Err(e) => failed.push((file.object.key.clone(), e)),
        }
    }
    bars.finish();
    let renamed = plan.iter().filter(|p| p.renamed).count();
    eprintln!(
        "downloaded {done} of {} files ({}) from {} to {}{}",
        plan.len(),
        human_size(plan.iter().map(|p| p.size).sum()),
        shown(&source.to_string()),
        shown(&dest.display().to_string()),
        if renamed > 0 {
            format!("; {renamed} renamed to keep both (see above)")
        } else {
            String::new()
        }
    );
    summary(failed, plan.len(), "downloads")
}

/// `uploads s3://BUCKET [--abort-older-than 7d]`: unfinished multipart uploads, anyone's.
pub async fn uploads(
    global: &GlobalArgs,
    bucket: &S3Uri,
    abort_older_than: Option<Expiry>,
    settings: &TransferSettings,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let session = connect(global)
        .await?
        .with_transfer_settings(settings.clone());
    let all = session.server_uploads(&bucket.bucket).await?;
    let now = time::OffsetDateTime::now_utc();
    let mut out = std::io::stdout().lock();
    let mut aborted = 0;
    let mut failed = Vec::new();
    for u in &all {
        let when = u.initiated.map_or_else(|| "unknown".into(), format_iso);
        let old = abort_older_than
            .is_some_and(|limit| u.initiated.is_some_and(|t| now - t > limit.duration()));
        if old {
            match session.abort_server_upload(&bucket.bucket, u).await {
                Ok(()) => {
                    aborted += 1;
                    writeln!(
                        out,
                        "aborted {when} {} {}",
                        shown(&u.upload_id),
                        shown(&u.key)
                    )?;
                }
                Err(e) => failed.push((u.key.clone(), e)),
            }
        } else {
            writeln!(out, "{when} {} {}", shown(&u.upload_id), shown(&u.key))?;
        }
    }
    drop(out);
    if abort_older_than.is_some() {
        eprintln!("{aborted} of {} unfinished uploads aborted", all.len());
    } else {
        eprintln!(
            "{} unfinished uploads in {}",
            all.len(),
            shown(&format!("s3://{}", bucket.bucket))
        );
    }
    summary(failed, all.len(), "aborts")
}
