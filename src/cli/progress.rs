//! Progress bars on stderr, drawn from the engine's [`TransferProgress`]: one bar per file,
//! plus a total when there are several, all reading the same numbers the GUI shows.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::base::wording::human_size;
use crate::engine::transfer::{ProgressSnapshot, TransferProgress};

/// The bars of one command.
pub struct Bars {
    multi: MultiProgress,
    total: Option<(ProgressBar, Arc<Mutex<u64>>)>,
    /// "uploaded" or "downloaded", for the resuming note.
    verb: &'static str,
}

fn note(multi: &MultiProgress, text: &str) {
    if multi.is_hidden() {
        eprintln!("{text}");
    } else {
        let _ = multi.println(text);
    }
}

fn style() -> ProgressStyle {
    ProgressStyle::with_template("{msg:30!} [{bar:30}] {bytes}/{total_bytes} {prefix}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl Bars {
    /// Bars for `files` transfers of `total_bytes` in all (a total bar when more than one).
    pub fn new(files: usize, total_bytes: u64, verb: &'static str) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let total = (files > 1).then(|| {
            let bar = multi.add(ProgressBar::new(total_bytes));
            bar.set_style(style());
            bar.set_message(format!("total ({files} files)"));
            (bar, Arc::new(Mutex::new(0)))
        });
        Self { multi, total, verb }
    }

    /// A line above the bars (on stderr as it is when the bars are hidden: not a terminal).
    pub fn note(&self, text: &str) {
        note(&self.multi, text);
    }

    /// The progress of one file, drawn as a bar named `name`. Notes (resuming, retries) are
    /// printed once, above the bars.
    pub fn file(&self, name: &str) -> (TransferProgress, ProgressBar) {
        let bar = self
            .multi
            .insert_from_back(usize::from(self.total.is_some()), ProgressBar::new(0));
        bar.set_style(style());
        bar.set_message(name.to_owned());
        let drawn = bar.clone();
        let total = self.total.clone();
        let multi = self.multi.clone();
        let verb = self.verb;
        let last = Mutex::new((None::<Instant>, false));
        let progress = TransferProgress::observed(move |s: &ProgressSnapshot| {
            let mut last = s3share_core::lock(&last);
            if s.resumed > 0 && !last.1 {
                last.1 = true;
                note(
                    &multi,
                    &format!(
                        "resuming: {} of {} already {verb}",
                        human_size(s.resumed),
                        human_size(s.total)
                    ),
                );
            }
            if let Some((bar, done_before)) = &total {
                let before = *s3share_core::lock(done_before);
                bar.set_position(before + s.done);
            }
            let recent = last
                .0
                .is_some_and(|t| t.elapsed() < Duration::from_millis(100));
            if recent && s.done != s.total {
                return;
            }
            last.0 = Some(Instant::now());
            drawn.set_length(s.total);
            drawn.set_position(s.done);
            drawn.set_prefix(s.status_line());
        });
        (progress, bar)
    }

    /// A file ended: its bar goes, the total keeps its bytes.
    pub fn file_done(&self, bar: &ProgressBar, progress: &TransferProgress) {
        bar.finish_and_clear();
        self.multi.remove(bar);
        if let Some((_, done_before)) = &self.total {
            *s3share_core::lock(done_before) += progress.snapshot().done;
        }
    }

    pub fn finish(&self) {
        if let Some((bar, _)) = &self.total {
            bar.finish_and_clear();
        }
    }
}
