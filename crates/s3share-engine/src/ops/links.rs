//! Links, upload requests and the register, on a session: every link made is recorded.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::session::Session;
use crate::base::blocking::run_blocking;
use crate::base::error::{Error, ErrorKind, Result};
use crate::base::expiry::Expiry;
use crate::base::s3uri::S3Uri;
use crate::links::check::{check_url, verify};
use crate::links::register::{LinkKind, LinkRecord};
use crate::links::request::{RequestSpec, UploadRequestForm, make_request};
use crate::links::share::{ShareLink, ShareRequest, share};

impl Session {
    /// Sign a link for `req.object` (after checking it is there and readable) and record it.
    pub async fn share(&self, req: &ShareRequest) -> Result<ShareLink> {
        let mut link = share(self.connection(), req).await?;
        link.register_note = self.record(link.record()).await;
        Ok(link)
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

    /// Does a registered link still work? (One byte through it; requests are not checked.)
    pub async fn check_link(&self, record: &LinkRecord) -> Result<()> {
        check_url(self.connection().http(), &record.url, &record.object()).await
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
