//! The accept loop: it backs off when accepting fails (out of file descriptors), never spins,
//! and gives open connections a few seconds to finish when told to stop.

use std::time::Duration;

use super::front::Front;

/// Accept connections until `stop` fires, then give open ones a few seconds to finish.
pub(crate) async fn serve(
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
