//! The gateway's own endpoints: `/hello`, `/metrics`, and Tyk's gateway API under `/tyk/`
//! (keys and reload), which requires the secret in `x-tyk-authorization`.
//!
//! Keys API decisions: keys are stored under their SHA-256 and never in the clear, so `GET` needs
//! the key itself; `POST /tyk/keys/{key}` refuses a key that exists (409; `PUT` changes it); `PUT`
//! starts the quota period afresh unless `?suppress_reset=1`, as Tyk does; the `TokenCreated`,
//! `TokenUpdated` and `TokenDeleted` events carry the key's SHA-256 as `Key`, never the key, and
//! an empty `OriginatingRequest` (as Tyk's: the admin request holds the secret).
//!
//! The secret is compared in constant time whatever its length; refused calls are logged at
//! most once per 10 s, with the path cut to 128 bytes and any key in it replaced.

use hookshot_event::EventType;
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::app::{Body, Gateway, REDACTED, json_response};
use crate::session::{Session, generate_key, hash_key};
use crate::store::StoreError;

const MAX_BODY: usize = 1 << 20;

fn status(status: StatusCode, value: serde_json::Value) -> Response<Body> {
    json_response(status, value.to_string())
}

fn refuse(code: StatusCode, message: &str) -> Response<Body> {
    status(code, json!({"status": "error", "message": message}))
}

/// Answers a request for `/hello`, `/metrics` or `/tyk/...`.
pub(crate) async fn handle(gw: &Gateway, req: Request<Body>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    match path.as_str() {
        "/hello" => return hello(gw).await,
        "/metrics" => {
            let mut r = Response::new(crate::app::full(gw.render_metrics()));
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            return r;
        }
        _ => {}
    }
    let authorised = match req.headers().get("x-tyk-authorization") {
        Some(v) => {
            !gw.secret().is_empty() && constant_time_eq(v.as_bytes(), gw.secret().as_bytes())
        }
        None => false,
    };
    if !authorised {
        if let Some(suppressed) = gw.admin_log.allow() {
            tracing::warn!(
                path = %loggable_path(&path),
                suppressed,
                "administrative access refused: invalid or missing x-tyk-authorization"
            );
        }
        return refuse(
            StatusCode::FORBIDDEN,
            "Attempted administrative access with invalid or missing key!",
        );
    }
    if path == "/tyk/reload" || path == "/tyk/reload/" {
        if req.method() != Method::GET && req.method() != Method::POST {
            return refuse(StatusCode::METHOD_NOT_ALLOWED, "Method not supported");
        }
        return match gw.reload() {
            Ok(n) => status(
                StatusCode::OK,
                json!({"status": "ok", "message": format!("reloaded {n} API definitions")}),
            ),
            Err(errors) => status(
                StatusCode::BAD_REQUEST,
                json!({
                    "status": "error",
                    "message": "the new API definitions were refused; the old ones are still served",
                    "errors": errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
                }),
            ),
        };
    }
    let Some(rest) = path.strip_prefix("/tyk/keys") else {
        return refuse(StatusCode::NOT_FOUND, "Not found");
    };
    let key = rest.trim_start_matches('/').to_owned();
    match keys(gw, req, &key).await {
        Ok(response) => response,
        Err(e) => {
            gw.metrics().storage_error();
            tracing::error!(error = %e, "keys API: storage did not answer");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "The gateway's storage is unavailable, please try again later",
            )
        }
    }
}

/// Whether `presented` is `secret`, in a time that depends on neither the secret nor how much of
/// it matches, nor on whether the lengths agree: both are hashed to SHA-256 and the two digests
/// compared byte by byte without an early return.
fn constant_time_eq(presented: &[u8], secret: &[u8]) -> bool {
    let a = Sha256::digest(presented);
    let b = Sha256::digest(secret);
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// At most this many bytes of a refused admin call's path are logged.
const MAX_LOGGED_PATH: usize = 128;

/// A refused admin call's path as it is logged: any key after `/tyk/keys/` replaced, then cut to
/// [`MAX_LOGGED_PATH`] bytes.
fn loggable_path(path: &str) -> String {
    let path = match path.strip_prefix("/tyk/keys/") {
        Some(key) if !key.is_empty() && key != "create" => format!("/tyk/keys/{REDACTED}"),
        _ => path.to_owned(),
    };
    hookshot_event::truncate_field(&path, MAX_LOGGED_PATH)
}

async fn hello(gw: &Gateway) -> Response<Body> {
    let (code, health) = match gw.keys.ping().await {
        Ok(()) => (StatusCode::OK, "pass"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "fail"),
    };
    let component = if gw.storage_name() == "redis" {
        "redis"
    } else {
        "storage"
    };
    status(
        code,
        json!({
            "status": health,
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Hookshot gateway",
            "apis": gw.apis().len(),
            "details": {
                component: {
                    "status": health,
                    "componentType": "datastore",
                    "type": gw.storage_name(),
                }
            }
        }),
    )
}

async fn read_session(req: Request<Body>) -> Result<Session, Response<Body>> {
    let mut body = req.into_body();
    let mut bytes = Vec::new();
    loop {
        match body.frame().await {
            None => break,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    bytes.extend_from_slice(&data);
                }
                if bytes.len() > MAX_BODY {
                    return Err(refuse(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "the body is too large; at most 1 MiB of JSON is accepted",
                    ));
                }
            }
            Some(Err(e)) => {
                let why = e.to_string();
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    &format!("the body could not be read ({why})"),
                ));
            }
        }
    }
    let body = bytes;
    Session::from_body(&body).map_err(|m| refuse(StatusCode::BAD_REQUEST, &m))
}

fn done(key: &str, hash: &str, action: &str) -> Response<Body> {
    status(
        StatusCode::OK,
        json!({"key": key, "key_hash": hash, "status": "ok", "action": action}),
    )
}

async fn keys(gw: &Gateway, req: Request<Body>, key: &str) -> Result<Response<Body>, StoreError> {
    let method = req.method().clone();
    if key.is_empty() || key == "create" {
        if method != Method::POST {
            return Ok(refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not supported",
            ));
        }
        let session = match read_session(req).await {
            Ok(s) => s,
            Err(r) => return Ok(r),
        };
        loop {
            let key = generate_key(&session.org_id);
            let hash = hash_key(&key);
            if gw.keys.create(&hash, &session).await? {
                gw.fire_token_event(EventType::TokenCreated, &session.org_id, &hash);
                return Ok(done(&key, &hash, "added"));
            }
        }
    }
    let hash = hash_key(key);
    let suppress_reset = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "suppress_reset=1"));
    match method {
        Method::GET => Ok(match gw.keys.get(&hash).await? {
            Some(session) => status(
                StatusCode::OK,
                serde_json::to_value(session).unwrap_or_default(),
            ),
            None => refuse(StatusCode::NOT_FOUND, "Key not found"),
        }),
        Method::POST => {
            let session = match read_session(req).await {
                Ok(s) => s,
                Err(r) => return Ok(r),
            };
            if !gw.keys.create(&hash, &session).await? {
                return Ok(refuse(
                    StatusCode::CONFLICT,
                    "Key already exists; use PUT to change it",
                ));
            }
            gw.fire_token_event(EventType::TokenCreated, &session.org_id, &hash);
            Ok(done(key, &hash, "added"))
        }
        Method::PUT => {
            let session = match read_session(req).await {
                Ok(s) => s,
                Err(r) => return Ok(r),
            };
            if gw.keys.get(&hash).await?.is_none() {
                return Ok(refuse(StatusCode::NOT_FOUND, "Key not found"));
            }
            gw.keys.put(&hash, &session).await?;
            if !suppress_reset {
                gw.limits_reset_quota(&hash).await?;
            }
            gw.fire_token_event(EventType::TokenUpdated, &session.org_id, &hash);
            Ok(done(key, &hash, "modified"))
        }
        Method::DELETE => {
            let Some(session) = gw.keys.get(&hash).await? else {
                return Ok(refuse(StatusCode::NOT_FOUND, "Key not found"));
            };
            if !gw.keys.delete(&hash).await? {
                return Ok(refuse(StatusCode::NOT_FOUND, "Key not found"));
            }
            gw.fire_token_event(EventType::TokenDeleted, &session.org_id, &hash);
            Ok(done(key, &hash, "deleted"))
        }
        _ => Ok(refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not supported",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_compares_equal_only_to_itself_whatever_the_lengths() {
        let secret = b"a-secret-of-enough-length";
        assert!(constant_time_eq(secret, secret));
        assert!(!constant_time_eq(b"a-secret-of-enough-lengtH", secret));
        assert!(!constant_time_eq(b"a-secret", secret));
        assert!(!constant_time_eq(b"", secret));
        assert!(!constant_time_eq(&[b'a'; 100_000], secret));
        assert!(!constant_time_eq(secret, b""));
        assert!(constant_time_eq(b"", b""));
    }

    /// Log lines written while `f` runs on this thread.
    fn logged(f: impl FnOnce()) -> String {
        let logs = hookshot_testkit::logs::capture(tracing::Level::INFO);
        f();
        logs.text()
    }

    struct NoSink;
    impl hookshot_webhook::EventSink for NoSink {
        fn fire(&self, _: hookshot_event::Event) {}
    }

    #[test]
    fn refused_calls_are_logged_through_a_gate_without_the_key() {
        let store = std::sync::Arc::new(crate::store::MemoryStorage::new());
        let gw = Gateway::new(crate::app::GatewayParts {
            secret: "the-admin-secret-0123".into(),
            apis: crate::api::ApiSet::default(),
            keys: store.clone(),
            limits: store,
            sink: std::sync::Arc::new(NoSink),
            upstream_timeout: None,
            storage_name: "memory".into(),
            send_keys_in_clear: false,
        });
        let key = format!("k{}", "e".repeat(60_000));
        let logs = logged(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            for _ in 0..5 {
                let req = Request::get(format!("/tyk/keys/{key}"))
                    .header("x-tyk-authorization", "wrong")
                    .body(crate::app::full(""))
                    .unwrap();
                let response = rt.block_on(handle(&gw, req));
                assert_eq!(response.status(), StatusCode::FORBIDDEN);
            }
        });
        let lines: Vec<&str> = logs.lines().collect();
        assert_eq!(lines.len(), 1, "{logs}");
        assert!(lines[0].contains("administrative access refused"), "{logs}");
        assert!(lines[0].contains("/tyk/keys/[redacted]"), "{logs}");
        assert!(!lines[0].contains("eeee"), "{logs}");
        assert!(!lines[0].contains("wrong"), "{logs}");
        assert!(lines[0].len() < 400, "{logs}");
    }

    #[test]
    fn refused_paths_are_logged_without_keys_and_cut() {
        assert_eq!(
            loggable_path("/tyk/keys/acme0123abcd"),
            "/tyk/keys/[redacted]"
        );
        assert_eq!(loggable_path("/tyk/keys/k/../x?y"), "/tyk/keys/[redacted]");
        assert_eq!(loggable_path("/tyk/keys/create"), "/tyk/keys/create");
        assert_eq!(loggable_path("/tyk/keys/"), "/tyk/keys/");
        assert_eq!(loggable_path("/tyk/reload"), "/tyk/reload");
        let long = loggable_path(&format!("/tyk/{}", "x".repeat(60_000)));
        assert_eq!(long.len(), MAX_LOGGED_PATH);
        assert!(long.starts_with("/tyk/xxx") && long.ends_with(hookshot_event::TRUNCATED));
    }
}
