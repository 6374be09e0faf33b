//! HttpTransport against real receivers on loopback: plain and TLS, answering, failing, redirecting,
//! holding requests, and not being there at all.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use hookshot_testkit::receiver::{Receiver, Reply, TestCa};
use hookshot_transport::{HttpTransport, HttpTransportConfig, Transport, WebhookRequest};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

const WAIT: Duration = Duration::from_secs(5);

fn transport() -> HttpTransport {
    HttpTransport::new(HttpTransportConfig::default()).expect("default transport")
}

fn request(method: Method, url: &str, body: &str) -> WebhookRequest {
    let mut headers = HeaderMap::new();
    headers.insert("user-agent", HeaderValue::from_static("Tyk-Hookshot"));
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert(
        "x-tyk-test-header",
        HeaderValue::from_static("Tyk v1.BANANA"),
    );
    headers.append("x-multi", HeaderValue::from_static("one"));
    headers.append("x-multi", HeaderValue::from_static("two"));
    WebhookRequest {
        method,
        url: url.parse().expect("a URL"),
        headers,
        body: Bytes::copy_from_slice(body.as_bytes()),
        timeout: None,
    }
}

fn status_of(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap()
}

#[tokio::test]
async fn each_method_delivers_headers_and_body_exactly() {
    let receiver = Receiver::start().await;
    let transport = transport();
    let methods = [
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::GET,
    ];
    for (i, method) in methods.iter().enumerate() {
        let body = format!(r#"{{"event":"AuthFailure","n":{i},"quote":"a \"b\""}}"#);
        let url = receiver.url(&format!("/hook/{i}?api=orders&x=%20y"));
        let delivered = transport
            .send(request(method.clone(), &url, &body))
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        assert_eq!(delivered.status, StatusCode::OK);

        let got = receiver.wait_for(i + 1, WAIT).await;
        let got = &got[i];
        assert_eq!(got.method, *method);
        assert_eq!(got.path, format!("/hook/{i}?api=orders&x=%20y"));
        assert_eq!(got.body_text(), body, "{method}");
        assert_eq!(got.header("user-agent"), Some("Tyk-Hookshot"));
        assert_eq!(got.header("content-type"), Some("application/json"));
        assert_eq!(got.header("x-tyk-test-header"), Some("Tyk v1.BANANA"));
        let multi: Vec<_> = got.headers.get_all("x-multi").iter().collect();
        assert_eq!(multi, ["one", "two"], "{method}");
        assert_eq!(
            got.header("content-length"),
            Some(body.len().to_string().as_str())
        );
        // Nothing beyond what HTTP needs is added.
        let mut names: Vec<_> = got.headers.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "content-length",
                "content-type",
                "host",
                "user-agent",
                "x-multi",
                "x-tyk-test-header"
            ],
            "{method}"
        );
    }
}

#[tokio::test]
async fn every_2xx_is_delivered() {
    let receiver = Receiver::start().await;
    let transport = transport();
    for status in [200, 201, 202, 204, 299] {
        receiver.push_reply(Reply::status(status).body("fine"));
        let delivered = transport
            .send(request(Method::POST, &receiver.url("/"), "{}"))
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(delivered.status, status_of(status));
    }
}

#[tokio::test]
async fn get_and_delete_without_body_send_none() {
    let receiver = Receiver::start().await;
    let transport = transport();
    for method in [Method::GET, Method::DELETE] {
        transport
            .send(request(method.clone(), &receiver.url("/empty"), ""))
            .await
            .unwrap();
    }
    let got = receiver.wait_for(2, WAIT).await;
    for r in &got {
        assert!(r.body.is_empty(), "{}", r.method);
        assert_eq!(r.header("transfer-encoding"), None, "{}", r.method);
        assert_eq!(r.header("content-length"), None, "{}", r.method);
    }
}

#[tokio::test]
async fn server_errors_and_429_are_retryable_with_retry_after() {
    let receiver = Receiver::start().await;
    let transport = transport();
    let in_a_minute = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(60));
    receiver
        .push_reply(Reply::status(500))
        .push_reply(Reply::status(503).header("Retry-After", "120"))
        .push_reply(Reply::status(429).header("Retry-After", &in_a_minute))
        .push_reply(Reply::status(502).header("Retry-After", "whenever"));

    let url = receiver.url("/hook");
    let e500 = transport
        .send(request(Method::POST, &url, "{}"))
        .await
        .unwrap_err();
    assert!(e500.is_status() && e500.is_retryable(), "{e500}");
    assert_eq!(e500.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(e500.retry_after(), None);
    assert!(!e500.is_timeout() && !e500.is_connect());
    assert_eq!(
        e500.to_string(),
        "receiver answered 500 Internal Server Error"
    );

    let e503 = transport
        .send(request(Method::POST, &url, "{}"))
        .await
        .unwrap_err();
    assert!(e503.is_retryable());
    assert_eq!(e503.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(e503.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(
        e503.to_string(),
        "receiver answered 503 Service Unavailable (Retry-After: 120s)"
    );

    let e429 = transport
        .send(request(Method::POST, &url, "{}"))
        .await
        .unwrap_err();
    assert!(e429.is_retryable());
    assert_eq!(e429.status(), Some(StatusCode::TOO_MANY_REQUESTS));
    let wait = e429.retry_after().expect("an HTTP-date Retry-After");
    assert!(
        wait <= Duration::from_secs(60) && wait >= Duration::from_secs(50),
        "{wait:?}"
    );

    let e502 = transport
        .send(request(Method::POST, &url, "{}"))
        .await
        .unwrap_err();
    assert!(e502.is_retryable());
    assert_eq!(
        e502.retry_after(),
        None,
        "an unreadable Retry-After is none"
    );
}

#[tokio::test]
async fn client_errors_are_not_retryable() {
    let receiver = Receiver::start().await;
    let transport = transport();
    for status in [400, 401, 403, 404, 410, 422] {
        receiver.push_reply(Reply::status(status).body("no such hook"));
        let err = transport
            .send(request(Method::POST, &receiver.url("/hook"), "{}"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(status_of(status)));
        assert!(!err.is_retryable(), "{status}");
    }
    let err = transport
        .send(request(Method::POST, &receiver.url("/"), "{}"))
        .await;
    assert!(err.is_ok(), "the queue is empty again: {err:?}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let receiver = Receiver::start().await;
    let transport = transport();
    for status in [301, 302, 307, 308] {
        receiver.push_reply(Reply::status(status).header("location", &receiver.url("/elsewhere")));
    }
    for (i, status) in [301, 302, 307, 308].into_iter().enumerate() {
        let err = transport
            .send(request(Method::POST, &receiver.url("/hook"), "{}"))
            .await
            .unwrap_err();
        assert!(err.is_redirect(), "{err}");
        assert!(!err.is_retryable(), "{err}");
        assert_eq!(err.status(), Some(status_of(status)));
        assert!(err.to_string().contains("redirect"), "{err}");
        assert!(err.to_string().contains("not followed"), "{err}");
        // Exactly one request per send: nothing went to /elsewhere.
        assert_eq!(receiver.request_count(), i as u64 + 1);
    }
    assert!(receiver.requests().iter().all(|r| r.path == "/hook"));
}

#[tokio::test]
async fn a_receiver_that_never_answers_times_out() {
    let receiver = Receiver::start().await;
    receiver.set_default_reply(Reply::never());
    let transport = transport();
    let url = receiver.url("/services/T0/B0/s3cret?token=t0k");
    let mut req = request(Method::POST, &url, "{}");
    req.timeout = Some(Duration::from_millis(300));
    req.headers
        .insert("authorization", HeaderValue::from_static("Bearer h3ader"));
    let shown = format!("{req:?}");
    for secret in ["s3cret", "t0k", "h3ader", "/services"] {
        assert!(!shown.contains(secret), "{shown}");
    }

    let started = Instant::now();
    let err = transport.send(req).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "it hung");
    assert!(err.is_timeout(), "{err}");
    assert!(!err.is_connect(), "{err}");
    assert!(err.is_retryable(), "{err}");
    // The message and the error's Debug name the receiver by scheme, host and port only.
    assert_eq!(
        err.to_string(),
        format!("no answer from http://{} within 300ms", receiver.addr())
    );
    assert!(!format!("{err:?}").contains("s3cret"), "{err:?}");
    assert_eq!(receiver.request_count(), 1, "the request did arrive");
}

#[tokio::test]
async fn the_transport_timeout_applies_when_the_request_sets_none() {
    let receiver = Receiver::start().await;
    receiver.set_default_reply(Reply::never());
    let transport = HttpTransport::new(HttpTransportConfig {
        request_timeout: Duration::from_millis(300),
        ..HttpTransportConfig::default()
    })
    .unwrap();
    let started = Instant::now();
    let err = transport
        .send(request(Method::POST, &receiver.url("/"), "{}"))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "it hung");
    assert!(err.is_timeout(), "{err}");
}

#[tokio::test]
async fn a_slow_answer_within_the_time_is_delivered() {
    let receiver = Receiver::start().await;
    receiver.push_reply(Reply::status(202).delay(Duration::from_millis(100)));
    let mut req = request(Method::POST, &receiver.url("/"), "{}");
    req.timeout = Some(Duration::from_secs(5));
    let delivered = transport().send(req).await.unwrap();
    assert_eq!(delivered.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn nothing_listening_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);

    let err = transport()
        .send(request(
            Method::POST,
            &format!("http://{addr}/hook/s3cret?token=t0k"),
            "{}",
        ))
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err}");
    let debug = format!("{err:?}");
    assert!(
        !debug.contains("s3cret") && !debug.contains("t0k"),
        "{debug}"
    );
    assert!(!err.is_timeout(), "{err}");
    assert!(err.is_retryable(), "{err}");
    assert_eq!(
        err.to_string(),
        format!("connecting to {addr} failed: connection refused")
    );
}

#[tokio::test]
async fn a_connection_that_cannot_be_made_in_time_is_a_connect_timeout() {
    // A listener that never accepts, with its backlog filled: the kernel drops further SYNs, so
    // connecting hangs until the connect timeout.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        match tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(s)) => fillers.push(s),
            _ => break,
        }
    }
    let transport = HttpTransport::new(HttpTransportConfig {
        connect_timeout: Duration::from_millis(300),
        ..HttpTransportConfig::default()
    })
    .unwrap();
    let started = Instant::now();
    let err = transport
        .send(request(Method::POST, &format!("http://{addr}/"), "{}"))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "it hung");
    assert!(err.is_connect() && err.is_timeout(), "{err}");
    assert!(err.is_retryable(), "{err}");
    assert_eq!(
        err.to_string(),
        format!("connecting to {addr} failed: no connection within 300ms")
    );
}

#[tokio::test]
async fn https_with_the_extra_ca_is_delivered() {
    let ca = TestCa::new();
    let receiver = Receiver::start_tls(&ca).await;
    let ca_file = ca.write_ca_file();
    let transport = HttpTransport::new(HttpTransportConfig {
        extra_ca_file: Some(ca_file.path().to_owned()),
        ..HttpTransportConfig::default()
    })
    .unwrap();
    let url = receiver.url("/secure");
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let delivered = transport
        .send(request(Method::POST, &url, r#"{"ok":true}"#))
        .await
        .unwrap();
    assert_eq!(delivered.status, StatusCode::OK);
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].body_text(), r#"{"ok":true}"#);
    assert_eq!(got[0].header("x-tyk-test-header"), Some("Tyk v1.BANANA"));
    assert_eq!(got[0].version, http::Version::HTTP_2, "ALPN chose h2");

    // A status error over TLS is a status error still.
    receiver.push_reply(Reply::status(503));
    let err = transport
        .send(request(Method::POST, &url, "{}"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
}

#[tokio::test]
async fn https_without_the_ca_fails_certificate_verification() {
    let ca = TestCa::new();
    let receiver = Receiver::start_tls(&ca).await;
    let err = transport()
        .send(request(Method::POST, &receiver.url("/secure"), "{}"))
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("connecting to {} failed: ", receiver.addr())),
        "{msg}"
    );
    assert!(msg.contains("certificate verification failed"), "{msg}");
    assert!(msg.contains("extra CA file"), "the hint: {msg}");
    assert_eq!(receiver.request_count(), 0);

    // A different CA does not help either.
    let other = TestCa::new().write_ca_file();
    let err = HttpTransport::new(HttpTransportConfig {
        extra_ca_file: Some(other.path().to_owned()),
        ..HttpTransportConfig::default()
    })
    .unwrap()
    .send(request(Method::POST, &receiver.url("/secure"), "{}"))
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("certificate verification failed"),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_ca_file_is_a_config_error_naming_it() {
    let path = std::env::temp_dir().join("hookshot-no-such-dir/receiver-ca.pem");
    let err = HttpTransport::new(HttpTransportConfig {
        extra_ca_file: Some(path.clone()),
        ..HttpTransportConfig::default()
    })
    .unwrap_err();
    assert!(err.is_setup(), "{err}");
    assert!(!err.is_retryable());
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("extra CA file {}: cannot be read", path.display())),
        "{msg}"
    );
}

#[tokio::test]
async fn sequential_requests_reuse_one_connection() {
    let receiver = Receiver::start().await;
    receiver.set_default_reply(Reply::ok().body(vec![b'x'; 4096]));
    let transport = transport();
    for i in 0..50 {
        // Clones share the pool.
        transport
            .clone()
            .send(request(Method::POST, &receiver.url("/"), &i.to_string()))
            .await
            .unwrap();
    }
    assert_eq!(receiver.request_count(), 50);
    assert_eq!(receiver.connection_count(), 1);
}

#[tokio::test]
async fn concurrent_requests_use_a_bounded_number_of_connections() {
    let receiver = Receiver::start().await;
    let transport = transport();
    let url = receiver.url("/");
    for _round in 0..5 {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..16 {
            let transport = transport.clone();
            let req = request(Method::POST, &url, &i.to_string());
            tasks.spawn(async move { transport.send(req).await });
        }
        while let Some(result) = tasks.join_next().await {
            result.unwrap().unwrap();
        }
    }
    assert_eq!(receiver.request_count(), 80);
    assert!(
        receiver.connection_count() <= 16,
        "{} connections for 16 in flight",
        receiver.connection_count()
    );
}

#[tokio::test]
async fn a_huge_response_body_is_not_read_to_the_end() {
    let receiver = Receiver::start().await;
    receiver.push_reply(Reply::ok().body(vec![b'x'; 8 * 1024 * 1024]));
    let transport = transport();
    let started = Instant::now();
    let delivered = transport
        .send(request(Method::POST, &receiver.url("/"), "{}"))
        .await
        .unwrap();
    assert_eq!(delivered.status, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(5), "it hung");
    // Its connection was given up; the next request gets a new one and is delivered.
    transport
        .send(request(Method::POST, &receiver.url("/"), "{}"))
        .await
        .unwrap();
    assert_eq!(receiver.connection_count(), 2);
}

#[tokio::test]
async fn a_url_that_is_not_http_is_refused_without_sending() {
    let mut req = request(Method::POST, "http://127.0.0.1/", "{}");
    req.url = "/relative/only".parse().unwrap();
    let err = transport().send(req).await.unwrap_err();
    assert!(!err.is_retryable() && !err.is_connect() && !err.is_timeout());
    assert!(err.to_string().contains("not absolute"), "{err}");
}
