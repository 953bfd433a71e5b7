//! The front door every request passes before s3s: SigV2 is refused there with S3's error,
//! and form uploads are routed to [`FormUploads`], which streams them instead of buffering.

use std::sync::Arc;

use hyper::body::Incoming;
use s3s::{HttpError, S3Error};

use super::access::AccessRules;
use crate::disk::Disk;
use crate::s3::{FormUploads, Handler, decoded_query, sigv2_refused};

/// The store's front door.
#[derive(Clone)]
pub(crate) struct Front {
    s3: s3s::service::S3Service,
    forms: Arc<FormUploads>,
}

/// S3's XML error document for `err`, as s3s would write it.
fn error_response(err: S3Error) -> hyper::Response<s3s::Body> {
    err.to_http_response().unwrap_or_else(|_| {
        let mut resp = hyper::Response::new(s3s::Body::empty());
        *resp.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        resp
    })
}

/// Is this a SigV2 request (presigned `AWSAccessKeyId`/`Signature`, or `Authorization: AWS …`)?
fn is_sigv2(req: &hyper::Request<Incoming>) -> bool {
    let header = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS "));
    let query = decoded_query(req.uri().query().unwrap_or(""));
    let has = |name: &str| query.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    header || has("AWSAccessKeyId") || (has("Signature") && !has("X-Amz-Signature"))
}

/// The Content-Type, when it is `multipart/form-data` (as s3s reads it: any case, spaces).
fn form_content_type(req: &hyper::Request<Incoming>) -> Option<String> {
    let content_type = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)?
        .to_str()
        .ok()?;
    let essence = content_type.split(';').next()?.trim();
    essence
        .eq_ignore_ascii_case("multipart/form-data")
        .then(|| content_type.to_owned())
}

/// The bucket of a browser form upload: `POST /bucket` (path percent-decoded, no query).
fn form_upload_bucket(req: &hyper::Request<Incoming>) -> Option<String> {
    if req.method() != hyper::Method::POST || req.uri().query().is_some_and(|q| !q.is_empty()) {
        return None;
    }
    let path = percent_encoding::percent_decode_str(req.uri().path())
        .decode_utf8()
        .ok()?;
    let bucket = path.strip_prefix('/')?.trim_end_matches('/');
    (!bucket.is_empty() && !bucket.contains('/') && s3s::path::check_bucket_name(bucket))
        .then(|| bucket.to_owned())
}

impl Front {
    /// The door to `disk`, with the keys, region and extras of `opts`.
    pub fn new(disk: Arc<Disk>, opts: &crate::StoreOptions) -> Self {
        let mut users = s3s::auth::SimpleAuth::from_single(
            opts.credentials.access_key_id.clone(),
            opts.credentials.secret_access_key.expose().to_owned(),
        );
        for u in &opts.extras.users_without_rights {
            users.register(
                u.access_key_id.clone(),
                s3s::auth::SecretKey::from(u.secret_access_key.expose()),
            );
        }
        let auth = Arc::new(users);
        let mut builder = s3s::service::S3ServiceBuilder::new(Handler {
            disk: disk.clone(),
            region: opts.region.clone(),
            without_posture_reads: opts.extras.without_posture_reads,
            empty_posture_documents: opts.extras.empty_posture_documents,
            bucket_policy: opts.extras.bucket_policy.clone(),
        });
        builder.set_auth(SharedAuth(auth.clone()));
        builder.set_config(Arc::new(s3s::config::StaticConfigProvider::new(Arc::new(
            s3s_limits(),
        ))));
        builder.set_access(AccessRules {
            region: opts.region.clone(),
            without_rights: opts
                .extras
                .users_without_rights
                .iter()
                .map(|u| u.access_key_id.clone())
                .collect(),
        });
        Self {
            s3: builder.build(),
            forms: Arc::new(FormUploads {
                disk,
                auth,
                region: opts.region.clone(),
            }),
        }
    }

    pub async fn handle(
        self,
        req: hyper::Request<Incoming>,
    ) -> Result<hyper::Response<s3s::Body>, HttpError> {
        if is_sigv2(&req) {
            return Ok(error_response(sigv2_refused()));
        }
        // Every multipart/form-data request is decided here: s3s would read such a body (up to
        // gigabytes) into memory before any access check.
        if let Some(content_type) = form_content_type(&req) {
            let Some(bucket) = form_upload_bucket(&req) else {
                return Ok(error_response(s3s::s3_error!(
                    MethodNotAllowed,
                    "Form uploads are POSTed to the bucket itself: POST /bucket"
                )));
            };
            let result = self
                .forms
                .handle(&bucket, &content_type, req.into_body())
                .await;
            return Ok(result.unwrap_or_else(error_response));
        }
        self.s3.call(req.map(s3s::Body::from)).await
    }
}

/// s3s's own limits, as low as the store allows: form uploads never reach s3s (the front door
/// streams them), so it may read no form file at all and only small form fields.
fn s3s_limits() -> s3s::config::S3Config {
    let mut config = s3s::config::S3Config::default();
    config.post_object_max_file_size = 0;
    config.form_max_field_size = 16 * 1024;
    config.form_max_fields_size = 64 * 1024;
    config.form_max_parts = 64;
    config
}

/// The store's keys, shared by s3s (headers and links) and the form uploads.
struct SharedAuth(Arc<s3s::auth::SimpleAuth>);

#[async_trait::async_trait]
impl s3s::auth::S3Auth for SharedAuth {
    async fn get_secret_key(&self, access_key: &str) -> s3s::S3Result<s3s::auth::SecretKey> {
        self.0.get_secret_key(access_key).await
    }
}
