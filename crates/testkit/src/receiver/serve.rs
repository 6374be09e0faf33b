//! The receiver's server side: accepting connections, serving HTTP/1.1 and HTTP/2 (over TLS when
//! asked), recording each request and answering from the script.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::{Mode, Recorded, Shared, lock};

pub(super) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
) {
    // Connection tasks live in the set, so that stopping this task stops them.
    let mut connections = JoinSet::new();
    loop {
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            Err(error) => {
                tracing::debug!(%error, "test receiver: accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let id = shared.connection_count.fetch_add(1, Ordering::Relaxed) + 1;
        connections.spawn(serve_connection(tcp, id, Arc::clone(&shared), tls.clone()));
        while connections.try_join_next().is_some() {}
    }
}

async fn serve_connection(tcp: TcpStream, id: u64, shared: Arc<Shared>, tls: Option<TlsAcceptor>) {
    let _ = tcp.set_nodelay(true);
    let service = service_fn(move |request| handle(Arc::clone(&shared), id, request));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    let served = match tls {
        None => builder.serve_connection(TokioIo::new(tcp), service).await,
        Some(acceptor) => match acceptor.accept(tcp).await {
            Ok(stream) => {
                builder
                    .serve_connection(TokioIo::new(stream), service)
                    .await
            }
            Err(error) => {
                tracing::debug!(%error, "test receiver: TLS handshake failed");
                return;
            }
        },
    };
    if let Err(error) = served {
        tracing::debug!(%error, "test receiver: connection ended with an error");
    }
}

async fn handle(
    shared: Arc<Shared>,
    connection: u64,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Box<dyn std::error::Error + Send + Sync>> {
    let at = Instant::now();
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    shared.request_count.fetch_add(1, Ordering::Relaxed);
    if shared.mode == Mode::Fast {
        return Ok(Response::new(Full::new(Bytes::new())));
    }

    let reply = lock(&shared.replies)
        .pop_front()
        .unwrap_or_else(|| lock(&shared.default_reply).clone());
    {
        let mut requests = lock(&shared.requests);
        requests.push(Recorded {
            method: parts.method,
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), ToString::to_string),
            headers: parts.headers,
            body,
            version: parts.version,
            at,
            connection,
        });
        shared.recorded.send_replace(requests.len());
    }

    if reply.never || !reply.delay.is_zero() {
        let mut stopped = shared.stopped.subscribe();
        let wait = async {
            if reply.never {
                std::future::pending::<()>().await;
            } else {
                tokio::time::sleep(reply.delay).await;
            }
        };
        tokio::select! {
            () = wait => {}
            _ = stopped.wait_for(|s| *s) => return Err("the test receiver stopped".into()),
        }
    }
    Ok(reply.to_response())
}
