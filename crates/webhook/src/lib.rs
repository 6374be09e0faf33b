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
mod outcome;
mod routes;
mod signing;
mod webhook;

pub use dispatcher::{
    Dispatcher, DispatcherConfig, DispatcherMetrics, HandlerReport, RETRY_ALLOWANCE, ShutdownReport,
};
pub use handler::{EventHandler, Pending, Step};
pub use log::LogHandler;
pub use log_gate::LogGate;
pub use metrics::{HandlerMetrics, LATENCY_BUCKETS_MS, MetricsSnapshot};
pub use outcome::{FailReason, Outcome};
pub use routes::{Registration, Routes};
pub use webhook::{USER_AGENT_VALUE, WebhookHandler};

pub use hookshot_config::{RetryPolicy, SigningKey, WebhookConfig};
pub use hookshot_cooldown::{Claim, CooldownStore};
pub use hookshot_event::{Event, EventType};
pub use hookshot_template::Renderer;
pub use hookshot_transport::{Transport, WebhookRequest};

/// Where a gateway fires events. Firing never waits on the network: an implementation queues the
/// event (or drops and counts it when its queue is full) and returns at once.
#[cfg_attr(test, mockall::automock)]
pub trait EventSink: Send + Sync {
    /// Hands `event` over for delivery to the handlers registered for its type and API.
    fn fire(&self, event: Event);
}
