//! Hookshot's webhook engine: an event goes in, a rendered, de-duplicated HTTP request comes out.
//!
//! - [`WebhookHandler`] composes a [`Renderer`], a [`CooldownStore`] and a [`Transport`] through
//!   their traits, so a Rust user can bring their own store or transport. For one event it renders
//!   the body, builds the request (method, URL, `User-Agent`, `Content-Type`, `headers`), computes
//!   Tyk's checksum, claims it for the cool-down, signs it (Standard Webhooks, opt-in) and sends it,
//!   retrying with backoff and jitter when configured.
//! - [`LogHandler`] is Tyk's `eh_log_handler`.
//! - [`Dispatcher`] implements [`EventSink`]: `fire` returns at once; a bounded queue and bounded
//!   concurrency deliver in the background, with the retries waiting and the bytes held bounded
//!   too ([`DispatcherConfig`]); [`Routes`] says which handlers get which events.
//!
//! Architecture invariant: this crate sees stores, renderers and transports only through their traits;
//! it knows nothing of Redis, of configuration files or of the gateway's HTTP server.

mod backoff;
mod dispatcher;
mod handler;
mod log;
mod log_gate;
mod metrics;
mod routes;
mod signing;
mod webhook;

pub use dispatcher::{
    Dispatcher, DispatcherConfig, DispatcherMetrics, HandlerReport, RETRY_ALLOWANCE, ShutdownReport,
};
pub use handler::Instrumented;
pub use log::LogHandler;
pub use log_gate::LogGate;
pub use metrics::{HandlerMetrics, LATENCY_BUCKETS_MS, MetricsSnapshot};
pub use routes::{Registration, Routes};
pub use webhook::{USER_AGENT_VALUE, WebhookHandler};

pub use hookshot_config::{RetryPolicy, SigningKey, WebhookConfig};
/// The seams and what implementing them needs, so that a program bringing its own store,
/// renderer or transport depends on this crate alone.
pub use hookshot_core::{
    Checksum, Claim, ClaimStats, CooldownStore, Delivered, Event, EventHandler, EventSink,
    EventType, FailReason, Outcome, Pending, RenderError, Renderer, Step, TargetUrl, Transport,
    TransportError, WebhookRequest, async_trait,
};
/// The `http` crate the request types speak in (`http::Method`, `http::StatusCode`, ...).
pub use http;

/// Hookshot's liquid renderer (feature `liquid`, on by default).
#[cfg(feature = "liquid")]
pub use hookshot_template::Template;
/// Hookshot's HTTP transport (feature `http`, on by default).
#[cfg(feature = "http")]
pub use hookshot_transport::{HttpTransport, HttpTransportConfig};
