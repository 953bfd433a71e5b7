//! What happens: backend events into state, and the user's actions into commands.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use super::{App, Current};
use crate::engine::base::wording::expiry_phrase;
use crate::engine::transfer::ProgressSnapshot;
use crate::engine::{BucketInfo, ConnectionSettings, Error, Expiry, S3Uri, ShareLink};
use crate::gui::backend::{
    Clash, Command, ConnectTarget, Event, PlannedTransfer, TransferUpdate, TrustCommand, TrustEvent,
};
use crate::gui::state::{Listing, Loadable, Toast, Transfer, TransferState};
use crate::gui::widgets::browser::BrowserAction;
use crate::gui::widgets::expiry_picker::ExpiryPicker;
use crate::gui::widgets::links::LinksView;
use crate::gui::widgets::share_dialog::ShareDialog;
use crate::gui::widgets::transfers::TransferAction;

impl App {
    /// One event into state.
    pub(super) fn handle(&mut self, ctx: &egui::Context, event: Event) {
        match event {
            Event::Connected {
                label,
                local,
                settings,
                warnings,
            } => self.connected(ctx, label, local, settings, warnings),
            Event::ConnectFailed { label, error } => {
                self.current.label = label;
                self.current.state = Loadable::Failed(self.explain(error));
                ctx.send_viewport_cmd(egui::ViewportCommand::Title(self.title()));
            }
            Event::Buckets(result) => self.buckets_listed(result),
            Event::ListPage {
                generation,
                entries,
                more,
            } => {
                if let Some(l) = self.listing.as_mut().filter(|l| l.generation == generation) {
                    l.add_page(entries, more);
                }
            }
            Event::ListDone { generation, result } => {
                let error = result.err().map(|e| self.explain(e));
                if let Some(l) = self.listing.as_mut().filter(|l| l.generation == generation) {
                    l.done = true;
                    l.more = false;
                    l.error = error;
                    l.refresh_view(Instant::now());
                }
            }
            Event::Shared { ticket, result } => {
                self.shared(ticket, result);
                self.links_changed();
            }
            Event::LinkChecked { ticket, result } => {
                if let Some(d) = self.share.as_mut().filter(|d| d.ticket == ticket) {
                    d.check = match result {
                        Ok(()) => Loadable::Ready(()),
                        Err(e) => Loadable::Failed(e),
                    };
                }
            }
            Event::LinksReady(results) => {
                let mut links = Vec::new();
                for r in results {
                    match r {
                        Ok(link) => links.push(link),
                        Err(e) => self.toast(e.message().to_owned(), true),
                    }
                }
                self.copy_links(ctx, &links.iter().collect::<Vec<_>>());
                self.links_changed();
            }
            Event::TransfersPlanned {
                batch,
                share,
                transfers,
                errors,
                clash,
            } => self.transfers_planned(batch, share, transfers, errors, clash),
            Event::Transfer { id, update } => self.transfer_update(ctx, id, update),
            Event::PickCancelled => {}
            Event::Deleted { deleted, errors } => self.deleted(deleted, errors),
            Event::FolderCreated(result) => match result {
                Ok(folder) => self.open(folder.bucket, folder.key),
                Err(e) => self.toast(e.message().to_owned(), true),
            },
            Event::ConfigSaved(result) => {
                if let Err(e) = result {
                    self.toast(format!("Settings not saved: {}", e.message()), true);
                }
            }
            Event::Profiles(result) => match result {
                Ok(p) => self.profiles = p,
                Err(e) => self.toast(
                    format!("Could not read the AWS profiles: {}", e.message()),
                    true,
                ),
            },
            Event::ConnectionAdded(result) => self.connection_added(result),
            Event::UnfinishedUploads(list) => self.unfinished = list,
            Event::Trust(event) => self.trust_event(event),
            Event::UploadDiscarded(result) => match result {
                Ok(gone) => self.unfinished.retain(|u| u.upload_id != gone.upload_id),
                Err(e) => self.toast(format!("Not discarded: {}", e.message()), true),
            },
            Event::LinkOpened(result) => self.link_opened(result),
            Event::LocalStoreMoved => {
                if self.current.local {
                    self.connect(ConnectTarget::Local);
                }
            }
        }
    }

    fn transfers_planned(
        &mut self,
        batch: Option<u64>,
        share: Option<Expiry>,
        transfers: Vec<PlannedTransfer>,
        errors: Vec<Error>,
        clash: Clash,
    ) {
        for e in errors {
            self.toast(e.message().to_owned(), true);
        }
        for t in transfers {
            let mut row = Transfer::new(t, batch, share);
            row.clash = clash;
            self.backend.execute(row.restart(clash));
            self.transfers.rows.push(row);
        }
    }

    fn link_opened(&mut self, result: Result<(), Error>) {
        match result {
            Ok(()) => self.toast("Opened in the browser".into(), false),
            Err(e) => {
                let text = match e.detail() {
                    Some(d) => format!("{} ({d})", e.message()),
                    None => e.message().to_owned(),
                };
                self.toast(text, true);
            }
        }
    }

    fn trust_event(&mut self, event: TrustEvent) {
        match event {
            TrustEvent::Posture { bucket, result } => {
                let state = match result {
                    Ok(p) => Loadable::Ready(p),
                    Err(e) => Loadable::Failed(e),
                };
                self.postures.insert(bucket, state);
            }
            TrustEvent::Links(result) => {
                if let Some(v) = self.links_view.as_mut() {
                    v.records = match result {
                        Ok(r) => Loadable::Ready(r),
                        Err(e) => Loadable::Failed(e),
                    };
                }
            }
            TrustEvent::RegisterChecked { id, result } => {
                if let Some(v) = self.links_view.as_mut() {
                    let state = match result {
                        Ok(()) => Loadable::Ready(()),
                        Err(e) => Loadable::Failed(e),
                    };
                    v.checks.insert(id, state);
                }
            }
            TrustEvent::RequestMade(result) => {
                if let Some(f) = self.request_form.as_mut() {
                    f.made = match result {
                        Ok(made) => Loadable::Ready(made),
                        Err(e) => Loadable::Failed(e),
                    };
                }
                self.links_changed();
            }
            TrustEvent::RequestPageSaved(result) => match result {
                Ok(path) => self.toast(
                    format!(
                        "Saved the upload page to {} — send it to the people who should upload",
                        path.display()
                    ),
                    false,
                ),
                Err(e) => self.toast(format!("The page was not saved: {}", e.message()), true),
            },
        }
    }

    pub(super) fn connected(
        &mut self,
        ctx: &egui::Context,
        label: String,
        local: bool,
        settings: ConnectionSettings,
        warnings: Vec<String>,
    ) {
        self.current = Current {
            label,
            local,
            settings,
            state: Loadable::Ready(()),
        };
        ctx.send_viewport_cmd(egui::ViewportCommand::Title(self.title()));
        for w in warnings {
            self.toast(w, true);
        }
        self.listing = None;
        self.buckets = Loadable::Loading;
        self.backend.execute(Command::ListBuckets);
        if let Some(loc) = self.pending_location.take() {
            self.open(loc.bucket, loc.key);
        }
        if self.config.app.last_connection.as_deref() != Some(self.current.label.as_str()) {
            self.config.app.last_connection = Some(self.current.label.clone());
            self.save_config();
        }
    }

    pub(super) fn buckets_listed(&mut self, result: Result<Vec<BucketInfo>, Error>) {
        let open_first = self.listing.is_none();
        self.buckets = match result {
            Ok(list) => {
                // One bucket (the local store's "shared"): open it, ready for a drop.
                if open_first && list.len() == 1 {
                    self.open(list[0].name.clone(), String::new());
                } else if open_first && !self.opened_files.is_empty() {
                    let n = self.opened_files.len();
                    self.toast(
                        format!(
                            "Open a bucket or folder: the {n} {} you opened go there",
                            if n == 1 { "file" } else { "files" }
                        ),
                        false,
                    );
                }
                Loadable::Ready(list)
            }
            Err(e) => Loadable::Failed(self.explain(e)),
        };
    }

    pub(super) fn shared(&mut self, ticket: u64, result: Result<ShareLink, Error>) {
        if let Some(d) = self.share.as_mut().filter(|d| d.ticket == ticket) {
            match result {
                Ok(link) => {
                    d.link = Loadable::Ready(link);
                    d.check = Loadable::Loading;
                }
                Err(e) => {
                    d.link = Loadable::Failed(e);
                    d.check = Loadable::Idle;
                }
            }
        }
    }

    pub(super) fn deleted(&mut self, deleted: usize, errors: Vec<Error>) {
        if deleted > 0 {
            self.toast(
                format!(
                    "Deleted {deleted} {}",
                    if deleted == 1 { "object" } else { "objects" }
                ),
                false,
            );
        }
        for e in errors {
            self.toast(e.message().to_owned(), true);
        }
        self.refresh();
    }

    pub(super) fn connection_added(&mut self, result: Result<ConnectionSettings, Error>) {
        match result {
            Ok(settings) => {
                self.add_connection = None;
                self.backend.execute(Command::LoadProfiles);
                self.connect(ConnectTarget::Settings(settings));
            }
            Err(e) => {
                if let Some(f) = self.add_connection.as_mut() {
                    f.saving = false;
                    f.error = Some(e.message().to_owned());
                }
                // Not saved: take it back out of the settings kept in memory.
                self.config.connections.pop();
            }
        }
    }

    pub(super) fn transfer_update(&mut self, ctx: &egui::Context, id: u64, update: TransferUpdate) {
        let Some(t) = self.transfers.get_mut(id) else {
            return;
        };
        let batch = t.batch;
        let mut note = None;
        let mut new_link = false;
        match update {
            TransferUpdate::Started { object, size } => {
                t.planned.object = object;
                t.state = TransferState::Running;
                if size > 0 {
                    t.progress.total = size;
                }
            }
            // A late report from a task already paused or cancelled changes nothing.
            TransferUpdate::Progress(snapshot) => {
                if matches!(t.state, TransferState::Waiting | TransferState::Running) {
                    t.state = TransferState::Running;
                    t.progress = snapshot;
                }
            }
            TransferUpdate::Paused => t.state = TransferState::Paused,
            TransferUpdate::Done { object, link } => {
                t.planned.object = object;
                t.state = TransferState::Done;
                t.progress.done = t.progress.total;
                match link {
                    Some(Ok(l)) => {
                        t.link = Some(l);
                        new_link = true;
                    }
                    Some(Err(e)) => {
                        note = Some(format!("Uploaded, but no link: {}", e.message()));
                    }
                    None => {}
                }
            }
            TransferUpdate::Exists => t.state = TransferState::Exists,
            TransferUpdate::Failed(e) => {
                t.state = TransferState::Failed(self.current.settings.explain(e));
            }
            TransferUpdate::Cancelled => t.state = TransferState::Cancelled,
        }
        let finished = t.state.finished();
        if let Some(note) = note {
            self.toast(note, true);
        }
        // Only a finished upload that made a link changed the register.
        if new_link {
            self.links_changed();
        }
        if let Some(batch) = batch
            && finished
        {
            self.finish_batch(ctx, batch);
        }
    }

    /// When a batch's last transfer ends: copy its links (one per line) and show what landed.
    pub(super) fn finish_batch(&mut self, ctx: &egui::Context, batch: u64) {
        let Some((links, landed)) = self.transfers.end_batch(batch) else {
            return;
        };
        if !links.is_empty() {
            self.copy_links(ctx, &links.iter().collect::<Vec<_>>());
        }
        let here = self.listing.as_ref().is_some_and(|l| {
            landed
                .iter()
                .any(|o| o.bucket == l.bucket && o.key.starts_with(&l.prefix))
        });
        if here {
            self.refresh_listing();
        }
    }

    /// Put links on the clipboard, one per line, and say so with the real expiry.
    pub(super) fn copy_links(&mut self, ctx: &egui::Context, links: &[&ShareLink]) {
        let Some(first) = links.first() else {
            return;
        };
        let text = links.iter().map(|l| l.url()).collect::<Vec<_>>().join("\n");
        ctx.copy_text(text);
        let soonest = links
            .iter()
            .map(|l| l.expires_at)
            .min()
            .unwrap_or(first.expires_at);
        let what = if links.len() == 1 {
            "Link copied — expires".to_owned()
        } else {
            format!("{} links copied — they expire", links.len())
        };
        let mut text = format!("{what} {}", expiry_phrase(SystemTime::now(), soonest));
        if links.iter().any(|l| l.cut_short()) {
            text.push_str(", cut short by temporary credentials");
        }
        self.toast(text, false);
    }

    pub(super) fn toast(&mut self, text: String, error: bool) {
        let secs = if error { 8 } else { 5 };
        self.toasts.push(Toast {
            text,
            error,
            until: Instant::now() + Duration::from_secs(secs),
        });
    }

    /// Add what a person can do about an error of this connection.
    pub(super) fn explain(&self, e: Error) -> Error {
        self.current.settings.explain(e)
    }

    pub(super) fn connect(&mut self, target: ConnectTarget) {
        self.current.state = Loadable::Loading;
        self.current.local = target.is_local();
        self.current.label = target.label();
        self.buckets = Loadable::Idle;
        self.listing = None;
        self.backend.execute(Command::Connect(target));
    }

    pub(super) fn open(&mut self, bucket: String, prefix: String) {
        self.read_posture(&bucket, false);
        let generation = self.next_generation;
        self.next_generation += 1;
        let keep = self.listing.as_ref().map(|l| (l.sort, l.ascending));
        let mut listing = Listing::new(
            generation,
            bucket.clone(),
            prefix.clone(),
            crate::gui::backend::FIRST_ROWS,
        );
        if let Some((sort, ascending)) = keep {
            listing.sort = sort;
            listing.ascending = ascending;
        }
        self.config.app.last_location = Some(listing.location().to_string());
        self.listing = Some(listing);
        self.backend.execute(Command::List {
            generation,
            bucket,
            prefix,
        });
        self.save_config();
        // Files opened with s3share go to the first folder shown, as a drop there would.
        if !self.opened_files.is_empty() {
            let files = std::mem::take(&mut self.opened_files);
            self.upload(files);
        }
    }

    /// Upload `files` (given on the command line: "Open with s3share") as if dropped, into the
    /// first folder the window opens: the last one used, or the only bucket (the local
    /// store's `shared`), or the one the user opens.
    pub fn upload_when_open(&mut self, files: Vec<PathBuf>) {
        self.opened_files.extend(files);
    }

    pub(super) fn refresh_listing(&mut self) {
        if let Some(l) = &self.listing {
            let (bucket, prefix, filter) = (l.bucket.clone(), l.prefix.clone(), l.filter.clone());
            self.open(bucket, prefix);
            if let Some(l) = self.listing.as_mut() {
                l.filter = filter;
            }
        }
    }

    pub(super) fn refresh(&mut self) {
        if self.is_connected() {
            self.buckets = Loadable::Loading;
            self.backend.execute(Command::ListBuckets);
            self.refresh_listing();
        }
    }

    pub(super) fn save_config(&mut self) {
        self.backend
            .execute(Command::SaveConfig(self.config.clone()));
    }

    /// A link was made: the Active links view, when open, shows it.
    pub(super) fn links_changed(&mut self) {
        if self.links_view.is_some() {
            self.backend
                .execute(Command::Trust(TrustCommand::LoadLinks));
        }
    }

    pub(super) fn open_links(&mut self) {
        self.links_view = Some(LinksView {
            records: Loadable::Loading,
            ..LinksView::default()
        });
        self.backend
            .execute(Command::Trust(TrustCommand::LoadLinks));
    }

    /// Read a bucket's exposure once (again with `again`).
    pub(super) fn read_posture(&mut self, bucket: &str, again: bool) {
        if again || !self.postures.contains_key(bucket) {
            self.postures.insert(bucket.to_owned(), Loadable::Loading);
            self.backend.execute(Command::Trust(TrustCommand::Posture {
                bucket: bucket.to_owned(),
            }));
        }
    }

    pub(super) fn open_share(&mut self, object: S3Uri) {
        let public = matches!(
            self.postures.get(&object.bucket),
            Some(Loadable::Ready(p)) if matches!(p.verdict, crate::engine::trust::posture::Verdict::Public(_))
        );
        let mut d = ShareDialog::new(object, ExpiryPicker::new(self.default_expiry()));
        d.public_bucket = public;
        self.sign(&mut d);
        self.share = Some(d);
    }

    pub(super) fn sign(&mut self, d: &mut ShareDialog) {
        let Some(request) = d.request() else {
            return;
        };
        d.ticket = self.next_ticket;
        self.next_ticket += 1;
        d.link = Loadable::Loading;
        d.check = Loadable::Idle;
        self.backend.execute(Command::Share {
            ticket: d.ticket,
            request,
        });
    }

    pub(super) fn upload(&mut self, paths: Vec<PathBuf>) {
        let Some(prefix) = self.listing.as_ref().map(Listing::location) else {
            self.toast(
                "Open a bucket first: files go to the folder shown.".into(),
                true,
            );
            return;
        };
        let (batch, share) = self.new_batch();
        self.backend.execute(Command::Upload {
            batch,
            paths,
            prefix,
            share,
        });
    }

    /// A new upload batch, and the link lifetime its files get when share on drop is on.
    pub(super) fn new_batch(&mut self) -> (u64, Option<Expiry>) {
        let batch = self.next_batch;
        self.next_batch += 1;
        (
            batch,
            self.config.app.share_on_drop.then(|| self.default_expiry()),
        )
    }

    pub(super) fn browser_action(&mut self, action: BrowserAction) {
        match action {
            BrowserAction::OpenBucket(b) => self.open(b, String::new()),
            BrowserAction::GoTo(prefix) => {
                if let Some(bucket) = self.listing.as_ref().map(|l| l.bucket.clone()) {
                    self.open(bucket, prefix);
                }
            }
            BrowserAction::Share(object) => self.open_share(object),
            BrowserAction::SharePage(items) => {
                // Made when the person asks (Make the page): each one is written to the bucket.
                self.share = Some(ShareDialog::for_page(
                    items,
                    ExpiryPicker::new(self.default_expiry()),
                ));
            }
            BrowserAction::CopyLinks(objects) => {
                let expiry = self.default_expiry();
                self.backend.execute(Command::CopyLinks { objects, expiry });
            }
            BrowserAction::Download(items) => {
                if let Some(l) = &self.listing {
                    self.backend.execute(Command::Download {
                        bucket: l.bucket.clone(),
                        items,
                        base: l.prefix.clone(),
                    });
                }
            }
            BrowserAction::Delete(objects) => self.confirm_delete = Some(objects),
            BrowserAction::NewFolder => self.new_folder = Some(String::new()),
            BrowserAction::Refresh => self.refresh(),
            BrowserAction::Want(n) => self.backend.execute(Command::WantRows(n)),
        }
    }

    pub(super) fn transfer_action(&mut self, ctx: &egui::Context, action: TransferAction) {
        match action {
            TransferAction::Cancel(id) => self.backend.execute(Command::Cancel(id)),
            TransferAction::Pause(id) => self.backend.execute(Command::Pause(id)),
            TransferAction::Retry(id) => {
                let clash = self
                    .transfers
                    .get_mut(id)
                    .map_or(Clash::Refuse, |t| t.clash);
                self.restart(id, clash);
            }
            TransferAction::ResumeUnfinished(index) => {
                if index < self.unfinished.len() {
                    let state = self.unfinished.remove(index);
                    self.backend.execute(Command::ResumeUpload(state));
                }
            }
            TransferAction::DiscardUnfinished(index) => {
                if let Some(state) = self.unfinished.get(index) {
                    self.backend.execute(Command::DiscardUpload(state.clone()));
                }
            }
            TransferAction::Resolve(id, clash) => self.restart(id, clash),
            TransferAction::Skip(id) => {
                if let Some(t) = self.transfers.get_mut(id) {
                    t.state = TransferState::Skipped;
                    // The batch's links are copied once its last open row ends: maybe this one.
                    if let Some(batch) = t.batch {
                        self.finish_batch(ctx, batch);
                    }
                }
            }
            TransferAction::ClearFinished => self.transfers.clear_finished(),
        }
    }

    pub(super) fn restart(&mut self, id: u64, clash: Clash) {
        let fresh_batch = self.next_batch;
        if let Some(t) = self.transfers.get_mut(id) {
            if t.batch.is_none() && t.planned.download.is_none() {
                // Its batch has ended (its links were copied): a retried upload's link is
                // copied on its own.
                t.batch = Some(fresh_batch);
                self.next_batch += 1;
            }
            t.state = TransferState::Waiting;
            t.progress = ProgressSnapshot {
                total: t.planned.size,
                ..ProgressSnapshot::default()
            };
            t.clash = clash;
            let command = t.restart(clash);
            self.backend.execute(command);
        }
    }
}
