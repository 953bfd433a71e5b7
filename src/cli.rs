//! The command-line twin: `ls`, `share`, `upload`, `download`, `local`. A thin front on the
//! engine; stdout carries only results (URLs, listings), stderr notes, progress and errors.

use std::io::Write as _;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::engine::browse::{Entry, list_buckets, list_level};
use crate::engine::connection::{Connection, ConnectionSettings};
use crate::engine::expiry::Expiry;
use crate::engine::humanize::format_iso;
use crate::engine::location::S3Uri;
use crate::engine::ops::{self, Clash, UploadJob};
use crate::engine::share::{ShareRequest, share, verify};
use crate::engine::transfer::upload::ChecksumAlgorithm;
use crate::engine::{Error, ErrorKind};

#[derive(Debug, Parser)]
#[command(
    name = "s3share",
    version,
    about = "Share files out of private S3 buckets with time-limited links"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Where to connect; each may come before or after the command.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// AWS profile from ~/.aws/config (SSO profiles included).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// S3-compatible endpoint URL (MinIO, Ceph RGW, Garage, R2 and others).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Region to use when the bucket's own cannot be found out.
    #[arg(long, global = true, value_name = "R")]
    pub region: Option<String>,
    /// Address buckets as ENDPOINT/BUCKET/KEY.
    #[arg(long, global = true)]
    pub path_style: bool,
    /// Allow plain http to a host that is not this computer.
    #[arg(long, global = true)]
    pub allow_http: bool,
}

impl GlobalArgs {
    pub fn settings(&self) -> ConnectionSettings {
        ConnectionSettings {
            name: None,
            profile: self.profile.clone(),
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            path_style: self.path_style,
            allow_http: self.allow_http,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List buckets, or one level of a bucket (folders as `PRE name/`).
    Ls {
        /// The bucket and prefix to list; without it, the buckets.
        #[arg(value_name = "s3://BUCKET[/PREFIX]")]
        uri: Option<String>,
    },
    /// Print a time-limited download link (presigned GET) for an object.
    Share {
        /// The object to share.
        #[arg(value_name = "s3://BUCKET/KEY")]
        uri: String,
        /// How long the link lives: 90s, 15m, 2h, 1d, 7d, 1h30m (1 s to 7 days).
        #[arg(long, default_value = "15m")]
        expires: String,
        /// The file name a browser saves the download as.
        #[arg(long, value_name = "NAME")]
        download_name: Option<String>,
        /// Fetch one byte through the link to check that it works.
        #[arg(long)]
        verify: bool,
        /// Put the link on the clipboard too (it stays pasteable after s3share exits).
        #[arg(long)]
        copy: bool,
    },
    /// Upload files by presigned PUT; with --share, print a link for each.
    Upload {
        /// Files, then the destination: a prefix ending in a slash, or a full key for one file.
        #[arg(required = true, num_args = 2.., value_name = "PATH... S3URI")]
        args: Vec<String>,
        /// Print a download link for each uploaded file, living this long.
        #[arg(long, value_name = "EXPIRES")]
        share: Option<String>,
        /// Replace objects that already exist.
        #[arg(long)]
        overwrite: bool,
        /// Integrity checksum sent with each upload.
        #[arg(long, default_value = "crc32c", value_name = "crc32c|sha256")]
        checksum: String,
    },
    /// Download an object to a file or into a folder.
    Download {
        /// The object to download.
        #[arg(value_name = "s3://BUCKET/KEY")]
        uri: String,
        /// A file path, or a folder to download into.
        path: PathBuf,
        /// Replace a local file that already exists.
        #[arg(long)]
        overwrite: bool,
    },
    /// Run the embedded S3-compatible store on 127.0.0.1 in the foreground.
    Local {
        /// Folder holding the data (default: the user's data folder).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Port (default: 9000; 0 picks a free one).
        #[arg(long, default_value_t = 9000)]
        port: u16,
    },
    /// Internal: hold the clipboard for `share --copy` until replaced or the link expires.
    #[command(hide = true, name = "__hold-clipboard")]
    HoldClipboard {
        /// Unix time (seconds) when to let go.
        until: u64,
    },
}

/// Run a CLI command to completion. Errors are returned for `main` to print as one line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let Some(command) = cli.command else {
        anyhow::bail!("no command given");
    };
    if let Command::HoldClipboard { until } = command {
        return hold_clipboard(until);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()
        .context("could not start the async runtime")?;
    runtime.block_on(run_async(cli.global, command))
}

async fn connect(global: &GlobalArgs) -> Result<Connection, Error> {
    let conn = Connection::connect(global.settings()).await?;
    for w in conn.warnings() {
        eprintln!("{w}");
    }
    Ok(conn)
}

async fn run_async(global: GlobalArgs, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Ls { uri } => ls(&global, uri.as_deref()).await?,
        Command::Share {
            uri,
            expires,
            download_name,
            verify: check,
            copy,
        } => {
            let object: S3Uri = uri.parse()?;
            let expires: Expiry = expires.parse()?;
            let conn = connect(&global).await?;
            let req = ShareRequest {
                object: object.clone(),
                expires,
                download_name,
                now: None,
            };
            let link = share(&conn, &req).await?;
            if let Some(w) = link.cut_short_warning() {
                eprintln!("{w}");
            }
            if check {
                verify(&conn, &link, &object).await?;
                eprintln!("checked: the link works");
            }
            println!("{}", link.url());
            eprintln!("link {}", link.describe());
            if copy {
                let until = link.expires_at;
                if let Err(e) = copy_to_clipboard(link.url(), until) {
                    eprintln!(
                        "warning: could not put the link on the clipboard ({e:#}); it is printed above"
                    );
                } else {
                    eprintln!("copied to the clipboard");
                }
            }
        }
        Command::Upload {
            mut args,
            share: share_for,
            overwrite,
            checksum,
        } => {
            let dest_text = args.pop().unwrap_or_default();
            let dest: S3Uri = dest_text.parse()?;
            let checksum: ChecksumAlgorithm = checksum.parse()?;
            let share_expiry = share_for.as_deref().map(str::parse::<Expiry>).transpose()?;
            let paths: Vec<PathBuf> = args.into_iter().map(PathBuf::from).collect();
            upload_files(&global, &paths, &dest, overwrite, checksum, share_expiry).await?;
        }
        Command::Download {
            uri,
            path,
            overwrite,
        } => {
            let object: S3Uri = uri.parse()?;
            object.require_object()?;
            let conn = connect(&global).await?;
            let bar = progress_bar(object.file_name());
            let on_progress = |done: u64, total: u64| {
                bar.set_length(total);
                bar.set_position(done);
            };
            let clash = if overwrite {
                Clash::Replace
            } else {
                Clash::Refuse
            };
            let written = ops::download(&conn, &object, &path, clash, &on_progress).await;
            bar.finish_and_clear();
            let written = written?;
            eprintln!(
                "downloaded {} to {}",
                shown(&object.to_string()),
                shown(&written.display().to_string())
            );
        }
        Command::Local { dir, port } => local(dir, port).await?,
        Command::HoldClipboard { .. } => unreachable!("handled before the runtime starts"),
    }
    Ok(())
}

async fn ls(global: &GlobalArgs, uri: Option<&str>) -> anyhow::Result<()> {
    let location: Option<S3Uri> = uri.map(str::parse).transpose()?;
    let conn = connect(global).await?;
    let mut out = std::io::stdout().lock();
    // Keys are the server's data: on a terminal their control characters are shown escaped,
    // so a key cannot move the cursor or recolour the screen.
    let tty = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let show = |s: &str| {
        if tty {
            escape_controls(s)
        } else {
            s.to_owned()
        }
    };
    match location {
        None => {
            for b in list_buckets(&conn).await? {
                let created = b.created.map(format_iso).unwrap_or_default();
                writeln!(out, "{created:>20} {}", show(&b.name))?;
            }
        }
        Some(loc) => {
            let mut write_err = None;
            list_level(&conn, &loc.bucket, &loc.key, |entries| {
                for e in entries {
                    let line = match e {
                        Entry::Prefix(p) => {
                            // A server may answer prefixes that do not start with the one
                            // asked for: shown whole, never cut.
                            let name = p.strip_prefix(loc.key.as_str()).unwrap_or(&p);
                            format!("{:>31} {}", "PRE", show(name))
                        }
                        Entry::Object(o) => format!(
                            "{:>10} {:>20} {}",
                            o.size,
                            o.last_modified.map(format_iso).unwrap_or_default(),
                            show(&o.key)
                        ),
                    };
                    if let Err(e) = writeln!(out, "{line}") {
                        write_err = Some(e);
                        return ControlFlow::Break(());
                    }
                }
                ControlFlow::Continue(())
            })
            .await?;
            if let Some(e) = write_err {
                return Err(e.into());
            }
        }
    }
    Ok(())
}

/// Control characters (and the bidirectional overrides that reorder text on screen) as
/// visible escapes: `\x1b`, `\u{202e}`; a backslash is doubled so the text stays unambiguous.
pub fn escape_controls(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        if c == '\\' {
            out.push_str("\\\\");
        } else if c.is_control() && u32::from(c) < 0x80 {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else if c.is_control() || bidi {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Text for stderr (names, paths): escaped, since a key from the server may carry control
/// characters and stderr is usually a terminal.
fn shown(s: &str) -> String {
    escape_controls(s)
}

async fn upload_files(
    global: &GlobalArgs,
    paths: &[PathBuf],
    dest: &S3Uri,
    overwrite: bool,
    checksum: ChecksumAlgorithm,
    share_expiry: Option<Expiry>,
) -> anyhow::Result<()> {
    let plan = {
        let (paths, dest) = (paths.to_vec(), dest.clone());
        tokio::task::spawn_blocking(move || ops::plan_uploads(&paths, &dest))
            .await
            .context("planning the uploads stopped")??
    };
    let conn = connect(global).await?;
    let total = plan.files.len() + plan.errors.len();
    let mut failed = plan.errors.len();
    let mut errors = plan.errors.into_iter();
    if total == 1
        && let Some(only) = errors.next()
    {
        return Err(only.into());
    }
    for e in errors {
        eprintln!("error: {}", shown(&e.to_string()));
    }
    for file in &plan.files {
        let job = UploadJob {
            path: file.path.clone(),
            object: S3Uri::new(dest.bucket.clone(), file.key.clone()),
            clash: if overwrite {
                Clash::Replace
            } else {
                Clash::Refuse
            },
            checksum,
            share: share_expiry,
        };
        let bar = progress_bar(&shown(&file.path.display().to_string()));
        let on_progress = |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        };
        let result = ops::upload(&conn, &job, &on_progress).await;
        bar.finish_and_clear();
        match result {
            Ok(done) => {
                eprintln!(
                    "uploaded {} ({} bytes) to {}",
                    shown(&file.path.display().to_string()),
                    done.size,
                    shown(&done.object.to_string())
                );
                match done.link {
                    Some(Ok(link)) => {
                        if let Some(w) = link.cut_short_warning() {
                            eprintln!("{w}");
                        }
                        println!("{}", link.url());
                    }
                    Some(Err(e)) if total == 1 => return Err(e.into()),
                    Some(Err(e)) => {
                        eprintln!("error: uploaded, but no link: {}", shown(&e.to_string()));
                        failed += 1;
                    }
                    None => {}
                }
            }
            Err(e) if total == 1 => return Err(e.into()),
            Err(e) => {
                eprintln!("error: {}", shown(&e.to_string()));
                failed += 1;
            }
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(Error::new(
            ErrorKind::Server,
            format!("{n} of {total} uploads failed (see above)"),
        )
        .into()),
    }
}

fn progress_bar(name: &str) -> indicatif::ProgressBar {
    let bar =
        indicatif::ProgressBar::with_draw_target(Some(0), indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(name.to_owned());
    bar
}

async fn local(dir: Option<PathBuf>, port: u16) -> anyhow::Result<()> {
    use crate::engine::local_store::{LocalStore, default_options};
    let opts = default_options(port, dir)?;
    let store = LocalStore::start(opts).await?;
    let mut out = std::io::stdout().lock();
    for line in store.env_lines() {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    drop(out);
    eprintln!(
        "s3share local store: serving {} at {} (bucket \"shared\"); links work only on this computer. Ctrl-C stops it.",
        store.data_dir().display(),
        store.endpoint_url()
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    eprintln!("stopping");
    store.shutdown().await;
    Ok(())
}

/// What the clipboard keeper inherits: the display (X11 or Wayland) and how to authenticate to
/// it, nothing else.
const CLIPBOARD_KEEPER_ENV: [&str; 5] = [
    "DISPLAY",
    "XAUTHORITY",
    "WAYLAND_DISPLAY",
    "XDG_RUNTIME_DIR",
    "HOME",
];

/// Hand the link to a background copy of ourselves that owns the X11 clipboard until another
/// program takes it or the link expires (X11 keeps no clipboard of its own), then check that
/// a paste would see it. The link goes through a pipe, never the command line.
fn copy_to_clipboard(url: &str, until: SystemTime) -> anyhow::Result<()> {
    use std::process::{Command as Process, Stdio};
    let exe = std::env::current_exe().context("cannot find our own program")?;
    let until_secs = until
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut cmd = Process::new(exe);
    // It lives as long as the link: it gets only what reaching the display needs, never the
    // AWS secrets of this environment (readable in /proc for days otherwise).
    cmd.env_clear();
    for var in CLIPBOARD_KEEPER_ENV {
        if let Some(v) = std::env::var_os(var) {
            cmd.env(var, v);
        }
    }
    cmd.arg("__hold-clipboard")
        .arg(until_secs.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        // Its own process group: a Ctrl-C in this terminal later does not take the link away.
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().context("cannot start the clipboard keeper")?;
    child
        .stdin
        .take()
        .context("no pipe to the clipboard keeper")?
        .write_all(url.as_bytes())?;
    // Dropping the pipe closes it: the keeper has the whole link.
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("the clipboard keeper stopped ({status}); is there a display?");
        }
        if arboard::Clipboard::new()
            .and_then(|mut c| c.get_text())
            .is_ok_and(|t| t == url)
        {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    anyhow::bail!("the clipboard did not take the link in time")
}

fn hold_clipboard(until_unix: u64) -> anyhow::Result<()> {
    #[cfg(target_os = "linux")]
    use arboard::SetExtLinux as _;
    use std::io::Read as _;
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let left = Duration::from_secs(until_unix).saturating_sub(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default(),
    );
    let mut clipboard = arboard::Clipboard::new().context("no clipboard (no display?)")?;
    #[cfg(target_os = "linux")]
    clipboard
        .set()
        .wait_until(Instant::now() + left)
        .text(text)?;
    #[cfg(not(target_os = "linux"))]
    {
        // Elsewhere the system keeps the clipboard itself.
        let _ = left;
        clipboard.set_text(text)?;
    }
    Ok(())
}

/// The one line `main` prints for a failed command.
pub fn error_line(err: &anyhow::Error) -> String {
    let text = match err.downcast_ref::<Error>() {
        Some(e) => e.to_string(),
        None => format!("{err:#}"),
    };
    // One line, whatever a key or path in it holds.
    format!("error: {}", escape_controls(&text))
}

/// Exit status by kind, for scripts: 1 generic, 2 usage (clap), 3 not found, 4 access denied or
/// credentials, 5 already exists.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    match err.downcast_ref::<Error>().map(Error::kind) {
        Some(ErrorKind::NotFound) => 3,
        Some(
            ErrorKind::AccessDenied | ErrorKind::NoCredentials | ErrorKind::ExpiredCredentials,
        ) => 4,
        Some(ErrorKind::AlreadyExists) => 5,
        Some(ErrorKind::InvalidInput) => 2,
        _ => 1,
    }
}
