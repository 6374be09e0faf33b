//! Handler configuration, read from the JSON Tyk users already keep.
//!
//! Two forms are read into the same types:
//! - classic `event_handlers: {"events": {"AuthFailure": [{"handler_name", "handler_meta"}]}}`,
//!   in API definitions and in the gateway configuration;
//! - OAS `x-tyk-api-gateway.server.eventHandlers: [{"enabled", "trigger", "type", "url", ...}]`.
//!
//! Stages: [`wire`] declares both forms as serde types, [`read`] turns them into checked values
//! field by field (with [`classic`] and [`oas`] walking each form), recording every mistake with
//! the file, API, event, handler and field. Unknown fields are ignored (real Tyk files carry
//! many). Disabled handlers are skipped.

mod classic;
mod oas;
mod read;
mod wire;

use std::collections::BTreeMap;

use hookshot_event::EventType;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{ConfigError, ConfigErrors, Location};
use crate::lenient::Lenient;
use crate::webhook::WebhookConfig;

/// A log handler (`eh_log_handler`): writes `<prefix>:<EventType>` to the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogConfig {
    /// `prefix`: put before the event name.
    pub prefix: String,
}

/// One configured handler.
#[allow(
    clippy::large_enum_variant,
    reason = "built once at start-up; a few per API"
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandlerConfig {
    /// Sends a webhook.
    Webhook(WebhookConfig),
    /// Writes a log line.
    Log(LogConfig),
}

/// The handlers of one API (or the global ones), by event, disabled ones left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventHandlers {
    /// Enabled handlers for each event, in the order configured.
    pub events: BTreeMap<EventType, Vec<HandlerConfig>>,
    /// How many handlers were skipped because they were disabled.
    pub disabled: usize,
}

impl EventHandlers {
    /// The handlers for `event_type` (none when nothing is configured for it).
    pub fn for_event(&self, event_type: &EventType) -> &[HandlerConfig] {
        self.events.get(event_type).map_or(&[], Vec::as_slice)
    }

    /// Whether no handler is configured.
    pub fn is_empty(&self) -> bool {
        self.events.values().all(Vec::is_empty)
    }

    /// Every handler with its event.
    pub fn iter(&self) -> impl Iterator<Item = (&EventType, &HandlerConfig)> {
        self.events
            .iter()
            .flat_map(|(e, hs)| hs.iter().map(move |h| (e, h)))
    }

    /// Reads the handlers of a whole definition document: the classic `event_handlers` block,
    /// the OAS `x-tyk-api-gateway.server.eventHandlers` list, or both. `at` names the file and API.
    pub fn from_definition(doc: &Value, at: &Location) -> Result<EventHandlers, ConfigErrors> {
        let mut out = EventHandlers::default();
        let mut errors = ConfigErrors::default();
        // A document that is not an object holds no handlers.
        if !doc.is_object() {
            return Ok(out);
        }
        let Ok(definition) = wire::Definition::deserialize(doc) else {
            return Ok(out);
        };
        if let Some(block) = &definition.event_handlers {
            out.merge(errors.take(classic::read(block, at)));
        }
        let list = match &definition.tyk_gateway {
            Some(Lenient::Typed(gateway)) => match &gateway.server {
                Some(Lenient::Typed(server)) => server.event_handlers.as_ref(),
                _ => None,
            },
            _ => None,
        };
        if let Some(list) = list {
            out.merge(errors.take(oas::read(list, at)));
        }
        errors.into_result(out)
    }

    /// Adds the handlers of `other` after these.
    pub fn merge(&mut self, other: EventHandlers) {
        for (event, handlers) in other.events {
            self.events.entry(event).or_default().extend(handlers);
        }
        self.disabled += other.disabled;
    }
}

/// An event name: Tyk's, or a custom one unless it looks like a misspelt Tyk name.
fn event_name(name: &str, at: Location, errors: &mut ConfigErrors) -> Option<EventType> {
    let t = EventType::from_name(name);
    if t.is_builtin() {
        return Some(t);
    }
    let near = EventType::ALL
        .iter()
        .find(|b| edit_distance(&b.as_str().to_ascii_lowercase(), &name.to_ascii_lowercase()) <= 2);
    if name.is_empty() || near.is_some() {
        let hint = near.map_or(String::new(), |b| {
            format!(" (did you mean {b:?}?)", b = b.as_str())
        });
        errors.push(ConfigError::new(
            at,
            format!("found the unknown event {name:?}{hint}"),
            format!(
                "expected one of Tyk's events ({}) or a custom event name not close to one",
                EventType::ALL.map(|e| e.as_str().to_owned()).join(", ")
            ),
        ));
        return None;
    }
    Some(t)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn errors(doc: Value) -> Vec<String> {
        match EventHandlers::from_definition(&doc, &Location::file("a.json")) {
            Ok(h) => panic!("accepted: {h:?}"),
            Err(e) => e.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_list_is_not_taken_for_an_object_of_fields_in_order() {
        assert_eq!(
            errors(json!({"event_handlers": {"events": {"AuthFailure": [
                {"handler_name": "eh_web_hook_handler", "handler_meta": ["POST", "http://h.example/"]}
            ]}}})),
            [
                "a.json, event \"AuthFailure\", handler #0, field `handler_meta`: found an array; expected an object"
            ]
        );
        assert_eq!(
            errors(json!({"event_handlers": {"events": {"AuthFailure": [["eh_log_handler"]]}}})),
            ["a.json, event \"AuthFailure\", handler #0: found an array; expected an object"]
        );
    }

    #[test]
    fn null_is_absence_for_a_field_but_a_mistake_for_a_block() {
        let doc = json!({"event_handlers": {"events": {"AuthFailure": [
            {"handler_name": "eh_log_handler", "handler_meta": null}
        ]}}});
        let h = EventHandlers::from_definition(&doc, &Location::default()).unwrap();
        assert_eq!(h.for_event(&EventType::AuthFailure).len(), 1);
        assert_eq!(
            errors(json!({"event_handlers": null})),
            ["a.json, field `event_handlers`: found null; expected an object"]
        );
        assert_eq!(
            errors(json!({"event_handlers": {"events": null}})),
            ["a.json, field `event_handlers.events`: found null; expected an object"]
        );
        assert_eq!(
            errors(json!({"x-tyk-api-gateway": {"server": {"eventHandlers": null}}})),
            [
                "a.json, field `x-tyk-api-gateway.server.eventHandlers`: found null; expected a list of event handlers"
            ]
        );
        // Not an object: no handlers, as before.
        for doc in [
            json!([1]),
            json!({"x-tyk-api-gateway": 5}),
            json!({"x-tyk-api-gateway": {"server": []}}),
        ] {
            assert!(
                EventHandlers::from_definition(&doc, &Location::default())
                    .unwrap()
                    .is_empty()
            );
        }
    }
}
