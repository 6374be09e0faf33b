//! How much memory an event holds, estimated cheaply from the lengths of its strings, so that a
//! queue of events can be kept within a byte budget whatever a caller puts in them.

use std::mem::size_of;

use serde_json::Value;

use crate::event::Event;
use crate::event_type::EventType;
use crate::fields::{FieldValue, Fields};
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
    match meta {
        EventMeta::Custom(map) => custom_size(map),
        typed => record_size(typed),
    }
}

/// The bytes a typed record holds beside its own size, read through [`Fields`] so that a field
/// added to the model is counted without an edit here: its strings, its nested records, and each
/// entry of its maps.
fn record_size(record: &dyn Fields) -> usize {
    let mut total = 0;
    record.each_field(&mut |_, value| total += value_size(value));
    total
}

fn value_size(value: FieldValue<'_>) -> usize {
    match value {
        FieldValue::Str(s) => s.len(),
        FieldValue::Record(record) => record_size(record),
        FieldValue::Map(map) => {
            let mut total = 0;
            map.each_field(&mut |key, value| {
                total += MAP_ENTRY + size_of::<(String, String)>() + key.len() + value_size(value);
            });
            total
        }
        FieldValue::Json(value) => json_size([value]),
        FieldValue::Int(_) | FieldValue::Float(_) | FieldValue::Bool(_) | FieldValue::Time(_) => 0,
    }
}

/// A custom event's metadata: each entry, and the values in it.
fn custom_size(map: &serde_json::Map<String, Value>) -> usize {
    let entries: usize = map
        .keys()
        .map(|k| MAP_ENTRY + size_of::<(String, Value)>() + k.len())
        .sum();
    entries + json_size(map.values())
}

/// Every string, array slot and object entry in `values`, walked with a stack of its own so
/// that a deeply nested value cannot exhaust the thread's.
fn json_size<'a>(values: impl IntoIterator<Item = &'a Value>) -> usize {
    let mut total = 0;
    let mut stack: Vec<&Value> = values.into_iter().collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{KeyFailureMeta, TokenMeta};
    use crate::{ApiRef, EventType};

    /// The lengths of every string in a JSON value, but times: a time is held in the event as a
    /// number, whatever its text.
    fn strings_in(value: &Value) -> usize {
        match value {
            Value::String(s) if s.parse::<crate::Timestamp>().is_ok() => 0,
            Value::String(s) => s.len(),
            Value::Array(items) => items.iter().map(strings_in).sum(),
            Value::Object(o) => o.values().map(strings_in).sum(),
            Value::Null | Value::Bool(_) | Value::Number(_) => 0,
        }
    }

    #[test]
    fn counts_every_string_the_metadata_serialises_for_every_event_type() {
        for event_type in EventType::ALL {
            let mut event = Event::sample(&event_type);
            event.api = None;
            let fixed = size_of::<Event>() + event.timestamp.zone_len();
            let counted = event.estimated_size() - fixed;
            let serialised = strings_in(&event.meta.to_json());
            assert!(serialised > 0, "{event_type}: the sample has strings");
            assert!(
                counted >= serialised,
                "{event_type}: {counted} bytes counted, {serialised} in the metadata's strings"
            );
        }
    }

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
