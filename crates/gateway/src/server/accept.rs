//! The accept loop: one listener's connections, each within the listener's limits, closed when
//! idle and finished gracefully at shutdown.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

use super::ListenerLimits;
use crate::app::{Endpoints, Gateway};

/// Whether a connection has a request in progress, and since when it has had none, for its
/// idle timeout. Requests only touch two atomics; the connection's one timer re-arms itself.
struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds from `opened` to when the last request ended.
    idle_since_ms: AtomicU64,
}

/// A request in progress on a connection; it ends when dropped.
struct InFlight(Arc<Activity>);

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
        }
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// Completes once the connection has had no request in progress for `idle`.
    async fn idle_for(&self, idle: Duration) {
        let mut deadline = self.opened + idle;
        loop {
            tokio::time::sleep_until(deadline).await;
            let now = Instant::now();
            if self.in_flight.load(Ordering::SeqCst) > 0 {
                deadline = now + idle;
                continue;
            }
            let since =
                self.opened + Duration::from_millis(self.idle_since_ms.load(Ordering::SeqCst));
            if now >= since + idle {
                return;
            }
            deadline = since + idle;
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // The end time is written before the count goes down, so that whoever sees no request
        // in progress also sees when the last one ended.
        let activity = &self.0;
        let ms = u64::try_from(activity.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        activity.idle_since_ms.fetch_max(ms, Ordering::SeqCst);
        activity.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves `gateway`'s `endpoints` on `listener` within `limits` until `shutdown` completes;
/// then stops accepting, lets each connection finish the requests it has in progress, and waits
/// up to `grace` for them.
///
/// Each connection holds one of `limits.max_connections` permits; without a free one the
/// listener accepts nothing until a connection closes (clients wait in the kernel's backlog).
/// A connection with no request in progress for `limits.idle_timeout` is closed gracefully.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    endpoints: Endpoints,
    limits: ListenerLimits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let builder = limits.builder();
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(max));
    let (closing, close) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let gw = gateway.clone();
        let activity = Arc::new(Activity::new());
        let requests = activity.clone();
        let service = service_fn(move |req: http::Request<Incoming>| {
            let gw = gw.clone();
            let in_flight = requests.begin();
            async move {
                let req = req.map(|b| b.map_err(Into::into).boxed());
                let response = gw.handle_on(req, peer, endpoints).await;
                drop(in_flight);
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let mut close = close.clone();
        let idle = limits.idle_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            tokio::pin!(conn);
            let mut closing = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, %peer, "connection ended with an error");
                        }
                        break;
                    }
                    _ = close.wait_for(|c| *c), if !closing => {
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    () = activity.idle_for(idle), if !closing => {
                        tracing::debug!(%peer, ?idle, "closing an idle connection");
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
            }
        });
    }
    drop(listener);
    tracing::info!("no longer accepting; finishing requests in flight");
    let _ = closing.send(true);
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(grace, permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(?grace, "requests still in flight at the deadline were cut");
    }
}
