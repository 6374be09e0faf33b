//! The handler configuration as Tyk's files hold it, declared once: the classic
//! `event_handlers: {"events": {"<Event>": [{handler_name, handler_meta}]}}` block (in API
//! definitions and in the gateway configuration) and the OAS
//! `x-tyk-api-gateway.server.eventHandlers` list. Every field is [`Lenient`], so reading never
//! stops at the first wrong one; unknown fields are ignored (real Tyk files carry many).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::lenient::{Lenient, keep_null, wire_objects};

/// The parts of a definition document (an API definition, or the gateway configuration) that
/// hold handlers.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Definition {
    /// The classic block.
    #[serde(deserialize_with = "keep_null")]
    pub(crate) event_handlers: Option<Lenient<ClassicBlock>>,
    /// The OAS extension; anything but an object holds no handlers.
    #[serde(rename = "x-tyk-api-gateway")]
    pub(crate) tyk_gateway: Option<Lenient<OasGateway>>,
}

/// `event_handlers.events`: each event's list of handlers, by event name.
pub(crate) type ClassicEvents = BTreeMap<String, Lenient<Vec<Lenient<ClassicHandler>>>>;

/// `event_handlers`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ClassicBlock {
    /// Each event's handlers, by event name.
    #[serde(deserialize_with = "keep_null")]
    pub(crate) events: Option<Lenient<ClassicEvents>>,
}

/// One classic handler entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ClassicHandler {
    /// `eh_web_hook_handler` or `eh_log_handler`.
    pub(crate) handler_name: Option<Lenient<String>>,
    /// The handler's settings; absent or `null`: none.
    pub(crate) handler_meta: Option<Lenient<ClassicMeta>>,
}

/// `handler_meta`, for either handler.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ClassicMeta {
    /// Whether the handler is skipped.
    pub(crate) disabled: Option<Lenient<bool>>,
    /// The log handler's prefix.
    pub(crate) prefix: Option<Lenient<String>>,
    /// The webhook's URL.
    pub(crate) target_path: Option<Lenient<String>>,
    /// The webhook's body template.
    pub(crate) template_path: Option<Lenient<String>>,
    /// The webhook's headers: `{"Name": "value"}`.
    pub(crate) header_map: Option<Lenient<BTreeMap<String, Lenient<String>>>>,
    /// The webhook's cool-down, in whole seconds.
    pub(crate) event_timeout: Option<Lenient<u64>>,
    /// The fields both forms share.
    #[serde(flatten)]
    pub(crate) common: WebhookCommon,
}

/// `x-tyk-api-gateway`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct OasGateway {
    /// `server`; anything but an object holds no handlers.
    pub(crate) server: Option<Lenient<OasServer>>,
}

/// `x-tyk-api-gateway.server`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct OasServer {
    /// The handlers.
    #[serde(rename = "eventHandlers", deserialize_with = "keep_null")]
    pub(crate) event_handlers: Option<Lenient<Vec<Lenient<OasHandler>>>>,
}

/// One OAS handler: `{"enabled", "trigger", "type", "url", "method", ...}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct OasHandler {
    /// Whether the handler runs (Tyk reads a missing `enabled` as false).
    pub(crate) enabled: Option<Lenient<bool>>,
    /// The event.
    pub(crate) trigger: Option<Lenient<String>>,
    /// `webhook` or `log`.
    #[serde(rename = "type")]
    pub(crate) kind: Option<Lenient<String>>,
    /// The webhook's URL.
    pub(crate) url: Option<Lenient<String>>,
    /// The webhook's body template.
    #[serde(rename = "bodyTemplate")]
    pub(crate) body_template: Option<Lenient<String>>,
    /// The webhook's headers: `[{"name": ..., "value": ...}]`.
    pub(crate) headers: Option<Lenient<Vec<Lenient<OasHeader>>>>,
    /// The webhook's cool-down, a duration such as `"1h30m20s"`.
    #[serde(rename = "cooldownPeriod")]
    pub(crate) cooldown_period: Option<Lenient<String>>,
    /// The log handler's prefix.
    #[serde(rename = "logPrefix")]
    pub(crate) log_prefix: Option<Lenient<String>>,
    /// The log handler's prefix, under its classic name.
    pub(crate) prefix: Option<Lenient<String>>,
    /// The fields both forms share.
    #[serde(flatten)]
    pub(crate) common: WebhookCommon,
}

/// One OAS header.
#[derive(Debug, Deserialize)]
pub(crate) struct OasHeader {
    /// The header name.
    pub(crate) name: String,
    /// Its value.
    pub(crate) value: String,
}

/// The webhook fields with one name in both forms: Tyk's `method`, and Hookshot's own.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WebhookCommon {
    /// The HTTP method, in any case.
    pub(crate) method: Option<Lenient<String>>,
    /// An identifier for logs and metrics.
    pub(crate) id: Option<Lenient<String>>,
    /// A human name for logs.
    pub(crate) name: Option<Lenient<String>>,
    /// Whole seconds one attempt may take.
    pub(crate) request_timeout: Option<Lenient<u64>>,
    /// Opt-in retries.
    pub(crate) retry: Option<Lenient<Retry>>,
    /// A Standard Webhooks secret, `whsec_<base64>`.
    pub(crate) signing_secret: Option<Lenient<String>>,
}

/// `retry`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Retry {
    /// Attempts in all, the first included.
    pub(crate) max_attempts: Option<Lenient<u64>>,
    /// The first backoff ceiling, in milliseconds.
    pub(crate) initial_backoff_ms: Option<Lenient<u64>>,
    /// The largest backoff, in milliseconds.
    pub(crate) max_backoff_ms: Option<Lenient<u64>>,
}

wire_objects!(
    Definition,
    ClassicBlock,
    ClassicHandler,
    ClassicMeta,
    OasGateway,
    OasServer,
    OasHandler,
    OasHeader,
    Retry,
);
