//! Hookshot's event model: the events an API gateway fires, their metadata, and the configuration
//! of the handlers that react to them.
//!
//! Event names, metadata fields and handler configuration are Tyk's, so existing API definitions
//! and templates load unchanged. The serde form of an [`Event`] (`Type`, `Meta`, `TimeStamp`, and the
//! older `EventType`, `EventMetaData`) is what templates render; [`Fields`] reads the same fields
//! by the same names, so a template engine needs no list of them.
//!
//! Architecture invariant: this crate does no I/O and knows nothing of async runtimes, HTTP clients,
//! templates or stores; everything else in Hookshot depends on it.

mod config;
mod error;
mod event;
mod event_type;
mod fields;
mod meta;
mod size;
mod time;

pub use config::{
    EventHandlers, HandlerConfig, LogConfig, MAX_BACKOFF_MS, MAX_EVENT_TIMEOUT_SECS,
    MAX_REQUEST_TIMEOUT_SECS, Method, RetryPolicy, TargetUrl, WebhookConfig, parse_classic,
    parse_duration, parse_json, parse_oas,
};
pub use error::{ConfigError, ConfigErrors, Location, describe};
pub use event::{ApiRef, Event};
pub use event_type::{EventType, MetaFamily};
pub use fields::{FieldValue, Fields};
pub use meta::{
    CertificateMeta, CircuitBreakerMeta, EventMeta, HostInfo, HostStatusMeta, KeyFailureMeta,
    MAX_KEY_BYTES, MAX_ORIGIN_BYTES, MAX_PATH_BYTES, MAX_REQUEST_HEAD_BYTES, TRUNCATED, TokenMeta,
    TriggerMeta, UpstreamOAuthMeta, VersionFailureMeta, truncate_field,
};
pub use time::{Timestamp, TimestampError};
