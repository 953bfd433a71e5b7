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

/// The bucket of a browser form upload (`POST /bucket` as multipart/form-data), if it is one.
fn form_upload_bucket(req: &hyper::Request<Incoming>) -> Option<(String, String)> {
    if req.method() != hyper::Method::POST || req.uri().query().is_some() {
        return None;
    }
    let content_type = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)?
        .to_str()
        .ok()?;
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return None;
    }
    let path = req.uri().path();
    let bucket = path.strip_prefix('/')?.trim_end_matches('/');
    (!bucket.is_empty() && !bucket.contains('/') && s3s::path::check_bucket_name(bucket))
        .then(|| (bucket.to_owned(), content_type.to_owned()))
}

impl Front {
    pub async fn handle(
        self,
        req: hyper::Request<Incoming>,
    ) -> Result<hyper::Response<s3s::Body>, HttpError> {
        if is_sigv2(&req) {
            return Ok(error_response(sigv2_refused()));
        }
        if let Some((bucket, content_type)) = form_upload_bucket(&req) {
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
