//! `posture`, `policy`, `links` and `request`: what protects a bucket, what a signer needs, the
//! links made and how to kill them, and upload requests. The work is in the engine.

use std::io::Write as _;
use std::time::SystemTime;

use super::{GlobalArgs, connect, shown};
use crate::engine::base::error::{Error, ErrorKind};
use crate::engine::base::expiry::Expiry;
use crate::engine::base::s3uri::S3Uri;
use crate::engine::base::wording::{REQUEST_CUT_SHORT, format_iso, parse_size};
use crate::engine::links::register::{LinkKind, LinkRecord, Register};
use crate::engine::links::request::{RequestFolder, RequestSpec};
use crate::engine::ops;
use crate::engine::trust::policy::SignerNeeds;
use crate::engine::trust::posture::Verdict;

/// `posture s3://BUCKET`: the verdict word first, then one line per fact.
pub async fn posture(global: &GlobalArgs, bucket: &S3Uri) -> anyhow::Result<()> {
    let session = connect(global).await?;
    let p = session.posture(&bucket.bucket).await?;
    let mut out = std::io::stdout().lock();
    match &p.verdict {
        Verdict::Public(why) => writeln!(out, "Public: {}", why.join("; "))?,
        v => writeln!(out, "{}", v.word())?,
    }
    for f in &p.facts {
        let mark = if f.warning { "warning: " } else { "" };
        writeln!(out, "{}: {mark}{}", f.name, f.value)?;
    }
    if matches!(p.verdict, Verdict::Public(_)) {
        writeln!(
            out,
            "note: objects here can be fetched without a link; a share link is not needed to reach them"
        )?;
    }
    Ok(())
}

/// `policy s3://BUCKET/PREFIX/ [--upload] [--browse]`: the signer's IAM policy, as JSON.
pub fn policy(location: &S3Uri, needs: SignerNeeds) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(&ops::signer_policy(location, needs)?)?;
    println!("{json}");
    for note in crate::engine::trust::policy::policy_notes(location, needs) {
        eprintln!("{}", shown(&note));
    }
    Ok(())
}

/// One line for a link: when it ends, its state, what it opens, who signed, the link.
fn link_line(r: &LinkRecord, now: SystemTime, check: Option<&str>) -> String {
    let state = if r.is_live(now) { "live" } else { "expired" };
    let kind = match r.kind {
        LinkKind::Link => "link",
        LinkKind::Request => "upload-request",
    };
    let signer = r.signer.label();
    let ends = time::OffsetDateTime::from_unix_timestamp(r.expires_unix)
        .map(format_iso)
        .unwrap_or_default();
    let mut line = format!(
        "{ends} {state} {kind} {} signer {signer}",
        shown(&r.object().to_string())
    );
    if let Some(c) = check {
        line.push_str(" · ");
        line.push_str(c);
    }
    line.push(' ');
    line.push_str(&r.url);
    line
}

/// `links [--all] [--check] [--revoke]`: the register, newest first.
pub async fn links(
    global: &GlobalArgs,
    all: bool,
    check: bool,
    revoke: bool,
) -> anyhow::Result<()> {
    let register = Register::for_user()?;
    let now = SystemTime::now();
    let records = register.list()?;
    let shown_records: Vec<&LinkRecord> =
        records.iter().filter(|r| all || r.is_live(now)).collect();
    let session = if check {
        Some(connect(global).await?)
    } else {
        None
    };
    let mut out = std::io::stdout().lock();
    for r in &shown_records {
        let verdict = match (&session, r.kind) {
            (Some(s), LinkKind::Link) if r.is_live(now) => Some(match s.check_link(r).await {
                Ok(()) => "works".to_owned(),
                Err(e) => e.message().to_owned(),
            }),
            (Some(_), _) => Some("not checked".to_owned()),
            (None, _) => None,
        };
        writeln!(out, "{}", link_line(r, now, verdict.as_deref()))?;
        if revoke {
            for step in r.how_to_revoke(&records, now) {
                writeln!(out, "    to revoke: {}", shown(&step))?;
            }
        }
    }
    drop(out);
    eprintln!(
        "{} of {} links in the register ({}){}",
        shown_records.len(),
        records.len(),
        register.path().display(),
        if all {
            ""
        } else {
            "; --all shows the expired ones too"
        }
    );
    Ok(())
}

/// What `request` was asked.
pub struct RequestArgs {
    pub prefix: S3Uri,
    pub max_size: String,
    pub expires: String,
    pub content_type: Option<String>,
    pub html: Option<std::path::PathBuf>,
    pub folder: RequestFolder,
}

/// `request s3://BUCKET/PREFIX/ --max-size 100MB [--expires 1d] [--content-type T]
/// [--html FILE]`: the `curl` command on stdout, the page written when asked.
pub async fn request(global: &GlobalArgs, args: RequestArgs) -> anyhow::Result<()> {
    let spec = RequestSpec {
        prefix: args.prefix,
        max_size: parse_size(&args.max_size)?,
        content_type: args.content_type,
        expires: args.expires.parse::<Expiry>()?,
        folder: args.folder,
    };
    if let Some(path) = &args.html {
        ops::check_page_path(path)?;
    }
    let session = connect(global).await?;
    let form = session.request(&spec).await?;
    if let Some(note) = &form.register_note {
        eprintln!("{}", shown(note));
    }
    if form.cut_short {
        eprintln!("warning: {REQUEST_CUT_SHORT}");
    }
    if let Some(path) = &args.html {
        ops::save_page(path.clone(), form.html_page()).await?;
        eprintln!(
            "wrote the upload page to {} (send it to the people who should upload)",
            shown(&path.display().to_string())
        );
    }
    println!("{}", form.curl_command());
    eprintln!("{}", shown(&form.summary()));
    let reach = form.reach();
    if form.folder == RequestFolder::Own {
        eprintln!("{}", shown(&reach));
    } else {
        eprintln!("warning: {}", shown(&reach));
    }
    eprintln!("replace <FILE> with the path of the file to upload");
    Ok(())
}

/// Refuse a bucket address where a prefix is needed, in the CLI's words.
pub fn require_bucket(uri: &S3Uri) -> anyhow::Result<()> {
    if uri.key.is_empty() {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidInput,
            format!("This takes a bucket, like s3://{}", uri.bucket),
        )
        .into())
    }
}
