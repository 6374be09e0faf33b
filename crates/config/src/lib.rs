//! Hookshot's configuration: Tyk's file formats read into validated domain types.
//!
//! Operators keep their Tyk files, and every file that loads in Tyk's shape loads here:
//! - the handlers of an API definition or of the gateway configuration, classic
//!   `event_handlers` and OAS `eventHandlers`, into [`EventHandlers`] of [`WebhookConfig`]s and
//!   [`LogConfig`]s ([`EventHandlers::from_definition`]);
//! - the gateway configuration, `tyk.conf` and Hookshot's own section ([`gateway`]);
//! - classic API definitions ([`api`]).
//!
//! Each format is declared once as serde types (its wire form), then read field by field into
//! domain types that cannot be invalid: an `http::Method`, a [`TargetUrl`](hookshot_core::TargetUrl),
//! a built `HeaderMap`, `Duration`s, a parsed [`SigningKey`]. Every mistake is reported, not
//! only the first, as a [`ConfigError`] that names the file, API, event, handler and field, what
//! was found and what is accepted. Rust users build a [`WebhookConfig`] with
//! [`WebhookConfig::builder`], checked by the same rules.
//!
//! ```
//! use std::time::Duration;
//!
//! use hookshot_config::{EventHandlers, HandlerConfig, Location, parse_json};
//! use hookshot_event::EventType;
//!
//! let text = r#"{"api_id": "orders", "event_handlers": {"events": {"AuthFailure": [
//!     {"handler_name": "eh_web_hook_handler",
//!      "handler_meta": {"method": "post", "target_path": "https://hooks.example.com/in",
//!                       "event_timeout": 60, "header_map": {"X-Team": "orders"}}}]}}}"#;
//! let doc = parse_json(text, "apps/orders.json").unwrap();
//! let at = Location::file("apps/orders.json").api("orders");
//! let handlers = EventHandlers::from_definition(&doc, &at).unwrap();
//! let [HandlerConfig::Webhook(webhook)] = handlers.for_event(&EventType::AuthFailure) else {
//!     panic!("one webhook")
//! };
//! assert_eq!(webhook.method(), http::Method::POST);
//! assert_eq!(webhook.cooldown(), Duration::from_secs(60));
//! assert_eq!(webhook.headers()["x-team"], "orders");
//!
//! // Every mistake at once, each with where it is and what is accepted.
//! let bad = text.replace("post", "FETCH").replace("https://", "ftp://");
//! let errors = EventHandlers::from_definition(&parse_json(&bad, "apps/orders.json").unwrap(), &at)
//!     .unwrap_err();
//! assert_eq!(errors.0.len(), 2);
//! assert!(errors.to_string().contains(r#"apps/orders.json, API "orders", event "AuthFailure""#));
//! ```
//!
//! Architecture invariant: this crate knows Tyk's file formats and produces validated domain
//! types; it reads no file, does no network I/O and knows no async runtime, HTTP client or
//! server (the gateway reads the files and hands their text here). Of Hookshot's crates it
//! knows only `hookshot-event`.

pub mod api;
mod error;
mod fields;
pub mod gateway;
mod handlers;
mod lenient;
mod webhook;

pub use error::{ConfigError, ConfigErrors, Location, describe, parse_json};
pub use fields::check_fields;
pub use handlers::{EventHandlers, HandlerConfig, LogConfig};
pub use webhook::validate::parse_duration;
pub use webhook::{
    MAX_BACKOFF_MS, MAX_EVENT_TIMEOUT_SECS, MAX_REQUEST_TIMEOUT_SECS, MAX_RETRY_ATTEMPTS,
    MAX_SIGNING_KEY_BYTES, MIN_SIGNING_KEY_BYTES, RetryPolicy, SigningKey, SigningKeyError,
    WebhookConfig, WebhookConfigBuilder,
};
