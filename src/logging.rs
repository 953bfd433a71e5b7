//! Logging to stderr, filtered by `S3SHARE_LOG` (tracing's filter syntax, e.g. `debug`).
//!
//! Whatever the filter asks, other crates are held to `info` and s3s to `warn`: at `debug` and
//! `trace` they log request URIs (a presigned link's signature and credential, a session token),
//! signed headers, canonical requests and, for a bad signature, the signature that was expected —
//! enough for anyone who reads the log to forge a link. s3share's own events never carry a
//! secret, so its own targets follow the filter to `trace`.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::{FilterExt as _, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// The most any target but ours may log.
pub fn caps() -> Targets {
    Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target("s3s", LevelFilter::WARN)
        .with_target("s3share", LevelFilter::TRACE)
}

/// Install the stderr logger (once, first thing in `main`).
pub fn init() {
    let wanted = EnvFilter::builder()
        .with_default_directive(LevelFilter::ERROR.into())
        .with_env_var("S3SHARE_LOG")
        .from_env_lossy();
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(wanted.and(caps()));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}
