//! The one place that starts the embedded store or finds the one already serving its folder,
//! and turns the store's answers into the engine's: a connection to it, its errors in the
//! engine's kinds.

use std::path::PathBuf;

use s3share_engine::base::error::{Error, ErrorKind, Result};
use s3share_engine::base::paths::Paths;
use s3share_engine::client::browse::list_buckets;
use s3share_engine::client::connection::Connection;
use s3share_store::{StoreAddress, StoreError, StoreExtras, StoreOptions, StoreServer};

/// The port the store prefers (`s3share local`'s default; MinIO's too, so often taken).
pub const PREFERRED_PORT: u16 = 9000;

/// The store for the user, on their folders: `dir` (or the data folder's `local-store`),
/// their generated credentials, the default region, on `port` — or, when none is given, the
/// port this folder was last served on (so links made then still work), else
/// [`PREFERRED_PORT`].
pub fn options_for_user(
    paths: &Paths,
    port: Option<u16>,
    dir: Option<PathBuf>,
) -> Result<StoreOptions> {
    let credentials = s3share_store::credentials::load_or_create(&paths.local_store_credentials())
        .map_err(|e| store_error(&e))?;
    let data_dir = dir.unwrap_or_else(|| paths.local_store_dir());
    let port =
        port.unwrap_or_else(|| StoreAddress::read(&data_dir).map_or(PREFERRED_PORT, |a| a.port));
    Ok(StoreOptions {
        data_dir,
        port,
        credentials,
        region: s3share_engine::client::connection::DEFAULT_REGION.to_owned(),
        extras: StoreExtras::default(),
    })
}

/// Start the store of `options`.
pub async fn start(options: StoreOptions) -> Result<StoreServer> {
    StoreServer::start(options)
        .await
        .map_err(|e| store_error(&e))
}

/// A connection to `store`.
pub fn connect(store: &StoreServer) -> Result<Connection> {
    Connection::to_local_store(&store.endpoint_url(), store.credentials(), store.region())
}

/// Start the store of `options` — on its port, or any free one when that is taken — or, when
/// another s3share already serves its folder, connect to that one. Returns the store started
/// here (keep it: dropping it stops it) and a connection to whichever store serves.
pub async fn start_or_reuse(options: StoreOptions) -> Result<(Option<StoreServer>, Connection)> {
    let first = StoreServer::start(options.clone()).await;
    let started = match first {
        Ok(s) => Ok(s),
        // The preferred port is taken: by another s3share serving this very folder (then use
        // it), or by something else (then any free port will do).
        Err(StoreError::Bind { .. }) if options.port != 0 => {
            StoreServer::start(StoreOptions {
                port: 0,
                ..options.clone()
            })
            .await
        }
        Err(e) => Err(e),
    };
    match started {
        Ok(store) => {
            let conn = connect(&store)?;
            Ok((Some(store), conn))
        }
        Err(in_use @ StoreError::InUse { .. }) => connect_running(&options)
            .await
            .map(|c| (None, c))
            .map_err(|why| {
                store_error(&in_use).with_detail(format!(
                    "the store serving it did not answer: {}",
                    why.message()
                ))
            }),
        Err(e) => Err(store_error(&e)),
    }
}

/// The store another s3share runs on the folder of `options`: at the address it recorded
/// beside its lock (in the user's own 0700 folder), and only if it answers to the user's own
/// credentials — a server that does not know them is not the user's store.
pub async fn connect_running(options: &StoreOptions) -> Result<Connection> {
    let address = StoreAddress::read(&options.data_dir).ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            "The store serving this folder recorded no address",
        )
    })?;
    let conn =
        Connection::to_local_store(&address.endpoint, &options.credentials, &options.region)?;
    list_buckets(&conn).await?;
    Ok(conn)
}

/// How often a window using another's store looks whether that store is still there.
const TAKE_OVER_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// Wait until the store another s3share runs on the folder of `options` stops (its window
/// closed, `s3share local` ended), then serve the folder here, on the port it served on: the
/// links made on it keep working, and this window's connection (to that port) goes on. Only if
/// another program took that port meanwhile does it serve on a free one (the store is then
/// reached elsewhere: the caller reconnects).
pub async fn take_over(options: &StoreOptions) -> StoreServer {
    let mut warned = false;
    loop {
        tokio::time::sleep(TAKE_OVER_POLL).await;
        // A cheap probe of the folder's lock: no port, no request to the other store.
        if s3share_store::folder_served(&options.data_dir) {
            continue;
        }
        let port = StoreAddress::read(&options.data_dir).map_or(options.port, |a| a.port);
        let on_port = |port| StoreOptions {
            port,
            ..options.clone()
        };
        let started = match StoreServer::start(on_port(port)).await {
            Err(StoreError::Bind { .. }) => {
                tracing::warn!(
                    "port {port}, where the local store served, is taken; serving on another"
                );
                StoreServer::start(on_port(0)).await
            }
            other => other,
        };
        match started {
            Ok(store) => return store,
            // Another window took it first: wait for that one in turn.
            Err(StoreError::InUse { .. }) => {}
            Err(e) if !warned => {
                warned = true;
                tracing::warn!("could not take over the local store: {e}");
            }
            Err(_) => {}
        }
    }
}

/// The store's error in the engine's kinds (exit codes, the app's words).
pub fn store_error(e: &StoreError) -> Error {
    let kind = match e {
        StoreError::InUse { .. } => ErrorKind::AlreadyExists,
        StoreError::DamagedCredentials { .. } => ErrorKind::InvalidInput,
        StoreError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            ErrorKind::NotFound
        }
        StoreError::Bind { .. } | StoreError::Io { .. } | StoreError::NoRandomness => {
            ErrorKind::LocalIo
        }
    };
    let detail = match e {
        StoreError::Bind { source, .. } | StoreError::Io { source, .. } => Some(source.to_string()),
        StoreError::DamagedCredentials { detail, .. } => Some(detail.clone()),
        StoreError::InUse { .. } | StoreError::NoRandomness => None,
    };
    let err = Error::new(kind, e.to_string());
    match detail {
        Some(d) => err.with_detail(d),
        None => err,
    }
}
