//! Upload requests ("Request files…"): a presigned POST policy that lets anyone with it upload
//! files, under their own names, below one prefix, up to a size, until it expires; signed with
//! the same SigV4 key derivation as links. It comes as a `curl` command and as a small
//! self-contained HTML page to send to the people who should upload.

use std::fmt::Write as _;
use std::time::SystemTime;

use super::page::publish;
use super::register::{LinkKind, NewRecord, Signer};
use crate::base::error::{Error, Result};
use crate::base::expiry::Expiry;
use crate::base::s3uri::S3Uri;
use crate::base::signing::{PostPolicyInput, PresignedPost, PresignedRequest, presign_post};
use crate::base::wording::{
    describe_deadline, format_iso, format_utc_words, html_escape, size_as_chosen,
};
use crate::client::connection::Connection;
use crate::client::presets::Preset;

/// What the request allows.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// A bucket and a prefix (empty, or ending in `/`).
    pub prefix: S3Uri,
    pub max_size: u64,
    pub content_type: Option<String>,
    pub expires: Expiry,
    /// Where files land: a folder of the request's own below the prefix (the default), or the
    /// prefix itself.
    pub folder: RequestFolder,
}

/// Where a request's files land.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestFolder {
    /// A new folder below the prefix, named by the date and a random part: recipients can
    /// reach nothing already there.
    #[default]
    Own,
    /// The prefix itself: a recipient can replace any object under it (at the bucket's root,
    /// any object in the bucket) — only when asked for in so many words.
    Prefix {
        /// Allow it at the bucket's root too.
        whole_bucket: bool,
    },
}

/// `2026-12-02-k3f9q2xa`: a request's own folder name, the day it was made and 40 random bits.
pub fn request_folder_name(now: SystemTime) -> String {
    let mut raw = [0u8; 8];
    let _ = getrandom::fill(&mut raw);
    let random: String = raw
        .iter()
        .map(|b| char::from(b"abcdefghijkmnpqrstuvwxyz23456789"[usize::from(b % 32)]))
        .collect();
    let day = time::OffsetDateTime::from(now).date();
    format!(
        "{:04}-{:02}-{:02}-{random}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// A signed upload request.
#[derive(Debug, Clone)]
pub struct UploadRequestForm {
    pub post: PresignedPost,
    /// Where files land: the request's own folder, or the prefix asked for.
    pub prefix: S3Uri,
    /// The folder asked for (the own folder is below it).
    pub chosen: S3Uri,
    pub folder: RequestFolder,
    pub max_size: u64,
    pub content_type: Option<String>,
    pub signed_at: SystemTime,
    /// The earlier of the requested expiry and the signing credentials'.
    pub expires_at: SystemTime,
    pub cut_short: bool,
    /// The lifetime asked for.
    pub requested: Expiry,
    /// Who signed it and where, as the register keeps it.
    pub signer: Signer,
    pub endpoint: String,
    /// Why the request is missing from the register, when recording it failed (set by whoever
    /// records it).
    pub register_note: Option<String>,
    /// The upload page in the bucket ([`super::page::PAGES_PREFIX`]) and its link, ending with
    /// the request.
    pub page: Option<(S3Uri, PresignedRequest)>,
    /// Why there is no page link, when writing the page failed.
    pub page_note: Option<String>,
}

/// A shell word: single-quoted, with `'` written as `'\''`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl UploadRequestForm {
    /// The register's entry for this request.
    pub fn record(&self) -> NewRecord<'_> {
        NewRecord {
            kind: LinkKind::Request,
            object: &self.prefix,
            requested: self.requested.duration(),
            signed_at: self.signed_at,
            expires_at: self.expires_at,
            signer: self.signer.clone(),
            endpoint: self.endpoint.clone(),
            url: self.post.action.clone(),
            fields: self.post.fields.clone(),
            max_size: Some(self.max_size),
            page_key: self.page.as_ref().map(|(uri, _)| uri.key.clone()),
        }
    }

    /// The whole command a recipient runs, with the literal `<FILE>` where their file's path
    /// goes. Fields are sent with `--form-string`, so no value is read as a file name.
    pub fn curl_command(&self) -> String {
        let mut cmd = String::from("curl -sS --fail-with-body");
        for (name, value) in &self.post.fields {
            cmd.push_str(" --form-string ");
            cmd.push_str(&shell_quote(&format!("{name}={value}")));
        }
        cmd.push_str(" -F 'file=@<FILE>' ");
        cmd.push_str(&shell_quote(&self.post.action));
        cmd
    }

    /// What a recipient can do to what is already there, in words.
    pub fn reach(&self) -> String {
        match self.folder {
            RequestFolder::Own => format!(
                "files land in a folder of this request's own, so nothing already in {} can be replaced; recipients of the same request can replace each other's files there by uploading the same name",
                self.chosen
            ),
            RequestFolder::Prefix { .. } if self.prefix.key.is_empty() => format!(
                "files land straight in the bucket: anyone with the request can replace ANY object in s3://{} (and every link to it then serves their file)",
                self.prefix.bucket
            ),
            RequestFolder::Prefix { .. } => format!(
                "files land straight in {}: anyone with the request can replace any object under it (and every link to it then serves their file)",
                self.prefix
            ),
        }
    }

    /// A one-line summary: where, how large, until when.
    pub fn summary(&self) -> String {
        format!(
            "anyone with this request can upload files of up to {}{} into {}, until it expires {}",
            size_as_chosen(self.max_size),
            self.content_type
                .as_deref()
                .map(|t| format!(" (type {t})"))
                .unwrap_or_default(),
            self.prefix,
            describe_deadline(
                time::OffsetDateTime::from(self.signed_at),
                time::OffsetDateTime::from(self.expires_at)
            )
        )
    }

    /// A small self-contained page with the upload form (no scripts or styles from elsewhere).
    pub fn html_page(&self) -> String {
        let mut hidden = String::new();
        for (name, value) in &self.post.fields {
            let _ = writeln!(
                hidden,
                "      <input type=\"hidden\" name=\"{}\" value=\"{}\">",
                html_escape(name),
                html_escape(value)
            );
        }
        let until = time::OffsetDateTime::from(self.expires_at);
        format!(
            r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Upload files</title>
  <style>
    body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; color: #1b262c; }}
    .card {{ border: 1px solid #cfd8dc; border-radius: 12px; padding: 1.5rem; }}
    button {{ font: inherit; padding: .5rem 1.2rem; border-radius: 8px; border: 0; background: #1f6f8b; color: white; }}
    .note {{ color: #546e7a; font-size: .9rem; }}
    #warn {{ color: #b71c1c; }}
  </style>
</head>
<body>
  <div class="card">
    <h1>Upload a file</h1>
    <p>Files go to <code><bdi>{prefix}</bdi></code>, under their own names.</p>
    <p class="note">Up to {size} each{kind}. This page works until <time datetime="{iso}">{until}</time>.</p>
    <form id="upload" method="post" enctype="multipart/form-data" action="{action}">
{hidden}      <p><input id="file" type="file" name="file" required></p>
      <p id="warn"></p>
      <p><button type="submit">Upload</button></p>
    </form>
    <p id="status" role="status"></p>
    <noscript><p class="note">After the upload your browser shows the storage server's answer:
    a <code>PostResponse</code> with the file's name means it arrived.</p></noscript>
  </div>
  <script>
    // Stores that do not replace ${{filename}} themselves get the name set here.
    const form = document.getElementById("upload");
    const file = document.getElementById("file");
    const warn = document.getElementById("warn");
    const max = {max};
    file.addEventListener("change", () => {{
      const f = file.files[0];
      warn.textContent = f && f.size > max ? "This file is larger than the request allows; the upload will be refused." : "";
    }});
    const status = document.getElementById("status");
    const template = form.elements["key"].value;
    // S3's refusals in words; anything else is shown with its own code and message.
    const words = {{
      EntityTooLarge: "Not stored: the file is larger than this request allows ({size}).",
      EntityTooSmall: "Not stored: the file is empty.",
      ExpiredToken: "Not stored: this request has expired.",
    }};
    form.addEventListener("submit", (event) => {{
      const f = file.files[0];
      const key = form.elements["key"];
      // split/join, not replace: a name may hold "$&" or "$'", which replace reads as patterns.
      if (f && template.includes("${{filename}}")) key.value = template.split("${{filename}}").join(f.name);
      // Only where the answer can be read (the page served by the store itself): elsewhere (a
      // page saved to a file) the plain form post, whose answer the browser shows.
      if (location.protocol === "file:" || new URL(form.action, location.href).origin !== location.origin) return;
      event.preventDefault();
      status.textContent = "Sending…";
      fetch(form.action, {{ method: "POST", body: new FormData(form) }})
        .then(async (answer) => {{
          const text = await answer.text();
          const field = (name) => ((text.match(new RegExp("<" + name + ">([^<]*)</" + name + ">")) || [])[1] || "");
          if (answer.ok) {{
            status.textContent = "Stored: " + f.name + ". You can send another file.";
          }} else if (field("Code") === "AccessDenied" && /expired/i.test(field("Message"))) {{
            status.textContent = "Not stored: this request has expired.";
          }} else {{
            status.textContent = words[field("Code")] || ("Not stored: the server answered " + (field("Code") || answer.status) + (field("Message") ? ": " + field("Message") : "") + ".");
          }}
        }})
        // Sent or not, the answer could not be read: never send the file a second time.
        .catch(() => {{ status.textContent = "The storage server's answer could not be read: check with the person who asked whether the file arrived."; }});
    }});
  </script>
</body>
</html>
"#,
            prefix = html_escape(&self.prefix.to_string()),
            size = html_escape(&size_as_chosen(self.max_size)),
            kind = self
                .content_type
                .as_deref()
                .map(|t| format!(", of type {}", html_escape(t)))
                .unwrap_or_default(),
            iso = html_escape(&format_iso(until)),
            until = html_escape(&format_utc_words(until)),
            action = html_escape(&self.post.action),
            max = self.max_size,
        )
    }
}

/// Refuse a request that cannot work or reaches too far, before anything is signed.
fn check_spec(conn: &Connection, spec: &RequestSpec) -> Result<()> {
    let chosen = &spec.prefix;
    chosen.require_prefix("An upload request names a folder")?;
    if chosen.key.split('/').any(|s| s == "." || s == "..") {
        return Err(Error::invalid(format!(
            "This prefix has a \".\" or \"..\" part, which browsers fold away: {chosen}"
        )));
    }
    if spec.max_size == 0 {
        return Err(Error::invalid("The largest file must be at least 1 byte"));
    }
    if let Some(service) = Preset::refusing_post(conn.settings().endpoint.as_deref()) {
        return Err(Error::invalid(format!(
            "{service} does not take browser-form (POST) uploads (it answers 501): an upload request cannot work there"
        )));
    }
    if let Some(t) = &spec.content_type
        && (t.is_empty() || reqwest::header::HeaderValue::from_str(t).is_err() || !t.contains('/'))
    {
        return Err(Error::invalid(format!(
            "Not a content type: {t:?} (like image/png)"
        )));
    }
    if spec.folder
        == (RequestFolder::Prefix {
            whole_bucket: false,
        })
        && chosen.key.is_empty()
    {
        return Err(Error::invalid(format!(
            "A request straight into the bucket's root lets anyone with it replace any object in the bucket; give a folder, let the request have a folder of its own (the default), or allow the whole bucket explicitly: {chosen}"
        )));
    }
    Ok(())
}

/// Sign an upload request and write its page into the bucket (the caller records it:
/// [`UploadRequestForm::record`]).
pub async fn make_request(conn: &Connection, spec: &RequestSpec) -> Result<UploadRequestForm> {
    check_spec(conn, spec)?;
    let chosen = &spec.prefix;
    let now = SystemTime::now();
    let prefix = &match spec.folder {
        RequestFolder::Own => S3Uri::new(
            chosen.bucket.clone(),
            format!("{}{}/", chosen.key, request_folder_name(now)),
        ),
        RequestFolder::Prefix { .. } => chosen.clone(),
    };
    let region = conn.bucket_region(&prefix.bucket).await?;
    let creds = conn.signing_credentials().await?;
    let addr = conn.object_address(&prefix.bucket, "", &region);
    let action = format!(
        "{}://{}{}",
        addr.scheme,
        addr.authority,
        addr.path.trim_end_matches('/')
    );
    let action = if action.ends_with(&addr.authority) {
        format!("{action}/")
    } else {
        action
    };
    let post = presign_post(
        &creds,
        &PostPolicyInput {
            action: &action,
            bucket: &prefix.bucket,
            key_prefix: &prefix.key,
            max_size: spec.max_size,
            content_type: spec.content_type.as_deref(),
            region: &region,
            expires: spec.expires,
            now,
        },
    );
    let expires_at = creds.link_end(now, spec.expires);
    let mut form = UploadRequestForm {
        post,
        prefix: prefix.clone(),
        chosen: chosen.clone(),
        folder: spec.folder,
        max_size: spec.max_size,
        content_type: spec.content_type.clone(),
        signed_at: now,
        expires_at,
        cut_short: expires_at < now + spec.expires.duration(),
        requested: spec.expires,
        signer: Signer::of(conn, &creds),
        endpoint: conn.endpoint_label(),
        register_note: None,
        page: None,
        page_note: None,
    };
    // The page in the bucket, for a link to send. Without it the request still works (the
    // command, a saved page), so a signer that may not write pages gets a note, not a failure.
    let html = form.html_page();
    match publish(
        conn,
        &prefix.bucket,
        &region,
        &creds,
        html,
        spec.expires,
        now,
    )
    .await
    {
        Ok(page) => form.page = Some(page),
        Err(e) => form.page_note = Some(format!("no link to the upload page: {}", e.message())),
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_survive_quotes() {
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
        assert_eq!(shell_quote("${filename}"), "'${filename}'");
        assert_eq!(
            html_escape("<a href=\"x\">"),
            "&lt;a href=&quot;x&quot;&gt;"
        );
    }

    #[tokio::test]
    async fn a_request_on_r2_is_refused_before_anything_is_signed() {
        let key = s3share_core::AccessKey {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: s3share_core::Secret::new("secret"),
        };
        let on = |endpoint: &str| {
            let settings = crate::client::connection::ConnectionSettings {
                endpoint: Some(endpoint.to_owned()),
                path_style: true,
                ..Default::default()
            };
            Connection::with_access_key(settings, &key, "auto").expect("connection")
        };
        let spec = RequestSpec {
            prefix: S3Uri::new("inbox", "from-clients/"),
            max_size: 1 << 20,
            content_type: None,
            expires: Expiry::DEFAULT,
            folder: RequestFolder::Own,
        };
        let r2 = on("https://0123abcd.r2.cloudflarestorage.com");

        let err = make_request(&r2, &spec)
            .await
            .expect_err("R2 takes no POST");
        assert!(err.message().contains("501"), "{err}");
        assert_eq!(
            Preset::refusing_post(Some("https://minio.example.com:9000")),
            None
        );
        assert!(err.message().starts_with("Cloudflare R2 "), "{err}");
    }
}
