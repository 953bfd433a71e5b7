//! The contract between the app and its backend: every `Command` the UI may send, with the
//! `Event`s that answer it, and what those events carry.

use std::path::PathBuf;
use std::sync::Arc;

use crate::engine::base::error::{Error, Result};
use crate::engine::client::aws_files::{NewProfile, ProfileInfo};
use crate::engine::client::browse::{BucketInfo, Entry};
use crate::engine::client::config::Config;
use crate::engine::client::connection::LOCAL_STORE_LABEL;
use crate::engine::links::register::LinkRecord;
use crate::engine::links::request::{RequestSpec, UploadRequestForm};
pub use crate::engine::ops::Clash;
use crate::engine::transfer::ProgressSnapshot;
use crate::engine::transfer::download::target::LocalTarget;
use crate::engine::transfer::resume::UploadState;
use crate::engine::trust::posture::Posture;
use crate::engine::{
    Connection, ConnectionSettings, Expiry, PageRequest, S3Uri, ShareLink, ShareRequest,
};

/// What the share dialog signs: one object's link, or a share page for several.
#[derive(Debug, Clone)]
pub enum ShareJob {
    Link(ShareRequest),
    Page(PageRequest),
}

/// Which transfer an event is about.
pub type TransferId = u64;

/// Where to connect.
#[derive(Debug, Clone)]
pub enum ConnectTarget {
    /// The embedded store on this computer (started on first use, kept while the app runs).
    Local,
    /// A profile, the environment, or a custom endpoint.
    Settings(ConnectionSettings),
    /// An already built connection (tests: credentials that expire soon, a store behind a
    /// proxy); the app's register and transfer settings go with it.
    Prepared(Arc<Connection>),
}

impl ConnectTarget {
    /// The name people see in the picker and the title.
    pub fn label(&self) -> String {
        match self {
            Self::Local => LOCAL_LABEL.to_owned(),
            Self::Settings(s) => s.label(),
            Self::Prepared(connection) => connection.settings().label(),
        }
    }

    /// Is it the embedded store (links work only on this computer)?
    pub fn is_local(&self) -> bool {
        match self {
            Self::Local => true,
            Self::Settings(_) => false,
            Self::Prepared(connection) => connection.is_local_store(),
        }
    }
}

/// The local store's name in the picker, the title and the settings file.
pub const LOCAL_LABEL: &str = LOCAL_STORE_LABEL;

/// Work for the engine. Each is answered by the `Event`s its doc names.
#[derive(Debug)]
pub enum Command {
    /// Connect, replacing the current connection; answered by `Connected` or `ConnectFailed`.
    Connect(ConnectTarget),
    /// List the buckets (`Buckets`).
    ListBuckets,
    /// List one level; pages arrive as `ListPage` while fewer than the wanted rows are loaded.
    List {
        generation: u64,
        bucket: String,
        prefix: String,
    },
    /// The browser needs this many rows of the current listing (scrolling, sort, filter):
    /// more `ListPage`s of the listing under way, then its `ListDone`.
    WantRows(usize),
    /// Sign a link (or make a share page) for the share dialog, then check it (`Shared`, then
    /// `LinkChecked`).
    Share { ticket: u64, request: ShareJob },
    /// Make an earlier link's object's link again and copy it (`LinksReady`).
    RenewLink(LinkRecord),
    /// Sign links for these objects and copy them (`LinksReady`).
    CopyLinks { objects: Vec<S3Uri>, expiry: Expiry },
    /// Expand dropped or picked paths into uploads under `prefix` (`TransfersPlanned`); the app
    /// then starts each with `StartTransfer`.
    Upload {
        batch: u64,
        paths: Vec<PathBuf>,
        prefix: S3Uri,
        share: Option<Expiry>,
    },
    /// (Re)start one planned transfer: first try, Retry, Replace, Keep both (`Transfer`
    /// updates, ending in `Done`, `Exists`, `Failed`, `Paused` or `Cancelled`).
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
    /// Ask for files with the native dialog, then plan their uploads like `Upload`
    /// (`TransfersPlanned`, or `PickCancelled`).
    PickFiles {
        batch: u64,
        prefix: S3Uri,
        share: Option<Expiry>,
    },
    /// Ask for a folder with the native dialog, then plan downloads of the objects into it
    /// (`TransfersPlanned`, or `PickCancelled`).
    Download {
        bucket: String,
        /// Object keys, and prefixes (ending in `/`) for everything under them.
        items: Vec<String>,
        /// The folder shown: files land in the chosen folder with the layout below it.
        base: String,
    },
    /// Delete these objects (`Deleted`).
    Delete { objects: Vec<S3Uri> },
    /// Make an empty folder `name` under `parent` (`FolderCreated`).
    CreateFolder {
        bucket: String,
        parent: String,
        name: String,
    },
    /// Open a link in the desktop's browser (`LinkOpened`).
    OpenLink(String),
    /// Write the settings file (`ConfigSaved`).
    SaveConfig(Config),
    /// Read the profiles of the AWS files (`Profiles`).
    LoadProfiles,
    /// Write a new profile to the AWS files (when given) and save `config`
    /// (`ConnectionAdded`); the app then connects.
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
    /// Ask where to save an upload request's page, then write it (`RequestPageSaved`, or
    /// `PickCancelled`).
    SaveRequestPage(String),
}

/// What came back for a `TrustCommand`.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "each is sent once; boxing would only add noise"
)]
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
#[expect(
    clippy::large_enum_variant,
    reason = "a link is the point of the upload; no need to box it"
)]
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
    /// A download's file (below the folder chosen): `None` for an upload.
    pub download: Option<LocalTarget>,
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
    /// The local store this window took over serves on another port than the one it used
    /// (another program took that port): connect to it again.
    LocalStoreMoved,
    /// `OpenLink` handed the link to the browser, or could not.
    LinkOpened(Result<()>),
}
