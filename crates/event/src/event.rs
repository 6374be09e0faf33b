//! One fired event: its type, metadata, time and the API it belongs to.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::event_type::EventType;
use crate::fields::{FieldValue, Fields, tyk_record};
use crate::meta::EventMeta;
use crate::time::Timestamp;

tyk_record! {
    /// The API an event belongs to.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(default)]
    pub struct ApiRef {
        /// The API's `api_id`.
        pub id: String => "ID",
        /// The API's `name`.
        pub name: String => "Name",
        /// The API's `org_id`.
        pub org_id: String => "OrgID",
    }
}

/// An event as the gateway fires it and as templates see it.
///
/// Its serde form is what templates render and what `hookshot render --event FILE` reads:
/// `{"Type": "AuthFailure", "Meta": {...}, "TimeStamp": "2026-11-28 18:36:24.182420098 +0000 UTC"}`,
/// written with the seed document's older names `EventType` and `EventMetaData` beside them,
/// and `API: {ID, Name, OrgID}` when the event belongs to an API.
/// On input either name is accepted, `TimeStamp` defaults to now and `API` is optional.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// What happened.
    pub event_type: EventType,
    /// The details, shaped by the event type's family.
    pub meta: EventMeta,
    /// When it happened.
    pub timestamp: Timestamp,
    /// The API it happened on, if any (system events have none).
    pub api: Option<ApiRef>,
}

impl Event {
    /// An event of `event_type` with `meta`, timestamped now.
    pub fn new(event_type: EventType, meta: EventMeta) -> Event {
        Event {
            event_type,
            meta,
            timestamp: Timestamp::now(),
            api: None,
        }
    }

    /// The same event, belonging to `api`.
    pub fn with_api(mut self, api: ApiRef) -> Event {
        self.api = Some(api);
        self
    }

    /// The same event, at `timestamp`.
    pub fn with_timestamp(mut self, timestamp: Timestamp) -> Event {
        self.timestamp = timestamp;
        self
    }

    /// A built-in example of `event_type` with every field of its family filled in,
    /// for `hookshot render --event-type` and the start-up template lint.
    ///
    /// The values are set on the family's empty metadata, so a field added to the model needs no
    /// edit here (it reads as empty until it is given a sample value).
    pub fn sample(event_type: &EventType) -> Event {
        let originating_request =
            "R0VUIC9hcGkvdXNlcnMgSFRUUC8xLjENCkhvc3Q6IGV4YW1wbGUuY29tDQoNCg==".to_owned();
        let key = "5d8a1f0c8e6b4e2f9a7c3b1d";
        let mut meta = EventMeta::empty_for(event_type);
        match &mut meta {
            EventMeta::KeyFailure(m) => {
                m.originating_request = originating_request;
                m.path = "/orders/api/users".into();
                m.origin = "203.0.113.7".into();
                m.key = key.into();
            }
            EventMeta::VersionFailure(m) => {
                m.originating_request = originating_request;
                m.path = "/orders/api/users".into();
                m.origin = "203.0.113.7".into();
                m.key = key.into();
                m.reason = "Version information not found".into();
            }
            EventMeta::CircuitBreaker(m) => {
                m.originating_request = originating_request;
                m.path = "/orders/api/users".into();
                m.api_id = "orders".into();
            }
            EventMeta::HostStatus(m) => {
                m.originating_request = originating_request;
                let h = &mut m.host_info;
                h.check_url = "http://orders.internal:8080/health".into();
                h.response_code = if *event_type == EventType::HostUp {
                    200
                } else {
                    503
                };
                h.latency = 12.5;
                h.is_tcp_error = false;
                h.meta_data = BTreeMap::from([
                    (
                        "target_url".to_owned(),
                        "http://orders.internal:8080/health".to_owned(),
                    ),
                    ("api_id".to_owned(), "orders".to_owned()),
                    ("host_name".to_owned(), "orders.internal".to_owned()),
                ]);
            }
            EventMeta::Token(m) => {
                m.originating_request = originating_request;
                m.org = "acme".into();
                m.key = key.into();
            }
            EventMeta::Trigger(m) => {
                m.originating_request = originating_request;
                m.org_id = "acme".into();
                m.key = key.into();
                m.trigger_limit = 80;
                m.usage_percentage = 83;
            }
            EventMeta::UpstreamOAuth(m) => {
                m.originating_request = originating_request;
                m.api_id = "orders".into();
            }
            EventMeta::Certificate(m) => {
                let expired = *event_type == EventType::CertificateExpired;
                let when = Timestamp::from_unix(1_796_083_200, 0);
                m.originating_request = originating_request;
                m.cert_id = "5f1c2d3e4a5b6c7d8e9f0a1b".into();
                m.cert_name = "orders.example.com".into();
                m.expires_at = (!expired).then(|| when.clone());
                m.expired_at = expired.then_some(when);
                m.days_remaining = (!expired).then_some(3);
                m.days_since_expiry = expired.then_some(2);
                m.api_id = "orders".into();
                m.cert_role = "server".into();
            }
            EventMeta::Custom(map) => {
                map.insert("Message".into(), format!("{event_type} happened").into());
                map.insert("OriginatingRequest".into(), originating_request.into());
            }
        }
        let api = (!event_type.is_system()).then(|| ApiRef {
            id: "orders".into(),
            name: "Orders API".into(),
            org_id: "acme".into(),
        });
        Event {
            event_type: event_type.clone(),
            meta,
            timestamp: Timestamp::from_unix(1_795_890_984, 182_420_098),
            api,
        }
    }

    /// The event in its serde form, as a JSON value.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("Type", &self.event_type)?;
        map.serialize_entry("Meta", &self.meta)?;
        map.serialize_entry("TimeStamp", &self.timestamp)?;
        map.serialize_entry("EventType", &self.event_type)?;
        map.serialize_entry("EventMetaData", &self.meta)?;
        if let Some(api) = &self.api {
            map.serialize_entry("API", api)?;
        }
        map.end()
    }
}

/// The fields of the serde form, by the same names.
impl Fields for Event {
    #[inline]
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        match name {
            "Type" | "EventType" => Some(FieldValue::Str(self.event_type.as_str())),
            "Meta" | "EventMetaData" => Some(FieldValue::Record(&self.meta)),
            "TimeStamp" => Some(FieldValue::Time(&self.timestamp)),
            "API" => self.api.as_ref().map(|a| FieldValue::Record(a)),
            _ => None,
        }
    }

    fn each_field<'a>(&'a self, visit: &mut dyn FnMut(&'a str, FieldValue<'a>)) {
        visit("Type", FieldValue::Str(self.event_type.as_str()));
        visit("Meta", FieldValue::Record(&self.meta));
        visit("TimeStamp", FieldValue::Time(&self.timestamp));
        visit("EventType", FieldValue::Str(self.event_type.as_str()));
        visit("EventMetaData", FieldValue::Record(&self.meta));
        if let Some(api) = &self.api {
            visit("API", FieldValue::Record(api));
        }
    }
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(rename = "Type", default)]
    event_type: Option<EventType>,
    #[serde(rename = "EventType", default)]
    seed_event_type: Option<EventType>,
    #[serde(rename = "Meta", default)]
    meta: Option<serde_json::Value>,
    #[serde(rename = "EventMetaData", default)]
    seed_meta: Option<serde_json::Value>,
    #[serde(rename = "TimeStamp", default)]
    timestamp: Option<Timestamp>,
    #[serde(rename = "API", default)]
    api: Option<ApiRef>,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawEvent::deserialize(deserializer)?;
        // The current names win over the seed document's when a file has both.
        let event_type = raw.event_type.or(raw.seed_event_type).ok_or_else(|| {
            serde::de::Error::custom(
                "missing field `Type` (the event name, such as \"AuthFailure\")",
            )
        })?;
        let meta = match raw.meta.or(raw.seed_meta) {
            None | Some(serde_json::Value::Null) => EventMeta::empty_for(&event_type),
            Some(value) => EventMeta::from_json(&event_type, value).map_err(|e| {
                serde::de::Error::custom(format_args!("in Meta of {event_type}: {e}"))
            })?,
        };
        Ok(Event {
            event_type,
            meta,
            timestamp: raw.timestamp.unwrap_or_else(Timestamp::now),
            api: raw.api,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::KeyFailureMeta;
    use serde_json::json;

    #[test]
    fn serde_form_has_current_and_seed_names() {
        let event = Event::new(
            EventType::AuthFailure,
            EventMeta::KeyFailure(KeyFailureMeta {
                message: "Auth Failure".into(),
                originating_request: "R0VU".into(),
                path: "/x".into(),
                origin: "1.2.3.4".into(),
                key: "abc".into(),
            }),
        )
        .with_timestamp(Timestamp::from_unix(1_795_890_984, 182_420_098))
        .with_api(ApiRef {
            id: "1".into(),
            name: "Test".into(),
            org_id: "default".into(),
        });
        let v = event.to_json();
        assert_eq!(v["Type"], "AuthFailure");
        assert_eq!(v["EventType"], "AuthFailure");
        assert_eq!(v["Meta"]["Path"], "/x");
        assert_eq!(v["EventMetaData"]["Key"], "abc");
        assert_eq!(v["Meta"]["OriginatingRequest"], "R0VU");
        assert_eq!(v["TimeStamp"], "2026-11-28 18:36:24.182420098 +0000 UTC");
        assert_eq!(
            v["API"],
            json!({"ID": "1", "Name": "Test", "OrgID": "default"})
        );
    }

    #[test]
    fn reads_the_render_file_shape() {
        let event: Event = serde_json::from_value(json!({
            "Type": "RateLimitExceeded",
            "Meta": {"Message": "Rate Limit Exceeded", "Path": "/p", "Key": "k", "Extra": 1},
            "TimeStamp": "2014-11-27 12:52:05.944549825 +0000 GMT"
        }))
        .unwrap();
        assert_eq!(event.event_type, EventType::RatelimitExceeded);
        assert_eq!(event.meta.message(), "Rate Limit Exceeded");
        assert_eq!(
            event.timestamp.to_string(),
            "2014-11-27 12:52:05.944549825 +0000 GMT"
        );
        assert_eq!(event.api, None);
    }

    #[test]
    fn reads_the_seed_names() {
        let event: Event = serde_json::from_value(json!({
            "EventType": "HostDown",
            "EventMetaData": {"HostInfo": {"CheckURL": "http://h", "MetaData": {"host_name": "h"}}}
        }))
        .unwrap();
        let EventMeta::HostStatus(m) = &event.meta else {
            panic!("wrong family: {:?}", event.meta)
        };
        assert_eq!(m.host_info.check_url, "http://h");
        assert_eq!(m.host_info.meta_data["host_name"], "h");
    }

    #[test]
    fn wrong_meta_types_are_reported() {
        let err = serde_json::from_value::<Event>(json!({
            "Type": "TriggerExceeded",
            "Meta": {"TriggerLimit": "eighty"}
        }))
        .unwrap_err()
        .to_string();
        assert!(err.contains("in Meta of TriggerExceeded"), "{err}");
    }

    #[test]
    fn round_trips_every_sample() {
        for t in EventType::ALL
            .iter()
            .cloned()
            .chain([EventType::Custom("Deploy".into())])
        {
            let sample = Event::sample(&t);
            let back: Event = serde_json::from_value(sample.to_json()).unwrap();
            assert_eq!(back, sample, "{t}");
            assert_eq!(sample.meta.message(), sample.meta.to_json()["Message"]);
            assert!(
                !sample.meta.to_json()["OriginatingRequest"]
                    .as_str()
                    .unwrap()
                    .is_empty()
            );
        }
    }
}
