//! How much memory an event holds, estimated cheaply from the lengths of its strings, so that a
//! queue of events can be kept within a byte budget whatever a caller puts in them.

use std::mem::size_of;

use serde_json::Value;

use crate::event::Event;
use crate::event_type::EventType;
use crate::meta::EventMeta;

/// What one entry of a map costs beside its key and value (node and pointer overhead).
const MAP_ENTRY: usize = 32;

impl Event {
    /// An estimate of the bytes this event holds: its own size plus the length of every string in
    /// it (type name, metadata, API, time zone), and for a custom event each JSON value and map
    /// entry of its metadata. It serialises nothing; its cost grows with the number of fields, not
    /// with their length.
    pub fn estimated_size(&self) -> usize {
        let custom_name = match &self.event_type {
            EventType::Custom(name) => name.len(),
            _ => 0,
        };
        let api = self
            .api
            .as_ref()
            .map_or(0, |a| a.id.len() + a.name.len() + a.org_id.len());
        size_of::<Event>() + custom_name + api + self.timestamp.zone_len() + meta_size(&self.meta)
    }
}

fn meta_size(meta: &EventMeta) -> usize {
    let strings = |fields: &[&String]| fields.iter().map(|s| s.len()).sum::<usize>();
    match meta {
        EventMeta::KeyFailure(m) => strings(&[
            &m.message,
            &m.originating_request,
            &m.path,
            &m.origin,
            &m.key,
        ]),
        EventMeta::VersionFailure(m) => strings(&[
            &m.message,
            &m.originating_request,
            &m.path,
            &m.origin,
            &m.key,
            &m.reason,
        ]),
        EventMeta::CircuitBreaker(m) => {
            strings(&[&m.message, &m.originating_request, &m.path, &m.api_id])
        }
        EventMeta::HostStatus(m) => {
            let info = &m.host_info;
            strings(&[&m.message, &m.originating_request, &info.check_url])
                + info
                    .meta_data
                    .iter()
                    .map(|(k, v)| MAP_ENTRY + size_of::<(String, String)>() + k.len() + v.len())
                    .sum::<usize>()
        }
        EventMeta::Token(m) => strings(&[&m.message, &m.originating_request, &m.org, &m.key]),
        EventMeta::Trigger(m) => strings(&[&m.message, &m.originating_request, &m.org_id, &m.key]),
        EventMeta::UpstreamOAuth(m) => strings(&[&m.message, &m.originating_request, &m.api_id]),
        EventMeta::Certificate(m) => strings(&[
            &m.message,
            &m.originating_request,
            &m.cert_id,
            &m.cert_name,
            &m.api_id,
            &m.cert_role,
        ]),
        EventMeta::Custom(map) => {
            // Walked with a stack of its own, so a deeply nested value cannot exhaust the thread's.
            let mut total = 0;
            let mut stack: Vec<&Value> = Vec::new();
            for (k, v) in map {
                total += MAP_ENTRY + size_of::<(String, Value)>() + k.len();
                stack.push(v);
            }
            while let Some(v) = stack.pop() {
                match v {
                    Value::String(s) => total += s.len(),
                    Value::Array(items) => {
                        total += items.len() * size_of::<Value>();
                        stack.extend(items);
                    }
                    Value::Object(o) => {
                        for (k, v) in o {
                            total += MAP_ENTRY + size_of::<(String, Value)>() + k.len();
                            stack.push(v);
                        }
                    }
                    Value::Null | Value::Bool(_) | Value::Number(_) => {}
                }
            }
            total
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{KeyFailureMeta, TokenMeta};
    use crate::{ApiRef, EventType};

    #[test]
    fn grows_with_every_string_of_the_event() {
        let base = Event::new(
            EventType::AuthFailure,
            EventMeta::KeyFailure(KeyFailureMeta::default()),
        );
        let empty = base.estimated_size();
        assert!(empty >= size_of::<Event>());
        for field in 0..5 {
            let mut m = KeyFailureMeta::default();
            let big = "x".repeat(100_000);
            match field {
                0 => m.message = big,
                1 => m.originating_request = big,
                2 => m.path = big,
                3 => m.origin = big,
                _ => m.key = big,
            }
            let e = Event::new(EventType::AuthFailure, EventMeta::KeyFailure(m));
            assert_eq!(e.estimated_size(), empty + 100_000, "field {field}");
        }
        let on_api = base.clone().with_api(ApiRef {
            id: "a".repeat(10),
            name: "b".repeat(20),
            org_id: "c".repeat(30),
        });
        assert_eq!(on_api.estimated_size(), empty + 60);
        let token = Event::new(
            EventType::TokenCreated,
            EventMeta::Token(TokenMeta {
                key: "k".repeat(1000),
                ..TokenMeta::default()
            }),
        );
        assert!(token.estimated_size() >= 1000 + size_of::<Event>());
    }

    #[test]
    fn custom_metadata_is_counted_however_deep() {
        let mut deep = Value::String("y".repeat(5000));
        for _ in 0..100_000 {
            deep = Value::Array(vec![deep]);
        }
        let mut map = serde_json::Map::new();
        map.insert("Nested".into(), deep);
        let e = Event::new(EventType::Custom("Deploy".into()), EventMeta::Custom(map));
        let size = e.estimated_size();
        assert!(size >= 5000 + 100_000 * size_of::<Value>(), "{size}");
        // Dropping a value nested this deep would overflow the stack on its own; that is the
        // caller's, not the estimate's.
        std::mem::forget(e);
    }
}
