//! The gateway as a function from request to response: [`Gateway::handle`] routes a request to
//! the gateway's own endpoints or to an API, enforces keys, rate and quota, fires Tyk's events
//! into an [`EventSink`] and forwards what passes. Tests call it without a socket.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use hookshot_config::{ConfigError, ConfigErrors};
use hookshot_event::{
    Event, EventMeta, EventType, KeyFailureMeta, MAX_KEY_BYTES, MAX_ORIGIN_BYTES, MAX_PATH_BYTES,
    MAX_REQUEST_HEAD_BYTES, TokenMeta, truncate_field,
};
use hookshot_webhook::EventSink;
use http::header::{self, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};

use crate::api::{Api, ApiSet};
use crate::metrics::Metrics;
use crate::path::PathError;
use crate::proxy::{ProxyError, Upstream};
use crate::session::hash_key;
use crate::store::{Circuit, KeyStore, LimitStore, QuotaState, StoreError, now_unix};
use hookshot_webhook::LogGate;

/// Any error a body may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The body of requests and responses through the gateway.
pub type Body = BoxBody<Bytes, BoxError>;

/// A body holding `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// Re-reads the API definitions (for `/tyk/reload` and SIGHUP).
pub type Reloader = Box<dyn Fn() -> Result<ApiSet, ConfigErrors> + Send + Sync>;
/// Told of each new set of APIs before it is served (to rebuild the webhook routes); an error
/// refuses the set and the old one stays.
pub type ApisHook = Box<dyn Fn(&ApiSet) -> Result<(), ConfigErrors> + Send + Sync>;
/// Appends more Prometheus text to `/metrics` (the webhook dispatcher's counters).
pub type MetricsSource = Box<dyn Fn(&mut String) + Send + Sync>;

/// What a gateway is made of.
pub struct GatewayParts {
    /// The secret admin calls must present in `x-tyk-authorization`; empty refuses them all.
    pub secret: String,
    /// The APIs served.
    pub apis: ApiSet,
    /// Key sessions.
    pub keys: Arc<dyn KeyStore>,
    /// Rate and quota counters.
    pub limits: Arc<dyn LimitStore>,
    /// Where events go.
    pub sink: Arc<dyn EventSink>,
    /// How long to wait for an upstream's response headers.
    pub upstream_timeout: Option<Duration>,
    /// `memory` or `redis`, for `/hello`.
    pub storage_name: String,
    /// Whether key events carry the presented key as it came (`hookshot.send_keys_in_clear`);
    /// by default it is obfuscated as Tyk's logs do ([`obfuscate_key`]).
    pub send_keys_in_clear: bool,
}

/// The default of [`Gateway::with_storage_deadline`] (`storage.request_deadline_ms`).
pub const DEFAULT_STORAGE_DEADLINE: Duration = Duration::from_millis(500);

/// The gateway: its APIs (swapped whole on reload), stores, event sink and counters.
pub struct Gateway {
    secret: String,
    apis: RwLock<Arc<ApiSet>>,
    pub(crate) keys: Arc<dyn KeyStore>,
    limits: Arc<dyn LimitStore>,
    sink: Arc<dyn EventSink>,
    upstream: Upstream,
    metrics: Metrics,
    storage_name: String,
    storage_deadline: Duration,
    storage_circuit: Circuit,
    storage_log: LogGate,
    upstream_log: LogGate,
    session_log: LogGate,
    pub(crate) admin_log: LogGate,
    send_keys_in_clear: bool,
    reloader: Option<Reloader>,
    apis_hook: Option<ApisHook>,
    metrics_sources: Vec<MetricsSource>,
    control_hostname: Option<String>,
}

/// Which of the gateway's endpoints a listener answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Endpoints {
    /// Everything: the APIs, `/hello` and the control API (no `control_api_port`).
    #[default]
    All,
    /// The APIs and `/hello`; the control API (`/tyk/...`, `/metrics`) answers 404.
    Public,
    /// The control API and `/hello`; everything else answers 404.
    Control,
}

/// Where a request is routed.
enum Route {
    /// `/hello`.
    Hello,
    /// The control API: `/tyk/...` and `/metrics`.
    Control,
    /// An API.
    Api(Arc<Api>),
    /// Nothing.
    NotFound,
}

impl Route {
    fn same(&self, other: &Route) -> bool {
        match (self, other) {
            (Route::Hello, Route::Hello)
            | (Route::Control, Route::Control)
            | (Route::NotFound, Route::NotFound) => true,
            (Route::Api(a), Route::Api(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// The host a request names (`Host`, else the target's authority), without its port.
fn request_host<B>(req: &Request<B>) -> Option<&str> {
    let host = match req.headers().get(header::HOST) {
        Some(v) => v.to_str().ok()?,
        None => req.uri().authority()?.as_str(),
    };
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    Some(match host.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or(host, |(inside, _)| inside),
        None => host.split_once(':').map_or(host, |(name, _)| name),
    })
}

/// Replaces the path of `req`'s target, keeping its query as sent.
fn set_path(req: &mut Request<Body>, path: &str) -> Option<()> {
    let target = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = Some(http::uri::PathAndQuery::try_from(target).ok()?);
    *req.uri_mut() = http::Uri::from_parts(parts).ok()?;
    Some(())
}

/// The request as events report it: credentials redacted, every field within its cap.
struct Origin {
    path: String,
    origin: String,
    key: String,
    head: String,
}

impl Gateway {
    /// A gateway of `parts`.
    pub fn new(parts: GatewayParts) -> Gateway {
        Gateway {
            secret: parts.secret,
            apis: RwLock::new(Arc::new(parts.apis)),
            keys: parts.keys,
            limits: parts.limits,
            sink: parts.sink,
            upstream: Upstream::new(
                hookshot_transport::tls_client_config(None)
                    .expect("webpki's and the system's roots make a TLS configuration"),
                parts.upstream_timeout,
            ),
            metrics: Metrics::default(),
            storage_name: parts.storage_name,
            storage_deadline: DEFAULT_STORAGE_DEADLINE,
            storage_circuit: Circuit::default(),
            storage_log: LogGate::new(Duration::from_secs(10)),
            upstream_log: LogGate::new(Duration::from_secs(10)),
            session_log: LogGate::new(Duration::from_secs(10)),
            admin_log: LogGate::new(Duration::from_secs(10)),
            send_keys_in_clear: parts.send_keys_in_clear,
            reloader: None,
            apis_hook: None,
            metrics_sources: Vec::new(),
            control_hostname: None,
        }
    }

    /// The same gateway, answering the control API (`/tyk/...`, `/metrics`) only to requests
    /// whose host is `hostname` (Tyk's `control_api_hostname`; any case, port ignored); an empty
    /// name answers every host.
    pub fn with_control_hostname(mut self, hostname: &str) -> Gateway {
        let name = hostname.trim_start_matches('[').trim_end_matches(']');
        self.control_hostname = (!name.is_empty()).then(|| name.to_owned());
        self
    }

    fn is_control_host<B>(&self, req: &Request<B>) -> bool {
        match &self.control_hostname {
            None => true,
            Some(name) => request_host(req).is_some_and(|h| h.eq_ignore_ascii_case(name)),
        }
    }

    /// The same gateway, reaching upstreams with `tls` (by default webpki's and the system's roots;
    /// the server passes the webhook transport's, with `hookshot.extra_ca_file`).
    pub fn with_upstream_tls(mut self, tls: rustls::ClientConfig) -> Gateway {
        self.upstream = Upstream::new(tls, self.upstream.timeout());
        self
    }

    /// The same gateway, giving all the storage calls of one request `deadline` together
    /// (default [`DEFAULT_STORAGE_DEADLINE`]).
    pub fn with_storage_deadline(mut self, deadline: Duration) -> Gateway {
        self.storage_deadline = deadline;
        self
    }

    /// The same gateway, re-reading its APIs with `reloader` on `/tyk/reload` and SIGHUP.
    pub fn with_reloader(mut self, reloader: Reloader) -> Gateway {
        self.reloader = Some(reloader);
        self
    }

    /// The same gateway, telling `hook` of each new set of APIs before serving it.
    pub fn with_apis_hook(mut self, hook: ApisHook) -> Gateway {
        self.apis_hook = Some(hook);
        self
    }

    /// The same gateway, appending `source`'s text to `/metrics`.
    pub fn with_metrics_source(mut self, source: MetricsSource) -> Gateway {
        self.metrics_sources.push(source);
        self
    }

    /// The APIs served now.
    pub fn apis(&self) -> Arc<ApiSet> {
        self.apis
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub(crate) fn secret(&self) -> &str {
        &self.secret
    }

    pub(crate) fn storage_name(&self) -> &str {
        &self.storage_name
    }

    /// Re-reads the API definitions; a set with mistakes is refused and the old one kept.
    /// Requests in flight finish on the set they started with.
    pub fn reload(&self) -> Result<usize, ConfigErrors> {
        let Some(reloader) = &self.reloader else {
            let n = self.apis().len();
            self.metrics.reload(true);
            return Ok(n);
        };
        let result = reloader().and_then(|set| {
            if let Some(hook) = &self.apis_hook {
                hook(&set)?;
            }
            Ok(set)
        });
        match result {
            Ok(set) => {
                let n = set.len();
                *self
                    .apis
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(set);
                self.metrics.reload(true);
                tracing::info!(apis = n, "API definitions reloaded");
                Ok(n)
            }
            Err(errors) => {
                self.metrics.reload(false);
                tracing::error!(
                    errors = errors.len(),
                    "the new API definitions were refused; the old ones are still served:\n{errors}"
                );
                Err(errors)
            }
        }
    }

    /// Answers one request from the client at `peer`, on a gateway with one listener for
    /// everything ([`Endpoints::All`]).
    pub async fn handle(&self, req: Request<Body>, peer: SocketAddr) -> Response<Body> {
        self.handle_on(req, peer, Endpoints::All).await
    }

    /// Answers one request from the client at `peer` that came to a listener serving
    /// `endpoints`; the others answer 404 (Tyk's `{"error": "Not Found"}`).
    ///
    /// The path is normalised first ([`crate::path`]): a path refused there, or whose
    /// dot-segments lead it somewhere other than what its written form addresses, is answered
    /// 400 and fires no event; otherwise the request is routed, and sent upstream, by its
    /// normalised path (the query as sent).
    pub async fn handle_on(
        &self,
        mut req: Request<Body>,
        peer: SocketAddr,
        endpoints: Endpoints,
    ) -> Response<Body> {
        let route = match self.route(&mut req) {
            Ok(route) => route,
            Err(e) => {
                self.metrics.request("", 400);
                return error_response(StatusCode::BAD_REQUEST, &e.to_string());
            }
        };
        let served = match (&route, endpoints) {
            (Route::Control, Endpoints::Public) | (Route::Api(_), Endpoints::Control) => false,
            (Route::Control, _) => self.is_control_host(&req),
            _ => true,
        };
        let api = match route {
            _ if !served => {
                self.metrics.request("", 404);
                return error_response(StatusCode::NOT_FOUND, "Not Found");
            }
            Route::Hello | Route::Control => {
                let response = crate::admin::handle(self, req).await;
                self.metrics.request("", response.status().as_u16());
                return response;
            }
            Route::NotFound => {
                self.metrics.request("", 404);
                return error_response(StatusCode::NOT_FOUND, "Not Found");
            }
            Route::Api(api) => api,
        };
        let (status, response) = self.serve_api(api.clone(), req, peer).await;
        self.metrics.request(api.id(), status);
        response
    }

    /// Where the request goes, by its normalised path, which replaces the path it came with.
    fn route(&self, req: &mut Request<Body>) -> Result<Route, PathError> {
        let apis = self.apis();
        let target = |path: &str| {
            if path == "/hello" {
                Route::Hello
            } else if path == "/metrics" || path.starts_with("/tyk/") || path == "/tyk" {
                Route::Control
            } else {
                apis.route(path)
                    .cloned()
                    .map_or(Route::NotFound, Route::Api)
            }
        };
        let original = req.uri().path();
        let path = crate::path::normalise(original)?;
        let route = target(&path.resolved);
        if path.had_dot_segments() && !route.same(&target(&path.written)) {
            return Err(PathError::Climbs);
        }
        if path.resolved != original {
            let resolved = path.resolved.into_owned();
            set_path(req, &resolved).ok_or(PathError::BadEscape)?;
        }
        Ok(route)
    }

    async fn serve_api(
        &self,
        api: Arc<Api>,
        req: Request<Body>,
        peer: SocketAddr,
    ) -> (u16, Response<Body>) {
        let mut quota_headers = None;
        let mut req = req;
        if !api.definition.use_keyless {
            let (back, decision) = self.authorise(api.clone(), req, peer.ip()).await;
            req = back;
            match decision {
                Ok(q) => quota_headers = q,
                Err(response) => return (response.status().as_u16(), response),
            }
        }
        match self.upstream.forward(api.clone(), req, peer.ip()).await {
            Ok(mut response) => {
                if let Some(q) = quota_headers {
                    set_quota_headers(response.headers_mut(), q);
                }
                (response.status().as_u16(), response)
            }
            Err(e) => {
                self.metrics.upstream_error();
                if let Some(suppressed) = self.upstream_log.allow() {
                    tracing::warn!(api = api.id(), error = %e, suppressed, "upstream request failed");
                }
                let status = match e {
                    ProxyError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
                    _ => StatusCode::BAD_GATEWAY,
                };
                (
                    status.as_u16(),
                    error_response(status, "There was a problem proxying the request"),
                )
            }
        }
    }

    /// Key auth, expiry, access rights, rate and quota; `Ok` with the quota headers to send, or
    /// the refusal.
    async fn authorise(
        &self,
        api: Arc<Api>,
        req: Request<Body>,
        peer: IpAddr,
    ) -> (
        Request<Body>,
        Result<Option<(i64, QuotaState)>, Response<Body>>,
    ) {
        let decision = self.decide(&api, &req, peer).await;
        (req, decision)
    }

    async fn decide(
        &self,
        api: &Api,
        req: &Request<Body>,
        peer: IpAddr,
    ) -> Result<Option<(i64, QuotaState)>, Response<Body>> {
        let key = req
            .headers()
            .get(&api.auth_header)
            .and_then(|v| v.to_str().ok())
            .map_or("", strip_bearer);
        if key.is_empty() {
            return Err(error_response(
                StatusCode::UNAUTHORIZED,
                "Authorization field missing",
            ));
        }
        let hash = hash_key(key);
        // One deadline for every storage call of this request.
        let deadline = tokio::time::Instant::now() + self.storage_deadline;
        let storage = &self.storage_circuit;
        let session = match storage.call(deadline, self.keys.get(&hash)).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                self.fire_key_event(
                    api,
                    EventType::AuthFailure,
                    self.origin(api, req, peer, key),
                );
                return Err(error_response(
                    StatusCode::FORBIDDEN,
                    "Access to this API has been disallowed",
                ));
            }
            Err(e) => return Err(self.storage_failure(e)),
        };
        if session.is_expired(now_unix()) {
            self.fire_key_event(api, EventType::KeyExpired, self.origin(api, req, peer, key));
            return Err(error_response(
                StatusCode::UNAUTHORIZED,
                "Key has expired, please renew",
            ));
        }
        if !session.may_access(api.id()) {
            // Tyk fires no event for a valid key used on an API it has no rights to.
            return Err(error_response(
                StatusCode::FORBIDDEN,
                "Access to this API has been disallowed",
            ));
        }
        let limits = match session.limits() {
            Ok(limits) => limits,
            Err(e) => return Err(self.session_failure(api, &hash, &e)),
        };
        if let Some((limit, window)) = limits.rate {
            match storage
                .call(deadline, self.limits.rate_hit(&hash, limit, window))
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    self.fire_key_event(
                        api,
                        EventType::RatelimitExceeded,
                        self.origin(api, req, peer, key),
                    );
                    return Err(error_response(
                        StatusCode::TOO_MANY_REQUESTS,
                        "Rate Limit Exceeded",
                    ));
                }
                Err(e) => return Err(self.storage_failure(e)),
            }
        }
        let Some((quota_max, renewal_secs)) = limits.quota else {
            return Ok(None);
        };
        let quota = self.limits.quota_hit(&hash, quota_max, renewal_secs);
        match storage.call(deadline, quota).await {
            Ok(q) if q.allowed => Ok(Some((quota_max, q))),
            Ok(q) => {
                self.fire_key_event(
                    api,
                    EventType::QuotaExceeded,
                    self.origin(api, req, peer, key),
                );
                let mut response = error_response(StatusCode::FORBIDDEN, "Quota exceeded");
                set_quota_headers(response.headers_mut(), (quota_max, q));
                Err(response)
            }
            Err(e) => Err(self.storage_failure(e)),
        }
    }

    fn storage_failure(&self, e: StoreError) -> Response<Body> {
        self.metrics.storage_error();
        if let Some(suppressed) = self.storage_log.allow() {
            tracing::error!(error = %e, suppressed, "storage did not answer; requests get 503 until it does");
        }
        error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "The gateway's storage is unavailable, please try again later",
        )
    }

    /// A stored session whose limits cannot be applied (written by hand or by another gateway):
    /// the request gets 500 naming the field, and the operator a log line (through a gate) with
    /// the key's hash, never the key.
    fn session_failure(&self, api: &Api, key_hash: &str, e: &ConfigError) -> Response<Body> {
        if let Some(suppressed) = self.session_log.allow() {
            tracing::error!(
                api = api.id(),
                key_hash,
                problem = %e,
                suppressed,
                "a key's stored session holds limits the gateway cannot apply; requests with the \
                 key get 500 until the session is corrected through the keys API"
            );
        }
        error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!(
                "This key's session cannot be applied ({e}); the gateway's operator must correct it"
            ),
        )
    }

    /// The request as key events report it, built through the one redactor ([`request_head`]):
    /// `Key` obfuscated unless `send_keys_in_clear`, the key never in `Path` or
    /// `OriginatingRequest`, every field within its cap.
    fn origin(&self, api: &Api, req: &Request<Body>, peer: IpAddr, key: &str) -> Origin {
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

    fn fire_key_event(&self, api: &Api, event_type: EventType, o: Origin) {
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

    pub(crate) async fn limits_reset_quota(&self, key_hash: &str) -> Result<(), StoreError> {
        self.limits.reset_quota(key_hash).await
    }

    pub(crate) fn render_metrics(&self) -> String {
        let mut out = String::new();
        self.metrics.render(&mut out);
        for source in &self.metrics_sources {
            source(&mut out);
        }
        out
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

fn strip_bearer(v: &str) -> &str {
    let v = v.trim();
    match v.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => v[7..].trim(),
        _ => v,
    }
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

fn set_quota_headers(headers: &mut http::HeaderMap, (max, q): (i64, QuotaState)) {
    for (name, value) in [
        ("x-ratelimit-limit", max),
        ("x-ratelimit-remaining", q.remaining),
        ("x-ratelimit-reset", q.resets_at),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}

/// Tyk's error answer: `{"error": "<message>"}` (indented as Tyk writes it), as JSON.
pub fn error_response(status: StatusCode, message: &str) -> Response<Body> {
    let text = format!(
        "{{\n    \"error\": {}\n}}",
        serde_json::Value::from(message)
    );
    json_response(status, text)
}

/// A JSON answer.
pub fn json_response(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(full(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn the_request_host_is_read_without_its_port() {
        let host = |h: &str| {
            let req = Request::get("/").header("host", h).body(()).unwrap();
            request_host(&req).map(str::to_owned)
        };
        assert_eq!(
            host("ctl.example.com:8081").as_deref(),
            Some("ctl.example.com")
        );
        assert_eq!(host("CTL.example.com").as_deref(), Some("CTL.example.com"));
        assert_eq!(host("[::1]:8081").as_deref(), Some("::1"));
        assert_eq!(host("[::1]").as_deref(), Some("::1"));
        let h2 = Request::get("http://ctl:1/x").body(()).unwrap();
        assert_eq!(request_host(&h2), Some("ctl"));
    }

    #[test]
    fn bearer_is_stripped() {
        assert_eq!(strip_bearer("Bearer abc"), "abc");
        assert_eq!(strip_bearer("bearer  abc "), "abc");
        assert_eq!(strip_bearer("abc"), "abc");
    }
}
