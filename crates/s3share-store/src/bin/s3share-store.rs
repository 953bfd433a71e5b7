//! The embedded store alone, in the foreground: what the store's own tests run as a child
//! process (to kill it, limit it, measure it), and a way to serve a folder without the app.
//!
//! `s3share-store --dir DIR [--port N] [--credentials FILE]`: prints the `AWS_*` lines a client
//! needs, then serves until Ctrl-C or the process is stopped.

use std::io::Write as _;
use std::path::PathBuf;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut dir: Option<PathBuf> = None;
    let mut port: u16 = 0;
    let mut credentials: Option<PathBuf> = None;
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{} needs a value", arg.display()))
        };
        match arg.to_str() {
            Some("--dir") => dir = Some(value()?.into()),
            Some("--port") => {
                port = value()?
                    .to_str()
                    .and_then(|p| p.parse().ok())
                    .ok_or("--port takes a number from 0 to 65535")?;
            }
            Some("--credentials") => credentials = Some(value()?.into()),
            _ => {
                return Err(format!(
                    "unknown argument {}; usage: s3share-store --dir DIR [--port N] [--credentials FILE]",
                    arg.display()
                ));
            }
        }
    }
    let data_dir = dir.ok_or("--dir is required")?;
    let credentials = match credentials {
        Some(path) => s3share_store::credentials::load_or_create(&path),
        None => s3share_store::credentials::generate(),
    }
    .map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let store = s3share_store::StoreServer::start(s3share_store::StoreOptions {
            data_dir,
            port,
            credentials,
            region: s3share_core::DEFAULT_REGION.to_owned(),
            extras: s3share_store::StoreExtras::default(),
        })
        .await
        .map_err(|e| e.to_string())?;
        let mut out = std::io::stdout().lock();
        for line in store.env_lines() {
            writeln!(out, "{line}").map_err(|e| e.to_string())?;
        }
        out.flush().map_err(|e| e.to_string())?;
        drop(out);
        // Serve until Ctrl-C (or a signal that ends the process).
        let _ = tokio::signal::ctrl_c().await;
        store.shutdown().await;
        Ok(())
    })
}
