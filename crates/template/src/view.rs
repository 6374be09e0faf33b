//! The event as the liquid crate sees it: an `ObjectView` over the event, read in place.
//!
//! Nothing is converted per render except what the event does not hold as text (times, written
//! once on first use) and custom metadata (turned into liquid values on first use). A name the event
//! lacks reads as [`Missing`], which renders as nothing, is false, and can be indexed further, so
//! `{{ Meta.HostInfo.MetaData.host_name }}` is empty for an `AuthFailure` instead of an error.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use hookshot_event::{ApiRef, Event, EventMeta, HostInfo, Timestamp};
use liquid_core::model::{DisplayCow, KStringCow, State};
use liquid_core::{ObjectView, Value, ValueView};

/// A field the event does not have.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Missing;

pub(crate) static MISSING: Missing = Missing;

impl ValueView for Missing {
    fn as_debug(&self) -> &dyn fmt::Debug {
        self
    }
    fn render(&self) -> DisplayCow<'_> {
        DisplayCow::Owned(Box::new(""))
    }
    fn source(&self) -> DisplayCow<'_> {
        DisplayCow::Owned(Box::new("nil"))
    }
    fn type_name(&self) -> &'static str {
        "nil"
    }
    fn query_state(&self, state: State) -> bool {
        !matches!(state, State::Truthy)
    }
    fn to_kstr(&self) -> KStringCow<'_> {
        KStringCow::from_static("")
    }
    fn to_value(&self) -> Value {
        Value::Nil
    }
    fn as_object(&self) -> Option<&dyn ObjectView> {
        Some(self)
    }
    fn is_nil(&self) -> bool {
        true
    }
}

impl ObjectView for Missing {
    fn as_value(&self) -> &dyn ValueView {
        self
    }
    fn size(&self) -> i64 {
        0
    }
    fn keys<'k>(&'k self) -> Box<dyn Iterator<Item = KStringCow<'k>> + 'k> {
        Box::new(std::iter::empty())
    }
    fn values<'k>(&'k self) -> Box<dyn Iterator<Item = &'k dyn ValueView> + 'k> {
        Box::new(std::iter::empty())
    }
    fn iter<'k>(&'k self) -> Box<dyn Iterator<Item = (KStringCow<'k>, &'k dyn ValueView)> + 'k> {
        Box::new(std::iter::empty())
    }
    fn contains_key(&self, _index: &str) -> bool {
        true
    }
    fn get<'s>(&'s self, _index: &str) -> Option<&'s dyn ValueView> {
        Some(&MISSING)
    }
}

/// The fields of one object of the event, by name.
trait Fields: fmt::Debug {
    /// The names the object has, in its serde order.
    fn names(&self) -> Vec<&str>;
    /// The field `name`, if the object has it.
    fn field(&self, name: &str) -> Option<&dyn ValueView>;
    /// The object as a liquid value.
    fn owned(&self) -> Value;
}

/// Implements `ValueView` and `ObjectView` for a [`Fields`] type.
macro_rules! object_view {
    ($t:ty) => {
        impl ValueView for $t {
            fn as_debug(&self) -> &dyn fmt::Debug {
                self
            }
            fn render(&self) -> DisplayCow<'_> {
                // As liquid writes an object (each key, then its value), but in the fields' own
                // order, so that the same event always renders the same body.
                let mut out = String::new();
                for (k, v) in ObjectView::iter(self) {
                    out.push_str(&k);
                    out.push_str(&v.render().to_string());
                }
                DisplayCow::Owned(Box::new(out))
            }
            fn source(&self) -> DisplayCow<'_> {
                DisplayCow::Owned(Box::new(self.owned().source().to_string()))
            }
            fn type_name(&self) -> &'static str {
                "object"
            }
            fn query_state(&self, state: State) -> bool {
                match state {
                    State::Truthy => true,
                    State::DefaultValue | State::Empty | State::Blank => self.names().is_empty(),
                }
            }
            fn to_kstr(&self) -> KStringCow<'_> {
                KStringCow::from_string(self.render().to_string())
            }
            fn to_value(&self) -> Value {
                self.owned()
            }
            fn as_object(&self) -> Option<&dyn ObjectView> {
                Some(self)
            }
        }

        impl ObjectView for $t {
            fn as_value(&self) -> &dyn ValueView {
                self
            }
            fn size(&self) -> i64 {
                self.names().len() as i64
            }
            fn keys<'k>(&'k self) -> Box<dyn Iterator<Item = KStringCow<'k>> + 'k> {
                Box::new(self.names().into_iter().map(KStringCow::from_ref))
            }
            fn values<'k>(&'k self) -> Box<dyn Iterator<Item = &'k dyn ValueView> + 'k> {
                Box::new(self.names().into_iter().filter_map(|n| self.field(n)))
            }
            fn iter<'k>(
                &'k self,
            ) -> Box<dyn Iterator<Item = (KStringCow<'k>, &'k dyn ValueView)> + 'k> {
                Box::new(
                    self.names()
                        .into_iter()
                        .filter_map(|n| self.field(n).map(|v| (KStringCow::from_ref(n), v))),
                )
            }
            fn contains_key(&self, _index: &str) -> bool {
                true
            }
            fn get<'s>(&'s self, index: &str) -> Option<&'s dyn ValueView> {
                match self.field(index) {
                    Some(v) => Some(v),
                    // liquid answers `size` itself when an object has no such field.
                    None if index == "size" => None,
                    None => Some(&MISSING),
                }
            }
        }
    };
}

fn json_value(v: &serde_json::Value) -> Value {
    liquid_core::model::to_value(v).unwrap_or(Value::Nil)
}

/// The event.
#[derive(Debug)]
pub(crate) struct EventView<'a> {
    event: &'a Event,
    type_name: &'a str,
    meta: MetaView<'a>,
    api: Option<ApiView<'a>>,
    timestamp: OnceLock<String>,
}

impl<'a> EventView<'a> {
    pub(crate) fn new(event: &'a Event) -> EventView<'a> {
        EventView {
            event,
            type_name: event.event_type.as_str(),
            meta: MetaView::new(&event.meta),
            api: event.api.as_ref().map(ApiView),
            timestamp: OnceLock::new(),
        }
    }
}

impl Fields for EventView<'_> {
    fn names(&self) -> Vec<&str> {
        let mut names = vec!["Type", "Meta", "TimeStamp", "EventType", "EventMetaData"];
        if self.api.is_some() {
            names.push("API");
        }
        names
    }
    fn field(&self, name: &str) -> Option<&dyn ValueView> {
        Some(match name {
            "Type" | "EventType" => &self.type_name,
            "Meta" | "EventMetaData" => &self.meta,
            "TimeStamp" => self
                .timestamp
                .get_or_init(|| self.event.timestamp.to_string()),
            "API" => return self.api.as_ref().map(|a| a as &dyn ValueView),
            _ => return None,
        })
    }
    fn owned(&self) -> Value {
        json_value(&self.event.to_json())
    }
}
object_view!(EventView<'_>);

/// `API`.
#[derive(Debug)]
struct ApiView<'a>(&'a ApiRef);

impl Fields for ApiView<'_> {
    fn names(&self) -> Vec<&str> {
        vec!["ID", "Name", "OrgID"]
    }
    fn field(&self, name: &str) -> Option<&dyn ValueView> {
        Some(match name {
            "ID" => &self.0.id,
            "Name" => &self.0.name,
            "OrgID" => &self.0.org_id,
            _ => return None,
        })
    }
    fn owned(&self) -> Value {
        json_value(&serde_json::to_value(self.0).unwrap_or_default())
    }
}
object_view!(ApiView<'_>);

/// `Meta` (and `EventMetaData`).
#[derive(Debug)]
struct MetaView<'a> {
    meta: &'a EventMeta,
    host_info: Option<HostInfoView<'a>>,
    expires_at: OnceLock<String>,
    expired_at: OnceLock<String>,
    custom: OnceLock<BTreeMap<String, Value>>,
}

impl<'a> MetaView<'a> {
    fn new(meta: &'a EventMeta) -> MetaView<'a> {
        let host_info = match meta {
            EventMeta::HostStatus(m) => Some(HostInfoView {
                info: &m.host_info,
                meta_data: MapView(&m.host_info.meta_data),
            }),
            _ => None,
        };
        MetaView {
            meta,
            host_info,
            expires_at: OnceLock::new(),
            expired_at: OnceLock::new(),
            custom: OnceLock::new(),
        }
    }

    fn time<'s>(cell: &'s OnceLock<String>, t: &Option<Timestamp>) -> Option<&'s dyn ValueView> {
        t.as_ref()
            .map(|t| cell.get_or_init(|| t.to_string()) as &dyn ValueView)
    }
}

impl Fields for MetaView<'_> {
    fn names(&self) -> Vec<&str> {
        match self.meta {
            EventMeta::Custom(m) => m.keys().map(String::as_str).collect(),
            EventMeta::KeyFailure(_) => {
                vec!["Message", "OriginatingRequest", "Path", "Origin", "Key"]
            }
            EventMeta::VersionFailure(_) => vec![
                "Message",
                "OriginatingRequest",
                "Path",
                "Origin",
                "Key",
                "Reason",
            ],
            EventMeta::CircuitBreaker(_) => vec![
                "Message",
                "OriginatingRequest",
                "Path",
                "APIID",
                "CircuitEvent",
            ],
            EventMeta::HostStatus(_) => vec!["Message", "OriginatingRequest", "HostInfo"],
            EventMeta::Token(_) => vec!["Message", "OriginatingRequest", "Org", "Key"],
            EventMeta::Trigger(_) => vec![
                "Message",
                "OriginatingRequest",
                "OrgID",
                "Key",
                "TriggerLimit",
                "UsagePercentage",
            ],
            EventMeta::UpstreamOAuth(_) => vec!["Message", "OriginatingRequest", "APIID"],
            EventMeta::Certificate(m) => {
                let mut names = vec!["Message", "OriginatingRequest", "CertID", "CertName"];
                if m.expires_at.is_some() {
                    names.push("ExpiresAt");
                }
                if m.expired_at.is_some() {
                    names.push("ExpiredAt");
                }
                if m.days_remaining.is_some() {
                    names.push("DaysRemaining");
                }
                if m.days_since_expiry.is_some() {
                    names.push("DaysSinceExpiry");
                }
                names.extend(["APIID", "CertRole"]);
                names
            }
        }
    }

    fn field(&self, name: &str) -> Option<&dyn ValueView> {
        use EventMeta as M;
        Some(match (self.meta, name) {
            (M::Custom(m), _) => {
                let custom = self
                    .custom
                    .get_or_init(|| m.iter().map(|(k, v)| (k.clone(), json_value(v))).collect());
                return custom.get(name).map(|v| v as &dyn ValueView);
            }
            (M::KeyFailure(m), "Message") => &m.message,
            (M::KeyFailure(m), "OriginatingRequest") => &m.originating_request,
            (M::KeyFailure(m), "Path") => &m.path,
            (M::KeyFailure(m), "Origin") => &m.origin,
            (M::KeyFailure(m), "Key") => &m.key,
            (M::VersionFailure(m), "Message") => &m.message,
            (M::VersionFailure(m), "OriginatingRequest") => &m.originating_request,
            (M::VersionFailure(m), "Path") => &m.path,
            (M::VersionFailure(m), "Origin") => &m.origin,
            (M::VersionFailure(m), "Key") => &m.key,
            (M::VersionFailure(m), "Reason") => &m.reason,
            (M::CircuitBreaker(m), "Message") => &m.message,
            (M::CircuitBreaker(m), "OriginatingRequest") => &m.originating_request,
            (M::CircuitBreaker(m), "Path") => &m.path,
            (M::CircuitBreaker(m), "APIID") => &m.api_id,
            (M::CircuitBreaker(m), "CircuitEvent") => &m.circuit_event,
            (M::HostStatus(m), "Message") => &m.message,
            (M::HostStatus(m), "OriginatingRequest") => &m.originating_request,
            (M::HostStatus(_), "HostInfo") => return self.host_info.as_ref().map(|h| h as _),
            (M::Token(m), "Message") => &m.message,
            (M::Token(m), "OriginatingRequest") => &m.originating_request,
            (M::Token(m), "Org") => &m.org,
            (M::Token(m), "Key") => &m.key,
            (M::Trigger(m), "Message") => &m.message,
            (M::Trigger(m), "OriginatingRequest") => &m.originating_request,
            (M::Trigger(m), "OrgID") => &m.org_id,
            (M::Trigger(m), "Key") => &m.key,
            (M::Trigger(m), "TriggerLimit") => &m.trigger_limit,
            (M::Trigger(m), "UsagePercentage") => &m.usage_percentage,
            (M::UpstreamOAuth(m), "Message") => &m.message,
            (M::UpstreamOAuth(m), "OriginatingRequest") => &m.originating_request,
            (M::UpstreamOAuth(m), "APIID") => &m.api_id,
            (M::Certificate(m), "Message") => &m.message,
            (M::Certificate(m), "OriginatingRequest") => &m.originating_request,
            (M::Certificate(m), "CertID") => &m.cert_id,
            (M::Certificate(m), "CertName") => &m.cert_name,
            (M::Certificate(m), "ExpiresAt") => return Self::time(&self.expires_at, &m.expires_at),
            (M::Certificate(m), "ExpiredAt") => return Self::time(&self.expired_at, &m.expired_at),
            (M::Certificate(m), "DaysRemaining") => {
                return m.days_remaining.as_ref().map(|n| n as _);
            }
            (M::Certificate(m), "DaysSinceExpiry") => {
                return m.days_since_expiry.as_ref().map(|n| n as _);
            }
            (M::Certificate(m), "APIID") => &m.api_id,
            (M::Certificate(m), "CertRole") => &m.cert_role,
            _ => return None,
        })
    }

    fn owned(&self) -> Value {
        json_value(&self.meta.to_json())
    }
}
object_view!(MetaView<'_>);

/// `Meta.HostInfo`.
#[derive(Debug)]
struct HostInfoView<'a> {
    info: &'a HostInfo,
    meta_data: MapView<'a>,
}

impl Fields for HostInfoView<'_> {
    fn names(&self) -> Vec<&str> {
        vec![
            "CheckURL",
            "ResponseCode",
            "Latency",
            "IsTCPError",
            "MetaData",
        ]
    }
    fn field(&self, name: &str) -> Option<&dyn ValueView> {
        Some(match name {
            "CheckURL" => &self.info.check_url,
            "ResponseCode" => &self.info.response_code,
            "Latency" => &self.info.latency,
            "IsTCPError" => &self.info.is_tcp_error,
            "MetaData" => &self.meta_data,
            _ => return None,
        })
    }
    fn owned(&self) -> Value {
        json_value(&serde_json::to_value(self.info).unwrap_or_default())
    }
}
object_view!(HostInfoView<'_>);

/// `Meta.HostInfo.MetaData`.
#[derive(Debug)]
struct MapView<'a>(&'a BTreeMap<String, String>);

impl Fields for MapView<'_> {
    fn names(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
    fn field(&self, name: &str) -> Option<&dyn ValueView> {
        self.0.get(name).map(|v| v as &dyn ValueView)
    }
    fn owned(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone().into(), Value::scalar(v.clone())))
                .collect(),
        )
    }
}
object_view!(MapView<'_>);
