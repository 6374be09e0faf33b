//! The listener against hostile clients, in process on loopback sockets with tokio's clock
//! paused: a trickled request head is cut at the read timeout, an idle connection at the idle
//! timeout, an oversized head is refused, and accepting waits at the connection cap, while
//! other clients go on being served.
//!
//! Time is virtual: when every task waits, tokio moves the clock to the next timer, hyper's
//! header-read timer (a `TokioTimer`) included, so these tests take no real time. It may also
//! move it while bytes are on their way through a socket, so no request is sent just before a
//! deadline it is not meant to meet.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hookshot_event::Event;
use hookshot_gateway::api::ApiSet;
use hookshot_gateway::app::{Endpoints, Gateway, GatewayParts};
use hookshot_gateway::server::{ListenerLimits, serve};
use hookshot_gateway::store::MemoryStorage;
use hookshot_webhook::EventSink;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

struct NoEvents;

impl EventSink for NoEvents {
    fn fire(&self, _event: Event) {}
}

fn gateway() -> Arc<Gateway> {
    let store = Arc::new(MemoryStorage::new());
    Arc::new(Gateway::new(GatewayParts {
        secret: "a-secret-of-some-length".into(),
        apis: ApiSet::default(),
        keys: store.clone(),
        limits: store,
        sink: Arc::new(NoEvents),
        upstream_timeout: None,
        storage_name: "memory".into(),
        send_keys_in_clear: false,
    }))
}

const HOUR: Duration = Duration::from_secs(3_600);

fn limits() -> ListenerLimits {
    ListenerLimits {
        header_read_timeout: HOUR,
        idle_timeout: HOUR,
        http2_keep_alive_interval: None,
        http2_keep_alive_timeout: HOUR,
        max_connections: 100,
        max_header_bytes: 16 * 1024,
    }
}

/// A listener serving a gateway within `limits`; it stops when the sender is dropped.
async fn start(limits: ListenerLimits) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(
        listener,
        gateway(),
        Endpoints::All,
        limits,
        async {
            let _ = stopped.await;
        },
        Duration::from_secs(1),
    ));
    (addr, stop)
}

/// Reads one response (head and `Content-Length` body) off a kept-alive connection; its status.
async fn read_response(stream: &mut TcpStream) -> u16 {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if raw.len() >= end + 4 + length {
                return head.split(' ').nth(1).unwrap().parse().unwrap();
            }
        }
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the connection closed before a whole response");
        raw.extend_from_slice(&buf[..n]);
    }
}

/// One `GET /hello` on a connection kept alive; its status.
async fn hello(stream: &mut TcpStream) -> u16 {
    stream
        .write_all(b"GET /hello HTTP/1.1\r\nHost: gw\r\n\r\n")
        .await
        .unwrap();
    read_response(stream).await
}

/// `GET /hello` on a fresh connection: the listener goes on serving others.
async fn others_are_served(addr: SocketAddr) {
    let mut other = TcpStream::connect(addr).await.unwrap();
    assert_eq!(hello(&mut other).await, 200);
}

/// Whether the server has closed `stream` (EOF or reset) within `within` of virtual time;
/// `false` when it is still open and silent.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    match tokio::time::timeout(within, stream.read(&mut buf)).await {
        Err(_elapsed) => false,
        Ok(Ok(0) | Err(_)) => true,
        Ok(Ok(n)) => panic!(
            "the server sent {:?} instead of closing",
            String::from_utf8_lossy(&buf[..n])
        ),
    }
}

#[tokio::test(start_paused = true)]
async fn a_trickled_head_is_cut_at_the_read_timeout_while_others_are_served() {
    let (addr, _stop) = start(ListenerLimits {
        header_read_timeout: Duration::from_secs(10),
        ..limits()
    })
    .await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /hello HTTP/1.1\r\nHost: gw\r\n")
        .await
        .unwrap();
    // A header line a second: nine seconds on, the head is still incomplete and the
    // connection still open, while other clients are answered.
    for i in 0..9 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        slow.write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
            .await
            .unwrap();
        others_are_served(addr).await;
    }
    assert!(
        !closed_within(&mut slow, Duration::from_millis(500)).await,
        "cut before the read timeout"
    );
    // At ten seconds from the first byte the listener closes it, without an answer.
    assert!(
        closed_within(&mut slow, Duration::from_secs(1)).await,
        "a trickled head outlived the read timeout"
    );
    others_are_served(addr).await;
}

#[tokio::test(start_paused = true)]
async fn an_idle_connection_is_closed_at_the_idle_timeout_while_others_are_served() {
    let (addr, _stop) = start(ListenerLimits {
        idle_timeout: Duration::from_secs(5),
        ..limits()
    })
    .await;
    let mut idle = TcpStream::connect(addr).await.unwrap();
    assert_eq!(hello(&mut idle).await, 200);
    tokio::time::sleep(Duration::from_secs(2)).await;
    others_are_served(addr).await;
    // Two seconds idle: still open, and a second request on it is answered.
    assert_eq!(hello(&mut idle).await, 200);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        !closed_within(&mut idle, Duration::from_millis(500)).await,
        "closed before being idle for the idle timeout"
    );
    assert!(
        closed_within(&mut idle, Duration::from_secs(1)).await,
        "an idle connection outlived the idle timeout"
    );
    // A connection that never sends anything is closed too.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(6)).await);
    others_are_served(addr).await;
}

#[tokio::test(start_paused = true)]
async fn a_head_over_the_size_cap_is_refused_with_431() {
    let (addr, _stop) = start(limits()).await;
    let mut big = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "GET /hello HTTP/1.1\r\nHost: gw\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    big.write_all(head.as_bytes()).await.unwrap();
    assert_eq!(read_response(&mut big).await, 431);
    let mut fits = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "GET /hello HTTP/1.1\r\nHost: gw\r\nX-Big: {}\r\n\r\n",
        "a".repeat(12 * 1024)
    );
    fits.write_all(head.as_bytes()).await.unwrap();
    assert_eq!(read_response(&mut fits).await, 200);
}

#[tokio::test(start_paused = true)]
async fn accepting_waits_at_the_connection_cap() {
    let (addr, _stop) = start(ListenerLimits {
        max_connections: 2,
        ..limits()
    })
    .await;
    let mut first = TcpStream::connect(addr).await.unwrap();
    let mut second = TcpStream::connect(addr).await.unwrap();
    assert_eq!(hello(&mut first).await, 200);
    assert_eq!(hello(&mut second).await, 200);
    // A third client connects (the kernel's backlog holds it) but is not served while two
    // connections are open...
    let mut third = TcpStream::connect(addr).await.unwrap();
    third
        .write_all(b"GET /hello HTTP/1.1\r\nHost: gw\r\n\r\n")
        .await
        .unwrap();
    assert!(
        tokio::time::timeout(Duration::from_secs(60), read_response(&mut third))
            .await
            .is_err(),
        "a third connection was served beyond the cap of two"
    );
    assert_eq!(hello(&mut second).await, 200);
    // ... and is served as soon as one closes.
    drop(first);
    assert_eq!(read_response(&mut third).await, 200);
}

#[tokio::test]
async fn control_api_hostname_answers_the_control_api_to_that_host_only() {
    let gw = Gateway::new(GatewayParts {
        secret: "a-secret-of-some-length".into(),
        apis: ApiSet::default(),
        keys: Arc::new(MemoryStorage::new()),
        limits: Arc::new(MemoryStorage::new()),
        sink: Arc::new(NoEvents),
        upstream_timeout: None,
        storage_name: "memory".into(),
        send_keys_in_clear: false,
    })
    .with_control_hostname("Control.Example");
    let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let status = |path: &str, host: &str, endpoints: Endpoints| {
        let req = http::Request::get(path)
            .header("host", host)
            .body(hookshot_gateway::app::full(""))
            .unwrap();
        let gw = &gw;
        async move { gw.handle_on(req, peer, endpoints).await.status().as_u16() }
    };
    for endpoints in [Endpoints::All, Endpoints::Control] {
        assert_eq!(
            status("/metrics", "control.example:8081", endpoints).await,
            200
        );
        assert_eq!(status("/metrics", "CONTROL.EXAMPLE", endpoints).await, 200);
        assert_eq!(status("/metrics", "gateway.example", endpoints).await, 404);
        assert_eq!(
            status("/tyk/reload", "gateway.example", endpoints).await,
            404
        );
        assert_eq!(
            status("/tyk/reload", "control.example", endpoints).await,
            403
        );
        assert_eq!(status("/hello", "gateway.example", endpoints).await, 200);
    }
    assert_eq!(
        status("/metrics", "control.example", Endpoints::Public).await,
        404
    );
}

#[tokio::test(start_paused = true)]
async fn an_idle_http2_connection_is_closed_at_the_idle_timeout() {
    let (addr, _stop) = start(ListenerLimits {
        idle_timeout: Duration::from_secs(5),
        ..limits()
    })
    .await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    let mut conn = tokio::spawn(conn);
    let hello = http::Request::get("http://gw/hello")
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let answer = sender.send_request(hello).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.version(), http::Version::HTTP_2);
    // (Requests are not sent close to the deadline: a paused clock jumps to the next timer
    // whenever the runtime waits on a socket.)
    assert!(
        tokio::time::timeout(Duration::from_millis(4_500), &mut conn)
            .await
            .is_err(),
        "closed before being idle for the idle timeout"
    );
    // Five seconds after its last request the server closes it (GOAWAY, then the socket).
    tokio::time::timeout(Duration::from_secs(1), conn)
        .await
        .expect("an idle HTTP/2 connection outlived the idle timeout")
        .unwrap()
        .unwrap();
}
