//! `posture`, `policy`, `links` and `request`: what protects a bucket, what a signer needs, the
//! links made and how to kill them, and upload requests. The work is in the engine.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::SystemTime;

use super::{GlobalArgs, LinksArgs, PolicyArgs, connect, shown};
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
pub fn policy(args: &PolicyArgs) -> anyhow::Result<()> {
    let location: S3Uri = args.uri.parse()?;
    if args.guardrails {
        require_bucket(&location)?;
        let age: Expiry = args.max_link_age.parse()?;
        let json = ops::guardrail_policy(&location, age, &args.networks)?;
        println!("{}", serde_json::to_string_pretty(&json)?);
        eprintln!(
            "note: a bucket policy (aws s3api put-bucket-policy --bucket {} --policy file://guardrails.json); it replaces the bucket's current policy, so merge the statements into it",
            location.bucket
        );
        return Ok(());
    }
    let needs = SignerNeeds {
        upload: args.upload,
        browse: args.browse,
        pages: args.pages,
    };
    let json = serde_json::to_string_pretty(&ops::signer_policy(&location, needs)?)?;
    println!("{json}");
    for note in crate::engine::trust::policy::policy_notes(&location, needs) {
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
        LinkKind::Page => "share-page",
    };
    let signer = r.signer.label();
    let ends = time::OffsetDateTime::from_unix_timestamp(r.expires_unix)
        .map(format_iso)
        .unwrap_or_default();
    let mut line = format!(
        "{ends} {state} {kind} {} signer {signer}",
        shown(&r.object().to_string())
    );
    if r.kind == LinkKind::Page {
        let _ = write!(line, " ({} files)", r.fields.len());
    }
    if let Some(c) = check {
        line.push_str(" · ");
        line.push_str(&shown(c));
    }
    line.push(' ');
    line.push_str(&r.url);
    line
}

/// `links [--all] [--check] [--revoke]`: the register, newest first.
pub async fn links(global: &GlobalArgs, args: &LinksArgs) -> anyhow::Result<()> {
    let LinksArgs {
        all,
        check,
        revoke,
        prune,
    } = *args;
    let register = Register::for_user()?;
    let now = SystemTime::now();
    let litter = register
        .list()?
        .iter()
        .any(|r| r.page().is_some() && !r.is_live(now));
    let session = if check || prune {
        Some(connect(global).await?)
    } else if litter {
        // Expired share pages are deleted whenever the register is looked at; without a
        // connection now, next time.
        connect(global).await.ok()
    } else {
        None
    };
    if let Some(s) = &session {
        match s.prune_pages().await {
            Ok(0) => {}
            Ok(1) => eprintln!("deleted 1 expired share page from its bucket"),
            Ok(n) => eprintln!("deleted {n} expired share pages from their buckets"),
            Err(e) if prune => return Err(e.into()),
            Err(e) => eprintln!(
                "note: expired share pages were not deleted: {}",
                e.message()
            ),
        }
    }
    let records = register.list()?;
    let shown_records: Vec<&LinkRecord> =
        records.iter().filter(|r| all || r.is_live(now)).collect();
    let session = session.filter(|_| check);
    let mut out = std::io::stdout().lock();
    for r in &shown_records {
        let verdict = match (&session, r.kind) {
            (Some(s), LinkKind::Link | LinkKind::Page) if r.is_live(now) => {
                Some(match s.check_link(r).await {
                    Ok(()) => "works".to_owned(),
                    Err(e) => e.message().to_owned(),
                })
            }
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
    if let Some((_, page)) = &form.page {
        println!("{}", page.url());
    }
    if let Some(note) = &form.page_note {
        eprintln!("warning: {}", shown(note));
    }
    eprintln!("{}", shown(&form.summary()));
    let reach = form.reach();
    if form.folder == RequestFolder::Own {
        eprintln!("{}", shown(&reach));
    } else {
        eprintln!("warning: {}", shown(&reach));
    }
    eprintln!(
        "send the page's link (the last line) to open in a browser, or the curl line with <FILE> replaced by the file's path"
    );
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
