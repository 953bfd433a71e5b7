//! The register of every link made (share, upload --share, share on drop, upload requests):
//! when, what, the requested and the real expiry, who signed it (profile, access key id,
//! whether temporary; never the secret) and the link itself, in one file (0600) in the data
//! folder. Entries that expired more than 30 days ago drop out. For each link it says how to
//! kill it early, specific to how it was signed, and can check that it still works.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::base::error::{Error, ErrorKind, Result};
use crate::base::paths::Paths;
use crate::base::s3uri::S3Uri;
use crate::base::signing::SigningCredentials;
use crate::base::wording::{describe_deadline, format_clock, format_duration, round_for_people};
use crate::client::connection::Connection;

/// How long an expired entry stays listed (`links --all`).
const KEEP_EXPIRED: Duration = Duration::from_secs(30 * 24 * 3600);

/// What was handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// A presigned GET of one object.
    Link,
    /// A presigned POST form: anyone may upload under a prefix.
    Request,
    /// A share page: a presigned GET of a page in the bucket listing files, each with its own
    /// link (kept in `fields` as key and link).
    Page,
}

/// Who signed: enough to say how to revoke, never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    pub profile: Option<String>,
    pub access_key_id: String,
    /// Signed with temporary credentials (SSO, an assumed role, a session token).
    pub temporary: bool,
    pub credentials_expire_unix: Option<i64>,
    /// The embedded store on this computer.
    pub local_store: bool,
}

impl Signer {
    /// Who signs with `creds` on `conn`.
    pub fn of(conn: &Connection, creds: &SigningCredentials) -> Self {
        Self {
            profile: conn.settings().profile.clone(),
            access_key_id: creds.access_key_id.clone(),
            temporary: creds.session_token.is_some() || creds.expires_at.is_some(),
            credentials_expire_unix: creds
                .expires_at
                .map(|t| time::OffsetDateTime::from(t).unix_timestamp()),
            local_store: conn.is_local_store(),
        }
    }

    /// `AKIA…WXYZ`: enough to find the key in IAM, not all of it.
    pub fn short_key(&self) -> String {
        let k = &self.access_key_id;
        if k.len() > 8 && k.is_ascii() {
            format!("{}…{}", &k[..4], &k[k.len() - 4..])
        } else {
            k.clone()
        }
    }

    /// `AKIA…WXYZ (temporary)`: the key, and whether it is a temporary one.
    pub fn label(&self) -> String {
        let temporary = if self.temporary { " (temporary)" } else { "" };
        format!("{}{temporary}", self.short_key())
    }
}

/// One link made.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRecord {
    pub id: String,
    pub kind: LinkKind,
    pub created_unix: i64,
    pub bucket: String,
    /// The object, or the prefix an upload request lets people upload under.
    pub key: String,
    pub requested_secs: u64,
    /// When it really stops working (temporary credentials may end it before the request).
    pub expires_unix: i64,
    pub signer: Signer,
    /// The endpoint (or `aws`) it was made for.
    pub endpoint: String,
    /// The link itself; for an upload request, the form's action.
    pub url: String,
    /// An upload request's form fields (the policy and its signature among them).
    #[serde(default)]
    pub fields: Vec<(String, String)>,
    /// An upload request's largest file.
    #[serde(default)]
    pub max_size: Option<u64>,
    /// The page s3share wrote into the bucket for it (a share page; an upload request's page),
    /// deleted once expired.
    #[serde(default)]
    pub page_key: Option<String>,
    /// That page has been deleted from the bucket since it expired.
    #[serde(default)]
    pub page_deleted: bool,
}

impl fmt::Debug for LinkRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkRecord")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("object", &self.object())
            .field("expires_unix", &self.expires_unix)
            .field("signer", &self.signer.short_key())
            .field("url", &"**redacted**")
            .finish_non_exhaustive()
    }
}

fn unix(t: SystemTime) -> i64 {
    time::OffsetDateTime::from(t).unix_timestamp()
}

fn at(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

impl LinkRecord {
    pub fn object(&self) -> S3Uri {
        S3Uri::new(self.bucket.clone(), self.key.clone())
    }

    pub fn expires_at(&self) -> SystemTime {
        at(self.expires_unix).into()
    }

    pub fn is_live(&self, now: SystemTime) -> bool {
        self.expires_unix > unix(now)
    }

    /// The page s3share wrote for this link, while it is still in the bucket. Only a name
    /// s3share gives its pages counts (`.s3share/pages/<16 hex>.html`): an entry edited by hand
    /// can never point the clean-up at someone's file.
    pub fn page(&self) -> Option<S3Uri> {
        let key = self.page_key.as_ref().filter(|_| !self.page_deleted)?;
        let name = key
            .strip_prefix(crate::base::s3uri::PAGES_PREFIX)?
            .strip_suffix(".html")?;
        let ours = matches!(self.kind, LinkKind::Page | LinkKind::Request)
            && name.len() == 16
            && name.bytes().all(|b| b.is_ascii_hexdigit());
        ours.then(|| S3Uri::new(self.bucket.clone(), key.clone()))
    }

    /// How to kill this link before it expires, in steps a person can take, most direct first.
    /// `all` is the register, to say which other links die with the same key.
    pub fn how_to_revoke(&self, all: &[LinkRecord], now: SystemTime) -> Vec<String> {
        let mut steps = Vec::new();
        let object_step = match self.kind {
            LinkKind::Link => format!(
                "Delete or move the object (the link then finds nothing): {}",
                self.object()
            ),
            LinkKind::Request => format!(
                "Nothing uploaded yet can be un-uploaded by revoking; check and clean the prefix: {}",
                self.object()
            ),
            LinkKind::Page => format!(
                "Delete the page (s3share deletes it once it has expired): {}; the links on it are signed each on its own and keep working until they expire, so anyone who saved one keeps it unless the key or permission goes",
                self.object()
            ),
        };
        if self.signer.local_store {
            steps.push(object_step);
            steps.push(
                "Or give the local store new keys: delete ~/.config/s3share/local-store-credentials.toml and restart s3share; every link it signed stops working".into(),
            );
            return steps;
        }
        if self.signer.temporary {
            let ends = self.signer.credentials_expire_unix.map(at).map_or_else(
                || "when its session ends".to_owned(),
                |end| format!("at {}", format_clock(time::OffsetDateTime::from(now), end)),
            );
            steps.push(format!(
                "It was signed with temporary credentials (key {}), so it dies {ends} at the latest.",
                self.signer.short_key()
            ));
            steps.push(
                "To end it sooner, revoke the role's active sessions (IAM console → Roles → the role → Revoke active sessions), which denies every token issued before now; for SSO, sign the session out".into(),
            );
            steps.push(object_step);
        } else {
            let same_key = all
                .iter()
                .filter(|r| {
                    r.id != self.id
                        && r.signer.access_key_id == self.signer.access_key_id
                        && r.is_live(now)
                })
                .count();
            steps.push(format!(
                "Deactivate or rotate access key {}: `aws iam update-access-key --access-key-id {} --status Inactive` (IAM → Users → Security credentials){}",
                self.signer.short_key(),
                self.signer.access_key_id,
                match same_key {
                    0 => String::new(),
                    1 => "; 1 other live link signed with it dies too".into(),
                    n => format!("; {n} other live links signed with it die too"),
                }
            ));
            steps.push(
                "Or take the signer's permission away (its IAM policy): the link works only while the signer may read the object".into(),
            );
            steps.push(object_step);
        }
        steps
    }

    /// "expires in 12 minutes, at 14:05" or "expired 3 days ago".
    pub fn lifetime_text(&self, now: SystemTime) -> String {
        let end = self.expires_at();
        match end.duration_since(now) {
            Ok(_) => format!(
                "expires {}",
                describe_deadline(
                    time::OffsetDateTime::from(now),
                    time::OffsetDateTime::from(end)
                )
            ),
            Err(e) => format!(
                "expired {} ago",
                format_duration(round_for_people(e.duration()))
            ),
        }
    }
}

/// The register's file.
#[derive(Debug, Clone)]
pub struct Register {
    path: PathBuf,
}

impl Register {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The user's register (`links.json` in the data folder).
    pub fn for_user() -> Result<Self> {
        Ok(Self::new(Paths::for_user()?.register_file()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read-modify-write under an exclusive lock, so the app and the CLI never lose each
    /// other's entries.
    fn update<T>(&self, f: impl FnOnce(&mut Vec<LinkRecord>) -> T) -> Result<T> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| Error::local_io("create", dir, &e))?;
        let lock_path = self.path.with_extension("lock");
        let lock = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::local_io("lock", &lock_path, &e))?;
        lock.lock()
            .map_err(|e| Error::local_io("lock", &lock_path, &e))?;
        let mut all = self.read()?;
        let cutoff = unix(SystemTime::now()) - KEEP_EXPIRED.as_secs().cast_signed();
        // An entry whose page is still in a bucket stays until the page is cleaned up.
        all.retain(|r| r.expires_unix > cutoff || r.page().is_some());
        let out = f(&mut all);
        let json = serde_json::to_vec_pretty(&all).map_err(|e| {
            Error::new(ErrorKind::LocalIo, "Could not encode the register of links")
                .with_detail(e.to_string())
        })?;
        s3share_core::fs::write_private(&self.path, &json)
            .map_err(|e| Error::local_io("write", &self.path, &e))?;
        Ok(out)
    }

    fn read(&self) -> Result<Vec<LinkRecord>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::invalid(format!(
                    "The register of links is damaged; move it away to start a new one: {}",
                    self.path.display()
                ))
                .with_detail(e.to_string())
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Error::local_io("read", &self.path, &e)),
        }
    }

    /// Keep `record`.
    pub fn record(&self, record: LinkRecord) -> Result<()> {
        self.update(|all| all.push(record))
    }

    /// Every entry (expired ones up to 30 days after), newest first.
    pub fn list(&self) -> Result<Vec<LinkRecord>> {
        let mut all = self.read()?;
        let cutoff = unix(SystemTime::now()) - KEEP_EXPIRED.as_secs().cast_signed();
        all.retain(|r| r.expires_unix > cutoff || r.page().is_some());
        all.sort_by_key(|r| std::cmp::Reverse(r.created_unix));
        Ok(all)
    }

    /// Note that the pages of the entries `ids` are gone from their buckets.
    pub fn mark_pages_deleted(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.update(|all| {
            for r in all.iter_mut().filter(|r| ids.contains(&r.id)) {
                r.page_deleted = true;
            }
        })
    }

    /// Drop the entry `id` (the link itself keeps working until it expires).
    pub fn forget(&self, id: &str) -> Result<bool> {
        self.update(|all| {
            let before = all.len();
            all.retain(|r| r.id != id);
            all.len() != before
        })
    }
}

/// A new entry's id.
pub fn new_id() -> String {
    let mut raw = [0u8; 8];
    let _ = getrandom::fill(&mut raw);
    hex::encode(raw)
}

/// The entry for a link made now.
pub struct NewRecord<'a> {
    pub kind: LinkKind,
    pub object: &'a S3Uri,
    pub requested: Duration,
    pub signed_at: SystemTime,
    pub expires_at: SystemTime,
    pub signer: Signer,
    pub endpoint: String,
    pub url: String,
    pub fields: Vec<(String, String)>,
    pub max_size: Option<u64>,
    pub page_key: Option<String>,
}

impl NewRecord<'_> {
    pub fn into_record(self) -> LinkRecord {
        LinkRecord {
            id: new_id(),
            kind: self.kind,
            created_unix: unix(self.signed_at),
            bucket: self.object.bucket.clone(),
            key: self.object.key.clone(),
            requested_secs: self.requested.as_secs(),
            expires_unix: unix(self.expires_at),
            signer: self.signer,
            endpoint: self.endpoint,
            url: self.url,
            fields: self.fields,
            max_size: self.max_size,
            page_key: self.page_key,
            page_deleted: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, temporary: bool, expires_in: i64) -> LinkRecord {
        let now = unix(SystemTime::now());
        LinkRecord {
            id: new_id(),
            kind: LinkKind::Link,
            created_unix: now,
            bucket: "b".into(),
            key: key.into(),
            requested_secs: 900,
            expires_unix: now + expires_in,
            signer: Signer {
                profile: None,
                access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
                temporary,
                credentials_expire_unix: temporary.then_some(now + 600),
                local_store: false,
            },
            endpoint: "aws".into(),
            url: "https://b.s3.amazonaws.com/k?X-Amz-Signature=abc".into(),
            fields: Vec::new(),
            max_size: None,
            page_key: None,
            page_deleted: false,
        }
    }

    #[test]
    fn keeps_entries_privately_and_drops_the_long_expired() {
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = Register::new(dir.path().join("links.json"));
        reg.record(record("a", false, 900)).expect("record");
        reg.record(record("old", false, -31 * 24 * 3600))
            .expect("record");
        reg.record(record("b", true, 60)).expect("record");
        let all = reg.list().expect("list");
        assert_eq!(all.len(), 2, "the long-expired one is gone");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(reg.path())
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(reg.forget(&all[0].id).expect("forget"));
        assert_eq!(reg.list().expect("list").len(), 1);
        assert!(!format!("{:?}", all[0]).contains("X-Amz-Signature"));
    }

    #[test]
    fn revocation_depends_on_how_it_was_signed() {
        let now = SystemTime::now();
        let long = record("a", false, 900);
        let other = record("c", false, 900);
        let steps = long.how_to_revoke(&[long.clone(), other], now);
        assert!(
            steps[0].contains("AKIA…MPLE") && steps[0].contains("1 other live link"),
            "{steps:?}"
        );
        let temp = record("b", true, 3600);
        let steps = temp.how_to_revoke(&[], now);
        assert!(steps[0].contains("temporary credentials"), "{steps:?}");
        assert!(steps[1].contains("Revoke active sessions"), "{steps:?}");
    }

    #[test]
    fn only_names_s3share_gives_its_pages_are_ever_cleaned_up() {
        let with = |kind, key: &str| LinkRecord {
            kind,
            page_key: Some(key.to_owned()),
            ..record("k", false, -10)
        };
        let ours = ".s3share/pages/0123456789abcdef.html";
        assert_eq!(
            with(LinkKind::Page, ours).page().map(|p| p.key),
            Some(ours.to_owned())
        );
        assert!(with(LinkKind::Request, ours).page().is_some());
        // Edited by hand: someone's file, another folder, a link that had no page.
        assert!(with(LinkKind::Page, "reports/q3.pdf").page().is_none());
        assert!(
            with(LinkKind::Page, ".s3share/pages/../../q3.pdf")
                .page()
                .is_none()
        );
        assert!(
            with(LinkKind::Page, ".s3share/pages/mine.html")
                .page()
                .is_none()
        );
        assert!(with(LinkKind::Link, ours).page().is_none());
        let deleted = LinkRecord {
            page_deleted: true,
            ..with(LinkKind::Page, ours)
        };
        assert!(deleted.page().is_none());
    }
}
