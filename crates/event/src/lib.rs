//! Hookshot's event model: the events an API gateway fires and their metadata.
//!
//! Event names and metadata fields are Tyk's, so existing templates render unchanged (reading
//! handler configuration is `hookshot-config`'s). The serde form of an [`Event`] (`Type`, `Meta`,
//! `TimeStamp`, and the older `EventType`, `EventMetaData`) is what templates render; [`Fields`]
//! reads the same fields by the same names, so a template engine needs no list of them.
//!
//! ```
//! use hookshot_event::{Event, EventType, FieldValue, Fields};
//!
//! let event = Event::sample(&EventType::AuthFailure);
//! let json = serde_json::to_value(&event).unwrap();
//! assert_eq!(json["Type"], "AuthFailure");
//! assert_eq!(json["EventMetaData"], json["Meta"]);
//!
//! // The same field, by the same name, without serialising.
//! let Some(FieldValue::Record(meta)) = event.field("Meta") else { panic!("a record") };
//! let Some(FieldValue::Str(path)) = meta.field("Path") else { panic!("a string") };
//! assert_eq!(json["Meta"]["Path"], *path);
//! ```
//!
//! Architecture invariant: this crate does no I/O and knows nothing of async runtimes, HTTP clients,
//! templates, stores or configuration files; everything else in Hookshot depends on it.

mod event;
mod event_type;
mod fields;
mod meta;
mod size;
mod time;

pub use event::{ApiRef, Event};
pub use event_type::{EventType, MetaFamily};
pub use fields::{FieldValue, Fields};
pub use meta::{
    CertificateMeta, CircuitBreakerMeta, EventMeta, HostInfo, HostStatusMeta, KeyFailureMeta,
    MAX_KEY_BYTES, MAX_ORIGIN_BYTES, MAX_PATH_BYTES, MAX_REQUEST_HEAD_BYTES, TRUNCATED, TokenMeta,
    TriggerMeta, UpstreamOAuthMeta, VersionFailureMeta, truncate_field,
};
pub use time::{Timestamp, TimestampError};
