//! How many streams a transfer keeps in flight, found by trying instead of fixed. A server on
//! this computer or the LAN fills the disk with one stream, and every extra one only costs CPU
//! (the streams' writes contend for the file); a distant server gives each stream a share of
//! its bandwidth-delay product, and more streams mean more speed. So a transfer starts with
//! one stream and adds one at a time while the rate it measures over the next window grows by
//! at least [`GAIN`]; when it stops growing it goes back to the best count, and tries one more
//! now and then ([`REPROBE`]), since a network's conditions change. Pure logic: the caller
//! feeds it the bytes received and the time.

use std::time::{Duration, Instant};

/// How long each count of streams is measured.
pub const WINDOW: Duration = Duration::from_millis(250);
/// How much faster one more stream must make the transfer to be kept.
pub const GAIN: f64 = 1.15;
/// How long a settled count is kept before one more is tried again.
pub const REPROBE: Duration = Duration::from_secs(4);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Trying one more stream per window.
    Growing,
    /// Keeping `limit` since then.
    Settled(Instant),
}

/// The number of streams to keep in flight, from what was measured.
#[derive(Debug, Clone)]
pub struct Ramp {
    max: usize,
    limit: usize,
    /// Where the current window began: the time and the bytes by then. It opens at the first
    /// byte, so a connection's setup is not counted as slowness.
    window: Option<(Instant, u64)>,
    /// The best count measured in this round of growing, and its rate (bytes per second).
    best: Option<(usize, f64)>,
    phase: Phase,
}

impl Ramp {
    /// A ramp that never goes above `max` streams (at least one).
    pub fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            limit: 1,
            window: None,
            best: None,
            phase: Phase::Growing,
        }
    }

    /// The number of streams to have in flight now.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// `bytes` have been received in all by `now`: the limit from here on.
    pub fn observe(&mut self, now: Instant, bytes: u64) -> usize {
        let Some((start, from)) = self.window else {
            if bytes > 0 {
                self.window = Some((now, bytes));
            }
            return self.limit;
        };
        let elapsed = now.saturating_duration_since(start);
        if elapsed < WINDOW {
            return self.limit;
        }
        let rate = bytes.saturating_sub(from) as f64 / elapsed.as_secs_f64();
        self.window = Some((now, bytes));
        match self.phase {
            Phase::Growing => match self.best {
                Some((count, best)) if rate < best * GAIN => {
                    // One more did not pay: back to the best count.
                    self.limit = count;
                    self.phase = Phase::Settled(now);
                }
                _ => {
                    self.best = Some((self.limit, rate));
                    if self.limit < self.max {
                        self.limit += 1;
                    } else {
                        self.phase = Phase::Settled(now);
                    }
                }
            },
            Phase::Settled(since) => {
                // The settled count's rate now is what one more must beat.
                self.best = Some((self.limit, rate));
                if self.limit < self.max && now.saturating_duration_since(since) >= REPROBE {
                    self.limit += 1;
                    self.phase = Phase::Growing;
                }
            }
        }
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drive a ramp against a server whose rate for `n` streams is `rate(n)` bytes per second,
    /// for `windows` windows; the limits it chose, one per window.
    fn drive(max: usize, windows: usize, rate: impl Fn(usize) -> f64) -> Vec<usize> {
        let mut ramp = Ramp::new(max);
        let t0 = Instant::now();
        let mut bytes = 1u64;
        ramp.observe(t0, bytes);
        let mut chosen = Vec::new();
        for w in 1..=windows {
            bytes += (rate(ramp.limit()) * WINDOW.as_secs_f64()) as u64;
            chosen.push(ramp.observe(t0 + WINDOW * w as u32, bytes));
        }
        chosen
    }

    #[test]
    fn a_server_that_one_stream_fills_keeps_one() {
        // 1.5 GB/s with one stream, a little less with more (they contend).
        let limits = drive(4, 8, |n| 1.5e9 / (1.0 + 0.05 * (n as f64 - 1.0)));
        assert_eq!(limits[0], 2, "one more is tried");
        assert!(limits[1..].iter().all(|&n| n == 1), "{limits:?}");
    }

    #[test]
    fn a_distant_server_gets_every_stream_it_pays_for() {
        // Each stream gets 40 MB/s, up to a 100 MB/s link.
        let limits = drive(8, 12, |n| (40e6 * n as f64).min(100e6));
        assert_eq!(limits[..3], [2, 3, 4]);
        assert!(limits[3..].iter().all(|&n| n == 3), "{limits:?}");
        // With no ceiling in sight it goes up to the maximum and stays there.
        let limits = drive(4, 8, |n| 40e6 * n as f64);
        assert_eq!(limits, [2, 3, 4, 4, 4, 4, 4, 4]);
    }

    #[test]
    fn a_settled_count_is_tried_again_later() {
        // The link gets faster after a while: the reprobe finds the second stream worth it.
        let mut ramp = Ramp::new(4);
        let t0 = Instant::now();
        let mut bytes = 1u64;
        ramp.observe(t0, bytes);
        let mut at = t0;
        let mut limits = Vec::new();
        let windows = (REPROBE.as_millis() / WINDOW.as_millis()) as usize + 6;
        for w in 0..windows {
            let per_stream = if w < 4 { 100e6 } else { 60e6 };
            let rate = (per_stream * ramp.limit() as f64).min(if w < 4 { 100e6 } else { 1e9 });
            bytes += (rate * WINDOW.as_secs_f64()) as u64;
            at += WINDOW;
            limits.push(ramp.observe(at, bytes));
        }
        assert_eq!(limits[..2], [2, 1]);
        assert!(limits.iter().rev().take(2).all(|&n| n >= 3), "{limits:?}");
    }

    #[test]
    fn nothing_changes_before_the_first_byte_or_within_a_window() {
        let mut ramp = Ramp::new(4);
        let t0 = Instant::now();
        assert_eq!(ramp.observe(t0 + WINDOW * 10, 0), 1);
        assert_eq!(ramp.observe(t0 + WINDOW * 11, 5), 1);
        assert_eq!(ramp.observe(t0 + WINDOW * 11 + WINDOW / 2, 10_000), 1);
        assert_eq!(ramp.observe(t0 + WINDOW * 12, 20_000), 2);
        assert_eq!(Ramp::new(0).limit(), 1);
        let mut one = Ramp::new(1);
        assert_eq!(one.observe(t0, 1), 1);
        assert_eq!(one.observe(t0 + WINDOW, 1_000_000), 1);
    }
}
