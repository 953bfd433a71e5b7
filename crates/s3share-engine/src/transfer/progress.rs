//! One progress source per transfer: bytes, rate, time left, parts, bytes resumed and retries.
//! The engine updates it as bytes move; the CLI's bars and the GUI's transfers panel both read
//! [`ProgressSnapshot`]s of it, so they show the same numbers.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use s3share_core::lock;

use crate::base::wording::rate_and_time_left;

/// What a transfer has done, at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProgressSnapshot {
    pub done: u64,
    pub total: u64,
    /// Bytes per second over the last few seconds (bytes moved now; resumed bytes excluded).
    pub rate: f64,
    /// At the current rate; `None` until there is one.
    pub eta: Option<Duration>,
    pub parts_done: u32,
    pub parts_total: u32,
    /// Bytes an earlier, interrupted run had already moved.
    pub resumed: u64,
    /// Requests sent again after a transient failure.
    pub retries: u32,
}

impl ProgressSnapshot {
    /// "2.3 MiB/s, 12 seconds left · part 3/40 · 1 retried": a transfer under way, as the
    /// CLI's bars and the GUI's panel both show it.
    pub fn status_line(&self) -> String {
        use std::fmt::Write as _;
        let mut text = if self.rate > 0.0 {
            rate_and_time_left(self.rate, self.eta)
        } else {
            String::new()
        };
        if self.parts_total > 1 {
            let _ = write!(text, " · part {}/{}", self.parts_done, self.parts_total);
        }
        if self.retries > 0 {
            let _ = write!(text, " · {} retried", self.retries);
        }
        text
    }

    pub fn fraction(&self) -> f32 {
        if self.total == 0 {
            0.0
        } else {
            (self.done as f64 / self.total as f64) as f32
        }
    }
}

#[derive(Default)]
struct State {
    snap: ProgressSnapshot,
    /// (when, bytes moved so far in this run), a few seconds' worth, for the rate.
    samples: VecDeque<(Instant, u64)>,
    moved: u64,
}

/// How long the rate looks back.
const RATE_WINDOW: Duration = Duration::from_secs(5);
/// The least time between two rate samples.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

type Observer = Box<dyn Fn(&ProgressSnapshot) + Send + Sync>;

/// A transfer's progress, shared between the work and whoever shows it.
#[derive(Default)]
pub struct TransferProgress {
    state: Mutex<State>,
    observer: Option<Observer>,
}

impl std::fmt::Debug for TransferProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransferProgress")
            .field("snapshot", &self.snapshot())
            .finish()
    }
}

impl TransferProgress {
    /// Progress nobody is told about as it changes (read it with [`Self::snapshot`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Progress that calls `observer` after every change (often: keep it cheap, and throttle).
    pub fn observed(observer: impl Fn(&ProgressSnapshot) + Send + Sync + 'static) -> Self {
        Self {
            state: Mutex::default(),
            observer: Some(Box::new(observer)),
        }
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        let snap = {
            let mut s = lock(&self.state);
            f(&mut s);
            s.snap
        };
        if let Some(observer) = &self.observer {
            observer(&snap);
        }
    }

    pub fn set_total(&self, total: u64) {
        self.update(|s| s.snap.total = total);
    }

    pub fn set_parts(&self, parts: u32) {
        self.update(|s| s.snap.parts_total = parts);
    }

    /// `n` more bytes moved.
    pub fn add(&self, n: u64) {
        self.update(|s| {
            s.snap.done += n;
            s.moved += n;
            let now = Instant::now();
            if s.samples
                .back()
                .is_none_or(|(t, _)| now - *t >= SAMPLE_EVERY)
            {
                s.samples.push_back((now, s.moved));
                while s
                    .samples
                    .front()
                    .is_some_and(|(t, _)| now - *t > RATE_WINDOW)
                {
                    s.samples.pop_front();
                }
            }
            if let (Some((t0, b0)), Some((t1, b1))) = (s.samples.front(), s.samples.back()) {
                let secs = (*t1 - *t0).as_secs_f64();
                if secs > 0.2 {
                    s.snap.rate = (b1 - b0) as f64 / secs;
                }
            }
            s.snap.eta = (s.snap.rate > 0.0).then(|| {
                Duration::from_secs_f64(
                    s.snap.total.saturating_sub(s.snap.done) as f64 / s.snap.rate,
                )
            });
        });
    }

    /// `n` bytes that must move again (a part that failed and is retried).
    pub fn take_back(&self, n: u64) {
        self.update(|s| s.snap.done = s.snap.done.saturating_sub(n));
    }

    /// An earlier run had moved `bytes` already (and `parts` of them whole).
    pub fn resumed(&self, bytes: u64, parts: u32) {
        self.update(|s| {
            s.snap.resumed = bytes;
            s.snap.done += bytes;
            s.snap.parts_done += parts;
        });
    }

    pub fn part_done(&self) {
        self.update(|s| s.snap.parts_done += 1);
    }

    pub fn retried(&self) {
        self.update(|s| s.snap.retries += 1);
    }

    /// The whole transfer moved.
    pub fn finish(&self) {
        self.update(|s| s.snap.done = s.snap.total);
    }

    pub fn snapshot(&self) -> ProgressSnapshot {
        lock(&self.state).snap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_bytes_parts_retries_and_resumed_work() {
        let seen = std::sync::Arc::new(Mutex::new(0));
        let counter = seen.clone();
        let p = TransferProgress::observed(move |_| *lock(&counter) += 1);
        p.set_total(100);
        p.set_parts(4);
        p.resumed(25, 1);
        p.add(30);
        p.take_back(10);
        p.retried();
        p.part_done();
        let s = p.snapshot();
        assert_eq!((s.done, s.total, s.resumed), (45, 100, 25));
        assert_eq!((s.parts_done, s.parts_total, s.retries), (2, 4, 1));
        assert!((s.fraction() - 0.45).abs() < 1e-6);
        assert_eq!(*lock(&seen), 7);
    }
}
