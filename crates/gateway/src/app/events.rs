//! The events the request path fires (a key refused, a key changed through the keys API) and the
//! one redactor every event's request fields pass through.

use std::net::IpAddr;

use base64::Engine as _;
use hookshot_event::{
    Event, EventMeta, EventType, KeyFailureMeta, MAX_KEY_BYTES, MAX_ORIGIN_BYTES, MAX_PATH_BYTES,
    MAX_REQUEST_HEAD_BYTES, TokenMeta, truncate_field,
};
use http::Request;
use http::header::{self, HeaderName};

use super::{Body, Gateway};
use crate::api::Api;

/// The request as events report it: credentials redacted, every field within its cap.
pub(super) struct Origin {
    path: String,
    origin: String,
    key: String,
    head: String,
}

impl Gateway {
    /// The request as key events report it, built through the one redactor ([`request_head`]):
    /// `Key` obfuscated unless `send_keys_in_clear`, the key never in `Path` or
    /// `OriginatingRequest`, every field within its cap.
    pub(super) fn origin(&self, api: &Api, req: &Request<Body>, peer: IpAddr, key: &str) -> Origin {
        let key_field = if self.send_keys_in_clear {
            truncate_field(key, MAX_KEY_BYTES)
        } else {
            obfuscate_key(key)
        };
        Origin {
            path: truncate_field(&scrub(req.uri().path(), key), MAX_PATH_BYTES),
            origin: truncate_field(
                &scrub(&client_ip(req.headers(), peer), key),
                MAX_ORIGIN_BYTES,
            ),
            key: key_field,
            head: request_head(req, Some(&api.auth_header), key),
        }
    }

    pub(super) fn fire_key_event(&self, api: &Api, event_type: EventType, o: Origin) {
        let meta = EventMeta::KeyFailure(KeyFailureMeta {
            message: event_type.default_message().to_owned(),
            originating_request: o.head,
            path: o.path,
            origin: o.origin,
            key: o.key,
        });
        self.fire(Event::new(event_type, meta).with_api(api.api_ref.clone()));
    }

    /// Fires a key API event (`TokenCreated`, `TokenUpdated`, `TokenDeleted`) to the global handlers.
    /// `Key` is the SHA-256 hex of the key, never the key itself; `OriginatingRequest` is empty,
    /// as in Tyk (the admin request carries the secret, and the key in its path).
    pub(crate) fn fire_token_event(&self, event_type: EventType, org: &str, key_hash: &str) {
        let meta = EventMeta::Token(TokenMeta {
            message: event_type.default_message().to_owned(),
            originating_request: String::new(),
            org: org.to_owned(),
            key: key_hash.to_owned(),
        });
        self.fire(Event::new(event_type, meta));
    }

    fn fire(&self, event: Event) {
        self.metrics.event(event.event_type.as_str());
        self.sink.fire(event);
    }
}

/// A presented key as events carry it by default, as Tyk's `obfuscateKey` writes keys in its
/// logs: `****` and the last four characters, or `--` for a key of four characters or fewer.
pub fn obfuscate_key(key: &str) -> String {
    let mut tail: Vec<char> = key.chars().rev().take(5).collect();
    if tail.len() <= 4 {
        return "--".to_owned();
    }
    tail.truncate(4);
    let mut out = String::from("****");
    out.extend(tail.into_iter().rev());
    out
}

/// What replaces a credential in an event's `OriginatingRequest`, `Path` or `Origin`.
pub const REDACTED: &str = "[redacted]";

/// Request headers whose values never go into an event (besides an API's own key header).
const CREDENTIAL_HEADERS: [HeaderName; 4] = [
    HeaderName::from_static("x-tyk-authorization"),
    header::AUTHORIZATION,
    header::PROXY_AUTHORIZATION,
    header::COOKIE,
];

/// `text` with every occurrence of `key` replaced by [`REDACTED`].
fn scrub(text: &str, key: &str) -> String {
    if key.is_empty() || !text.contains(key) {
        return text.to_owned();
    }
    text.replace(key, REDACTED)
}

/// A query string with the value of every parameter that holds `key` (as sent or
/// percent-decoded) replaced by [`REDACTED`].
fn scrub_query(query: &str, key: &str) -> String {
    if key.is_empty() {
        return query.to_owned();
    }
    let mut out = String::with_capacity(query.len());
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if value.contains(key) || crate::path::percent_decode(value).contains(key) {
            out.push_str(name);
            out.push('=');
            out.push_str(REDACTED);
        } else {
            out.push_str(pair);
        }
    }
    out
}

/// The client's address: `X-Real-IP`, else the first `X-Forwarded-For` entry, else the peer.
pub fn client_ip(headers: &http::HeaderMap, peer: IpAddr) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or("").trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    header("x-real-ip")
        .or_else(|| header("x-forwarded-for"))
        .unwrap_or_else(|| peer.to_string())
}

/// An event's `OriginatingRequest`: the base64 of the request head as HTTP/1.1 writes it
/// (request line and headers; no body), through the one redactor every event uses. The values
/// of `x-tyk-authorization`, `Authorization`, `Proxy-Authorization`, `Cookie` and `auth_header`
/// (the API's own key header) become [`REDACTED`], as does every occurrence of `key` (the
/// presented key, in a query parameter or anywhere else); the head is then cut to
/// [`MAX_REQUEST_HEAD_BYTES`] before base64, ending in [`hookshot_event::TRUNCATED`] when cut.
pub fn request_head<B>(req: &Request<B>, auth_header: Option<&HeaderName>, key: &str) -> String {
    let mut head = String::with_capacity(256);
    let path = req.uri().path();
    let path = if path.is_empty() { "/" } else { path };
    head.push_str(req.method().as_str());
    head.push(' ');
    head.push_str(path);
    if let Some(query) = req.uri().query() {
        head.push('?');
        head.push_str(&scrub_query(query, key));
    }
    head.push_str(" HTTP/1.1\r\n");
    if !req.headers().contains_key(header::HOST)
        && let Some(authority) = req.uri().authority()
    {
        head.push_str("Host: ");
        head.push_str(authority.as_str());
        head.push_str("\r\n");
    }
    for (name, value) in req.headers() {
        head.push_str(name.as_str());
        head.push_str(": ");
        if CREDENTIAL_HEADERS.contains(name) || auth_header == Some(name) {
            head.push_str(REDACTED);
        } else {
            head.push_str(&String::from_utf8_lossy(value.as_bytes()));
        }
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let head = truncate_field(&scrub(&head, key), MAX_REQUEST_HEAD_BYTES);
    base64::engine::general_purpose::STANDARD.encode(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::HeaderValue;

    #[test]
    fn client_ip_prefers_real_ip_then_forwarded_for() {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let mut h = http::HeaderMap::new();
        assert_eq!(client_ip(&h, peer), "10.0.0.1");
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.7, 10.0.0.2"),
        );
        assert_eq!(client_ip(&h, peer), "203.0.113.7");
        h.insert("x-real-ip", HeaderValue::from_static("198.51.100.1"));
        assert_eq!(client_ip(&h, peer), "198.51.100.1");
    }

    fn decoded_head<B>(req: &Request<B>, auth_header: Option<&HeaderName>, key: &str) -> String {
        let head = base64::engine::general_purpose::STANDARD
            .decode(request_head(req, auth_header, key))
            .unwrap();
        String::from_utf8(head).unwrap()
    }

    #[test]
    fn request_head_is_base64_of_the_http1_head() {
        let req = Request::get("/orders/x?a=1")
            .header("host", "gw")
            .header("accept", "*/*")
            .body(())
            .unwrap();
        assert_eq!(
            decoded_head(&req, None, ""),
            "GET /orders/x?a=1 HTTP/1.1\r\nhost: gw\r\naccept: */*\r\n\r\n"
        );
    }

    #[test]
    fn the_redactor_replaces_every_credential_header_and_the_key() {
        let key = "k3y/with+plus";
        let req = Request::get(format!(
            "/orders/{key}?api_key=k3y%2Fwith%2Bplus&x=1&raw={key}"
        ))
        .header("host", "gw")
        .header("Authorization", "Bearer other-credential")
        .header("Proxy-Authorization", "Basic cHJveHk6cGFzcw==")
        .header("Cookie", "session=cookie-credential")
        .header("X-Tyk-Authorization", "the-admin-secret")
        .header("X-Api-Key", key)
        .header("X-Echo", format!("says {key}"))
        .body(())
        .unwrap();
        let auth = HeaderName::from_static("x-api-key");
        let head = decoded_head(&req, Some(&auth), key);
        assert_eq!(
            head,
            "GET /orders/[redacted]?api_key=[redacted]&x=1&raw=[redacted] HTTP/1.1\r\n\
             host: gw\r\n\
             authorization: [redacted]\r\n\
             proxy-authorization: [redacted]\r\n\
             cookie: [redacted]\r\n\
             x-tyk-authorization: [redacted]\r\n\
             x-api-key: [redacted]\r\n\
             x-echo: says [redacted]\r\n\r\n"
        );
    }

    #[test]
    fn the_request_head_is_capped_before_base64() {
        let req = Request::get("/x")
            .header("x-big", "b".repeat(300 * 1024))
            .header("authorization", "a".repeat(300 * 1024))
            .body(())
            .unwrap();
        let head = decoded_head(&req, None, &"a".repeat(300 * 1024));
        assert_eq!(head.len(), MAX_REQUEST_HEAD_BYTES);
        assert!(head.starts_with("GET /x HTTP/1.1\r\nx-big: bbbb"));
        assert!(head.ends_with(hookshot_event::TRUNCATED));
        assert!(request_head(&req, None, "").len() <= MAX_REQUEST_HEAD_BYTES.div_ceil(3) * 4);
    }

    #[test]
    fn keys_are_obfuscated_as_tyk_logs_them() {
        assert_eq!(obfuscate_key("acme0123456789abcdef"), "****cdef");
        assert_eq!(obfuscate_key("abcde"), "****bcde");
        assert_eq!(obfuscate_key("abcd"), "--");
        assert_eq!(obfuscate_key(""), "--");
        assert_eq!(obfuscate_key("clé-éèàü"), "****éèàü");
    }
}
