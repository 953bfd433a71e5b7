//! The session both fronts open once: where to reach S3, where links are recorded, how
//! transfers are cut up and where unfinished ones are remembered.

use std::sync::Arc;

use crate::base::blocking::run_blocking;
use crate::base::error::Result;
use crate::base::paths::Paths;
use crate::client::connection::{Connection, ConnectionSettings};
use crate::links::register::{NewRecord, Register};
use crate::transfer::settings::TransferSettings;

/// A connection with the register its links go into and the settings its transfers use.
#[derive(Debug, Clone)]
pub struct Session {
    conn: Arc<Connection>,
    register: Option<Register>,
    transfers: TransferSettings,
}

impl Session {
    /// A session on `conn`, recording links in `register` (`None`: nowhere, as in tests) and
    /// transferring with `transfers`.
    pub fn new(conn: Connection, register: Option<Register>, transfers: TransferSettings) -> Self {
        Self::on_shared(Arc::new(conn), register, transfers)
    }

    /// [`Self::new`] on a connection shared with others.
    pub fn on_shared(
        conn: Arc<Connection>,
        register: Option<Register>,
        transfers: TransferSettings,
    ) -> Self {
        Self {
            conn,
            register,
            transfers,
        }
    }

    /// A session on `conn` with the user's register and resume folder under `paths`.
    pub fn for_user(conn: Connection, paths: &Paths) -> Self {
        Self::new(
            conn,
            Some(Register::new(paths.register_file())),
            TransferSettings {
                state_dir: Some(paths.uploads_dir()),
                download_state_dir: Some(paths.downloads_dir()),
                ..TransferSettings::default()
            },
        )
    }

    /// Connect with `settings` (resolved against the AWS chain; no network call) and use the
    /// user's folders when there is a home folder. Returns the session and notes to show
    /// (plain http allowed, links not recorded for want of a home folder).
    pub async fn open(settings: ConnectionSettings) -> Result<(Self, Vec<String>)> {
        let conn = Connection::connect(settings).await?;
        let mut notes = conn.warnings().to_vec();
        let session = match Paths::for_user() {
            Ok(paths) => Self::for_user(conn, &paths),
            Err(e) => {
                notes.push(format!(
                    "warning: links made now are not recorded: {}",
                    e.message()
                ));
                Self::new(conn, None, TransferSettings::default())
            }
        };
        Ok((session, notes))
    }

    /// The same session with other transfer settings (part sizes, parallelism).
    #[must_use]
    pub fn with_transfer_settings(mut self, transfers: TransferSettings) -> Self {
        self.transfers = transfers;
        self
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn register(&self) -> Option<&Register> {
        self.register.as_ref()
    }

    pub fn transfer_settings(&self) -> &TransferSettings {
        &self.transfers
    }

    /// Keep `record` in the register (nothing without one), on the blocking pool (it locks and
    /// fsyncs a file). A failure comes back as a note to show: the link itself is made and
    /// works.
    pub(super) async fn record(&self, record: NewRecord<'_>) -> Option<String> {
        let register = self.register.clone()?;
        let entry = record.into_record();
        let done = run_blocking(move || register.record(entry)).await;
        done.err().map(|e| {
            tracing::warn!("a link was not recorded in the register: {e}");
            format!("warning: the link was not recorded in the register of links: {e}")
        })
    }
}

/// The async runtime both fronts run the engine on: two workers for two cores, and a small
/// blocking pool — file reads and writes run there, a few threads are plenty, and each one
/// more keeps its own allocator arena (memory).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(16)
        .thread_name("s3share-work")
        .enable_all()
        .build()
}
