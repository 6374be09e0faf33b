//! `hookshot listen`: a webhook receiver for trying things out. It prints each request (method,
//! path, headers, the body pretty-printed when it is JSON) and, given a Standard Webhooks secret,
//! whether its signature verifies; it answers every request `200 {"ok": true}`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use hmac::{Hmac, Mac};
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

/// Whether a request's Standard Webhooks signature verifies with `secret` (`whsec_<base64>`).
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: &str,
    body: &[u8],
    signatures: &str,
) -> Result<(), String> {
    let raw = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .map_err(|e| format!("the secret is not whsec_ and base64 ({e})"))?;
    if id.is_empty() || timestamp.is_empty() || signatures.is_empty() {
        return Err("webhook-id, webhook-timestamp or webhook-signature is missing".into());
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let matches = signatures
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|s| s == expected);
    if matches {
        Ok(())
    } else {
        Err("no v1 signature matches".into())
    }
}

/// Describes one request as the receiver prints it.
pub fn describe(parts: &http::request::Parts, body: &[u8], secret: Option<&str>) -> String {
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
    if let Some(secret) = secret {
        let h = |n: &str| {
            parts
                .headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        match verify(
            secret,
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

/// Serves the receiver on `listener` until the process ends.
pub async fn serve(listener: TcpListener, secret: Option<String>, out: Output) {
    let secret = Arc::new(secret);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let secret = secret.clone();
        let out = out.clone();
        let service = service_fn(move |req: Request<Incoming>| {
            let secret = secret.clone();
            let out = out.clone();
            async move {
                let (parts, body) = req.into_parts();
                let body = body
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                let text = describe(&parts, &body, secret.as_deref());
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

    #[test]
    fn verifies_the_specification_example() {
        assert_eq!(verify(SECRET, ID, TS, BODY, SIG), Ok(()));
        assert_eq!(
            verify(SECRET, ID, TS, BODY, &format!("v1,bad {SIG}")),
            Ok(())
        );
        assert!(verify(SECRET, ID, TS, b"{}", SIG).is_err());
        assert!(verify(SECRET, "", TS, BODY, SIG).is_err());
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
        let text = describe(&parts, BODY, Some(SECRET));
        assert!(text.starts_with("POST /hook?x=1\n"), "{text}");
        assert!(text.contains("{\n  \"test\": 2432232314\n}"), "{text}");
        assert!(text.contains("signature: verified"), "{text}");
    }
}
