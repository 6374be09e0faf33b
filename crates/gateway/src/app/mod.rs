//! The gateway as a function from request to response: [`Gateway::handle`] routes a request to
//! the gateway's own endpoints or to an API, enforces keys, rate and quota, fires Tyk's events
//! into an [`EventSink`] and forwards what passes. Tests call it without a socket.
//!
//! Each stage of the request path has its file: `route` finds where a request goes,
//! `authorise` checks its key and counts its rate and quota, `events` fires the events a request
//! causes through the one redactor, and `response` holds the bodies and Tyk's error answers.

mod authorise;
mod events;
mod response;
mod route;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hookshot_config::ConfigErrors;
use hookshot_webhook::EventSink;
use http::{Request, Response, StatusCode};

use crate::api::{Api, ApiSet};
use crate::metrics::Metrics;
use crate::proxy::{ProxyError, Upstream};
use crate::store::{Circuit, KeyStore, LimitStore, StoreError};
use hookshot_webhook::LogGate;

use authorise::set_quota_headers;
pub use events::{REDACTED, client_ip, obfuscate_key, request_head};
pub use response::{Body, BoxError, error_response, full, json_response};
use route::Route;

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
