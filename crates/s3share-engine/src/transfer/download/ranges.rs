//! Large downloads in parallel ranges that resume. The ranges are written in place into a
//! partial file of a random name in the target's folder (so nobody can plant anything at its
//! name, and the finished file is renamed into place on the same file system); which ranges are
//! done, and the partial file's name and identity, are saved after each range in the user's
//! own data folder — outside every folder downloaded into, so no key can name or replace them.
//! An interrupted download fetches only the rest, from the same file only if it is still the
//! one s3share made, with `If-Match` on the ETag so a changed object starts over.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::folder::{Folder, Kind, Scratch, identity};
use super::writer::FileWriter;
use crate::base::blocking::run_blocking_io;
use crate::base::error::{Error, ErrorKind, Result, source_chain};
use crate::base::s3uri::S3Uri;
use crate::client::browse::{ObjectInfo, head_object};
use crate::client::connection::Connection;
use crate::transfer::Progress;
use crate::transfer::ramp::Ramp;
use crate::transfer::retry::{backoff, transient};
use crate::transfer::saver::StateSaver;
use crate::transfer::settings::TransferSettings;

/// The start of every partial file's name.
pub const PARTIAL_PREFIX: &str = ".s3share-partial-";

/// What is remembered of a partial download.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct PartialState {
    etag: String,
    size: u64,
    chunk: u64,
    done: BTreeSet<u64>,
    /// The partial file's name in the target's folder.
    #[serde(default)]
    partial: String,
    /// The partial file's identity (device, inode): a file of that name is resumed only if it
    /// is still the one s3share made.
    #[serde(default)]
    file_id: (u64, u64),
}

/// The state file of a download of `object` to `target`, in `settings`' state folder (`None`:
/// no state folder, no resume).
fn state_path(settings: &TransferSettings, object: &S3Uri, target: &Path) -> Option<PathBuf> {
    let dir = settings.download_state_dir.as_ref()?;
    let id = sha2::Sha256::digest(format!("{object}\n{}", target.display()).as_bytes());
    Some(dir.join(format!("{}.json", hex::encode(&id[..16]))))
}

fn read_state(path: Option<&Path>) -> Option<PartialState> {
    std::fs::read(path?)
        .ok()
        .and_then(|t| serde_json::from_slice(&t).ok())
}

/// Why one range failed.
enum RangeError {
    /// The object changed (If-Match failed): start over.
    Changed,
    /// Worth another try.
    Transient(Error),
    Permanent(Error),
}

/// Fetch `len` bytes at `offset`, queued for the partial file's writer as they come: a read
/// the size of a write goes as it is, smaller ones are gathered first. Returns once every
/// byte is queued (the caller waits for the writer before counting the range as done).
async fn fetch_range(
    conn: &Connection,
    object: &S3Uri,
    etag: &str,
    (partial, writer): (&Path, &FileWriter),
    (offset, len): (u64, u64),
    (progress, received): (Progress<'_>, &AtomicU64),
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
    let stopped = |e: std::io::Error, got: u64| {
        (
            RangeError::Permanent(Error::local_io("write", partial, &e)),
            got,
        )
    };
    let mut got = 0u64;
    let mut pending = BytesMut::new();
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
        progress.add(chunk.len() as u64);
        received.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        let data = if pending.is_empty() && chunk.len() >= WRITE_AT_ONCE {
            chunk
        } else {
            pending.extend_from_slice(&chunk);
            if pending.len() < WRITE_AT_ONCE {
                continue;
            }
            pending.split().freeze()
        };
        let n = data.len() as u64;
        writer
            .write(offset + got, data)
            .await
            .map_err(|e| stopped(e, got + n))?;
        got += n;
    }
    if !pending.is_empty() {
        let n = pending.len() as u64;
        writer
            .write(offset + got, pending.freeze())
            .await
            .map_err(|e| stopped(e, got + n))?;
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

/// Bytes gathered before one positioned write. A fast connection's reads are larger (about
/// 400 KiB on the sink) and go as they come, without a copy.
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

/// Save which ranges are done: atomically (0600), but without an fsync of its own — a state
/// lost in a crash only costs a refetch.
fn save_state(path: &Path, state: &PartialState) -> std::io::Result<()> {
    use std::io::Write as _;
    let json = serde_json::to_vec(state).map_err(|e| std::io::Error::other(e.to_string()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".s3share-state-")
        .tempfile_in(dir)?;
    tmp.write_all(&json)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A partial file, open, and the ranges it already holds.
struct Partial {
    scratch: Scratch,
    file: Arc<std::fs::File>,
    state: PartialState,
}

/// The partial file an earlier run left in `folder`, when its state is for this very object
/// (ETag, size, cut) and the file of that name is still the one it made (same identity, a
/// regular file, the object's size); else a fresh one, and nothing done. Blocking.
fn resume_or_start(
    folder: &Arc<Folder>,
    saved: Option<PartialState>,
    want: &PartialState,
) -> std::io::Result<Partial> {
    if let Some(saved) = saved
        && !saved.partial.is_empty()
        && saved.partial.starts_with(PARTIAL_PREFIX)
        && !saved.partial.contains(['/', '\\'])
    {
        let owned_name = std::ffi::OsString::from(&saved.partial);
        let name = owned_name.as_os_str();
        let same_object =
            saved.etag == want.etag && saved.size == want.size && saved.chunk == want.chunk;
        let ours = if folder.kind(name)? == Some(Kind::File) {
            folder.open_file(name).ok().filter(|f| {
                identity(f).ok() == Some(saved.file_id)
                    && f.metadata().is_ok_and(|m| m.len() == want.size)
            })
        } else {
            None
        };
        match ours {
            Some(file) if same_object => {
                let count = want.size.div_ceil(want.chunk);
                let state = PartialState {
                    done: saved.done.into_iter().filter(|i| *i < count).collect(),
                    ..saved
                };
                return Ok(Partial {
                    scratch: Scratch::adopt(folder, name.to_owned()),
                    file: Arc::new(file),
                    state,
                });
            }
            // Ours, but for another version of the object: it goes.
            Some(_) => drop(Scratch::adopt(folder, name.to_owned())),
            // Not there, or not the file s3share made: left alone.
            None => {}
        }
    }
    let (scratch, file) = Scratch::create(folder, PARTIAL_PREFIX)?;
    file.set_len(want.size)?;
    let state = PartialState {
        done: BTreeSet::new(),
        partial: scratch.name().to_string_lossy().into_owned(),
        file_id: identity(&file)?,
        ..want.clone()
    };
    Ok(Partial {
        scratch,
        file: Arc::new(file),
        state,
    })
}

/// One ranged download under way.
struct Ranged<'a> {
    conn: &'a Connection,
    object: &'a S3Uri,
    partial_path: PathBuf,
    writer: FileWriter,
    /// Every byte received, retries included: what the ramp measures.
    received: AtomicU64,
    state_path: Option<&'a Path>,
    settings: &'a TransferSettings,
}

/// How often the ramp looks at the rate.
const RAMP_TICK: Duration = Duration::from_millis(50);

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
                (&self.partial_path, &self.writer),
                range,
                (progress, &self.received),
            )
            .await
            {
                Ok(()) => return Ok(i),
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

    /// Fetch every range `state` lacks, as many at once as pay (the [`Ramp`], up to the
    /// settings' `parallel`), saving which are done (in the background) as each reaches the
    /// file.
    async fn fetch_rest(
        &self,
        state: PartialState,
        progress: Progress<'_>,
    ) -> std::result::Result<(), RangeError> {
        let count = state.size.div_ceil(state.chunk);
        let mut pending = (0..count).filter(|i| !state.done.contains(i));
        let want = &state;
        let save = self.state_path.map(|path| {
            let path = path.to_owned();
            move |snapshot: PartialState| {
                let path = path.clone();
                async move {
                    let at = path.clone();
                    run_blocking_io(move || save_state(&at, &snapshot))
                        .await
                        .map_err(|e| Error::local_io("write", &path, &e))
                }
            }
        });
        let saver = StateSaver::start(state.clone(), save);
        let mut ramp = Ramp::new(self.settings.parallel);
        let mut streams = FuturesUnordered::new();
        // Ranges fully received, waiting for the writer to have written them.
        let mut landing = FuturesUnordered::new();
        let mut tick = tokio::time::interval(RAMP_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let fetched = loop {
            while streams.len() < ramp.limit()
                && let Some(i) = pending.next()
            {
                streams.push(self.fetch(want, i, progress));
            }
            if streams.is_empty() && landing.is_empty() {
                break Ok(());
            }
            tokio::select! {
                Some(fetched) = streams.next(), if !streams.is_empty() => match fetched {
                    Ok(i) => landing.push(async move { self.writer.written().await.map(|()| i) }),
                    Err(e) => break Err(e),
                },
                Some(written) = landing.next(), if !landing.is_empty() => match written {
                    Ok(i) => {
                        progress.part_done();
                        saver.update(|s| {
                            s.done.insert(i);
                        });
                    }
                    Err(e) => {
                        break Err(RangeError::Permanent(Error::local_io(
                            "write",
                            &self.partial_path,
                            &e,
                        )));
                    }
                },
                _ = tick.tick() => {
                    let before = ramp.limit();
                    let now = ramp.observe(Instant::now(), self.received.load(Ordering::Relaxed));
                    if now != before {
                        tracing::debug!(streams = now, "ranges in flight");
                    }
                }
            }
        };
        drop((streams, landing));
        // A state that could not be saved only costs a resume; the download goes on.
        if let (_, Some(e)) = saver.finish().await {
            tracing::warn!("the download's state could not be saved, so it cannot resume: {e}");
        }
        fetched
    }
}

/// Download `object` (whose HEAD is `head`) in parallel ranges to `name` in `folder`,
/// resuming a partial download an earlier run left. `overwrite`: replace a file there.
pub async fn download_ranged(
    conn: &Connection,
    object: &S3Uri,
    head: ObjectInfo,
    (folder, name): (&Arc<Folder>, &OsStr),
    overwrite: bool,
    settings: &TransferSettings,
    progress: Progress<'_>,
) -> Result<()> {
    let target = folder.path().join(name);
    let state_path = state_path(settings, object, &target);
    let mut known = Some(head);
    for _ in 0..2 {
        // The caller's HEAD first; again only after the object changed under us.
        let head = match known.take() {
            Some(h) => h,
            None => head_object(conn, object).await?,
        };
        let want = PartialState {
            etag: head.etag.clone().unwrap_or_default(),
            size: head.size,
            chunk: range_size(head.size, settings),
            done: BTreeSet::new(),
            partial: String::new(),
            file_id: (0, 0),
        };
        let saved = read_state(state_path.as_deref());
        let (f, w) = (folder.clone(), want.clone());
        let partial = run_blocking_io(move || resume_or_start(&f, saved, &w))
            .await
            .map_err(|e| Error::local_io("write in", folder.path(), &e))?;
        let Partial {
            scratch,
            file,
            state,
        } = partial;
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
        let job = Ranged {
            conn,
            object,
            partial_path: scratch.path(),
            writer: FileWriter::start(file.clone())
                .map_err(|e| Error::local_io("write in", folder.path(), &e))?,
            received: AtomicU64::new(0),
            state_path: state_path.as_deref(),
            settings,
        };
        let etag = state.etag.clone();
        let fetched = job.fetch_rest(state, progress).await;
        // The writer's handle on the file is closed before the file is checked, renamed or
        // removed (Windows refuses both while a handle is open).
        job.writer.finish().await;
        match fetched {
            Ok(()) => {
                // Like curl and browsers, ranges are not fsynced as they land (that doubled the
                // time). A crash or kill loses nothing written; a power cut could lose ranges the
                // state names, so a resumed download of a single-PUT object is checked whole
                // against its ETag (its MD5) before it is kept — a mismatch (or an ETag that is
                // no MD5, as with SSE-KMS) downloads it again from the start. A multipart
                // object's ETag cannot be checked so: after a power cut, delete the partial file.
                if resumed > 0 && !whole_file_matches(&file, &scratch.path(), &etag).await? {
                    forget_state(state_path.as_deref());
                    drop(scratch);
                    progress.take_back(progress.snapshot().done);
                    continue;
                }
                drop(file);
                scratch
                    .put_in_place(name, overwrite)
                    .map_err(|e| Error::local_io("write", &target, &e))?;
                forget_state(state_path.as_deref());
                progress.finish();
                return Ok(());
            }
            Err(RangeError::Changed) => {
                // The object changed since the partial download began: start over, once.
                forget_state(state_path.as_deref());
                drop(scratch);
                progress.take_back(progress.snapshot().done);
            }
            Err(RangeError::Transient(e) | RangeError::Permanent(e)) => {
                // Kept for a resume when there is a state to resume from; else it goes.
                if state_path.is_some() {
                    scratch.keep();
                }
                return Err(e);
            }
        }
    }
    Err(Error::new(
        ErrorKind::Server,
        format!("The object kept changing while it was downloaded; try again: {object}"),
    ))
}

fn forget_state(path: Option<&Path>) {
    if let Some(p) = path {
        let _ = std::fs::remove_file(p);
    }
}

/// Does the file's MD5 equal `etag`? (Always `true` for a multipart ETag, `md5-N`, which
/// cannot be recomputed without the part sizes.)
async fn whole_file_matches(file: &Arc<std::fs::File>, path: &Path, etag: &str) -> Result<bool> {
    let etag = etag.trim_matches('"').to_owned();
    if etag.contains('-') || etag.len() != 32 {
        return Ok(true);
    }
    let file = file.clone();
    let sum = run_blocking_io(move || -> std::io::Result<String> {
        use md5::Digest as _;
        let mut md5 = md5::Md5::new();
        let mut buf = vec![0u8; 1024 * 1024];
        let mut at = 0u64;
        loop {
            let n = read_at(&file, &mut buf, at)?;
            if n == 0 {
                return Ok(hex::encode(md5.finalize()));
            }
            md5.update(&buf[..n]);
            at += n as u64;
        }
    })
    .await
    .map_err(|e| Error::local_io("read", path, &e))?;
    Ok(sum == etag)
}

fn read_at(file: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(file, buf, at)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(file, buf, at)
    }
}

/// Forget an interrupted download of `object` to `target` (Cancel: it does not resume): its
/// state, and its partial file if it is still the one s3share made.
pub fn discard_partial(settings: &TransferSettings, object: &S3Uri, target: &Path) {
    let path = state_path(settings, object, target);
    if let (Some(state), Some(dir)) = (read_state(path.as_deref()), target.parent())
        && state.partial.starts_with(PARTIAL_PREFIX)
        && let Ok(folder) = Folder::open(dir)
    {
        let name = OsStr::new(&state.partial);
        let ours = folder
            .open_file(name)
            .ok()
            .is_some_and(|f| identity(&f).ok() == Some(state.file_id));
        if ours {
            let _ = folder.remove(name);
        }
    }
    forget_state(path.as_deref());
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
    fn a_partial_download_resumes_only_from_the_file_s3share_made_for_this_object() {
        let dir = tempfile::tempdir().expect("tempdir");
        let folder = Arc::new(Folder::open(dir.path()).expect("folder"));
        let want = PartialState {
            etag: "\"e1\"".into(),
            size: 3 * MIB,
            chunk: MIB,
            done: BTreeSet::new(),
            partial: String::new(),
            file_id: (0, 0),
        };
        // Nothing saved: a fresh partial file of the object's size, of a random name.
        let first = resume_or_start(&folder, None, &want).expect("fresh");
        assert!(first.state.done.is_empty());
        assert!(first.state.partial.starts_with(PARTIAL_PREFIX));
        assert_eq!(first.file.metadata().expect("meta").len(), 3 * MIB);
        let name = first.state.partial.clone();
        first.scratch.keep();
        // Its state: the ranges done come back (one out of range dropped), same file.
        let saved = PartialState {
            done: [0, 2, 7].into_iter().collect(),
            ..first.state.clone()
        };
        let again = resume_or_start(&folder, Some(saved.clone()), &want).expect("resume");
        assert_eq!(again.state.done.iter().copied().collect::<Vec<_>>(), [0, 2]);
        assert_eq!(again.state.partial, name);
        again.scratch.keep();
        // The object changed (another ETag): the old partial goes, a new one starts.
        let changed = PartialState {
            etag: "\"e2\"".into(),
            ..want.clone()
        };
        let over = resume_or_start(&folder, Some(saved.clone()), &changed).expect("over");
        assert!(over.state.done.is_empty() && over.state.partial != name);
        assert!(
            !dir.path().join(&name).exists(),
            "the stale partial is removed"
        );
        drop(over);
        // Someone put another file at the saved name: not resumed, and left alone.
        std::fs::write(dir.path().join(&name), vec![0u8; 3 * MIB as usize]).expect("planted");
        let planted = resume_or_start(&folder, Some(saved), &want).expect("fresh");
        assert!(planted.state.done.is_empty() && planted.state.partial != name);
        assert!(dir.path().join(&name).exists(), "not ours: not touched");
        drop(planted);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .flatten()
            .collect();
        assert_eq!(left.len(), 1, "dropped partials are removed: {left:?}");
    }
}
