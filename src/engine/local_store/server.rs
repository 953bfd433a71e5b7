//! Serving: the accept loop (which backs off when accepting fails, never spins) and the front
//! door every request passes before s3s: SigV2 is refused there with S3's error, and form
//! uploads are routed to [`FormUploads`], which streams them instead of buffering.

use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use s3s::{HttpError, S3Error};

use super::access::decoded_query;
use super::post::{FormUploads, sigv2_refused};

/// The store's front door.
#[derive(Clone)]
pub(super) struct Front {
    pub s3: s3s::service::S3Service,
    pub forms: Arc<FormUploads>,
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

/// Accept connections until `stop` fires, then give open ones a few seconds to finish.
pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    front: Front,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let mut http =
        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    // A client that never finishes its headers does not hold a connection forever.
    http.http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut backoff = Duration::ZERO;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let socket = match accepted {
                    Ok((socket, _)) => {
                        backoff = Duration::ZERO;
                        socket
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: wait before trying again,
                        // longer each time, instead of spinning.
                        backoff = (backoff * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
                        tracing::warn!("local store: accepting a connection failed ({}); retrying in {backoff:?}", e.kind());
                        tokio::time::sleep(backoff).await;
                        continue;
                    }
                };
                let front = front.clone();
                let service = hyper::service::service_fn(move |req| front.clone().handle(req));
                let conn = http.serve_connection(hyper_util::rt::TokioIo::new(socket), service);
                let conn = graceful.watch(conn.into_owned());
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut stop => break,
        }
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
}
