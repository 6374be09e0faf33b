//! A real HTTP receiver on loopback, for tests and benchmarks that send webhooks.
//!
//! [`Receiver::start`] listens on `127.0.0.1` on a free port (HTTP/1.1 and HTTP/2), records every
//! request and answers from a script: the [`Reply`]s queued with [`Receiver::push_reply`], one per
//! request in order, then the default reply (`200 OK` unless [`Receiver::set_default_reply`]
//! changed it). [`Receiver::start_tls`] does the same over TLS with a certificate from a
//! [`TestCa`]; [`Receiver::start_fast`] only counts requests and answers `200`, for benchmarks.
//!
//! ```no_run
//! # async fn demo() {
//! use std::time::Duration;
//! use hookshot_testkit::receiver::{Receiver, Reply};
//!
//! let receiver = Receiver::start().await;
//! receiver.push_reply(Reply::status(503).header("Retry-After", "2"));
//! // ... send two requests to receiver.url("/hook") ...
//! let requests = receiver.wait_for(2, Duration::from_secs(5)).await;
//! assert_eq!(requests[0].path, "/hook");
//! # }
//! ```
//!
//! Dropping the receiver stops it: its port closes and requests it holds are let go.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, Version};
use http_body_util::Full;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

mod ca;
mod serve;

pub use ca::{CaFile, TestCa};
use serve::accept_loop;

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The method.
    pub method: Method,
    /// The path and query, as sent (`/hook?x=1`).
    pub path: String,
    /// The headers, as received (HTTP/2 pseudo-headers excluded).
    pub headers: HeaderMap,
    /// The whole body (empty when there was none).
    pub body: Bytes,
    /// The HTTP version it came over.
    pub version: Version,
    /// When its head arrived.
    pub at: Instant,
    /// The number of the connection it came on (1 for the first connection accepted, and so on).
    pub connection: u64,
}

impl Recorded {
    /// The value of header `name`, when present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How the receiver answers one request.
#[derive(Debug, Clone)]
pub struct Reply {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    delay: Duration,
    never: bool,
}

impl Reply {
    /// An answer with `status` and no body.
    ///
    /// # Panics
    /// When `status` is not a valid status code (100 to 999).
    pub fn status(status: u16) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).expect("a status code from 100 to 999"),
            headers: Vec::new(),
            body: Bytes::new(),
            delay: Duration::ZERO,
            never: false,
        }
    }

    /// `200 OK`.
    pub fn ok() -> Reply {
        Reply::status(200)
    }

    /// `302 Found` with `Location: location`.
    pub fn redirect(location: &str) -> Reply {
        Reply::status(302).header("location", location)
    }

    /// Never answers: the request is held (its connection stays open) until the receiver is
    /// dropped.
    pub fn never() -> Reply {
        Reply {
            never: true,
            ..Reply::ok()
        }
    }

    /// Adds a header to the answer.
    ///
    /// # Panics
    /// When `name` or `value` is not a valid header name or value.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((
            HeaderName::from_bytes(name.as_bytes()).expect("a valid header name"),
            HeaderValue::from_str(value).expect("a valid header value"),
        ));
        self
    }

    /// Sets the answer's body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Reply {
        self.body = body.into();
        self
    }

    /// Waits `delay` after the request arrived before answering.
    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    fn to_response(&self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(self.body.clone()));
        *response.status_mut() = self.status;
        for (name, value) in &self.headers {
            response.headers_mut().append(name.clone(), value.clone());
        }
        response
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Recording,
    Fast,
}

struct Shared {
    mode: Mode,
    requests: Mutex<Vec<Recorded>>,
    replies: Mutex<VecDeque<Reply>>,
    default_reply: Mutex<Reply>,
    request_count: AtomicU64,
    connection_count: AtomicU64,
    /// The number of recorded requests, for `wait_for`.
    recorded: watch::Sender<usize>,
    /// Becomes true when the receiver is dropped, letting held requests go.
    stopped: watch::Sender<bool>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A loopback HTTP (or HTTPS) server that records requests and answers as scripted.
///
/// See the [module documentation](self).
pub struct Receiver {
    shared: Arc<Shared>,
    addr: SocketAddr,
    scheme: &'static str,
    server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("url", &self.url(""))
            .field("requests", &self.request_count())
            .field("connections", &self.connection_count())
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// Starts a recording receiver on `http://127.0.0.1:<free port>`.
    ///
    /// # Panics
    /// When no port can be bound, or outside a Tokio runtime.
    pub async fn start() -> Receiver {
        Receiver::launch(Mode::Recording, None).await
    }

    /// Starts a recording receiver on `https://127.0.0.1:<free port>`, with a certificate for
    /// `127.0.0.1`, `::1` and `localhost` issued by `ca`.
    ///
    /// # Panics
    /// When no port can be bound, or outside a Tokio runtime.
    pub async fn start_tls(ca: &TestCa) -> Receiver {
        Receiver::launch(Mode::Recording, Some(TlsAcceptor::from(ca.server_config()))).await
    }

    /// Starts a receiver for benchmarks on `http://127.0.0.1:<free port>`: it reads each request's
    /// body, counts it and answers `200 OK` at once; it records nothing and ignores scripted
    /// replies.
    ///
    /// # Panics
    /// When no port can be bound, or outside a Tokio runtime.
    pub async fn start_fast() -> Receiver {
        Receiver::launch(Mode::Fast, None).await
    }

    async fn launch(mode: Mode, tls: Option<TlsAcceptor>) -> Receiver {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("binding a loopback port for the test receiver");
        let addr = listener.local_addr().expect("the receiver's address");
        let shared = Arc::new(Shared {
            mode,
            requests: Mutex::new(Vec::new()),
            replies: Mutex::new(VecDeque::new()),
            default_reply: Mutex::new(Reply::ok()),
            request_count: AtomicU64::new(0),
            connection_count: AtomicU64::new(0),
            recorded: watch::Sender::new(0),
            stopped: watch::Sender::new(false),
        });
        let scheme = if tls.is_some() { "https" } else { "http" };
        let server = tokio::spawn(accept_loop(listener, Arc::clone(&shared), tls));
        tracing::debug!(%addr, scheme, ?mode, "test receiver started");
        Receiver {
            shared,
            addr,
            scheme,
            server,
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `path` on this receiver: `http://127.0.0.1:<port><path>` (or `https`).
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{}", self.scheme, self.addr, path)
    }

    /// Queues `reply` for the next request that finds no earlier reply queued.
    pub fn push_reply(&self, reply: Reply) -> &Receiver {
        lock(&self.shared.replies).push_back(reply);
        self
    }

    /// The answer once the queue is empty (`200 OK` until changed).
    pub fn set_default_reply(&self, reply: Reply) -> &Receiver {
        *lock(&self.shared.default_reply) = reply;
        self
    }

    /// Every request recorded so far, in order of arrival.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.requests).clone()
    }

    /// Waits until at least `n` requests are recorded, and returns all recorded.
    ///
    /// # Panics
    /// When fewer than `n` arrived within `timeout` (saying how many did), or on a fast receiver,
    /// which records nothing.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        assert!(
            self.shared.mode == Mode::Recording,
            "a fast receiver records no requests; use request_count()"
        );
        let mut rx = self.shared.recorded.subscribe();
        if tokio::time::timeout(timeout, rx.wait_for(|got| *got >= n))
            .await
            .is_err()
        {
            panic!(
                "receiver {}: {} of {n} requests arrived within {timeout:?}",
                self.url(""),
                *rx.borrow()
            );
        }
        self.requests()
    }

    /// How many requests arrived (in every mode, held ones included).
    pub fn request_count(&self) -> u64 {
        self.shared.request_count.load(Ordering::Relaxed)
    }

    /// How many connections were accepted.
    pub fn connection_count(&self) -> u64 {
        self.shared.connection_count.load(Ordering::Relaxed)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shared.stopped.send_replace(true);
        self.server.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// Sends raw HTTP/1.1 on one connection and reads until the answer's head is complete.
    async fn raw(addr: SocketAddr, request: &str) -> String {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut buf = vec![0; 4096];
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tcp.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed early");
            got.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&got).into_owned()
    }

    #[tokio::test]
    async fn records_and_answers_from_the_script() {
        let receiver = Receiver::start().await;
        receiver.push_reply(Reply::status(503).header("Retry-After", "2"));
        receiver.push_reply(Reply::redirect("http://elsewhere.test/"));
        receiver.set_default_reply(Reply::status(204));

        let first = raw(
            receiver.addr(),
            "POST /hook?x=1 HTTP/1.1\r\nHost: a\r\nX-Test: yes\r\nContent-Length: 5\r\n\r\nhello",
        )
        .await;
        assert!(first.starts_with("HTTP/1.1 503"), "{first}");
        assert!(
            first.to_ascii_lowercase().contains("retry-after: 2"),
            "{first}"
        );
        let second = raw(receiver.addr(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
        assert!(second.starts_with("HTTP/1.1 302"), "{second}");
        assert!(
            second
                .to_ascii_lowercase()
                .contains("location: http://elsewhere.test/"),
            "{second}"
        );
        let third = raw(receiver.addr(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
        assert!(third.starts_with("HTTP/1.1 204"), "{third}");

        let got = receiver.wait_for(3, Duration::from_secs(5)).await;
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].method, Method::POST);
        assert_eq!(got[0].path, "/hook?x=1");
        assert_eq!(got[0].header("x-test"), Some("yes"));
        assert_eq!(got[0].body_text(), "hello");
        assert!(got[1].body.is_empty());
        assert_eq!(receiver.request_count(), 3);
        assert_eq!(receiver.connection_count(), 3);
        assert_eq!(
            got.iter().map(|r| r.connection).collect::<Vec<_>>(),
            [1, 2, 3]
        );
    }

    #[tokio::test]
    #[should_panic(expected = "0 of 1 requests arrived within")]
    async fn wait_for_says_how_many_arrived() {
        let receiver = Receiver::start().await;
        receiver.wait_for(1, Duration::from_millis(50)).await;
    }

    #[tokio::test]
    async fn never_holds_the_request_and_dropping_lets_it_go() {
        let receiver = Receiver::start().await;
        receiver.set_default_reply(Reply::never());
        let addr = receiver.addr();
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .await
            .unwrap();
        receiver.wait_for(1, Duration::from_secs(5)).await;
        let mut buf = [0; 64];
        let early = tokio::time::timeout(Duration::from_millis(100), tcp.read(&mut buf)).await;
        assert!(early.is_err(), "a held request got an answer");
        drop(receiver);
        // The connection closes (no answer) once the receiver is gone.
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
            .await
            .expect("the connection closes when the receiver is dropped")
            .unwrap_or(0);
        assert_eq!(n, 0, "{}", String::from_utf8_lossy(&buf[..n]));
    }

    #[tokio::test]
    async fn fast_mode_counts_only() {
        let receiver = Receiver::start_fast().await;
        receiver.push_reply(Reply::status(500));
        let answer = raw(
            receiver.addr(),
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}",
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert_eq!(receiver.request_count(), 1);
        assert!(receiver.requests().is_empty());
    }

    #[test]
    fn ca_file_is_pem_and_removed_on_drop() {
        let ca = TestCa::new();
        let file = ca.write_ca_file();
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert!(text.starts_with("-----BEGIN CERTIFICATE-----"), "{text}");
        let path = file.path().to_owned();
        drop(file);
        assert!(!path.exists());
        let _ = ca.server_config();
    }
}
