//! The event as templates see it: field names resolved once at load, values read in place.
//!
//! The names are those of the event's serde form (`Type`, `Meta.Path`, `TimeStamp`, the seed
//! document's `EventType` and `EventMetaData`, and `API.ID` / `API.Name` / `API.OrgID`).
//! A name the event does not have reads as [`Val::Missing`], which renders as nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hookshot_event::{ApiRef, Event, EventMeta, HostInfo, Timestamp};

/// A field name, resolved from its text when the template is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // `Key::Key` is Tyk's `Meta.Key`.
pub(crate) enum Key {
    Type,
    Meta,
    TimeStamp,
    EventType,
    EventMetaData,
    Api,
    Message,
    OriginatingRequest,
    Path,
    Origin,
    Key,
    Reason,
    ApiId,
    CircuitEvent,
    HostInfo,
    CheckUrl,
    ResponseCode,
    Latency,
    IsTcpError,
    MetaData,
    Org,
    OrgId,
    TriggerLimit,
    UsagePercentage,
    CertId,
    CertName,
    ExpiresAt,
    ExpiredAt,
    DaysRemaining,
    DaysSinceExpiry,
    CertRole,
    Id,
    Name,
    /// Any other name: looked up by text in maps (custom metadata, `MetaData`).
    Other(Box<str>),
}

const NAMED: [(&str, Key); 33] = [
    ("Type", Key::Type),
    ("Meta", Key::Meta),
    ("TimeStamp", Key::TimeStamp),
    ("EventType", Key::EventType),
    ("EventMetaData", Key::EventMetaData),
    ("API", Key::Api),
    ("Message", Key::Message),
    ("OriginatingRequest", Key::OriginatingRequest),
    ("Path", Key::Path),
    ("Origin", Key::Origin),
    ("Key", Key::Key),
    ("Reason", Key::Reason),
    ("APIID", Key::ApiId),
    ("CircuitEvent", Key::CircuitEvent),
    ("HostInfo", Key::HostInfo),
    ("CheckURL", Key::CheckUrl),
    ("ResponseCode", Key::ResponseCode),
    ("Latency", Key::Latency),
    ("IsTCPError", Key::IsTcpError),
    ("MetaData", Key::MetaData),
    ("Org", Key::Org),
    ("OrgID", Key::OrgId),
    ("TriggerLimit", Key::TriggerLimit),
    ("UsagePercentage", Key::UsagePercentage),
    ("CertID", Key::CertId),
    ("CertName", Key::CertName),
    ("ExpiresAt", Key::ExpiresAt),
    ("ExpiredAt", Key::ExpiredAt),
    ("DaysRemaining", Key::DaysRemaining),
    ("DaysSinceExpiry", Key::DaysSinceExpiry),
    ("CertRole", Key::CertRole),
    ("ID", Key::Id),
    ("Name", Key::Name),
];

impl Key {
    /// The key for `name`.
    pub(crate) fn new(name: &str) -> Key {
        NAMED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, k)| k.clone())
            .unwrap_or_else(|| Key::Other(name.into()))
    }

    /// The key's name.
    pub(crate) fn as_str(&self) -> &str {
        if let Key::Other(name) = self {
            return name;
        }
        NAMED.iter().find(|(_, k)| k == self).map_or("", |(n, _)| n)
    }
}

/// Something with named fields.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Obj<'a> {
    Root(&'a Event),
    Meta(&'a EventMeta),
    HostInfo(&'a HostInfo),
    MetaData(&'a BTreeMap<String, String>),
    Api(&'a ApiRef),
    Json(&'a serde_json::Map<String, serde_json::Value>),
}

/// A value read from an event, or computed from one.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    /// The event has no such field (or a JSON null).
    Missing,
    Str(&'a str),
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Time(&'a Timestamp),
    Obj(Obj<'a>),
    Array(&'a [serde_json::Value]),
}

impl<'a> Val<'a> {
    /// The value of `path` in `event`; a missing field gives [`Val::Missing`] however deep the
    /// path goes. `Err(i)` when `path[i]` is asked of a value that has no fields (a string, a
    /// number): a mistake in the template rather than a field this event lacks.
    pub(crate) fn lookup(event: &'a Event, path: &[Key]) -> Result<Val<'a>, usize> {
        let mut val = Val::Obj(Obj::Root(event));
        for (i, key) in path.iter().enumerate() {
            val = match val {
                Val::Obj(obj) => obj.get(key),
                Val::Missing => return Ok(Val::Missing),
                _ => return Err(i),
            };
        }
        Ok(val)
    }

    /// `self` as text when it is a string.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            Val::String(s) => Some(s),
            _ => None,
        }
    }

    /// A short name of the value's type, for error messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Val::Missing => "nothing",
            Val::Str(_) | Val::String(_) => "a string",
            Val::Int(_) => "an integer",
            Val::Float(_) => "a number",
            Val::Bool(_) => "a boolean",
            Val::Time(_) => "a time",
            Val::Obj(_) => "an object",
            Val::Array(_) => "an array",
        }
    }

    fn from_json(v: &'a serde_json::Value) -> Val<'a> {
        use serde_json::Value;
        match v {
            Value::Null => Val::Missing,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => n
                .as_i64()
                .map(Val::Int)
                .unwrap_or_else(|| Val::Float(n.as_f64().unwrap_or(f64::NAN))),
            Value::String(s) => Val::Str(s),
            Value::Array(a) => Val::Array(a),
            Value::Object(o) => Val::Obj(Obj::Json(o)),
        }
    }
}

fn opt_time(t: &Option<Timestamp>) -> Val<'_> {
    t.as_ref().map_or(Val::Missing, Val::Time)
}

fn opt_int(n: Option<i64>) -> Val<'static> {
    n.map_or(Val::Missing, Val::Int)
}

impl<'a> Obj<'a> {
    /// The field `key`, or [`Val::Missing`].
    pub(crate) fn get(self, key: &Key) -> Val<'a> {
        match self {
            Obj::Root(e) => match key {
                Key::Type | Key::EventType => Val::Str(e.event_type.as_str()),
                Key::Meta | Key::EventMetaData => Val::Obj(Obj::Meta(&e.meta)),
                Key::TimeStamp => Val::Time(&e.timestamp),
                Key::Api => e
                    .api
                    .as_ref()
                    .map_or(Val::Missing, |a| Val::Obj(Obj::Api(a))),
                _ => Val::Missing,
            },
            Obj::Meta(meta) => meta_get(meta, key),
            Obj::HostInfo(h) => match key {
                Key::CheckUrl => Val::Str(&h.check_url),
                Key::ResponseCode => Val::Int(h.response_code),
                Key::Latency => Val::Float(h.latency),
                Key::IsTcpError => Val::Bool(h.is_tcp_error),
                Key::MetaData => Val::Obj(Obj::MetaData(&h.meta_data)),
                _ => Val::Missing,
            },
            Obj::MetaData(m) => m.get(key.as_str()).map_or(Val::Missing, |s| Val::Str(s)),
            Obj::Api(a) => match key {
                Key::Id => Val::Str(&a.id),
                Key::Name => Val::Str(&a.name),
                Key::OrgId => Val::Str(&a.org_id),
                _ => Val::Missing,
            },
            Obj::Json(m) => m.get(key.as_str()).map_or(Val::Missing, Val::from_json),
        }
    }

    /// Whether the object has no fields (Go's truth of an empty map).
    pub(crate) fn is_empty(self) -> bool {
        match self {
            Obj::MetaData(m) => m.is_empty(),
            Obj::Json(m) => m.is_empty(),
            // Structs in Tyk: always true.
            Obj::Root(_) | Obj::Meta(_) | Obj::HostInfo(_) | Obj::Api(_) => false,
        }
    }
}

fn meta_get<'a>(meta: &'a EventMeta, key: &Key) -> Val<'a> {
    use EventMeta as M;
    match (meta, key) {
        (M::Custom(m), k) => m.get(k.as_str()).map_or(Val::Missing, Val::from_json),
        (m, Key::Message) => Val::Str(m.message()),
        (M::KeyFailure(m), Key::OriginatingRequest) => Val::Str(&m.originating_request),
        (M::KeyFailure(m), Key::Path) => Val::Str(&m.path),
        (M::KeyFailure(m), Key::Origin) => Val::Str(&m.origin),
        (M::KeyFailure(m), Key::Key) => Val::Str(&m.key),
        (M::VersionFailure(m), Key::OriginatingRequest) => Val::Str(&m.originating_request),
        (M::VersionFailure(m), Key::Path) => Val::Str(&m.path),
        (M::VersionFailure(m), Key::Origin) => Val::Str(&m.origin),
        (M::VersionFailure(m), Key::Key) => Val::Str(&m.key),
        (M::VersionFailure(m), Key::Reason) => Val::Str(&m.reason),
        (M::CircuitBreaker(m), Key::OriginatingRequest) => Val::Str(&m.originating_request),
        (M::CircuitBreaker(m), Key::Path) => Val::Str(&m.path),
        (M::CircuitBreaker(m), Key::ApiId) => Val::Str(&m.api_id),
        (M::CircuitBreaker(m), Key::CircuitEvent) => Val::Int(m.circuit_event),
        (M::HostStatus(m), Key::OriginatingRequest) => Val::Str(&m.originating_request),
        (M::HostStatus(m), Key::HostInfo) => Val::Obj(Obj::HostInfo(&m.host_info)),
        (M::Token(m), Key::OriginatingRequest) => Val::Str(&m.originating_request),
        (M::Token(m), Key::Org) => Val::Str(&m.org),
        (M::Token(m), Key::Key) => Val::Str(&m.key),
        (M::Trigger(m), Key::OriginatingRequest) => Val::Str(&m.originating_request),
        (M::Trigger(m), Key::OrgId) => Val::Str(&m.org_id),
        (M::Trigger(m), Key::Key) => Val::Str(&m.key),
        (M::Trigger(m), Key::TriggerLimit) => Val::Int(m.trigger_limit),
        (M::Trigger(m), Key::UsagePercentage) => Val::Int(m.usage_percentage),
        (M::UpstreamOAuth(m), Key::OriginatingRequest) => Val::Str(&m.originating_request),
        (M::UpstreamOAuth(m), Key::ApiId) => Val::Str(&m.api_id),
        (M::Certificate(m), Key::OriginatingRequest) => Val::Str(&m.originating_request),
        (M::Certificate(m), Key::CertId) => Val::Str(&m.cert_id),
        (M::Certificate(m), Key::CertName) => Val::Str(&m.cert_name),
        (M::Certificate(m), Key::ExpiresAt) => opt_time(&m.expires_at),
        (M::Certificate(m), Key::ExpiredAt) => opt_time(&m.expired_at),
        (M::Certificate(m), Key::DaysRemaining) => opt_int(m.days_remaining),
        (M::Certificate(m), Key::DaysSinceExpiry) => opt_int(m.days_since_expiry),
        (M::Certificate(m), Key::ApiId) => Val::Str(&m.api_id),
        (M::Certificate(m), Key::CertRole) => Val::Str(&m.cert_role),
        _ => Val::Missing,
    }
}

/// Appends a float as Go's `fmt` prints a `float64` with `%v`: the shortest digits that read
/// back, in exponent form (`1e+21`, `1.5e-05`) when the exponent is below -4 or at least 21.
pub(crate) fn write_go_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.5e-5", "-1.25e2".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..21).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "{mantissa}e{sign}{:02}", exp.unsigned_abs());
    } else {
        let _ = write!(out, "{f}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookshot_event::EventType;

    fn path(p: &str) -> Vec<Key> {
        p.split('.').map(Key::new).collect()
    }

    #[test]
    fn keys_round_trip() {
        for (name, _) in NAMED {
            assert_eq!(Key::new(name).as_str(), name);
        }
        assert_eq!(Key::new("host_name"), Key::Other("host_name".into()));
        assert_eq!(Key::new("host_name").as_str(), "host_name");
    }

    #[test]
    fn lookup_follows_the_serde_form() {
        for t in EventType::ALL
            .iter()
            .cloned()
            .chain([EventType::Custom("Deploy".into())])
        {
            let event = Event::sample(&t);
            let json = event.to_json();
            let check = |p: &str| {
                let expected = p.split('.').fold(&json, |v, k| &v[k]);
                let got = Val::lookup(&event, &path(p)).unwrap();
                let got_json = match got {
                    Val::Missing => serde_json::Value::Null,
                    Val::Str(s) => s.into(),
                    Val::Int(n) => n.into(),
                    Val::Float(f) => f.into(),
                    Val::Bool(b) => b.into(),
                    Val::Time(t) => t.to_string().into(),
                    Val::Obj(_) | Val::Array(_) | Val::String(_) => expected.clone(),
                };
                assert_eq!(&got_json, expected, "{t}: {p}");
            };
            for p in [
                "Type",
                "EventType",
                "TimeStamp",
                "API.ID",
                "API.Name",
                "API.OrgID",
                "API.Nope",
            ] {
                check(p);
            }
            let serde_json::Value::Object(meta) = &json["Meta"] else {
                panic!()
            };
            for (k, v) in meta {
                check(&format!("Meta.{k}"));
                check(&format!("EventMetaData.{k}"));
                if let serde_json::Value::Object(inner) = v {
                    for (k2, v2) in inner {
                        check(&format!("Meta.{k}.{k2}"));
                        if let serde_json::Value::Object(inner2) = v2 {
                            for k3 in inner2.keys() {
                                check(&format!("Meta.{k}.{k2}.{k3}"));
                            }
                        }
                    }
                }
            }
            check("Meta.NoSuchField");
            check("Meta.HostInfo.MetaData.nothing");
            assert_eq!(Val::lookup(&event, &path("Type.Name")).unwrap_err(), 1);
        }
    }

    #[test]
    fn go_float_formatting() {
        for (f, s) in [
            (12.5, "12.5"),
            (12.0, "12"),
            (0.0, "0"),
            (-3.25, "-3.25"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123456789.125, "123456789.125"),
            (1.0 / 3.0, "0.3333333333333333"),
        ] {
            let mut out = String::new();
            write_go_float(&mut out, f);
            assert_eq!(out, s, "{f}");
        }
    }
}
