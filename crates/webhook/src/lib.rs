//! Hookshot's webhook engine: an event goes in, a rendered, de-duplicated HTTP request comes out.
//!
//! - [`WebhookHandler`] composes a [`Renderer`], a [`CooldownStore`] and a [`Transport`] through
//!   their traits (declared in `hookshot-core` and re-exported here), so a Rust user can bring
//!   their own store, renderer or transport. For one event it renders the body, computes Tyk's
//!   checksum and claims it for the cool-down; only a won claim goes on to build the request
//!   (method, URL, `User-Agent`, `Content-Type`, headers, message id), sign it (Standard Webhooks,
//!   opt-in) and send it, retrying with backoff and jitter when configured.
//! - [`Instrumented`] drives a handler to the end for a program without a dispatcher, counting what
//!   became of each event; a dispatcher counts per [`Registration`].
//! - [`LogHandler`] is Tyk's `eh_log_handler`.
//! - [`Dispatcher`] implements [`EventSink`]: `fire` returns at once; a bounded queue and bounded
//!   concurrency deliver in the background, with the retries waiting and the bytes held bounded
//!   too ([`DispatcherConfig`]); [`Routes`] says which handlers get which events.
//!
//! With default features off, the crate needs no HTTP client, TLS, liquid or Redis: a program
//! brings its own transport and renderer (here, an outbox and a one-line body) and takes the
//! memory store of `hookshot-cooldown`. The second identical event within the cool-down is
//! suppressed, and the counters show both:
//!
//! ```rust
//! use std::sync::{Arc, Mutex};
//! use std::time::Duration;
//!
//! use hookshot_cooldown::MemoryStore;
//! use hookshot_webhook::{
//!     Delivered, Event, EventType, Instrumented, Outcome, RenderError, Renderer, Transport,
//!     TransportError, WebhookConfig, WebhookHandler, WebhookRequest, async_trait, http,
//! };
//!
//! /// Keeps requests instead of sending them, as a queue or a message bus would take them.
//! #[derive(Default)]
//! struct Outbox(Mutex<Vec<WebhookRequest>>);
//!
//! #[async_trait]
//! impl Transport for Outbox {
//!     async fn send(&self, request: WebhookRequest) -> Result<Delivered, TransportError> {
//!         self.0.lock().unwrap().push(request);
//!         Ok(Delivered { status: http::StatusCode::ACCEPTED })
//!     }
//! }
//!
//! struct EventName;
//!
//! impl Renderer for EventName {
//!     fn render(&self, event: &Event) -> Result<String, RenderError> {
//!         Ok(format!(r#"{{"event": "{}"}}"#, event.event_type))
//!     }
//!     fn content_type(&self) -> Option<&'static str> {
//!         Some("application/json")
//!     }
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let config = WebhookConfig::builder(http::Method::POST, "https://hooks.example.com/in".parse()?)
//!         .cooldown(Duration::from_secs(60))
//!         .build()?;
//!     let (outbox, store) = (Arc::new(Outbox::default()), Arc::new(MemoryStore::new()));
//!     let webhook = WebhookHandler::new(config, Arc::new(EventName), store, outbox.clone());
//!     let handler = Instrumented::new(webhook);
//!
//!     let event = Event::sample(&EventType::AuthFailure);
//!     assert!(handler.handle(&event).await.is_delivered());
//!     assert_eq!(handler.handle(&event).await, Outcome::Suppressed);
//!
//!     let counted = handler.metrics().snapshot();
//!     assert_eq!((counted.delivered, counted.suppressed), (1, 1));
//!     assert_eq!(outbox.0.lock().unwrap()[0].body, r#"{"event": "AuthFailure"}"#);
//!     Ok(())
//! }
//! ```
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
