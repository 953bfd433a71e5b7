//! The backend: each `Command` starts its work on tokio and returns at once; results come
//! back as `Event`s on the waking channel, which the app drains once per frame in `poll`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use s3share_core::lock;
use s3share_store::{StoreOptions, StoreServer};
use tokio::runtime::Handle;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::AbortHandle;

use super::channel::{EventSender, Repaint};
use super::contract::{
    Clash, Command, ConnectTarget, Event, PlannedTransfer, ShareJob, TransferId, TransferUpdate,
    TrustCommand, TrustEvent,
};
use crate::engine::base::blocking::run_blocking;
use crate::engine::base::error::{Error, ErrorKind, Result};
use crate::engine::client::aws_files::{AwsFiles, NewProfile};
use crate::engine::client::config::Config;
use crate::engine::links::register::Register;
use crate::engine::ops::{self, Session, UploadJob};
use crate::engine::transfer::download::target::LocalTarget;
use crate::engine::transfer::resume::UploadState;
use crate::engine::transfer::upload::ChecksumAlgorithm;
use crate::engine::transfer::{TransferProgress, TransferSettings};
use crate::engine::{Connection, ConnectionSettings, Expiry, S3Uri};

/// How many uploads run at once; the rest wait their turn (shown as "Waiting").
const PARALLEL_TRANSFERS: usize = 3;
/// Listing events are bounded; a page of 1,000 entries per event keeps memory in check.
const EVENT_QUEUE: usize = 64;
/// Progress is reported at most this often per transfer.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Where the app keeps things and what it starts on.
pub struct BackendOptions {
    pub runtime: Handle,
    pub config_path: PathBuf,
    pub local_store: StoreOptions,
    /// The AWS shared files (`None`: no home folder).
    pub aws_files: Option<AwsFiles>,
    /// Part sizes, parallelism, and where unfinished uploads are remembered.
    pub transfers: TransferSettings,
    /// Where every link made is recorded (`None`: nowhere).
    pub register: Option<Register>,
}

impl BackendOptions {
    /// The user's folders: settings, the register, unfinished uploads, the local store on
    /// its preferred port with the user's generated credentials.
    pub fn for_user(
        runtime: Handle,
        paths: &crate::engine::base::paths::Paths,
        aws_files: Option<AwsFiles>,
    ) -> Result<Self> {
        Ok(Self {
            runtime,
            config_path: paths.config_file(),
            local_store: crate::local::options_for_user(paths, None, None)?,
            aws_files,
            transfers: TransferSettings {
                state_dir: Some(paths.uploads_dir()),
                download_state_dir: Some(paths.downloads_dir()),
                ..TransferSettings::default()
            },
            register: Some(Register::new(paths.register_file())),
        })
    }

    /// Everything under `dir`, the local store on a free port with fresh credentials, and no
    /// settings of the user's read or written (tests and benchmarks).
    pub fn in_folder(runtime: Handle, dir: &std::path::Path) -> Result<Self> {
        Ok(Self {
            runtime,
            config_path: dir.join("config/config.toml"),
            local_store: StoreOptions {
                data_dir: dir.join("local-store"),
                port: 0,
                credentials: s3share_store::credentials::generate()
                    .map_err(|e| crate::local::store_error(&e))?,
                region: crate::engine::client::connection::DEFAULT_REGION.to_owned(),
                extras: s3share_store::StoreExtras::default(),
            },
            aws_files: Some(AwsFiles {
                config: dir.join("aws/config"),
                credentials: dir.join("aws/credentials"),
            }),
            transfers: TransferSettings {
                state_dir: Some(dir.join("uploads")),
                download_state_dir: Some(dir.join("downloads")),
                ..TransferSettings::default()
            },
            register: Some(Register::new(dir.join("links.json"))),
        })
    }
}

pub struct Backend {
    rt: Handle,
    events: EventSender,
    rx: mpsc::Receiver<Event>,
    repaint: Repaint,
    config_path: PathBuf,
    aws_files: Option<AwsFiles>,
    local_options: StoreOptions,
    /// The store this window serves (started, or taken over), kept while the app runs.
    local_store: Arc<LocalStore>,
    /// The session work runs on; replaced by `Connect`.
    session: Arc<Mutex<Option<Arc<Session>>>>,
    connect_task: Option<AbortHandle>,
    listing: Option<(AbortHandle, watch::Sender<usize>)>,
    transfers: HashMap<TransferId, Running>,
    /// Paused uploads: what Cancel must give up on the server.
    paused: HashMap<TransferId, Option<(PathBuf, S3Uri)>>,
    next_transfer: Arc<AtomicU64>,
    slots: Arc<Semaphore>,
    settings: Arc<TransferSettings>,
    register: Option<Register>,
}

/// A transfer's task, and what Cancel must give up: an upload's parts on the server, a
/// download's partial file.
struct Running {
    task: AbortHandle,
    upload: Option<(PathBuf, S3Uri)>,
    download: Option<(S3Uri, LocalTarget)>,
}

impl Backend {
    pub fn new(opts: BackendOptions) -> Self {
        let repaint = Repaint::default();
        let (events, rx) = EventSender::channel(EVENT_QUEUE, repaint.clone());
        Self {
            rt: opts.runtime,
            events,
            rx,
            repaint,
            config_path: opts.config_path,
            aws_files: opts.aws_files,
            local_options: opts.local_store,
            local_store: Arc::default(),
            session: Arc::default(),
            connect_task: None,
            listing: None,
            transfers: HashMap::new(),
            paused: HashMap::new(),
            next_transfer: Arc::new(AtomicU64::new(1)),
            slots: Arc::new(Semaphore::new(PARALLEL_TRANSFERS)),
            settings: Arc::new(opts.transfers),
            register: opts.register,
        }
    }

    /// Hand over the context so events can wake the UI.
    pub fn set_context(&self, ctx: &egui::Context) {
        self.repaint.set(ctx);
    }

    /// The events that arrived since the last frame, at most `max`.
    pub fn poll(&mut self, max: usize) -> Vec<Event> {
        let mut out = Vec::new();
        while out.len() < max
            && let Ok(event) = self.rx.try_recv()
        {
            if let Event::Transfer {
                id,
                update:
                    TransferUpdate::Done { .. }
                    | TransferUpdate::Failed(_)
                    | TransferUpdate::Exists
                    | TransferUpdate::Cancelled
                    | TransferUpdate::Paused,
            } = &event
            {
                self.transfers.remove(id);
            }
            out.push(event);
        }
        out
    }

    fn current(&self) -> Option<Arc<Session>> {
        lock(&self.session).clone()
    }

    fn spawn<F>(&self, work: F) -> AbortHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.rt.spawn(work).abort_handle()
    }

    /// The session, or `None` after sending `failed`'s event for the work asked before one
    /// was ready (or after it failed): the answer arrives where the work was asked.
    fn connected(&self, failed: impl FnOnce(Error) -> Event) -> Option<Arc<Session>> {
        let conn = self.current();
        if conn.is_none() {
            let event = failed(Error::new(ErrorKind::NoCredentials, "Not connected yet"));
            let events = self.events.clone();
            self.spawn(async move { events.send(event).await });
        }
        conn
    }

    /// Run `work` on the runtime and send the event it ends with.
    fn spawn_answer<F>(&self, work: F) -> AbortHandle
    where
        F: Future<Output = Event> + Send + 'static,
    {
        let events = self.events.clone();
        self.spawn(async move { events.send(work.await).await })
    }

    /// Start `command`'s work and return at once.
    pub fn execute(&mut self, command: Command) {
        match command {
            Command::Connect(target) => self.connect(target),
            Command::ListBuckets => {
                if let Some(session) = self.connected(|e| Event::Buckets(Err(e))) {
                    self.spawn_answer(async move { Event::Buckets(session.list_buckets().await) });
                }
            }
            Command::List {
                generation,
                bucket,
                prefix,
            } => {
                let failed = |e| Event::ListDone {
                    generation,
                    result: Err(e),
                };
                if let Some(session) = self.connected(failed) {
                    self.list(session, generation, bucket, prefix);
                }
            }
            Command::WantRows(n) => self.want_rows(n),
            Command::Share { ticket, request } => self.share(ticket, request),
            Command::CopyLinks { objects, expiry } => self.copy_links(objects, expiry),
            Command::RenewLink(record) => {
                if let Some(session) = self.connected(|e| Event::LinksReady(vec![Err(e)])) {
                    self.spawn_answer(async move {
                        Event::LinksReady(vec![session.renew(&record).await])
                    });
                }
            }
            Command::Upload {
                batch,
                paths,
                prefix,
                share,
            } => {
                let next = self.next_transfer.clone();
                self.spawn(plan(self.events.clone(), next, batch, paths, prefix, share));
            }
            Command::StartTransfer {
                transfer,
                clash,
                share,
            } => self.start_transfer(transfer, clash, share),
            Command::Cancel(id) => self.cancel(id),
            Command::Pause(id) => self.pause(id),
            Command::DiscardUpload(state) => self.discard_upload(state),
            Command::ResumeUpload(state) => self.resume_upload(&state),
            Command::PickFiles {
                batch,
                prefix,
                share,
            } => self.pick_files(batch, prefix, share),
            Command::Download {
                bucket,
                items,
                base,
            } => self.download(bucket, items, base),
            Command::Delete { objects } => self.delete(objects),
            Command::CreateFolder {
                bucket,
                parent,
                name,
            } => self.create_folder(bucket, parent, name),
            Command::OpenLink(url) => {
                self.spawn_answer(async move {
                    Event::LinkOpened(
                        run_blocking(move || {
                            let env: Vec<_> = std::env::vars_os().collect();
                            crate::desktop::open_in_browser(&url, &env)
                        })
                        .await,
                    )
                });
            }
            Command::SaveConfig(config) => {
                let path = self.config_path.clone();
                self.spawn_answer(async move {
                    Event::ConfigSaved(run_blocking(move || config.save(&path)).await)
                });
            }
            Command::LoadProfiles => {
                let files = self.aws_files.clone();
                self.spawn_answer(async move {
                    Event::Profiles(
                        run_blocking(move || {
                            files.map_or_else(|| Ok(Vec::new()), |f| f.profiles())
                        })
                        .await,
                    )
                });
            }
            Command::AddConnection {
                settings,
                profile,
                config,
            } => self.add_connection(settings, profile, config),
            Command::Trust(command) => self.trust(command),
        }
    }

    fn copy_links(&self, objects: Vec<S3Uri>, expiry: Expiry) {
        if let Some(session) = self.connected(|e| Event::LinksReady(vec![Err(e)])) {
            self.spawn_answer(async move {
                let mut links = Vec::with_capacity(objects.len());
                for object in objects {
                    links.push(session.share_object(object, expiry).await);
                }
                Event::LinksReady(links)
            });
        }
    }

    fn delete(&self, objects: Vec<S3Uri>) {
        let failed = |e| Event::Deleted {
            deleted: 0,
            errors: vec![e],
        };
        if let Some(session) = self.connected(failed) {
            self.spawn_answer(async move {
                let (deleted, errors) = session.delete_objects(&objects).await;
                Event::Deleted { deleted, errors }
            });
        }
    }

    fn create_folder(&self, bucket: String, parent: String, name: String) {
        if let Some(session) = self.connected(|e| Event::FolderCreated(Err(e))) {
            self.spawn_answer(async move {
                let result = session.create_folder(&bucket, &parent, &name).await;
                Event::FolderCreated(result)
            });
        }
    }

    fn want_rows(&self, n: usize) {
        if let Some((_, want)) = &self.listing {
            want.send_if_modified(|w| {
                let grow = n > *w;
                if grow {
                    *w = n;
                }
                grow
            });
        }
    }

    fn share(&self, ticket: u64, request: ShareJob) {
        let failed = |e| Event::Shared {
            ticket,
            result: Err(e),
        };
        let Some(session) = self.connected(failed) else {
            return;
        };
        let events = self.events.clone();
        self.spawn(async move {
            let result = match &request {
                ShareJob::Link(request) => session.share(request).await,
                ShareJob::Page(request) => session.share_page(request).await.map(|p| p.link),
            };
            let link = result.as_ref().ok().cloned();
            events.send(Event::Shared { ticket, result }).await;
            if let Some(link) = link {
                let result = session.verify(&link).await;
                events.send(Event::LinkChecked { ticket, result }).await;
            }
        });
    }

    fn start_transfer(&mut self, transfer: PlannedTransfer, clash: Clash, share: Option<Expiry>) {
        let id = transfer.id;
        let failed = |e| Event::Transfer {
            id,
            update: TransferUpdate::Failed(e),
        };
        let Some(session) = self.connected(failed) else {
            return;
        };
        let slots = self.slots.clone();
        let events = self.events.clone();
        let upload = transfer
            .download
            .is_none()
            .then(|| (transfer.path.clone(), transfer.object.clone()));
        let download = transfer
            .download
            .clone()
            .map(|target| (transfer.object.clone(), target));
        let task = self.spawn(async move {
            // Waits its turn; Cancel works while waiting too.
            let Ok(_permit) = slots.acquire_owned().await else {
                return;
            };
            let update = if transfer.download.is_some() {
                run_download(&session, &events, transfer, clash).await
            } else {
                run_upload(&session, &events, transfer, clash, share).await
            };
            events.send(Event::Transfer { id, update }).await;
        });
        self.transfers.insert(
            id,
            Running {
                task,
                upload,
                download,
            },
        );
    }

    fn cancel(&mut self, id: TransferId) {
        let running = self.transfers.remove(&id).map(|r| {
            r.task.abort();
            if let (Some((object, target)), Some(session)) = (r.download, self.current()) {
                // Nothing half-downloaded stays in the user's folder.
                session.discard_download(&object, &target);
            }
            r.upload
        });
        if let Some(upload) = running.or_else(|| self.paused.remove(&id)) {
            // An upload in parts is given up on the server too: its parts cost storage.
            if let (Some((path, object)), Some(session)) = (upload, self.current()) {
                self.spawn(async move {
                    if let Err(e) = session.discard_upload_of(&path, &object).await {
                        tracing::warn!("could not abort a cancelled upload on the server: {e}");
                    }
                });
            }
            self.answer(Event::Transfer {
                id,
                update: TransferUpdate::Cancelled,
            });
        }
    }

    fn pick_files(&self, batch: u64, prefix: S3Uri, share: Option<Expiry>) {
        let next = self.next_transfer.clone();
        let events = self.events.clone();
        self.spawn(async move {
            let picked = rfd::AsyncFileDialog::new()
                .set_title(format!("Upload to {prefix}"))
                .pick_files()
                .await;
            match picked {
                Some(files) => {
                    let paths = files.iter().map(|f| f.path().to_owned()).collect();
                    plan(events, next, batch, paths, prefix, share).await;
                }
                None => events.send(Event::PickCancelled).await,
            }
        });
    }

    fn add_connection(
        &self,
        settings: ConnectionSettings,
        profile: Option<NewProfile>,
        config: Config,
    ) {
        let files = self.aws_files.clone();
        let path = self.config_path.clone();
        self.spawn_answer(async move {
            let result = run_blocking(move || {
                if let Some(p) = &profile {
                    let files = files.ok_or_else(|| {
                        Error::new(
                            ErrorKind::LocalIo,
                            "No home folder to keep the AWS profile in",
                        )
                    })?;
                    files.add_profile(p)?;
                }
                config.save(&path)?;
                Ok(settings)
            })
            .await;
            Event::ConnectionAdded(result)
        });
    }

    fn connect(&mut self, target: ConnectTarget) {
        if let Some(task) = self.connect_task.take() {
            task.abort();
        }
        if let Some((task, _)) = self.listing.take() {
            task.abort();
        }
        *lock(&self.session) = None;
        let events = self.events.clone();
        let slot = self.session.clone();
        let store = self.local_store.clone();
        let options = self.local_options.clone();
        let transfers = (*self.settings).clone();
        let register = self.register.clone();
        self.connect_task = Some(self.spawn(async move {
            let label = target.label();
            let result = match target {
                ConnectTarget::Local => connect_local(&store, options, &events)
                    .await
                    .map(|c| Arc::new(Session::new(c, register, transfers))),
                ConnectTarget::Settings(settings) => Connection::connect(settings)
                    .await
                    .map(|c| Arc::new(Session::new(c, register, transfers))),
                ConnectTarget::Prepared(conn) => {
                    Ok(Arc::new(Session::on_shared(conn, register, transfers)))
                }
            };
            match result {
                Ok(session) => {
                    let conn = session.connection();
                    let (settings, warnings) = (conn.settings().clone(), conn.warnings().to_vec());
                    let (local, endpoint) = (conn.is_local_store(), conn.endpoint_label());
                    *lock(&slot) = Some(session.clone());
                    events
                        .send(Event::Connected {
                            label,
                            local,
                            settings,
                            warnings,
                        })
                        .await;
                    let unfinished = session
                        .unfinished_uploads()
                        .await
                        .into_iter()
                        .filter(|u| u.endpoint == endpoint)
                        .collect();
                    events.send(Event::UnfinishedUploads(unfinished)).await;
                    // The expired pages this connection wrote are litter in the user's bucket;
                    // one that cannot be deleted now is tried at the next start.
                    match session.prune_pages().await {
                        Ok(n) => tracing::debug!(deleted = n, "expired share pages"),
                        Err(e) => tracing::debug!(error = %e.message(), "expired share pages kept"),
                    }
                }
                Err(error) => events.send(Event::ConnectFailed { label, error }).await,
            }
        }));
    }

    fn list(&mut self, session: Arc<Session>, generation: u64, bucket: String, prefix: String) {
        if let Some((task, _)) = self.listing.take() {
            task.abort();
        }
        let (want_tx, mut want) = watch::channel(FIRST_ROWS);
        let events = self.events.clone();
        let task = self.spawn(async move {
            let result = async {
                let mut pager = session.level_pager(&bucket, &prefix).await?;
                let mut loaded = 0usize;
                while let Some((entries, more)) = pager.next_page().await? {
                    loaded += entries.len();
                    events
                        .send(Event::ListPage {
                            generation,
                            entries,
                            more,
                        })
                        .await;
                    // Fetch the next page only when the browser wants more rows than it has.
                    while more && loaded >= *want.borrow_and_update() {
                        if want.changed().await.is_err() {
                            return Ok(loaded);
                        }
                    }
                }
                Ok(loaded)
            }
            .await;
            events.send(Event::ListDone { generation, result }).await;
        });
        self.listing = Some((task, want_tx));
    }

    fn download(&self, bucket: String, items: Vec<String>, base: String) {
        let failed = |e| Event::TransfersPlanned {
            batch: None,
            share: None,
            transfers: Vec::new(),
            errors: vec![e],
            clash: Clash::Refuse,
        };
        let Some(session) = self.connected(failed) else {
            return;
        };
        let events = self.events.clone();
        let next = self.next_transfer.clone();
        self.spawn(async move {
            let Some(folder) = rfd::AsyncFileDialog::new()
                .set_title("Download to…")
                .pick_folder()
                .await
            else {
                events.send(Event::PickCancelled).await;
                return;
            };
            let folder = folder.path().to_owned();
            let planned = session
                .plan_downloads(&bucket, &items, &base, &folder)
                .await;
            let event = match planned {
                Ok(plan) => download_rows(plan, &next),
                Err(e) => failed_plan(e),
            };
            events.send(event).await;
        });
    }

    fn trust(&self, command: TrustCommand) {
        match command {
            TrustCommand::Posture { bucket } => {
                let failed = |e| {
                    Event::Trust(TrustEvent::Posture {
                        bucket: bucket.clone(),
                        result: Err(e),
                    })
                };
                if let Some(session) = self.connected(failed) {
                    self.spawn_answer(async move {
                        let result = session.posture(&bucket).await;
                        Event::Trust(TrustEvent::Posture { bucket, result })
                    });
                }
            }
            TrustCommand::LoadLinks => self.load_links(None),
            TrustCommand::ForgetLink(id) => self.load_links(Some(id)),
            TrustCommand::CheckLink(record) => {
                let session = self.current();
                self.spawn_answer(async move {
                    let result = match session {
                        Some(session) => session.check_link(&record).await,
                        None => Err(Error::new(ErrorKind::NoCredentials, "Not connected yet")),
                    };
                    Event::Trust(TrustEvent::RegisterChecked {
                        id: record.id,
                        result,
                    })
                });
            }
            TrustCommand::MakeRequest(spec) => {
                let failed = |e| Event::Trust(TrustEvent::RequestMade(Err(e)));
                if let Some(session) = self.connected(failed) {
                    self.spawn_answer(async move {
                        let made = session.request(&spec).await;
                        Event::Trust(TrustEvent::RequestMade(made))
                    });
                }
            }
            TrustCommand::SaveRequestPage(html) => self.save_request_page(html),
        }
    }

    /// Read the register (forgetting `forget` first) and send it.
    fn load_links(&self, forget: Option<String>) {
        let register = self.register.clone();
        self.spawn_answer(async move {
            let result = run_blocking(move || {
                let Some(register) = register else {
                    return Ok(Vec::new());
                };
                if let Some(id) = forget {
                    register.forget(&id)?;
                }
                register.list()
            })
            .await;
            Event::Trust(TrustEvent::Links(result))
        });
    }

    fn save_request_page(&self, html: String) {
        let events = self.events.clone();
        self.spawn(async move {
            let Some(file) = rfd::AsyncFileDialog::new()
                .set_title("Save the upload page")
                .set_file_name("upload.html")
                .save_file()
                .await
            else {
                events.send(Event::PickCancelled).await;
                return;
            };
            let result = ops::save_page(file.path().to_owned(), html).await;
            events
                .send(Event::Trust(TrustEvent::RequestPageSaved(result)))
                .await;
        });
    }

    fn pause(&mut self, id: TransferId) {
        if let Some(r) = self.transfers.remove(&id) {
            r.task.abort();
            // Kept: a Cancel of the paused row still gives its parts up on the server.
            self.paused.insert(id, r.upload);
            self.answer(Event::Transfer {
                id,
                update: TransferUpdate::Paused,
            });
        }
    }

    /// Send an event that must arrive (a row's last word), waiting for room in the queue.
    fn answer(&self, event: Event) {
        let events = self.events.clone();
        self.spawn(async move { events.send(event).await });
    }

    fn resume_upload(&self, state: &UploadState) {
        let transfer = PlannedTransfer {
            id: self.next_transfer.fetch_add(1, Ordering::Relaxed),
            path: state.path.clone(),
            object: state.object(),
            size: state.size,
            download: None,
        };
        let clash = Clash::from_overwrite(state.overwrite);
        self.spawn_answer(async move {
            Event::TransfersPlanned {
                batch: None,
                share: None,
                transfers: vec![transfer],
                errors: Vec::new(),
                clash,
            }
        });
    }

    fn discard_upload(&self, state: UploadState) {
        let failed = |e| Event::UploadDiscarded(Err(e));
        let Some(session) = self.connected(failed) else {
            return;
        };
        self.spawn_answer(async move {
            Event::UploadDiscarded(session.discard_upload(&state).await.map(|()| state))
        });
    }
}

/// Rows for a planned folder download; a note for names that had to change.
fn download_rows(plan: Vec<ops::PlannedDownload>, next: &AtomicU64) -> Event {
    let renamed = plan.iter().filter(|p| p.renamed).count();
    let errors = if renamed > 0 {
        vec![Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "{renamed} {} got a numbered name: another key needs the same path as a folder or file",
                if renamed == 1 { "file" } else { "files" }
            ),
        )]
    } else {
        Vec::new()
    };
    let transfers = plan
        .into_iter()
        .map(|p| PlannedTransfer {
            id: next.fetch_add(1, Ordering::Relaxed),
            path: p.target.path(),
            object: p.object,
            size: p.size,
            download: Some(p.target),
        })
        .collect();
    Event::TransfersPlanned {
        batch: None,
        share: None,
        transfers,
        errors,
        clash: Clash::Refuse,
    }
}

fn failed_plan(e: Error) -> Event {
    Event::TransfersPlanned {
        batch: None,
        share: None,
        transfers: Vec::new(),
        errors: vec![e],
        clash: Clash::Refuse,
    }
}

/// How many rows a new listing loads before waiting for the browser to scroll.
pub const FIRST_ROWS: usize = 5_000;

/// Expand paths into planned uploads under `prefix` (folders are walked off the UI thread)
/// and hand them to the app, which starts each with `StartTransfer` — so every start (first
/// try, Retry, Replace, Keep both) takes the same road and Cancel can find it.
async fn plan(
    events: EventSender,
    next: Arc<AtomicU64>,
    batch: u64,
    paths: Vec<PathBuf>,
    prefix: S3Uri,
    share: Option<Expiry>,
) {
    let (files, errors) = match ops::plan_uploads(paths, prefix.clone()).await {
        Ok(plan) => (plan.files, plan.errors),
        Err(e) => (Vec::new(), vec![e]),
    };
    let transfers = files
        .into_iter()
        .map(|f| PlannedTransfer {
            id: next.fetch_add(1, Ordering::Relaxed),
            object: S3Uri::new(prefix.bucket.clone(), f.key),
            path: f.path,
            size: f.size,
            download: None,
        })
        .collect();
    events
        .send(Event::TransfersPlanned {
            batch: Some(batch),
            share,
            transfers,
            errors,
            clash: Clash::Refuse,
        })
        .await;
}

/// A transfer's row says where it stands, then the transfer runs.
async fn started(events: &EventSender, t: &PlannedTransfer) {
    events
        .send(Event::Transfer {
            id: t.id,
            update: TransferUpdate::Started {
                object: t.object.clone(),
                size: t.size,
            },
        })
        .await;
}

async fn run_upload(
    session: &Session,
    events: &EventSender,
    t: PlannedTransfer,
    clash: Clash,
    share: Option<Expiry>,
) -> TransferUpdate {
    started(events, &t).await;
    let progress = progress_reporter(events.clone(), t.id);
    let job = UploadJob {
        path: t.path.clone(),
        object: t.object.clone(),
        clash,
        checksum: ChecksumAlgorithm::default(),
        share,
    };
    match session.upload(&job, &progress).await {
        Ok(done) => TransferUpdate::Done {
            object: done.object,
            link: done.link,
        },
        Err(e) => finished_with(e, clash),
    }
}

async fn run_download(
    session: &Session,
    events: &EventSender,
    t: PlannedTransfer,
    clash: Clash,
) -> TransferUpdate {
    started(events, &t).await;
    let progress = progress_reporter(events.clone(), t.id);
    let target = t
        .download
        .clone()
        .unwrap_or_else(|| LocalTarget::file(&t.path));
    match session
        .download_file(&t.object, &target, clash, &progress)
        .await
    {
        Ok(_) => TransferUpdate::Done {
            object: t.object,
            link: None,
        },
        Err(e) => finished_with(e, clash),
    }
}

/// A taken name asks the user (when nothing was decided yet); anything else failed.
fn finished_with(e: Error, clash: Clash) -> TransferUpdate {
    if e.kind() == ErrorKind::AlreadyExists && clash == Clash::Refuse {
        TransferUpdate::Exists
    } else {
        TransferUpdate::Failed(e)
    }
}

/// The engine's progress for transfer `id`, sent to the UI at most every `PROGRESS_EVERY`
/// (and at the end), never blocking.
fn progress_reporter(events: EventSender, id: TransferId) -> TransferProgress {
    let last = Mutex::new(None::<Instant>);
    TransferProgress::observed(move |snap| {
        let mut last = lock(&last);
        let due = last.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY) || snap.done == snap.total;
        if due {
            *last = Some(Instant::now());
            events.try_send(Event::Transfer {
                id,
                update: TransferUpdate::Progress(*snap),
            });
        }
    })
}

/// The store a window serves: the one it started, or took over from a window that closed.
#[derive(Default)]
struct LocalStore {
    server: tokio::sync::Mutex<Option<StoreServer>>,
    /// A take-over is awaited (this window uses another's store).
    watching: std::sync::atomic::AtomicBool,
}

/// The window's store: the one it serves, or started now, or found serving its folder — then
/// it takes the store over when that one stops, so closing the first window cuts no other off.
async fn connect_local(
    store: &Arc<LocalStore>,
    options: StoreOptions,
    events: &EventSender,
) -> Result<Connection> {
    let mut guard = store.server.lock().await;
    if let Some(running) = guard.as_ref() {
        return crate::local::connect(running);
    }
    let (started, conn) = crate::local::start_or_reuse(options.clone()).await?;
    let reused = started.is_none();
    *guard = started;
    if reused && !store.watching.swap(true, Ordering::SeqCst) {
        // The endpoint this window reaches the store at: taken over elsewhere, it reconnects.
        let used = conn.settings().endpoint.clone();
        let (store, events) = (store.clone(), events.clone());
        tokio::spawn(async move {
            let server = crate::local::take_over(&options).await;
            let moved = Some(server.endpoint_url()) != used;
            *store.server.lock().await = Some(server);
            store.watching.store(false, Ordering::SeqCst);
            if moved {
                events.send(Event::LocalStoreMoved).await;
            }
        });
    }
    Ok(conn)
}
