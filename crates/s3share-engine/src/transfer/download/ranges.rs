//! Large downloads in parallel ranges that resume: the ranges are written in place into a
//! partial file beside the target (`.s3share-partial-…`), and which of them are done is saved
//! after each; an interrupted download fetches only the rest, with `If-Match` on the ETag so a
//! changed object starts over. The file is renamed into place when complete.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use futures_util::{StreamExt as _, TryStreamExt as _};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::base::blocking::run_blocking_io;
use crate::base::error::{Error, ErrorKind, Result, source_chain};
use crate::base::s3uri::S3Uri;
use crate::client::browse::{ObjectInfo, head_object};
use crate::client::connection::Connection;
use crate::transfer::Progress;
use crate::transfer::retry::{backoff, transient};
use crate::transfer::settings::TransferSettings;

/// What is remembered of a partial download, next to its partial file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct PartialState {
    etag: String,
    size: u64,
    chunk: u64,
    done: BTreeSet<u64>,
}

/// The partial file and its state file for `object` going to `target`.
fn partial_paths(object: &S3Uri, target: &Path) -> (PathBuf, PathBuf) {
    let dir = target.parent().unwrap_or(Path::new("."));
    let id = sha2::Sha256::digest(format!("{object}\n{}", target.display()).as_bytes());
    let name = format!(".s3share-partial-{}", hex::encode(&id[..12]));
    (dir.join(&name), dir.join(format!("{name}.json")))
}

/// A file created with the mode any download gets (0666 less the umask), or opened as it is.
fn open_partial(path: &Path, size: u64, fresh: bool) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(fresh);
    let f = o.open(path)?;
    if fresh {
        f.set_len(size)?;
    }
    Ok(f)
}

/// Why one range failed.
enum RangeError {
    /// The object changed (If-Match failed): start over.
    Changed,
    /// Worth another try.
    Transient(Error),
    Permanent(Error),
}

/// Fetch `len` bytes at `offset` into the partial file.
async fn fetch_range(
    conn: &Connection,
    object: &S3Uri,
    etag: &str,
    partial: &Path,
    (offset, len): (u64, u64),
    progress: Progress<'_>,
) -> std::result::Result<(), (RangeError, u64)> {
    let target = object.to_string();
    let (client, _) = conn
        .client_for_bucket(&object.bucket)
        .await
        .map_err(|e| (RangeError::Permanent(e), 0))?;
    let resp = client
        .get_object()
        .bucket(&object.bucket)
        .key(&object.key)
        .range(format!("bytes={offset}-{}", offset + len - 1))
        .if_match(etag)
        .send()
        .await;
    let mut resp = match resp {
        Ok(r) => r,
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            let err = Error::from_sdk(&e, &target);
            return Err((
                match status {
                    Some(412) => RangeError::Changed,
                    _ if transient(status, &err) => RangeError::Transient(err),
                    _ => RangeError::Permanent(err),
                },
                0,
            ));
        }
    };
    let io = |e: std::io::Error, got: u64| {
        (
            RangeError::Permanent(Error::local_io("write", partial, &e)),
            got,
        )
    };
    let file = std::sync::Arc::new(open_partial(partial, 0, false).map_err(|e| io(e, 0))?);
    // Written at its place in a few large positioned writes, off the async workers.
    let write = |buf: Vec<u8>, at: u64| {
        let file = file.clone();
        async move { run_blocking_io(move || write_all_at(&file, &buf, at)).await }
    };
    let mut got = 0u64;
    let mut pending: Vec<u8> = Vec::with_capacity(WRITE_AT_ONCE);
    while let Some(chunk) = resp.body.next().await {
        let chunk = chunk.map_err(|e| {
            let err = Error::new(
                ErrorKind::Network,
                format!("The download broke off; it goes on where it stopped: {object}"),
            )
            .with_detail(source_chain(&e));
            (RangeError::Transient(err), got + pending.len() as u64)
        })?;
        if got + (pending.len() + chunk.len()) as u64 > len {
            return Err((
                RangeError::Permanent(Error::new(
                    ErrorKind::Server,
                    format!("The server sent more than the range asked for: {object}"),
                )),
                got + pending.len() as u64,
            ));
        }
        pending.extend_from_slice(&chunk);
        progress.add(chunk.len() as u64);
        if pending.len() >= WRITE_AT_ONCE {
            let n = pending.len() as u64;
            let buf = std::mem::replace(&mut pending, Vec::with_capacity(WRITE_AT_ONCE));
            write(buf, offset + got).await.map_err(|e| io(e, got + n))?;
            got += n;
        }
    }
    if !pending.is_empty() {
        let n = pending.len() as u64;
        write(pending, offset + got)
            .await
            .map_err(|e| io(e, got + n))?;
        got += n;
    }
    if got != len {
        let err = Error::new(
            ErrorKind::Network,
            format!("The download ended early; it goes on where it stopped: {object}"),
        );
        return Err((RangeError::Transient(err), got));
    }
    Ok(())
}

/// Bytes gathered before one positioned write.
const WRITE_AT_ONCE: usize = 256 * 1024;

/// The size of each range: the part size at least, larger for large objects (fewer requests,
/// each streaming longer), so that each of the parallel streams gets about four.
fn range_size(size: u64, settings: &TransferSettings) -> u64 {
    let per_stream = size.div_ceil(settings.parallel.max(1) as u64 * 4);
    per_stream
        .div_ceil(1024 * 1024)
        .saturating_mul(1024 * 1024)
        .clamp(settings.part_size.max(1024 * 1024), 256 * 1024 * 1024)
}

fn write_all_at(file: &std::fs::File, buf: &[u8], at: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, buf, at)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            done +=
                std::os::windows::fs::FileExt::seek_write(file, &buf[done..], at + done as u64)?;
        }
        Ok(())
    }
}

/// Save which ranges are done: atomically (0600), but without an fsync of its own — each
/// range was synced before it was listed, so a state lost in a crash only costs a refetch.
fn save_state(path: &Path, state: &PartialState) -> std::io::Result<()> {
    use std::io::Write as _;
    let json = serde_json::to_vec(state).map_err(|e| std::io::Error::other(e.to_string()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".s3share-state-")
        .tempfile_in(dir)?;
    tmp.write_all(&json)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The ranges an earlier run finished, when its state and partial file match this object;
/// else none, and a fresh partial file of the object's size.
fn resume_point(partial: &Path, state_path: &Path, want: &PartialState) -> Result<BTreeSet<u64>> {
    let saved: Option<PartialState> = std::fs::read(state_path)
        .ok()
        .and_then(|t| serde_json::from_slice(&t).ok())
        .filter(|s: &PartialState| {
            s.etag == want.etag && s.size == want.size && s.chunk == want.chunk
        })
        .filter(|_| std::fs::metadata(partial).is_ok_and(|m| m.len() == want.size));
    if let Some(s) = saved {
        let count = want.size.div_ceil(want.chunk);
        return Ok(s.done.into_iter().filter(|i| *i < count).collect());
    }
    open_partial(partial, want.size, true).map_err(|e| Error::local_io("write", partial, &e))?;
    Ok(BTreeSet::new())
}

/// One ranged download under way.
struct Ranged<'a> {
    conn: &'a Connection,
    object: &'a S3Uri,
    partial: &'a Path,
    state_path: &'a Path,
    settings: &'a TransferSettings,
}

impl Ranged<'_> {
    /// Fetch range `i` of `state`, retrying transient failures.
    async fn fetch(
        &self,
        state: &PartialState,
        i: u64,
        progress: Progress<'_>,
    ) -> std::result::Result<u64, RangeError> {
        let range = (
            i * state.chunk,
            state.chunk.min(state.size - i * state.chunk),
        );
        let mut attempt = 0;
        loop {
            match fetch_range(
                self.conn,
                self.object,
                &state.etag,
                self.partial,
                range,
                progress,
            )
            .await
            {
                Ok(()) => {
                    progress.part_done();
                    return Ok(i);
                }
                Err((RangeError::Transient(e), moved)) => {
                    progress.take_back(moved);
                    attempt += 1;
                    if attempt > self.settings.retries {
                        return Err(RangeError::Permanent(e));
                    }
                    progress.retried();
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err((other, moved)) => {
                    progress.take_back(moved);
                    return Err(other);
                }
            }
        }
    }

    /// Fetch every range `state` lacks, in parallel, saving which are done after each.
    async fn fetch_rest(
        &self,
        state: PartialState,
        progress: Progress<'_>,
    ) -> std::result::Result<(), RangeError> {
        let count = state.size.div_ceil(state.chunk);
        let pending: Vec<u64> = (0..count).filter(|i| !state.done.contains(i)).collect();
        let mut saved = state;
        let want = saved.clone_empty();
        futures_util::stream::iter(pending)
            .map(|i| {
                let want = &want;
                async move { self.fetch(want, i, progress).await }
            })
            .buffer_unordered(self.settings.parallel.max(1))
            .try_for_each(|i| {
                saved.done.insert(i);
                let snapshot = saved.clone();
                let path = self.state_path.to_owned();
                // Written on the blocking pool, as an upload's state is, not on an async worker.
                async move {
                    let at = path.clone();
                    run_blocking_io(move || save_state(&at, &snapshot))
                        .await
                        .map_err(|e| RangeError::Permanent(Error::local_io("write", &path, &e)))
                }
            })
            .await
    }
}

impl PartialState {
    /// The same object and cut, with nothing done.
    fn clone_empty(&self) -> Self {
        Self {
            etag: self.etag.clone(),
            size: self.size,
            chunk: self.chunk,
            done: BTreeSet::new(),
        }
    }
}

/// Download `object` (whose HEAD is `head`) to `target` in parallel ranges, resuming a partial
/// download left by an earlier run. `overwrite`: replace a file at `target`.
pub async fn download_ranged(
    conn: &Connection,
    object: &S3Uri,
    head: ObjectInfo,
    target: &Path,
    overwrite: bool,
    settings: &TransferSettings,
    progress: Progress<'_>,
) -> Result<PathBuf> {
    let (partial, state_path) = partial_paths(object, target);
    let job = Ranged {
        conn,
        object,
        partial: &partial,
        state_path: &state_path,
        settings,
    };
    let mut known = Some(head);
    for _ in 0..2 {
        // The caller's HEAD first; again only after the object changed under us.
        let head = match known.take() {
            Some(h) => h,
            None => head_object(conn, object).await?,
        };
        let mut state = PartialState {
            etag: head.etag.clone().unwrap_or_default(),
            size: head.size,
            chunk: range_size(head.size, settings),
            done: BTreeSet::new(),
        };
        state.done = resume_point(&partial, &state_path, &state)?;
        let count = state.size.div_ceil(state.chunk);
        progress.set_total(state.size);
        progress.set_parts(u32::try_from(count).unwrap_or(u32::MAX));
        let resumed: u64 = state
            .done
            .iter()
            .map(|i| state.chunk.min(state.size - i * state.chunk))
            .sum();
        if resumed > 0 {
            progress.resumed(resumed, u32::try_from(state.done.len()).unwrap_or(0));
        }
        let etag = state.etag.clone();
        match job.fetch_rest(state, progress).await {
            Ok(()) => {
                // Like curl and browsers, ranges are not fsynced as they land (that doubled the
                // time). A crash or kill loses nothing written; a power cut could lose ranges the
                // state names, so a resumed download of a single-PUT object is checked whole
                // against its ETag (its MD5) before it is kept — a mismatch (or an ETag that is
                // no MD5, as with SSE-KMS) downloads it again from the start. A multipart
                // object's ETag cannot be checked so: after a power cut, delete the partial file.
                if resumed > 0 && !whole_file_matches(&partial, &etag).await? {
                    let _ = std::fs::remove_file(&state_path);
                    let _ = std::fs::remove_file(&partial);
                    progress.take_back(progress.snapshot().done);
                    continue;
                }
                finish(&partial, target, overwrite)?;
                let _ = std::fs::remove_file(&state_path);
                progress.finish();
                return Ok(target.to_owned());
            }
            Err(RangeError::Changed) => {
                // The object changed since the partial download began: start over, once.
                let _ = std::fs::remove_file(&state_path);
                let _ = std::fs::remove_file(&partial);
                progress.take_back(progress.snapshot().done);
            }
            Err(RangeError::Transient(e) | RangeError::Permanent(e)) => return Err(e),
        }
    }
    Err(Error::new(
        ErrorKind::Server,
        format!("The object kept changing while it was downloaded; try again: {object}"),
    ))
}

/// Does the file's MD5 equal `etag`? (Always `true` for a multipart ETag, `md5-N`, which
/// cannot be recomputed without the part sizes.)
async fn whole_file_matches(path: &Path, etag: &str) -> Result<bool> {
    let etag = etag.trim_matches('"').to_owned();
    if etag.contains('-') || etag.len() != 32 {
        return Ok(true);
    }
    let owned = path.to_owned();
    let sum = run_blocking_io(move || -> std::io::Result<String> {
        use md5::Digest as _;
        use std::io::Read as _;
        let mut file = std::fs::File::open(&owned)?;
        let mut md5 = md5::Md5::new();
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                return Ok(hex::encode(md5.finalize()));
            }
            md5.update(&buf[..n]);
        }
    })
    .await
    .map_err(|e| Error::local_io("read", path, &e))?;
    Ok(sum == etag)
}

/// Remove what an interrupted download of `object` to `target` left (a cancelled download
/// does not resume).
pub fn discard_partial(object: &S3Uri, target: &Path) {
    let (partial, state) = partial_paths(object, target);
    let _ = std::fs::remove_file(partial);
    let _ = std::fs::remove_file(state);
}

/// Put the finished partial file in place: replacing `target` only when asked.
fn finish(partial: &Path, target: &Path, overwrite: bool) -> Result<()> {
    let result = if overwrite {
        std::fs::rename(partial, target)
    } else {
        // Never replace: a link fails if the name was taken meanwhile.
        std::fs::hard_link(partial, target).and_then(|()| std::fs::remove_file(partial))
    };
    result.map_err(|e| Error::local_io("write", target, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn ranges_grow_with_the_object_and_stay_bounded() {
        let s = TransferSettings::default();
        // At least the part size; about four ranges per parallel stream; whole MiB; ≤ 256 MiB.
        assert_eq!(range_size(10 * MIB, &s), s.part_size);
        assert_eq!(range_size(1024 * MIB, &s), 64 * MIB);
        assert_eq!(range_size(1024 * 1024 * MIB, &s), 256 * MIB);
        for size in [1, MIB + 1, 333 * MIB + 7, 40_000 * MIB] {
            let r = range_size(size, &s);
            assert_eq!(r % MIB, 0);
            assert!(size.div_ceil(r) <= (s.parallel as u64 * 4).max(size.div_ceil(256 * MIB)));
        }
    }

    #[test]
    fn a_partial_download_resumes_only_when_it_matches_the_object() {
        let dir = tempfile::tempdir().expect("tempdir");
        let partial = dir.path().join("p");
        let state = dir.path().join("p.json");
        let want = PartialState {
            etag: "\"e1\"".into(),
            size: 3 * MIB,
            chunk: MIB,
            done: BTreeSet::new(),
        };
        // Nothing there: a fresh partial file of the object's size.
        assert!(
            resume_point(&partial, &state, &want)
                .expect("fresh")
                .is_empty()
        );
        assert_eq!(std::fs::metadata(&partial).expect("made").len(), 3 * MIB);
        // A state for this object: its ranges (an out-of-range one dropped).
        let saved = PartialState {
            done: [0, 2, 7].into_iter().collect(),
            ..want.clone()
        };
        save_state(&state, &saved).expect("save");
        let done = resume_point(&partial, &state, &want).expect("resume");
        assert_eq!(done.into_iter().collect::<Vec<_>>(), [0, 2]);
        // The object changed (another ETag): start over.
        let changed = PartialState {
            etag: "\"e2\"".into(),
            ..want.clone()
        };
        assert!(
            resume_point(&partial, &state, &changed)
                .expect("over")
                .is_empty()
        );
        // The partial file is not the object's size: start over.
        save_state(&state, &saved).expect("save");
        std::fs::write(&partial, b"short").expect("truncate");
        assert!(
            resume_point(&partial, &state, &want)
                .expect("over")
                .is_empty()
        );
    }
}
