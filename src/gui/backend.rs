//! The GUI's only way to the engine: `Command`s in, `Event`s out.
//!
//! `Backend::execute` spawns the work on tokio and returns at once, so the UI thread never waits
//! on the network or the disk. Results come back on a bounded channel whose sender wakes the UI
//! (`request_repaint`) after each event; the app drains it once per frame in `poll`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::AbortHandle;

use crate::engine::aws_files::{AwsFiles, NewProfile, ProfileInfo};
use crate::engine::browse::{self, BucketInfo, Entry};
use crate::engine::config::Config;
use crate::engine::error::{Error, ErrorKind, Result};
use crate::engine::local_store::{LocalStore, LocalStoreOptions};
pub use crate::engine::ops::Clash;
use crate::engine::ops::{self, UploadJob};
use crate::engine::posture::Posture;
use crate::engine::register::{LinkRecord, Register};
use crate::engine::request::{RequestSpec, UploadRequestForm};
use crate::engine::transfer::multipart::{TransferSettings, UploadState};
use crate::engine::transfer::upload::ChecksumAlgorithm;
use crate::engine::transfer::{ProgressSnapshot, TransferProgress};
use crate::engine::{Connection, ConnectionSettings, Expiry, S3Uri, ShareLink, ShareRequest};

/// Which transfer an event is about.
pub type TransferId = u64;

/// Where to connect.
#[derive(Debug, Clone)]
pub enum ConnectTarget {
    /// The embedded store on this computer (started on first use, kept while the app runs).
    Local,
    /// A profile, the environment, or a custom endpoint.
    Settings(ConnectionSettings),
    /// An already built connection (tests: credentials that expire soon).
    Prepared {
        connection: Arc<Connection>,
        local: bool,
    },
}

impl ConnectTarget {
    /// The name people see in the picker and the title.
    pub fn label(&self) -> String {
        match self {
            Self::Local => LOCAL_LABEL.to_owned(),
            Self::Settings(s) => s.label(),
            Self::Prepared { connection, .. } => connection.settings().label(),
        }
    }

    /// Is it the embedded store (links work only on this computer)?
    pub fn is_local(&self) -> bool {
        matches!(self, Self::Local | Self::Prepared { local: true, .. })
    }
}

/// The local store's name in the picker, the title and the settings file.
pub const LOCAL_LABEL: &str = "Local store";

/// Work for the engine. Each is answered by one or more `Event`s.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // each is sent once; boxing would only add noise
pub enum Command {
    /// Connect, replacing the current connection; answered by `Connected` or `ConnectFailed`.
    Connect(ConnectTarget),
    ListBuckets,
    /// List one level; pages arrive as `ListPage` while fewer than the wanted rows are loaded.
    List {
        generation: u64,
        bucket: String,
        prefix: String,
    },
    /// The browser needs this many rows of the current listing (scrolling, sort, filter).
    WantRows(usize),
    /// Sign a link for the share dialog, then check it (`Shared`, then `LinkChecked`).
    Share {
        ticket: u64,
        request: ShareRequest,
    },
    /// Sign links for these objects and copy them (`LinksReady`).
    CopyLinks {
        objects: Vec<S3Uri>,
        expiry: Expiry,
    },
    /// Expand dropped or picked paths into uploads under `prefix` (`TransfersPlanned`); the app
    /// then starts each with `StartTransfer`.
    Upload {
        batch: u64,
        paths: Vec<PathBuf>,
        prefix: S3Uri,
        share: Option<Expiry>,
    },
    /// (Re)start one planned transfer: first try, Retry, Replace, Keep both.
    StartTransfer {
        transfer: PlannedTransfer,
        clash: Clash,
        share: Option<Expiry>,
    },
    /// Stop a transfer and give it up (an upload in parts is aborted on the server); answered
    /// by `Transfer { Cancelled }`.
    Cancel(TransferId),
    /// Stop an upload, keeping what it sent (`Transfer { Paused }`); `StartTransfer` resumes it.
    Pause(TransferId),
    /// Forget an unfinished upload of an earlier run and abort it on the server
    /// (`UploadDiscarded`).
    DiscardUpload(UploadState),
    /// Go on with an unfinished upload of an earlier run (`TransfersPlanned` with its row).
    ResumeUpload(UploadState),
    /// Exposure, the register of links, upload requests: answered by `Event::Trust`.
    Trust(TrustCommand),
    /// Ask for files with the native dialog, then plan their uploads like `Upload`.
    PickFiles {
        batch: u64,
        prefix: S3Uri,
        share: Option<Expiry>,
    },
    /// Ask for a folder with the native dialog, then plan downloads of the objects into it
    /// (`TransfersPlanned`).
    Download {
        bucket: String,
        /// Object keys, and prefixes (ending in `/`) for everything under them.
        items: Vec<String>,
        /// The folder shown: files land in the chosen folder with the layout below it.
        base: String,
    },
    Delete {
        objects: Vec<S3Uri>,
    },
    CreateFolder {
        bucket: String,
        parent: String,
        name: String,
    },
    /// Write the settings file.
    SaveConfig(Config),
    LoadProfiles,
    /// Write a new profile to the AWS files (when given), save `config`, then connect.
    AddConnection {
        settings: ConnectionSettings,
        profile: Option<NewProfile>,
        config: Config,
    },
}

/// Work on what protects a bucket and the links made. Each is answered by a `TrustEvent`.
#[derive(Debug)]
pub enum TrustCommand {
    /// Read a bucket's exposure (`Posture`).
    Posture { bucket: String },
    /// Read the register of links (`Links`).
    LoadLinks,
    /// Fetch one byte through a registered link (`RegisterChecked`).
    CheckLink(LinkRecord),
    /// Drop a link from the register (`Links`, the register as it is then).
    ForgetLink(String),
    /// Sign an upload request and record it (`RequestMade`).
    MakeRequest(RequestSpec),
    /// Ask where to save an upload request's page, then write it (`RequestPageSaved`).
    SaveRequestPage(String),
}

/// What came back for a `TrustCommand`.
#[derive(Debug)]
pub enum TrustEvent {
    Posture {
        bucket: String,
        result: Result<Posture>,
    },
    Links(Result<Vec<LinkRecord>>),
    RegisterChecked {
        id: String,
        result: Result<()>,
    },
    RequestMade(Result<UploadRequestForm>),
    RequestPageSaved(Result<PathBuf>),
}

/// How a transfer moved.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // a link is the point of the upload; no need to box it
pub enum TransferUpdate {
    Started {
        object: S3Uri,
        size: u64,
    },
    Progress(ProgressSnapshot),
    Paused,
    /// Finished, at `object` (a numbered name for Keep both); the link when one was asked.
    Done {
        object: S3Uri,
        link: Option<Result<ShareLink>>,
    },
    /// The key is taken and the user must choose.
    Exists,
    Failed(Error),
    Cancelled,
}

/// A transfer as planned (one row of the transfers panel).
#[derive(Debug, Clone)]
pub struct PlannedTransfer {
    pub id: TransferId,
    pub path: PathBuf,
    pub object: S3Uri,
    pub size: u64,
    pub download: bool,
}

/// What came back.
#[derive(Debug)]
pub enum Event {
    Connected {
        label: String,
        local: bool,
        settings: ConnectionSettings,
        warnings: Vec<String>,
    },
    ConnectFailed {
        label: String,
        error: Error,
    },
    Buckets(Result<Vec<BucketInfo>>),
    ListPage {
        generation: u64,
        entries: Vec<Entry>,
        /// More pages follow (fetched when the browser wants more rows).
        more: bool,
    },
    ListDone {
        generation: u64,
        result: Result<usize>,
    },
    Shared {
        ticket: u64,
        result: Result<ShareLink>,
    },
    LinkChecked {
        ticket: u64,
        result: Result<()>,
    },
    LinksReady(Vec<Result<ShareLink>>),
    TransfersPlanned {
        /// The drop or pick the uploads came with (`None`: downloads).
        batch: Option<u64>,
        share: Option<Expiry>,
        transfers: Vec<PlannedTransfer>,
        errors: Vec<Error>,
        /// How each row starts (a resumed upload that replaces keeps replacing).
        clash: Clash,
    },
    Transfer {
        id: TransferId,
        update: TransferUpdate,
    },
    /// The native dialog was closed without choosing.
    PickCancelled,
    Deleted {
        deleted: usize,
        errors: Vec<Error>,
    },
    FolderCreated(Result<S3Uri>),
    ConfigSaved(Result<()>),
    Profiles(Result<Vec<ProfileInfo>>),
    ConnectionAdded(Result<ConnectionSettings>),
    /// Uploads an earlier run left unfinished on this connection (after `Connected`).
    UnfinishedUploads(Vec<UploadState>),
    UploadDiscarded(Result<UploadState>),
    Trust(TrustEvent),
}

/// Wakes the UI. The context is known once the first frame runs.
#[derive(Clone, Default)]
pub struct Repaint(Arc<OnceLock<egui::Context>>);

impl Repaint {
    pub fn set(&self, ctx: &egui::Context) {
        let _ = self.0.set(ctx.clone());
    }

    fn now(&self) {
        if let Some(ctx) = self.0.get() {
            ctx.request_repaint();
        }
    }
}

/// The sending half: each event wakes the UI.
#[derive(Clone)]
pub struct EventSender {
    tx: mpsc::Sender<Event>,
    repaint: Repaint,
}

impl EventSender {
    /// Wait for room (back-pressure for listings), then wake the UI.
    async fn send(&self, event: Event) {
        if self.tx.send(event).await.is_ok() {
            self.repaint.now();
        }
    }

    /// For progress: dropped when the UI is behind, the next one carries the newer numbers.
    fn try_send(&self, event: Event) {
        if self.tx.try_send(event).is_ok() {
            self.repaint.now();
        }
    }
}

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
    pub local_store: LocalStoreOptions,
    /// The AWS shared files (`None`: no home folder).
    pub aws_files: Option<AwsFiles>,
    /// Part sizes, parallelism, and where unfinished uploads are remembered.
    pub transfers: TransferSettings,
    /// Where every link made is recorded (`None`: nowhere).
    pub register: Option<Register>,
}

impl BackendOptions {
    /// Everything under `dir`, the local store on a free port with fresh credentials, and no
    /// settings of the user's read or written (tests and benchmarks).
    pub fn in_folder(runtime: Handle, dir: &std::path::Path) -> Result<Self> {
        Ok(Self {
            runtime,
            config_path: dir.join("config/config.toml"),
            local_store: LocalStoreOptions {
                data_dir: dir.join("local-store"),
                port: 0,
                credentials: crate::engine::local_store::LocalCredentials::generate()?,
                region: crate::engine::connection::DEFAULT_REGION.to_owned(),
                extras: crate::engine::local_store::StoreExtras::default(),
            },
            aws_files: Some(AwsFiles {
                config: dir.join("aws/config"),
                credentials: dir.join("aws/credentials"),
            }),
            transfers: TransferSettings {
                state_dir: Some(dir.join("uploads")),
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
    local_options: LocalStoreOptions,
    local_store: Arc<tokio::sync::Mutex<Option<LocalStore>>>,
    /// The connection work runs on; replaced by `Connect`.
    conn: Arc<Mutex<Option<Arc<Connection>>>>,
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
    download: Option<(S3Uri, PathBuf)>,
}

impl Backend {
    pub fn new(opts: BackendOptions) -> Self {
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        let repaint = Repaint::default();
        Self {
            rt: opts.runtime,
            events: EventSender {
                tx,
                repaint: repaint.clone(),
            },
            rx,
            repaint,
            config_path: opts.config_path,
            aws_files: opts.aws_files,
            local_options: opts.local_store,
            local_store: Arc::default(),
            conn: Arc::default(),
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

    fn current(&self) -> Option<Arc<Connection>> {
        crate::engine::connection::lock(&self.conn).clone()
    }

    fn spawn<F>(&self, work: F) -> AbortHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.rt.spawn(work).abort_handle()
    }

    /// The connection, or `None` after sending `failed`'s event for the work asked before one
    /// was ready (or after it failed): the answer arrives where the work was asked.
    fn connected(&self, failed: impl FnOnce(Error) -> Event) -> Option<Arc<Connection>> {
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
                if let Some(conn) = self.connected(|e| Event::Buckets(Err(e))) {
                    self.spawn_answer(
                        async move { Event::Buckets(browse::list_buckets(&conn).await) },
                    );
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
                if let Some(conn) = self.connected(failed) {
                    self.list(conn, generation, bucket, prefix);
                }
            }
            Command::WantRows(n) => self.want_rows(n),
            Command::Share { ticket, request } => self.share(ticket, request),
            Command::CopyLinks { objects, expiry } => self.copy_links(objects, expiry),
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
            Command::SaveConfig(config) => {
                let path = self.config_path.clone();
                self.spawn_answer(async move {
                    Event::ConfigSaved(blocking(move || config.save(&path)).await)
                });
            }
            Command::LoadProfiles => {
                let files = self.aws_files.clone();
                self.spawn_answer(async move {
                    Event::Profiles(
                        blocking(move || files.map_or_else(|| Ok(Vec::new()), |f| f.profiles()))
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
        if let Some(conn) = self.connected(|e| Event::LinksReady(vec![Err(e)])) {
            self.spawn_answer(async move {
                let mut links = Vec::with_capacity(objects.len());
                for object in objects {
                    links.push(share_now(&conn, object, expiry).await);
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
        if let Some(conn) = self.connected(failed) {
            self.spawn_answer(async move {
                let mut deleted = 0;
                let mut errors = Vec::new();
                for object in &objects {
                    match browse::delete_object(&conn, object).await {
                        Ok(()) => deleted += 1,
                        Err(e) => errors.push(e),
                    }
                }
                Event::Deleted { deleted, errors }
            });
        }
    }

    fn create_folder(&self, bucket: String, parent: String, name: String) {
        if let Some(conn) = self.connected(|e| Event::FolderCreated(Err(e))) {
            self.spawn_answer(async move {
                let result = browse::create_folder(&conn, &bucket, &parent, &name)
                    .await
                    .map(|prefix| S3Uri::new(bucket, prefix));
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

    fn share(&self, ticket: u64, request: ShareRequest) {
        let failed = |e| Event::Shared {
            ticket,
            result: Err(e),
        };
        let Some(conn) = self.connected(failed) else {
            return;
        };
        let events = self.events.clone();
        self.spawn(async move {
            let result = crate::engine::share(&conn, &request).await;
            let link = result.as_ref().ok().cloned();
            events.send(Event::Shared { ticket, result }).await;
            if let Some(link) = link {
                let result = crate::engine::verify(&conn, &link, &request.object).await;
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
        let Some(conn) = self.connected(failed) else {
            return;
        };
        let slots = self.slots.clone();
        let events = self.events.clone();
        let settings = self.settings.clone();
        let upload = (!transfer.download).then(|| (transfer.path.clone(), transfer.object.clone()));
        let download = transfer
            .download
            .then(|| (transfer.object.clone(), transfer.path.clone()));
        let task = self.spawn(async move {
            // Waits its turn; Cancel works while waiting too.
            let Ok(_permit) = slots.acquire_owned().await else {
                return;
            };
            let update = if transfer.download {
                run_download(&conn, &events, transfer, clash, &settings).await
            } else {
                run_upload(&conn, &events, transfer, clash, share, &settings).await
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
            if let Some((object, target)) = r.download {
                // Nothing half-downloaded stays in the user's folder.
                crate::engine::transfer::ranged::discard_partial(&object, &target);
            }
            r.upload
        });
        if let Some(upload) = running.or_else(|| self.paused.remove(&id)) {
            // An upload in parts is given up on the server too: its parts cost storage.
            if let (Some((path, object)), Some(conn)) = (upload, self.current()) {
                let settings = self.settings.clone();
                self.spawn(async move {
                    if let Err(e) = ops::discard_upload_of(&conn, &path, &object, &settings).await {
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
            let result = blocking(move || {
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
        *crate::engine::connection::lock(&self.conn) = None;
        let events = self.events.clone();
        let slot = self.conn.clone();
        let store = self.local_store.clone();
        let options = self.local_options.clone();
        let transfers = self.settings.clone();
        let register = self.register.clone();
        self.connect_task = Some(self.spawn(async move {
            let (label, result) = match target {
                ConnectTarget::Local => (
                    LOCAL_LABEL.to_owned(),
                    connect_local(&store, options, register)
                        .await
                        .map(|c| (c, true)),
                ),
                ConnectTarget::Settings(settings) => (
                    settings.label(),
                    Connection::connect(settings).await.map(|c| {
                        let c = match register {
                            Some(r) => c.with_register(r),
                            None => c,
                        };
                        (Arc::new(c), false)
                    }),
                ),
                ConnectTarget::Prepared { connection, local } => {
                    (connection.settings().label(), Ok((connection, local)))
                }
            };
            match result {
                Ok((conn, local)) => {
                    let settings = conn.settings().clone();
                    let warnings = conn.warnings().to_vec();
                    let endpoint = crate::engine::transfer::multipart::endpoint_label(&conn);
                    *crate::engine::connection::lock(&slot) = Some(conn);
                    events
                        .send(Event::Connected {
                            label,
                            local,
                            settings,
                            warnings,
                        })
                        .await;
                    let transfers = transfers.clone();
                    let unfinished = blocking(move || Ok(ops::unfinished_uploads(&transfers)))
                        .await
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|u| u.endpoint == endpoint)
                        .collect();
                    events.send(Event::UnfinishedUploads(unfinished)).await;
                }
                Err(error) => events.send(Event::ConnectFailed { label, error }).await,
            }
        }));
    }

    fn list(&mut self, conn: Arc<Connection>, generation: u64, bucket: String, prefix: String) {
        if let Some((task, _)) = self.listing.take() {
            task.abort();
        }
        let (want_tx, mut want) = watch::channel(FIRST_ROWS);
        let events = self.events.clone();
        let task = self.spawn(async move {
            let result = async {
                let mut pager = browse::LevelPager::new(&conn, &bucket, &prefix).await?;
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
        let Some(conn) = self.connected(failed) else {
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
            let event = match ops::plan_downloads(&conn, &bucket, &items, &base, &folder).await {
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
                if let Some(conn) = self.connected(failed) {
                    self.spawn_answer(async move {
                        let result = crate::engine::posture::posture(&conn, &bucket).await;
                        Event::Trust(TrustEvent::Posture { bucket, result })
                    });
                }
            }
            TrustCommand::LoadLinks => self.load_links(None),
            TrustCommand::ForgetLink(id) => self.load_links(Some(id)),
            TrustCommand::CheckLink(record) => {
                let http = self.current().map(|c| c.http().clone());
                self.spawn_answer(async move {
                    let result = match http {
                        Some(http) => {
                            crate::engine::share::check_url(&http, &record.url, &record.object())
                                .await
                        }
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
                if let Some(conn) = self.connected(failed) {
                    self.spawn_answer(async move {
                        let made = crate::engine::request::make_request(&conn, &spec).await;
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
            let result = blocking(move || {
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
            let path = file.path().to_owned();
            let result = blocking(move || {
                crate::engine::config::write_private(&path, html.as_bytes())
                    .map_err(|e| Error::local_io("write", &path, &e))
                    .map(|()| path)
            })
            .await;
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
            download: false,
        };
        let clash = if state.overwrite {
            Clash::Replace
        } else {
            Clash::Refuse
        };
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
        let Some(conn) = self.connected(failed) else {
            return;
        };
        let settings = self.settings.clone();
        self.spawn_answer(async move {
            Event::UploadDiscarded(
                ops::discard_upload(&conn, &state, &settings)
                    .await
                    .map(|()| state),
            )
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
            path: p.target,
            object: p.object,
            size: p.size,
            download: true,
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

/// Expand paths into planned uploads under `prefix` (off the UI thread: folders are walked) and
/// hand them to the app, which starts each with `StartTransfer` — so every start (first try,
/// Retry, Replace, Keep both) takes the same road and Cancel can find it.
async fn plan(
    events: EventSender,
    next: Arc<AtomicU64>,
    batch: u64,
    paths: Vec<PathBuf>,
    prefix: S3Uri,
    share: Option<Expiry>,
) {
    let dest = prefix.clone();
    let (files, errors) = match blocking(move || ops::plan_uploads(&paths, &dest)).await {
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
            download: false,
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

async fn run_upload(
    conn: &Connection,
    events: &EventSender,
    t: PlannedTransfer,
    clash: Clash,
    share: Option<Expiry>,
    settings: &TransferSettings,
) -> TransferUpdate {
    events
        .send(Event::Transfer {
            id: t.id,
            update: TransferUpdate::Started {
                object: t.object.clone(),
                size: t.size,
            },
        })
        .await;
    let progress = progress_reporter(events.clone(), t.id);
    let job = UploadJob {
        path: t.path.clone(),
        object: t.object.clone(),
        clash,
        checksum: ChecksumAlgorithm::default(),
        share,
    };
    match ops::upload(conn, &job, settings, &progress).await {
        Ok(done) => TransferUpdate::Done {
            object: done.object,
            link: done.link,
        },
        Err(e) if e.kind() == ErrorKind::AlreadyExists && clash == Clash::Refuse => {
            TransferUpdate::Exists
        }
        Err(e) => TransferUpdate::Failed(e),
    }
}

async fn run_download(
    conn: &Connection,
    events: &EventSender,
    t: PlannedTransfer,
    clash: Clash,
    settings: &TransferSettings,
) -> TransferUpdate {
    events
        .send(Event::Transfer {
            id: t.id,
            update: TransferUpdate::Started {
                object: t.object.clone(),
                size: t.size,
            },
        })
        .await;
    let progress = progress_reporter(events.clone(), t.id);
    match ops::download_file(conn, &t.object, &t.path, clash, settings, &progress).await {
        Ok(_) => TransferUpdate::Done {
            object: t.object,
            link: None,
        },
        Err(e) if e.kind() == ErrorKind::AlreadyExists && clash == Clash::Refuse => {
            TransferUpdate::Exists
        }
        Err(e) => TransferUpdate::Failed(e),
    }
}

async fn share_now(conn: &Connection, object: S3Uri, expiry: Expiry) -> Result<ShareLink> {
    crate::engine::share(
        conn,
        &ShareRequest {
            object,
            expires: expiry,
            download_name: None,
            now: None,
        },
    )
    .await
}

/// The engine's progress for transfer `id`, sent to the UI at most every `PROGRESS_EVERY`
/// (and at the end), never blocking.
fn progress_reporter(events: EventSender, id: TransferId) -> TransferProgress {
    let last = Mutex::new(None::<Instant>);
    TransferProgress::observed(move |snap| {
        let mut last = crate::engine::connection::lock(&last);
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

async fn connect_local(
    store: &tokio::sync::Mutex<Option<LocalStore>>,
    options: LocalStoreOptions,
    register: Option<Register>,
) -> Result<Arc<Connection>> {
    let conn = connect_local_store(store, options).await?;
    Ok(Arc::new(match register {
        Some(r) => conn.with_register(r),
        None => conn,
    }))
}

async fn connect_local_store(
    store: &tokio::sync::Mutex<Option<LocalStore>>,
    options: LocalStoreOptions,
) -> Result<Connection> {
    let mut guard = store.lock().await;
    if guard.is_none() {
        let started = match LocalStore::start(options.clone()).await {
            Ok(s) => s,
            // The preferred port is taken: by another s3share serving this very folder (then
            // use it), or by something else (then any free port will do).
            Err(_) if options.port != 0 => {
                match LocalStore::start(LocalStoreOptions {
                    port: 0,
                    ..options.clone()
                })
                .await
                {
                    Ok(s) => s,
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                        return connect_running(&options, e).await;
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        *guard = Some(started);
    }
    let store = guard
        .as_ref()
        .ok_or_else(|| Error::new(ErrorKind::LocalIo, "The local store did not start"))?;
    store.connect()
}

/// The store another s3share runs on this folder (`s3share local`), at the preferred port.
async fn connect_running(options: &LocalStoreOptions, in_use: Error) -> Result<Connection> {
    let endpoint = format!("http://127.0.0.1:{}", options.port);
    let conn =
        crate::engine::local_store::connect_to(&endpoint, &options.credentials, &options.region)?;
    match browse::list_buckets(&conn).await {
        Ok(_) => Ok(conn),
        Err(_) => Err(in_use),
    }
}

/// Run blocking work (files) off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(
            Error::new(ErrorKind::LocalIo, "A background task stopped unexpectedly")
                .with_detail(e.to_string()),
        )
    })
}
