//! Links, upload requests and the register, on a session: every link made is recorded.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::session::Session;
use crate::base::blocking::run_blocking;
use crate::base::error::{Error, ErrorKind, Result};
use crate::base::expiry::Expiry;
use crate::base::s3uri::PAGES_PREFIX;
use crate::base::s3uri::S3Uri;
use crate::client::browse::delete_object;
use crate::links::check::{check_url, verify};
use crate::links::page::{PageRequest, SharePage, share_page};
use crate::links::register::{LinkKind, LinkRecord};
use crate::links::request::{RequestSpec, UploadRequestForm, make_request};
use crate::links::share::{ShareLink, ShareRequest, share};
use crate::trust::guardrails::{Guardrails, read_guardrails};

impl Session {
    /// Sign a link for `req.object` (after checking it is there and readable), fold in the
    /// bucket policy's rules for links (refused when no link can work), and record it.
    pub async fn share(&self, req: &ShareRequest) -> Result<ShareLink> {
        let rails = self.guardrails(&req.object).await?;
        let mut link = share(self.connection(), req).await?;
        fold_guardrails(&mut link, rails.as_ref());
        link.register_note = self.record(link.record()).await;
        Ok(link)
    }

    /// The bucket policy's rules for a link to `object`, or an error when they refuse every
    /// presigned link (nothing is signed then).
    async fn guardrails(&self, object: &S3Uri) -> Result<Option<Guardrails>> {
        let rails = read_guardrails(self.connection(), &object.bucket, &object.key).await;
        if let Some(why) = rails.as_ref().and_then(|g| g.refused.as_ref()) {
            return Err(Error::new(
                ErrorKind::AccessDenied,
                format!("No link can work here, so none was made: {why}: {object}"),
            ));
        }
        Ok(rails)
    }

    /// One link for a folder or several objects: the share page, recorded as one entry.
    pub async fn share_page(&self, req: &PageRequest) -> Result<SharePage> {
        let first = req
            .items
            .first()
            .cloned()
            .unwrap_or_else(|| S3Uri::new("", ""));
        let page_key = S3Uri::new(first.bucket, format!("{PAGES_PREFIX}page.html"));
        let rails = if page_key.bucket.is_empty() {
            None
        } else {
            self.guardrails(&page_key).await?
        };
        let age = rails.as_ref().and_then(|g| g.max_signature_age);
        let mut page = share_page(self.connection(), req, age).await?;
        fold_guardrails(&mut page.link, rails.as_ref());
        page.link.register_note = self.record(page.record()).await;
        Ok(page)
    }

    /// [`Self::share`] with no download name, signed now: Copy link, share on drop.
    pub async fn share_object(&self, object: S3Uri, expires: Expiry) -> Result<ShareLink> {
        self.share(&ShareRequest {
            object,
            expires,
            download_name: None,
            now: None,
        })
        .await
    }

    /// Share the object of an earlier link again, for as long as was asked then (within
    /// today's caps), signed now: Renew. Only on the connection the link was made on — the
    /// same bucket name elsewhere is another bucket.
    pub async fn renew(&self, record: &LinkRecord) -> Result<ShareLink> {
        if record.kind != LinkKind::Link {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "Only a download link can be renewed: make a new upload request instead",
            ));
        }
        let here = self.connection().endpoint_label();
        if record.endpoint != here {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "This link was made on {}: connect to it to renew the link",
                    record.endpoint
                ),
            ));
        }
        let asked = Duration::from_secs(record.requested_secs).clamp(Expiry::MIN, Expiry::MAX);
        self.share_object(record.object(), Expiry::new(asked)?)
            .await
    }

    /// Fetch one byte through `link`, as a recipient would.
    pub async fn verify(&self, link: &ShareLink) -> Result<()> {
        verify(self.connection(), link).await
    }

    /// Sign an upload request and record it.
    pub async fn request(&self, spec: &RequestSpec) -> Result<UploadRequestForm> {
        let mut form = make_request(self.connection(), spec).await?;
        form.register_note = self.record(form.record()).await;
        Ok(form)
    }

    /// Does a registered link still work? (One byte through it; for a share page, through the
    /// page and every link on it; requests are not checked.)
    pub async fn check_link(&self, record: &LinkRecord) -> Result<()> {
        let http = self.connection().http();
        check_url(http, &record.url, &record.object()).await?;
        if record.kind == LinkKind::Page {
            for (key, url) in &record.fields {
                check_url(http, url, &S3Uri::new(record.bucket.clone(), key.clone())).await?;
            }
        }
        Ok(())
    }

    /// Delete the pages (share pages, upload requests' pages) this connection made that have
    /// expired (their links no longer work, so the pages are litter), and say how many went.
    /// Pages made elsewhere, or already deleted, are left alone; a page that cannot be deleted
    /// now is tried again next time.
    pub async fn prune_pages(&self) -> Result<usize> {
        let Some(register) = self.register().cloned() else {
            return Ok(0);
        };
        let now = std::time::SystemTime::now();
        let here = self.connection().endpoint_label();
        let expired: Vec<LinkRecord> = self
            .links()
            .await?
            .into_iter()
            .filter(|r| r.page().is_some() && !r.is_live(now) && r.endpoint == here)
            .collect();
        let mut deleted = Vec::new();
        for r in &expired {
            if let Some(page) = r.page()
                && delete_object(self.connection(), &page).await.is_ok()
            {
                deleted.push(r.id.clone());
            }
        }
        let count = deleted.len();
        run_blocking(move || register.mark_pages_deleted(&deleted)).await?;
        Ok(count)
    }

    /// The register, newest first (expired entries up to 30 days after).
    pub async fn links(&self) -> Result<Vec<LinkRecord>> {
        let register = self.register().cloned();
        run_blocking(move || register.map_or_else(|| Ok(Vec::new()), |r| r.list())).await
    }

    /// Drop the entry `id` from the register, then list it.
    pub async fn forget_link(&self, id: String) -> Result<Vec<LinkRecord>> {
        let register = self.register().cloned();
        run_blocking(move || match register {
            Some(r) => {
                r.forget(&id)?;
                r.list()
            }
            None => Ok(Vec::new()),
        })
        .await
    }
}

/// The bucket policy's rules in the link: its end when `s3:signatureAge` comes first, and the
/// other rules in words.
fn fold_guardrails(link: &mut ShareLink, rails: Option<&Guardrails>) {
    let Some(rails) = rails else {
        return;
    };
    if let Some(age) = rails.max_signature_age {
        let end = link.signed_at + age;
        // Sooner than asked, and not later than what else ends it (the credentials).
        if end < link.signed_at + link.requested.duration() && end <= link.expires_at {
            link.policy_end = Some(end);
            link.expires_at = end;
        }
    }
    link.policy_notes = Guardrails {
        max_signature_age: None,
        ..rails.clone()
    }
    .lines();
}

/// Write an upload request's page to `path`: it holds the request's signature, so 0600.
pub async fn save_page(path: PathBuf, html: String) -> Result<PathBuf> {
    run_blocking(move || {
        s3share_core::fs::write_private(&path, html.as_bytes())
            .map_err(|e| Error::local_io("write", &path, &e))?;
        Ok(path)
    })
    .await
}

/// Refuse a folder where a page file is wanted.
pub fn check_page_path(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(Error::invalid(format!(
            "A page is written to a file, and this is a folder: {}",
            path.display()
        )));
    }
    Ok(())
}
