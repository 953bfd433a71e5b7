//! What the UI shows, and nothing that does IO: listings with their sort, filter and selection,
//! transfers, toasts.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::backend::{Clash, PlannedTransfer, TransferId};
use crate::engine::base::wording::thousands;
use crate::engine::transfer::ProgressSnapshot;
use crate::engine::{Entry, Error, Expiry, S3Uri, ShareLink};

/// Something fetched in the background.
#[derive(Debug, Default)]
pub enum Loadable<T> {
    #[default]
    Idle,
    Loading,
    Ready(T),
    Failed(Error),
}

impl<T> Loadable<T> {
    pub fn is_loading(&self) -> bool {
        matches!(self, Self::Loading)
    }

    pub fn ready(&self) -> Option<&T> {
        match self {
            Self::Ready(t) => Some(t),
            _ => None,
        }
    }
}

/// One row of the browser: a folder (common prefix) or an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The last segment, as shown (folders end in `/`).
    pub name: String,
    /// The whole key (or prefix).
    pub key: String,
    pub folder: bool,
    pub size: u64,
    pub modified: Option<OffsetDateTime>,
    pub storage_class: Option<String>,
}

impl Row {
    pub fn from_entry(entry: Entry, prefix: &str) -> Self {
        match entry {
            Entry::Prefix(p) => Self {
                name: p.strip_prefix(prefix).unwrap_or(&p).to_owned(),
                key: p,
                folder: true,
                size: 0,
                modified: None,
                storage_class: None,
            },
            Entry::Object(o) => Self {
                name: o.key.strip_prefix(prefix).unwrap_or(&o.key).to_owned(),
                key: o.key,
                folder: false,
                size: o.size,
                modified: o.last_modified,
                storage_class: o.storage_class,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Name,
    Size,
    Modified,
    StorageClass,
}

/// One bucket level as listed so far, with the user's view of it.
#[derive(Debug)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent facts: sort direction, more pages, done, stale"
)]
pub struct Listing {
    pub generation: u64,
    pub bucket: String,
    pub prefix: String,
    pub rows: Vec<Row>,
    /// Indices into `rows` in display order (filtered, sorted).
    pub view: Vec<u32>,
    pub sort: Column,
    pub ascending: bool,
    pub filter: String,
    /// More pages exist on the server.
    pub more: bool,
    pub done: bool,
    pub error: Option<Error>,
    /// Rows asked of the backend so far.
    pub wanted: usize,
    /// Selected rows (indices into `rows`).
    pub selected: BTreeSet<u32>,
    /// How many of `rows` are folders (counted as pages arrive; the status line needs it each
    /// frame).
    folders: usize,
    /// The keyboard cursor, a position in `view`; also the anchor of shift-click ranges.
    pub cursor: Option<usize>,
    pub anchor: Option<usize>,
    /// The view positions drawn last frame (for Page Up/Down and keeping the cursor in view).
    pub visible: (usize, usize),
    /// The view needs sorting again (set when pages arrive under a sort S3 does not give).
    stale: bool,
    last_sorted: Option<Instant>,
}

impl Listing {
    pub fn new(generation: u64, bucket: String, prefix: String, wanted: usize) -> Self {
        Self {
            generation,
            bucket,
            prefix,
            rows: Vec::new(),
            view: Vec::new(),
            sort: Column::Name,
            ascending: true,
            filter: String::new(),
            more: true,
            done: false,
            error: None,
            wanted,
            selected: BTreeSet::new(),
            folders: 0,
            cursor: None,
            anchor: None,
            visible: (0, 0),
            stale: false,
            last_sorted: None,
        }
    }

    pub fn location(&self) -> S3Uri {
        S3Uri::new(self.bucket.clone(), self.prefix.clone())
    }

    /// S3 lists folders and objects each in key order: with the default sort (name, ascending,
    /// folders first) and no filter, new rows go in place without sorting everything again.
    fn arrival_order_is_view_order(&self) -> bool {
        self.sort == Column::Name && self.ascending && self.filter.is_empty()
    }

    pub fn add_page(&mut self, entries: Vec<Entry>, more: bool) {
        let start = self.rows.len();
        // s3share's own folder of pages is not one of the person's folders (`ls` shows it).
        let own = format!(
            "{}/",
            crate::engine::base::s3uri::PAGES_PREFIX
                .split('/')
                .next()
                .unwrap_or_default()
        );
        self.rows.extend(
            entries
                .into_iter()
                .filter(|e| !matches!(e, Entry::Prefix(p) if *p == own))
                .map(|e| Row::from_entry(e, &self.prefix)),
        );
        self.folders += self.rows[start..].iter().filter(|r| r.folder).count();
        self.more = more;
        if self.arrival_order_is_view_order() && !self.stale {
            // Folders first: new folders go after the last folder, objects at the end.
            let first_object = self
                .view
                .iter()
                .position(|&i| !self.rows[i as usize].folder)
                .unwrap_or(self.view.len());
            let (folders, objects): (Vec<u32>, Vec<u32>) = (start..self.rows.len())
                .map(|i| i as u32)
                .partition(|&i| self.rows[i as usize].folder);
            self.view.splice(first_object..first_object, folders);
            self.view.extend(objects);
        } else {
            self.stale = true;
        }
    }

    /// Sort and filter again if pages arrived under another sort; at most every 300 ms while
    /// loading, so a million rows arriving do not sort a thousand times.
    pub fn refresh_view(&mut self, now: Instant) {
        if !self.stale {
            return;
        }
        let due = self.done
            || self
                .last_sorted
                .is_none_or(|t| now.duration_since(t) >= Duration::from_millis(300));
        if due {
            self.rebuild_view();
            self.last_sorted = Some(now);
        }
    }

    /// Apply the filter and the sort from scratch (the user changed one).
    pub fn rebuild_view(&mut self) {
        let needle = self.filter.to_lowercase();
        let rows = &self.rows;
        let mut view: Vec<u32> = (0..rows.len() as u32)
            .filter(|&i| {
                needle.is_empty() || rows[i as usize].name.to_lowercase().contains(&needle)
            })
            .collect();
        let ascending = self.ascending;
        let sort = self.sort;
        view.sort_by(|&a, &b| {
            let (ra, rb) = (&rows[a as usize], &rows[b as usize]);
            // Folders stay above objects whatever the direction, as file managers do.
            rb.folder.cmp(&ra.folder).then_with(|| {
                let ord = match sort {
                    Column::Name => ra.name.cmp(&rb.name),
                    Column::Size => ra.size.cmp(&rb.size).then_with(|| ra.name.cmp(&rb.name)),
                    Column::Modified => ra
                        .modified
                        .cmp(&rb.modified)
                        .then_with(|| ra.name.cmp(&rb.name)),
                    Column::StorageClass => ra
                        .storage_class
                        .cmp(&rb.storage_class)
                        .then_with(|| ra.name.cmp(&rb.name)),
                };
                if ascending { ord } else { ord.reverse() }
            })
        });
        self.view = view;
        self.stale = false;
        self.cursor = self.cursor.filter(|&c| c < self.view.len());
    }

    /// Click on a column header: sort by it, or flip the direction.
    pub fn sort_by(&mut self, column: Column) {
        if self.sort == column {
            self.ascending = !self.ascending;
        } else {
            self.sort = column;
            self.ascending = true;
        }
        self.rebuild_view();
    }

    pub fn objects(&self) -> usize {
        self.rows.len() - self.folders
    }

    /// "1,204 objects, 3 folders" / "120,000 objects, loading…"
    pub fn summary(&self) -> String {
        let (objects, folders) = (self.objects(), self.folders);
        let mut s = format!(
            "{} {}",
            thousands(objects as u64),
            if objects == 1 { "object" } else { "objects" }
        );
        if folders > 0 {
            let _ = write!(
                s,
                ", {} {}",
                thousands(folders as u64),
                if folders == 1 { "folder" } else { "folders" }
            );
        }
        if !self.done {
            if self.rows.len() < self.wanted {
                s.push_str(", loading…");
            } else {
                s.push_str(", more as you scroll");
            }
        }
        if !self.filter.is_empty() {
            let _ = write!(s, " ({} shown)", thousands(self.view.len() as u64));
        }
        s
    }

    /// The selected rows, in view order.
    pub fn selected_rows(&self) -> Vec<&Row> {
        // Asked every frame (the toolbar's buttons): no pass over the rows when none is.
        if self.selected.is_empty() {
            return Vec::new();
        }
        self.view
            .iter()
            .filter(|i| self.selected.contains(i))
            .map(|&i| &self.rows[i as usize])
            .collect()
    }

    /// Click (plain, ctrl/cmd to toggle, shift for a range) on the row at view position `pos`.
    pub fn click(&mut self, pos: usize, toggle: bool, range: bool) {
        let Some(&row) = self.view.get(pos) else {
            return;
        };
        if range {
            let anchor = self.anchor.unwrap_or(pos);
            let (a, b) = (anchor.min(pos), anchor.max(pos));
            if !toggle {
                self.selected.clear();
            }
            self.selected.extend(&self.view[a..=b]);
        } else if toggle {
            if !self.selected.remove(&row) {
                self.selected.insert(row);
            }
            self.anchor = Some(pos);
        } else {
            self.selected.clear();
            self.selected.insert(row);
            self.anchor = Some(pos);
        }
        self.cursor = Some(pos);
    }

    /// Move the keyboard cursor by `delta` rows (selecting the row it lands on).
    pub fn move_cursor(&mut self, delta: isize, extend: bool) {
        if self.view.is_empty() {
            return;
        }
        let last = self.view.len() - 1;
        let pos = match self.cursor {
            None => 0,
            Some(c) => c.saturating_add_signed(delta).min(last),
        };
        self.click(pos, false, extend);
        if !extend {
            self.anchor = Some(pos);
        }
    }

    pub fn select_all(&mut self) {
        self.selected = self.view.iter().copied().collect();
    }

    pub fn cursor_row(&self) -> Option<&Row> {
        self.cursor
            .and_then(|c| self.view.get(c))
            .map(|&i| &self.rows[i as usize])
    }
}

/// Where a transfer is.
#[derive(Debug)]
pub enum TransferState {
    Waiting,
    Running,
    /// Stopped by the user; an upload in parts keeps what it sent and resumes from there.
    Paused,
    Done,
    /// The name is taken: Replace / Keep both / Skip.
    Exists,
    Failed(Error),
    Cancelled,
    Skipped,
}

impl TransferState {
    pub fn finished(&self) -> bool {
        matches!(
            self,
            Self::Done | Self::Failed(_) | Self::Cancelled | Self::Skipped
        )
    }
}

#[derive(Debug)]
pub struct Transfer {
    pub planned: PlannedTransfer,
    /// The drop or pick this upload came with; its links are copied together when the batch's
    /// last row ends, then this is cleared. `None` for downloads.
    pub batch: Option<u64>,
    pub share: Option<Expiry>,
    pub state: TransferState,
    /// The engine's progress, as last reported.
    pub progress: ProgressSnapshot,
    pub link: Option<ShareLink>,
    /// How a restart treats a taken name (a resumed upload keeps what it was started with).
    pub clash: Clash,
}

impl Transfer {
    pub fn new(planned: PlannedTransfer, batch: Option<u64>, share: Option<Expiry>) -> Self {
        let total = planned.size;
        Self {
            planned,
            batch,
            share,
            state: TransferState::Waiting,
            progress: ProgressSnapshot {
                total,
                ..ProgressSnapshot::default()
            },
            link: None,
            clash: Clash::Refuse,
        }
    }

    pub fn fraction(&self) -> f32 {
        if matches!(self.state, TransferState::Done) {
            1.0
        } else {
            self.progress.fraction()
        }
    }

    /// "2.3 MiB/s, 12 seconds left · part 3/40"
    pub fn rate_text(&self) -> String {
        self.progress.status_line()
    }

    /// Can it be paused (an upload under way)?
    pub fn pausable(&self) -> bool {
        self.planned.download.is_none() && matches!(self.state, TransferState::Running)
    }

    /// The name shown: the key's last segment.
    pub fn name(&self) -> &str {
        self.planned
            .object
            .key
            .rsplit('/')
            .next()
            .unwrap_or(&self.planned.object.key)
    }

    /// What a start, a clash answer or a Resume turns into.
    pub fn restart(&self, clash: Clash) -> super::backend::Command {
        super::backend::Command::StartTransfer {
            transfer: self.planned.clone(),
            clash,
            share: self.share,
        }
    }
}

/// The transfers panel's rows.
#[derive(Debug, Default)]
pub struct Transfers {
    pub rows: Vec<Transfer>,
}

impl Transfers {
    pub fn get_mut(&mut self, id: TransferId) -> Option<&mut Transfer> {
        self.rows.iter_mut().find(|t| t.planned.id == id)
    }

    pub fn active(&self) -> usize {
        self.rows.iter().filter(|t| !t.state.finished()).count()
    }

    /// Drop finished rows (Clear).
    pub fn clear_finished(&mut self) {
        self.rows.retain(|t| {
            !matches!(
                t.state,
                TransferState::Done | TransferState::Cancelled | TransferState::Skipped
            )
        });
    }

    /// When every transfer of `batch` has ended: close the batch and return its rows' links in
    /// the order planned, and where its finished uploads landed. `None` while one still runs.
    pub fn end_batch(&mut self, batch: u64) -> Option<(Vec<ShareLink>, Vec<S3Uri>)> {
        if self
            .rows
            .iter()
            .any(|t| t.batch == Some(batch) && !t.state.finished())
        {
            return None;
        }
        let mut links = Vec::new();
        let mut landed = Vec::new();
        for t in self.rows.iter_mut().filter(|t| t.batch == Some(batch)) {
            t.batch = None;
            if matches!(t.state, TransferState::Done) {
                landed.push(t.planned.object.clone());
            }
            links.extend(t.link.clone());
        }
        Some((links, landed))
    }
}

/// A short message in the corner.
#[derive(Debug, Clone)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    pub until: Instant,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ObjectInfo;

    fn object(key: &str, size: u64) -> Entry {
        Entry::Object(ObjectInfo {
            key: key.into(),
            size,
            ..ObjectInfo::default()
        })
    }

    fn names(l: &Listing) -> Vec<&str> {
        l.view
            .iter()
            .map(|&i| l.rows[i as usize].name.as_str())
            .collect()
    }

    #[test]
    fn pages_keep_folders_first_and_sorting_and_filtering_rearrange() {
        let mut l = Listing::new(1, "b".into(), "p/".into(), 100);
        l.add_page(
            vec![Entry::Prefix("p/m/".into()), object("p/b.txt", 5)],
            true,
        );
        l.add_page(
            vec![Entry::Prefix("p/z/".into()), object("p/a.txt", 9)],
            false,
        );
        assert_eq!(names(&l), ["m/", "z/", "b.txt", "a.txt"]);
        l.sort_by(Column::Name);
        assert_eq!(names(&l), ["z/", "m/", "b.txt", "a.txt"], "descending");
        l.sort_by(Column::Size);
        assert_eq!(names(&l), ["m/", "z/", "b.txt", "a.txt"]);
        l.filter = "A.T".into();
        l.rebuild_view();
        assert_eq!(names(&l), ["a.txt"]);
    }

    #[test]
    fn click_toggle_and_range_select() {
        let mut l = Listing::new(1, "b".into(), String::new(), 100);
        l.add_page((0..5).map(|i| object(&format!("k{i}"), 1)).collect(), false);
        l.click(1, false, false);
        l.click(3, false, true);
        let keys: Vec<_> = l.selected_rows().iter().map(|r| r.key.clone()).collect();
        assert_eq!(keys, ["k1", "k2", "k3"]);
        l.click(2, true, false);
        assert_eq!(l.selected_rows().len(), 2);
        l.move_cursor(10, false);
        assert_eq!(l.cursor_row().map(|r| r.key.as_str()), Some("k4"));
    }

    #[test]
    fn numbers_for_people() {
        assert_eq!(thousands(120_000), "120,000");
        assert_eq!(thousands(999), "999");
    }
}
