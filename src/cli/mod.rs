//! The command-line twin: `ls`, `share`, `upload`, `download`, `uploads`, `posture`,
//! `policy`, `links`, `request`, `local`. A thin front on `engine::ops`; stdout carries only
//! results (URLs, listings, policies), stderr notes, progress and errors.

mod clipboard;
mod progress;
mod transfer;
mod trust;

use std::io::Write as _;
use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::engine::base::expiry::Expiry;
use crate::engine::base::paths::Paths;
use crate::engine::base::s3uri::S3Uri;
use crate::engine::base::wording::{format_iso, parse_size};
use crate::engine::client::browse::Entry;
use crate::engine::client::connection::ConnectionSettings;
use crate::engine::links::page::PageRequest;
use crate::engine::links::request::RequestFolder;
use crate::engine::links::share::ShareRequest;
use crate::engine::ops::Session;
use crate::engine::transfer::TransferSettings;
use crate::engine::transfer::upload::ChecksumAlgorithm;
use crate::engine::{Error, ErrorKind};

#[derive(Debug, Parser)]
#[command(
    name = "s3share",
    version,
    about = "Share files out of private S3 buckets with time-limited links",
    long_about = "Share files out of private S3 buckets with time-limited links.\n\n\
        Without a command, opens the window; files given (as a file manager's \"Open with\" \
        does) are uploaded into the folder it opens, and their links copied, as if dropped."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Files or folders to upload in the window (what "Open with s3share" passes).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// What `policy` prints: a signer's policy, or with `--guardrails` a bucket policy.
#[derive(Debug, Args, Clone, Default)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent flags of one command, as clap parses them"
)]
pub struct PolicyArgs {
    #[arg(value_name = "s3://BUCKET/PREFIX/")]
    pub uri: String,
    /// Also uploads (PutObject and the multipart actions) and upload requests.
    #[arg(long)]
    pub upload: bool,
    /// Also listing the prefix (the app's browser, `ls`).
    #[arg(long)]
    pub browse: bool,
    /// Also share pages (one link for a folder or several files): s3share's own
    /// `.s3share/pages/` in the bucket, and listing the prefix.
    #[arg(long)]
    pub pages: bool,
    /// Instead, the bucket policy that fences presigned links in (AWS's guardrails): links
    /// die --max-link-age after signing, HTTPS only, no SigV2, and with --from only from there.
    #[arg(long)]
    pub guardrails: bool,
    /// With --guardrails: how long after signing every link dies (1 s to 7 days).
    #[arg(
        long,
        default_value = "10m",
        value_name = "EXPIRY",
        requires = "guardrails"
    )]
    pub max_link_age: String,
    /// With --guardrails: links work only from this network (repeat for more).
    #[arg(long = "from", value_name = "CIDR", requires = "guardrails")]
    pub networks: Vec<String>,
}

/// What `links` shows and does.
#[derive(Debug, Args, Clone, Default)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "four independent flags of one command, as clap parses them"
)]
pub struct LinksArgs {
    /// Also the expired ones (kept 30 days).
    #[arg(long)]
    pub all: bool,
    /// Fetch one byte of each live link and say whether it still works.
    #[arg(long)]
    pub check: bool,
    /// Say, for each, how to kill it before it expires.
    #[arg(long)]
    pub revoke: bool,
    /// Delete the expired share pages s3share wrote (also done whenever there are some).
    #[arg(long)]
    pub prune: bool,
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
    /// Presigned GET link: one object's own link, or for a folder (`s3://B/P/`) or several
    /// objects, one link to a share page listing each with its link (all ending together).
    Share {
        /// The object to share; or a folder, or several objects, for one share page.
        #[arg(required = true, value_name = "s3://BUCKET/KEY")]
        uris: Vec<String>,
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
        /// Integrity checksum sent with each single-PUT upload (parts always carry CRC32C).
        #[arg(long, default_value = "crc32c", value_name = "crc32c|sha256")]
        checksum: String,
        #[command(flatten)]
        transfer: TransferArgs,
    },
    /// Download an object to a file or into a folder, or a whole prefix (ending in /) into a
    /// folder, its key layout mirrored.
    Download {
        /// The object, or the prefix, to download.
        #[arg(value_name = "s3://BUCKET/KEY|s3://BUCKET/PREFIX/")]
        uri: String,
        /// A file path, or a folder to download into.
        path: PathBuf,
        /// Replace local files that already exist.
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        transfer: TransferArgs,
    },
    /// List unfinished multipart uploads in a bucket (anyone's: they cost storage until
    /// completed or aborted), and abort the old ones.
    Uploads {
        #[arg(value_name = "s3://BUCKET")]
        uri: String,
        /// Abort those begun longer ago than this (90s, 15m, 2h, 7d).
        #[arg(long, value_name = "AGE")]
        abort_older_than: Option<String>,
    },
    /// Say how exposed a bucket is: `Private`, `Public` (and what makes it so) or `Unknown`,
    /// then one line per fact (Block Public Access, policy, ACL, encryption, versioning,
    /// ownership, access logging).
    Posture {
        #[arg(value_name = "s3://BUCKET")]
        uri: String,
    },
    /// Print the least-privilege IAM policy a dedicated signing user or role needs for links
    /// under a prefix.
    Policy(PolicyArgs),
    /// The links made (share, upload --share, the app, upload requests), newest first.
    Links(LinksArgs),
    /// Make an upload request: anyone with it may upload files under the prefix, up to a size,
    /// until it expires. Prints the `curl` command a recipient runs (`<FILE>` is their file).
    Request {
        #[arg(value_name = "s3://BUCKET/PREFIX/")]
        uri: String,
        /// The largest file: 500B, 1KB, 100MB, 2GiB.
        #[arg(long, value_name = "SIZE")]
        max_size: String,
        /// How long the request works: 90s, 15m, 2h, 1d, 7d.
        #[arg(long, default_value = "1d")]
        expires: String,
        /// Accept only this content type (image/png).
        #[arg(long, value_name = "TYPE")]
        content_type: Option<String>,
        /// Also write a small web page with the upload form, to send to the people who should
        /// upload.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Let files land straight in PREFIX instead of a folder of the request's own: anyone
        /// with the request may then replace any object under PREFIX.
        #[arg(long)]
        no_own_folder: bool,
        /// With --no-own-folder at the bucket's root: allow replacing any object in the bucket.
        #[arg(long, requires = "no_own_folder")]
        allow_whole_bucket: bool,
    },
    /// Run the embedded S3-compatible store on 127.0.0.1 in the foreground.
    Local {
        /// Folder holding the data (default: the user's data folder).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Port (default: the one this folder was last served on, else 9000; 0 picks a free
        /// one).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Internal: hold the clipboard for `share --copy` until replaced or the link expires.
    #[command(hide = true, name = "__hold-clipboard")]
    HoldClipboard {
        /// Unix time (seconds) when to let go.
        until: u64,
    },
}

/// How transfers are cut up (parts for uploads, ranges for downloads).
#[derive(Debug, Args, Clone, Default)]
pub struct TransferArgs {
    /// Files larger than this go in parts / parallel ranges [default: 64MiB].
    #[arg(long, value_name = "SIZE")]
    pub multipart_above: Option<String>,
    /// Size of each part or range (grown to fit 10,000 parts) [default: 16MiB].
    #[arg(long, value_name = "SIZE")]
    pub part_size: Option<String>,
    /// Parts or ranges in flight at most; a download starts with one range and adds more
    /// while they make it faster [default: 4].
    #[arg(long, value_name = "N")]
    pub parallel: Option<usize>,
}

impl TransferArgs {
    /// The engine's settings, with unfinished uploads remembered in the user's data folder.
    fn settings(&self) -> anyhow::Result<TransferSettings> {
        let paths = Paths::for_user().ok();
        let mut s = TransferSettings {
            state_dir: paths.as_ref().map(Paths::uploads_dir),
            download_state_dir: paths.as_ref().map(Paths::downloads_dir),
            ..TransferSettings::default()
        };
        if let Some(t) = &self.multipart_above {
            s.multipart_threshold = parse_size(t)?;
        }
        if let Some(t) = &self.part_size {
            s.part_size = parse_size(t)?;
        }
        if let Some(n) = self.parallel {
            if n == 0 || n > 64 {
                return Err(Error::invalid("--parallel takes 1 to 64").into());
            }
            s.parallel = n;
        }
        Ok(s)
    }
}

/// Run a CLI command to completion. Errors are returned for `main` to print as one line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let Some(command) = cli.command else {
        anyhow::bail!("no command given");
    };
    if let Command::HoldClipboard { until } = command {
        return clipboard::hold_clipboard(until);
    }
    let runtime = crate::engine::ops::runtime().context("could not start the async runtime")?;
    // The same step to take as the app names, e.g. the `aws sso login` for this profile.
    let settings = cli.global.settings();
    runtime
        .block_on(run_async(cli.global, command))
        .map_err(|e| match e.downcast::<Error>() {
            Ok(err) => settings.explain(err).into(),
            Err(e) => e,
        })
}

/// The session for a command: the connection the global flags ask for, the user's register.
pub(crate) async fn connect(global: &GlobalArgs) -> Result<Session, Error> {
    let (session, notes) = Session::open(global.settings()).await?;
    for note in notes {
        eprintln!("{note}");
    }
    Ok(session)
}

async fn run_async(global: GlobalArgs, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Ls { uri } => ls(&global, uri.as_deref()).await?,
        Command::Share {
            uris,
            expires,
            download_name,
            verify: check,
            copy,
        } => share_command(&global, &uris, &expires, download_name, check, copy).await?,
        Command::Upload {
            mut args,
            share: share_for,
            overwrite,
            checksum,
            transfer,
        } => {
            let dest: S3Uri = args.pop().unwrap_or_default().parse()?;
            let upload = transfer::UploadArgs {
                paths: args.into_iter().map(PathBuf::from).collect(),
                dest,
                overwrite,
                checksum: checksum.parse::<ChecksumAlgorithm>()?,
                share: share_for.as_deref().map(str::parse::<Expiry>).transpose()?,
            };
            transfer::upload(&global, upload, &transfer.settings()?).await?;
        }
        Command::Download {
            uri,
            path,
            overwrite,
            transfer,
        } => {
            let source: S3Uri = uri.parse()?;
            transfer::download(&global, &source, &path, overwrite, &transfer.settings()?).await?;
        }
        Command::Uploads {
            uri,
            abort_older_than,
        } => {
            let bucket: S3Uri = uri.parse()?;
            let age = abort_older_than
                .as_deref()
                .map(str::parse::<Expiry>)
                .transpose()?;
            transfer::uploads(&global, &bucket, age, &TransferArgs::default().settings()?).await?;
        }
        Command::Posture { uri } => {
            let bucket: S3Uri = uri.parse()?;
            trust::require_bucket(&bucket)?;
            trust::posture(&global, &bucket).await?;
        }
        Command::Policy(args) => trust::policy(&args)?,
        Command::Links(args) => trust::links(&global, &args).await?,
        Command::Request {
            uri,
            max_size,
            expires,
            content_type,
            html,
            no_own_folder,
            allow_whole_bucket,
        } => {
            let args = trust::RequestArgs {
                prefix: uri.parse()?,
                max_size,
                expires,
                content_type,
                html,
                folder: if no_own_folder {
                    RequestFolder::Prefix {
                        whole_bucket: allow_whole_bucket,
                    }
                } else {
                    RequestFolder::Own
                },
            };
            trust::request(&global, args).await?;
        }
        Command::Local { dir, port } => local(dir, port).await?,
        Command::HoldClipboard { .. } => unreachable!("handled before the runtime starts"),
    }
    Ok(())
}

/// `share`: the link alone on stdout; its lifetime, checks and clipboard on stderr.
async fn share_command(
    global: &GlobalArgs,
    uris: &[String],
    expires: &str,
    download_name: Option<String>,
    check: bool,
    copy: bool,
) -> anyhow::Result<()> {
    let items = uris
        .iter()
        .map(|u| u.parse::<S3Uri>())
        .collect::<Result<Vec<_>, _>>()?;
    let expires: Expiry = expires.parse()?;
    let page = match items.as_slice() {
        [one] => one.key.is_empty() || one.key.ends_with('/'),
        _ => true,
    };
    if page && download_name.is_some() {
        anyhow::bail!(Error::invalid(
            "--download-name names one file; a share page keeps each file's own name"
        ));
    }
    let session = connect(global).await?;
    let (link, listed) = if page {
        let page = session
            .share_page(&PageRequest {
                items,
                expires,
                now: None,
            })
            .await?;
        let listed = format!("share page of {}: {}", page.summary(), shown(&page.title));
        (page.link, Some(listed))
    } else {
        let Some(object) = items.into_iter().next() else {
            anyhow::bail!(Error::invalid("Nothing to share"));
        };
        let req = ShareRequest {
            object,
            expires,
            download_name,
            now: None,
        };
        (session.share(&req).await?, None)
    };
    for w in link.warnings() {
        eprintln!("{w}");
    }
    if let Some(note) = &link.register_note {
        eprintln!("{}", shown(note));
    }
    if check {
        session.verify(&link).await?;
        eprintln!("checked: the link works");
    }
    println!("{}", link.url());
    if let Some(listed) = listed {
        eprintln!("{listed}");
    }
    eprintln!("link {}", link.describe());
    if copy {
        let until = link.expires_at;
        if let Err(e) = clipboard::copy_to_clipboard(link.url(), until) {
            eprintln!(
                "warning: could not put the link on the clipboard ({e:#}); it is printed above"
            );
        } else {
            eprintln!("copied to the clipboard");
        }
    }
    Ok(())
}

async fn ls(global: &GlobalArgs, uri: Option<&str>) -> anyhow::Result<()> {
    let location: Option<S3Uri> = uri.map(str::parse).transpose()?;
    let session = connect(global).await?;
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
            for b in session.list_buckets().await? {
                let created = b.created.map(format_iso).unwrap_or_default();
                writeln!(out, "{created:>20} {}", show(&b.name))?;
            }
        }
        Some(loc) => {
            let mut write_err = None;
            session
                .list_level(&loc.bucket, &loc.key, |entries| {
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
pub(crate) fn shown(s: &str) -> String {
    escape_controls(s)
}

async fn local(dir: Option<PathBuf>, port: Option<u16>) -> anyhow::Result<()> {
    let opts = crate::local::options_for_user(&Paths::for_user()?, port, dir)?;
    let store = crate::local::start(opts).await?;
    let mut out = std::io::stdout().lock();
    for line in store.env_lines() {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    drop(out);
    eprintln!(
        "s3share local store: serving {} at {} (bucket \"{}\"); links work only on this computer. Ctrl-C stops it.",
        store.data_dir().display(),
        store.endpoint_url(),
        s3share_store::DEFAULT_BUCKET,
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    eprintln!("stopping");
    store.shutdown().await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_without_a_command_open_the_window_with_them() {
        // What a file manager runs for `Exec=s3share -- %F`.
        let cli = Cli::try_parse_from(["s3share", "--", "/home/a/report.pdf", "/home/a/share"])
            .expect("parses");
        assert!(cli.command.is_none());
        assert_eq!(
            cli.files,
            [
                PathBuf::from("/home/a/report.pdf"),
                PathBuf::from("/home/a/share")
            ]
        );
        // A file named like a command, after `--`, is a file.
        let cli = Cli::try_parse_from(["s3share", "--", "share"]).expect("parses");
        assert!(cli.command.is_none());
        assert_eq!(cli.files, [PathBuf::from("share")]);
        let cli = Cli::try_parse_from(["s3share", "--endpoint", "http://127.0.0.1:9", "a.txt"])
            .expect("parses");
        assert_eq!(cli.files, [PathBuf::from("a.txt")]);
        assert!(cli.global.endpoint.is_some());
        let cli = Cli::try_parse_from(["s3share", "ls"]).expect("parses");
        assert!(matches!(cli.command, Some(Command::Ls { .. })) && cli.files.is_empty());
        // Connection options before the command leave it a command.
        let cli = Cli::try_parse_from([
            "s3share",
            "--endpoint",
            "http://127.0.0.1:9",
            "--path-style",
            "share",
            "s3://b/k",
            "--expires",
            "2m",
        ])
        .expect("parses");
        assert!(matches!(cli.command, Some(Command::Share { .. })) && cli.files.is_empty());
    }
}
