//! `hookshot listen`: a webhook receiver for trying things out. It prints each request (method,
//! path, headers, the body pretty-printed when it is JSON) and, given a Standard Webhooks key,
//! whether its signature verifies; it answers every request `200 {"ok": true}`.
//!
//! Bodies larger than [`MAX_BODY`] are refused with 413; signatures are compared in constant time;
//! a failing `accept` (out of file descriptors) is retried after a pause that doubles from 10 ms
//! to 1 s, not at once.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use hookshot_config::SigningKey;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use sha2::Sha256;
use tokio::net::TcpListener;

/// Where the receiver prints.
pub type Output = Arc<Mutex<dyn Write + Send>>;

/// The largest body the receiver reads (1 MiB); a larger one gets 413.
pub const MAX_BODY: usize = 1024 * 1024;

/// The pause before `accept` is tried again after it failed: 10 ms, doubling up to 1 s, back to
/// 10 ms once a connection is accepted.
#[derive(Debug)]
pub struct AcceptBackoff {
    next: Duration,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MOST: Duration = Duration::from_secs(1);

    /// A backoff at its first pause.
    pub fn new() -> AcceptBackoff {
        AcceptBackoff { next: Self::FIRST }
    }

    /// The pause after one more failure.
    pub fn failed(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(Self::MOST);
        pause
    }

    /// Back to the first pause.
    pub fn accepted(&mut self) {
        self.next = Self::FIRST;
    }
}

impl Default for AcceptBackoff {
    fn default() -> Self {
        AcceptBackoff::new()
    }
}

/// Whether a request's Standard Webhooks signature verifies with `key`.
pub fn verify(
    key: &SigningKey,
    id: &str,
    timestamp: &str,
    body: &[u8],
    signatures: &str,
) -> Result<(), String> {
    if id.is_empty() || timestamp.is_empty() || signatures.is_empty() {
        return Err("webhook-id, webhook-timestamp or webhook-signature is missing".into());
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).map_err(|e| e.to_string())?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    // Each candidate is decoded and checked by the MAC itself, in constant time.
    let matches = signatures
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .any(|sig| mac.clone().verify_slice(&sig).is_ok());
    if matches {
        Ok(())
    } else {
        Err("no v1 signature matches".into())
    }
}

/// Describes one request as the receiver prints it.
pub fn describe(parts: &http::request::Parts, body: &[u8], key: Option<&SigningKey>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let _ = writeln!(out, "{} {target}", parts.method);
    for (name, value) in &parts.headers {
        let _ = writeln!(out, "{name}: {}", String::from_utf8_lossy(value.as_bytes()));
    }
    out.push('\n');
    if body.is_empty() {
        out.push_str("(no body)\n");
    } else {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(v) => {
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&v).unwrap_or_default()
                );
            }
            Err(_) => {
                let _ = writeln!(out, "{}", String::from_utf8_lossy(body));
            }
        }
    }
    if let Some(key) = key {
        let h = |n: &str| {
            parts
                .headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        match verify(
            key,
            h("webhook-id"),
            h("webhook-timestamp"),
            body,
            h("webhook-signature"),
        ) {
            Ok(()) => {
                let _ = writeln!(out, "signature: verified");
            }
            Err(why) => {
                let _ = writeln!(out, "signature: NOT verified ({why})");
            }
        }
    }
    out.push_str("----\n");
    out
}

/// Describes a request whose body was refused for its size.
fn describe_refused(parts: &http::request::Parts) -> String {
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    format!(
        "{} {target}\n(body larger than {MAX_BODY} bytes: refused with 413)\n----\n",
        parts.method
    )
}

/// Serves the receiver on `listener` until the process ends; with a `key`, each request's
/// signature is checked.
pub async fn serve(listener: TcpListener, key: Option<SigningKey>, out: Output) {
    let key = Arc::new(key);
    let mut backoff = AcceptBackoff::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => {
                backoff.accepted();
                stream
            }
            Err(e) => {
                let pause = backoff.failed();
                tracing::warn!(error = %e, ?pause, "accepting a connection failed; trying again after a pause");
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        let key = key.clone();
        let out = out.clone();
        let service = service_fn(move |req: Request<Incoming>| {
            let key = key.clone();
            let out = out.clone();
            async move {
                let (parts, body) = req.into_parts();
                let declared = parts
                    .headers
                    .get(http::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                let body = match declared {
                    Some(n) if n > MAX_BODY as u64 => None,
                    _ => match http_body_util::Limited::new(body, MAX_BODY).collect().await {
                        Ok(b) => Some(b.to_bytes()),
                        Err(e) if e.is::<http_body_util::LengthLimitError>() => None,
                        Err(_) => Some(bytes::Bytes::new()),
                    },
                };
                let Some(body) = body else {
                    let text = describe_refused(&parts);
                    if let Ok(mut w) = out.lock() {
                        let _ = w.write_all(text.as_bytes());
                        let _ = w.flush();
                    }
                    let mut response = Response::new(Full::new(bytes::Bytes::from(format!(
                        "{{\"ok\": false, \"error\": \"the body is larger than {MAX_BODY} bytes\"}}\n"
                    ))));
                    *response.status_mut() = http::StatusCode::PAYLOAD_TOO_LARGE;
                    response.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/json"),
                    );
                    return Ok::<_, std::convert::Infallible>(response);
                };
                let text = describe(&parts, &body, key.as_ref().as_ref());
                if let Ok(mut w) = out.lock() {
                    let _ = w.write_all(text.as_bytes());
                    let _ = w.flush();
                }
                let mut response =
                    Response::new(Full::new(bytes::Bytes::from_static(b"{\"ok\": true}\n")));
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("application/json"),
                );
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        tokio::spawn(async move {
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks specification's example.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: &str = "1614265330";
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn key() -> SigningKey {
        SigningKey::parse(SECRET).unwrap()
    }

    #[test]
    fn verifies_the_specification_example() {
        assert_eq!(verify(&key(), ID, TS, BODY, SIG), Ok(()));
        assert_eq!(
            verify(&key(), ID, TS, BODY, &format!("v1,bad {SIG}")),
            Ok(())
        );
        assert!(verify(&key(), ID, TS, b"{}", SIG).is_err());
        assert!(verify(&key(), "", TS, BODY, SIG).is_err());
    }

    #[test]
    fn a_wrong_signature_of_the_right_length_fails() {
        // The last byte of the signature changed: same length, same prefix.
        let mut raw = base64::engine::general_purpose::STANDARD
            .decode(SIG.strip_prefix("v1,").unwrap())
            .unwrap();
        *raw.last_mut().unwrap() ^= 1;
        let wrong = format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(&raw)
        );
        assert_eq!(wrong.len(), SIG.len());
        assert_eq!(
            verify(&key(), ID, TS, BODY, &wrong),
            Err("no v1 signature matches".into())
        );
        assert!(verify(&key(), ID, TS, BODY, "v1,not-base64!").is_err());
    }

    #[test]
    fn accept_failures_back_off_from_10_ms_to_1_s() {
        let mut b = AcceptBackoff::new();
        let ms = |n| Duration::from_millis(n);
        let pauses: Vec<Duration> = (0..9).map(|_| b.failed()).collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000].map(ms));
        b.accepted();
        assert_eq!(b.failed(), ms(10));
    }

    async fn receiver() -> (std::net::SocketAddr, Arc<Mutex<Vec<u8>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let printed = Arc::new(Mutex::new(Vec::new()));
        tokio::spawn(serve(listener, None, printed.clone()));
        (addr, printed)
    }

    /// Sends `head` then `body` and reads the answer until the server closes or ends it.
    async fn exchange(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(head.as_bytes()).await.unwrap();
        let _ = s.write_all(body).await;
        let mut answer = vec![0u8; 4096];
        let mut got = 0;
        while got < answer.len() {
            match s.read(&mut answer[got..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
            if answer[..got].windows(2).any(|w| w == b"}\n") {
                break;
            }
        }
        String::from_utf8_lossy(&answer[..got]).into_owned()
    }

    #[tokio::test]
    async fn bodies_beyond_the_cap_get_413_over_a_real_connection() {
        let (addr, printed) = receiver().await;
        // Declared too large: refused before a byte of the body is sent.
        let head = format!(
            "POST /big HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        let answer = exchange(addr, &head, b"").await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

        // Chunked, with no length declared: refused once the cap is passed.
        let head = "POST /chunked HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n";
        let mut body = format!("{:x}\r\n", MAX_BODY + 1).into_bytes();
        body.extend(std::iter::repeat_n(b'a', MAX_BODY + 1));
        let answer = exchange(addr, head, &body).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

        // At the cap: read and printed.
        let head = format!("POST /fits HTTP/1.1\r\nhost: x\r\ncontent-length: {MAX_BODY}\r\n\r\n");
        let answer = exchange(addr, &head, &vec![b'b'; MAX_BODY]).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

        let printed = String::from_utf8(printed.lock().unwrap().clone()).unwrap();
        assert!(
            printed.contains("POST /big\n(body larger than 1048576 bytes: refused with 413)"),
            "{printed}"
        );
        assert!(printed.contains("POST /chunked\n(body larger"), "{printed}");
        assert!(printed.contains("POST /fits\n"), "{printed}");
        assert!(!printed.contains("aaaa"), "the refused body was printed");
    }

    #[test]
    fn describes_a_request() {
        let (parts, ()) = Request::post("/hook?x=1")
            .header("webhook-id", ID)
            .header("webhook-timestamp", TS)
            .header("webhook-signature", SIG)
            .body(())
            .unwrap()
            .into_parts();
        let text = describe(&parts, BODY, Some(&key()));
        assert!(text.starts_with("POST /hook?x=1\n"), "{text}");
        assert!(text.contains("{\n  \"test\": 2432232314\n}"), "{text}");
        assert!(text.contains("signature: verified"), "{text}");
    }
}
