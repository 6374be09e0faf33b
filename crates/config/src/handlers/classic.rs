//! The classic block: `{"events": {"<Event>": [{"handler_name", "handler_meta"}]}}`.

use super::read::{Cooldown, Headers, Reader, WebhookWire, webhook};
use super::wire::{ClassicBlock, ClassicHandler, ClassicMeta};
use super::{EventHandlers, HandlerConfig, LogConfig, event_name};
use crate::error::{ConfigErrors, Location, Problem, describe};
use crate::lenient::Lenient;

/// Reads a classic `event_handlers` block found at `at`.
pub(crate) fn read(
    block: &Lenient<ClassicBlock>,
    at: &Location,
) -> Result<EventHandlers, ConfigErrors> {
    let mut errors = ConfigErrors::default();
    let mut out = EventHandlers::default();
    let block = match block {
        Lenient::Typed(block) => block,
        Lenient::Other(v) => {
            errors.push(not_an_object(v).at(at.clone().field("event_handlers")));
            return Err(errors);
        }
    };
    let events = match &block.events {
        None => return Ok(out),
        Some(Lenient::Typed(events)) => events,
        Some(Lenient::Other(v)) => {
            errors.push(not_an_object(v).at(at.clone().field("event_handlers.events")));
            return Err(errors);
        }
    };
    for (name, list) in events {
        let ev_at = at.clone().event(name);
        let Some(event_type) = event_name(name, ev_at.clone(), &mut errors) else {
            continue;
        };
        let list = match list {
            Lenient::Typed(list) => list,
            Lenient::Other(v) => {
                errors.push(
                    Problem::new(
                        format!("found {}", describe(v)),
                        "expected a list of handlers: [{\"handler_name\": ..., \"handler_meta\": {...}}]",
                    )
                    .at(ev_at.field(format!("event_handlers.events.{name}"))),
                );
                continue;
            }
        };
        for (i, entry) in list.iter().enumerate() {
            let h_at = ev_at.clone().handler(i);
            match handler(entry, &h_at, &mut errors) {
                Some(Some(h)) => out.events.entry(event_type.clone()).or_default().push(h),
                Some(None) => out.disabled += 1,
                None => {}
            }
        }
    }
    errors.into_result(out)
}

fn not_an_object(v: &serde_json::Value) -> Problem {
    Problem::new(format!("found {}", describe(v)), "expected an object")
}

/// One handler entry: `Some(Some(h))` enabled, `Some(None)` disabled, `None` refused.
fn handler(
    entry: &Lenient<ClassicHandler>,
    at: &Location,
    errors: &mut ConfigErrors,
) -> Option<Option<HandlerConfig>> {
    let entry = match entry {
        Lenient::Typed(entry) => entry,
        Lenient::Other(v) => {
            errors.push(not_an_object(v).at(at.clone()));
            return None;
        }
    };
    let mut r = Reader {
        at: at.clone(),
        prefix: String::new(),
        errors,
    };
    let name = r.required_str(
        "handler_name",
        &entry.handler_name,
        "\"eh_web_hook_handler\" or \"eh_log_handler\"",
    )?;
    let empty = ClassicMeta::default();
    let meta = match &entry.handler_meta {
        None => &empty,
        Some(Lenient::Typed(meta)) => meta,
        Some(Lenient::Other(v)) => {
            errors.push(not_an_object(v).at(at.clone().field("handler_meta")));
            return None;
        }
    };
    let mut r = Reader {
        at: at.clone(),
        prefix: "handler_meta.".into(),
        errors,
    };
    match name.as_str() {
        "eh_web_hook_handler" => {
            if r.bool("disabled", &meta.disabled).unwrap_or(false) {
                return Some(None);
            }
            let wire = WebhookWire {
                url: ("target_path", &meta.target_path),
                template: ("template_path", &meta.template_path),
                headers: Headers::Object(&meta.header_map),
                cooldown: Cooldown::Seconds(&meta.event_timeout),
                common: &meta.common,
            };
            webhook(&mut r, &wire).map(|w| Some(HandlerConfig::Webhook(w)))
        }
        "eh_log_handler" => {
            if r.bool("disabled", &meta.disabled).unwrap_or(false) {
                return Some(None);
            }
            let prefix = r.str("prefix", &meta.prefix).unwrap_or_default();
            Some(Some(HandlerConfig::Log(LogConfig { prefix })))
        }
        other => {
            let why = match other {
                "eh_dynamic_handler" => " (JavaScript event handlers are not supported)",
                "cp_dynamic_handler" => " (plugin event handlers are not supported)",
                _ => "",
            };
            errors.push(
                Problem::new(
                    format!("found {other:?}{why}"),
                    "expected \"eh_web_hook_handler\" or \"eh_log_handler\"",
                )
                .at(at.clone().field("handler_name")),
            );
            None
        }
    }
}
