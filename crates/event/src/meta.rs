//! Event metadata, one type per family, with Tyk's field names.
//!
//! Every family carries `Message` and `OriginatingRequest` (the base64 of the inbound request).
//! Missing fields read as empty, so a partial event file still loads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event_type::{EventType, MetaFamily};
use crate::fields::{FieldValue, Fields, tyk_record};
use crate::time::Timestamp;

tyk_record! {
    /// `AuthFailure`, `KeyExpired`, `RatelimitExceeded`, `QuotaExceeded`, `OrgQuotaExceeded`, `OrgRateLimitExceeded`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(default)]
    pub struct KeyFailureMeta {
        /// Tyk's fixed message for the event.
        pub message: String => "Message",
        /// Base64 of the inbound request.
        pub originating_request: String => "OriginatingRequest",
        /// The request path.
        pub path: String => "Path",
        /// The client address.
        pub origin: String => "Origin",
        /// The presented key (the organisation id for organisation events), as the gateway reports
        /// it: Hookshot's gateway obfuscates it (`****` and its last four characters) unless told
        /// to send keys in clear.
        pub key: String => "Key",
    }
}

tyk_record! {
    /// `VersionFailure`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(default)]
    pub struct VersionFailureMeta {
        /// Tyk's fixed message for the event.
        pub message: String => "Message",
        /// Base64 of the inbound request.
        pub originating_request: String => "OriginatingRequest",
        /// The request path.
        pub path: String => "Path",
        /// The client address.
        pub origin: String => "Origin",
        /// The presented key.
        pub key: String => "Key",
        /// Why the version or path was refused.
        pub reason: String => "Reason",
    }
}

tyk_record! {
    /// `BreakerTriggered`, `BreakerTripped`, `BreakerReset`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(default)]
    pub struct CircuitBreakerMeta {
        /// Tyk's fixed message for the event.
        pub message: String => "Message",
        /// Base64 of the inbound request.
        pub originating_request: String => "OriginatingRequest",
        /// The path whose breaker changed state.
        pub path: String => "Path",
        /// The API the breaker belongs to.
        pub api_id: String => "APIID",
        /// 0 when the breaker tripped, 1 when it reset.
        pub circuit_event: i64 => "CircuitEvent",
    }
}

tyk_record! {
    /// `HostDown`, `HostUp`.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default)]
    pub struct HostStatusMeta {
        /// Tyk's fixed message for the event.
        pub message: String => "Message",
        /// Base64 of the inbound request.
        pub originating_request: String => "OriginatingRequest",
        /// What the uptime check saw.
        pub host_info: HostInfo => "HostInfo",
    }
}

tyk_record! {
    /// The result of one uptime check.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default)]
    pub struct HostInfo {
        /// The URL that was checked.
        pub check_url: String => "CheckURL",
        /// The HTTP status of the check (0 when there was none).
        pub response_code: i64 => "ResponseCode",
        /// The check's latency in milliseconds.
        pub latency: f64 => "Latency",
        /// Whether the check failed at the TCP level.
        pub is_tcp_error: bool => "IsTCPError",
        /// `target_url`, `api_id`, `host_name`.
        pub meta_data: BTreeMap<String, String> => "MetaData",
    }
}

tyk_record! {
    /// `TokenCreated`, `TokenUpdated`, `TokenDeleted`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(default)]
    pub struct TokenMeta {
        /// Tyk's fixed message for the event.
        pub message: String => "Message",
        /// Base64 of the inbound request.
        pub originating_request: String => "OriginatingRequest",
        /// The organisation of the key.
        pub org: String => "Org",
        /// The key (Tyk reports it as the key API names it).
        pub key: String => "Key",
    }
}

tyk_record! {
    /// `TriggerExceeded`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(default)]
    pub struct TriggerMeta {
        /// Tyk's fixed message for the event.
        pub message: String => "Message",
        /// Base64 of the inbound request.
        pub originating_request: String => "OriginatingRequest",
        /// The organisation of the key.
        pub org_id: String => "OrgID",
        /// The key whose usage crossed the threshold.
        pub key: String => "Key",
        /// The threshold, in percent.
        pub trigger_limit: i64 => "TriggerLimit",
        /// The usage, in percent.
        pub usage_percentage: i64 => "UsagePercentage",
    }
}

tyk_record! {
    /// `UpstreamOAuthError`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(default)]
    pub struct UpstreamOAuthMeta {
        /// Tyk's fixed message for the event.
        pub message: String => "Message",
        /// Base64 of the inbound request.
        pub originating_request: String => "OriginatingRequest",
        /// The API whose upstream OAuth failed.
        pub api_id: String => "APIID",
    }
}

tyk_record! {
    /// `CertificateExpiringSoon`, `CertificateExpired`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(default)]
    pub struct CertificateMeta {
        /// Tyk's fixed message for the event.
        pub message: String => "Message",
        /// Base64 of the inbound request.
        pub originating_request: String => "OriginatingRequest",
        /// The certificate's id.
        pub cert_id: String => "CertID",
        /// The certificate's common name.
        pub cert_name: String => "CertName",
        /// When it expires (`CertificateExpiringSoon`).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub expires_at: Option<Timestamp> => "ExpiresAt",
        /// When it expired (`CertificateExpired`).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub expired_at: Option<Timestamp> => "ExpiredAt",
        /// Days until expiry (`CertificateExpiringSoon`).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub days_remaining: Option<i64> => "DaysRemaining",
        /// Days since expiry (`CertificateExpired`).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub days_since_expiry: Option<i64> => "DaysSinceExpiry",
        /// The API that uses the certificate, if any.
        pub api_id: String => "APIID",
        /// The certificate's role (`server`, `client`, `upstream`).
        pub cert_role: String => "CertRole",
    }
}

/// The metadata of an event: one variant per family, serialised as a flat map of Tyk's field names.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EventMeta {
    /// Auth, expiry, rate and quota events.
    KeyFailure(KeyFailureMeta),
    /// `VersionFailure`.
    VersionFailure(VersionFailureMeta),
    /// Circuit breaker events.
    CircuitBreaker(CircuitBreakerMeta),
    /// Uptime events.
    HostStatus(HostStatusMeta),
    /// Key API events.
    Token(TokenMeta),
    /// `TriggerExceeded`.
    Trigger(TriggerMeta),
    /// `UpstreamOAuthError`.
    UpstreamOAuth(UpstreamOAuthMeta),
    /// Certificate events.
    Certificate(CertificateMeta),
    /// A custom event's free-form fields.
    Custom(serde_json::Map<String, serde_json::Value>),
}

impl EventMeta {
    /// Empty metadata of the family `event_type` carries, with Tyk's message for it.
    pub fn empty_for(event_type: &EventType) -> EventMeta {
        let message = event_type.default_message().to_owned();
        match event_type.family() {
            MetaFamily::KeyFailure => EventMeta::KeyFailure(KeyFailureMeta {
                message,
                ..Default::default()
            }),
            MetaFamily::VersionFailure => EventMeta::VersionFailure(VersionFailureMeta {
                message,
                ..Default::default()
            }),
            MetaFamily::CircuitBreaker => EventMeta::CircuitBreaker(CircuitBreakerMeta {
                message,
                circuit_event: i64::from(*event_type == EventType::BreakerReset),
                ..Default::default()
            }),
            MetaFamily::HostStatus => EventMeta::HostStatus(HostStatusMeta {
                message,
                ..Default::default()
            }),
            MetaFamily::Token => EventMeta::Token(TokenMeta {
                message,
                ..Default::default()
            }),
            MetaFamily::Trigger => EventMeta::Trigger(TriggerMeta {
                message,
                ..Default::default()
            }),
            MetaFamily::UpstreamOAuth => EventMeta::UpstreamOAuth(UpstreamOAuthMeta {
                message,
                ..Default::default()
            }),
            MetaFamily::Certificate => EventMeta::Certificate(CertificateMeta {
                message,
                ..Default::default()
            }),
            MetaFamily::Custom => EventMeta::Custom(serde_json::Map::new()),
        }
    }

    /// Reads metadata of the family `event_type` carries from a JSON value;
    /// unknown fields are ignored and missing ones read as empty.
    pub fn from_json(
        event_type: &EventType,
        value: serde_json::Value,
    ) -> Result<EventMeta, serde_json::Error> {
        use serde_json::from_value as v;
        Ok(match event_type.family() {
            MetaFamily::KeyFailure => EventMeta::KeyFailure(v(value)?),
            MetaFamily::VersionFailure => EventMeta::VersionFailure(v(value)?),
            MetaFamily::CircuitBreaker => EventMeta::CircuitBreaker(v(value)?),
            MetaFamily::HostStatus => EventMeta::HostStatus(v(value)?),
            MetaFamily::Token => EventMeta::Token(v(value)?),
            MetaFamily::Trigger => EventMeta::Trigger(v(value)?),
            MetaFamily::UpstreamOAuth => EventMeta::UpstreamOAuth(v(value)?),
            MetaFamily::Certificate => EventMeta::Certificate(v(value)?),
            MetaFamily::Custom => EventMeta::Custom(v(value)?),
        })
    }

    /// The event's `Message`.
    pub fn message(&self) -> &str {
        match self {
            EventMeta::KeyFailure(m) => &m.message,
            EventMeta::VersionFailure(m) => &m.message,
            EventMeta::CircuitBreaker(m) => &m.message,
            EventMeta::HostStatus(m) => &m.message,
            EventMeta::Token(m) => &m.message,
            EventMeta::Trigger(m) => &m.message,
            EventMeta::UpstreamOAuth(m) => &m.message,
            EventMeta::Certificate(m) => &m.message,
            EventMeta::Custom(m) => m.get("Message").and_then(|v| v.as_str()).unwrap_or(""),
        }
    }

    /// The event's metadata as a JSON object of Tyk's field names.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// Calls `$call` on the family's struct, or the custom event's map.
macro_rules! on_fields {
    ($meta:expr, $m:ident => $call:expr) => {
        match $meta {
            EventMeta::KeyFailure($m) => $call,
            EventMeta::VersionFailure($m) => $call,
            EventMeta::CircuitBreaker($m) => $call,
            EventMeta::HostStatus($m) => $call,
            EventMeta::Token($m) => $call,
            EventMeta::Trigger($m) => $call,
            EventMeta::UpstreamOAuth($m) => $call,
            EventMeta::Certificate($m) => $call,
            EventMeta::Custom($m) => $call,
        }
    };
}

impl Fields for EventMeta {
    #[inline]
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        on_fields!(self, m => m.field(name))
    }

    fn each_field<'a>(&'a self, visit: &mut dyn FnMut(&'a str, FieldValue<'a>)) {
        on_fields!(self, m => m.each_field(visit))
    }
}

/// At most this many bytes of a presented key go into an event's `Key`.
pub const MAX_KEY_BYTES: usize = 256;
/// At most this many bytes of a request path go into an event's `Path`.
pub const MAX_PATH_BYTES: usize = 2048;
/// At most this many bytes of a client address go into an event's `Origin`.
pub const MAX_ORIGIN_BYTES: usize = 256;
/// At most this many bytes of request head (before base64) go into an event's
/// `OriginatingRequest`; its base64 is then at most 10,924 bytes.
pub const MAX_REQUEST_HEAD_BYTES: usize = 8192;
/// What ends a field cut at its cap, so that a reader sees it was cut.
pub const TRUNCATED: &str = "...[truncated]";

/// `value` whole when it holds at most `max` bytes; else its start, cut on a character boundary,
/// followed by [`TRUNCATED`], `max` bytes at most in all.
pub fn truncate_field(value: &str, max: usize) -> String {
    if value.len() <= max {
        return value.to_owned();
    }
    let mut end = max.saturating_sub(TRUNCATED.len());
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(max);
    out.push_str(&value[..end]);
    out.push_str(&TRUNCATED[..TRUNCATED.len().min(max)]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_fields_stay_whole() {
        assert_eq!(truncate_field("abc", 3), "abc");
    }

    #[test]
    fn long_fields_are_cut_with_a_marker_within_the_cap() {
        let cut = truncate_field(&"x".repeat(1000), 64);
        assert_eq!(cut.len(), 64);
        assert!(cut.ends_with(TRUNCATED) && cut.starts_with("xxxx"));
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        // "é" is two bytes; every cap lands on a boundary or before it.
        let text = "é".repeat(100);
        for max in 14..40 {
            let cut = truncate_field(&text, max);
            assert!(cut.len() <= max, "{max}: {cut}");
            assert!(cut.ends_with(TRUNCATED));
        }
        // A cap smaller than the marker still holds.
        assert!(truncate_field(&text, 3).len() <= 3);
    }
}
