//! The OAS list: `x-tyk-api-gateway.server.eventHandlers: [{"enabled", "trigger", "type", ...}]`.

use super::read::{Cooldown, Headers, Reader, WebhookWire, webhook};
use super::wire::OasHandler;
use super::{EventHandlers, HandlerConfig, LogConfig, event_name};
use crate::error::{ConfigErrors, Location, Problem, describe};
use crate::lenient::Lenient;

const PATH: &str = "x-tyk-api-gateway.server.eventHandlers";

/// Reads an OAS `eventHandlers` list found at `at`.
pub(crate) fn read(
    list: &Lenient<Vec<Lenient<OasHandler>>>,
    at: &Location,
) -> Result<EventHandlers, ConfigErrors> {
    let mut errors = ConfigErrors::default();
    let mut out = EventHandlers::default();
    let list = match list {
        Lenient::Typed(list) => list,
        Lenient::Other(v) => {
            errors.push(
                Problem::new(
                    format!("found {}", describe(v)),
                    "expected a list of event handlers",
                )
                .at(at.clone().field(PATH)),
            );
            return Err(errors);
        }
    };
    for (i, entry) in list.iter().enumerate() {
        let mut h_at = at.clone().handler(i);
        let h = match entry {
            Lenient::Typed(h) => h,
            Lenient::Other(v) => {
                errors.push(
                    Problem::new(format!("found {}", describe(v)), "expected an object")
                        .at(h_at.field(format!("{PATH}[{i}]"))),
                );
                continue;
            }
        };
        let prefix = format!("{PATH}[{i}].");
        let mut r = Reader {
            at: h_at.clone(),
            prefix: prefix.clone(),
            errors: &mut errors,
        };
        let trigger = r.required_str(
            "trigger",
            &h.trigger,
            "an event name such as \"AuthFailure\"",
        );
        if let Some(t) = &trigger {
            h_at = h_at.event(t.as_str());
            r.at = h_at.clone();
        }
        // Tyk reads a missing `enabled` as false.
        let enabled = r.bool("enabled", &h.enabled).unwrap_or(false);
        let kind = r.required_str("type", &h.kind, "one of \"webhook\", \"log\"");
        let Some(trigger) = trigger else { continue };
        let Some(event_type) = event_name(
            &trigger,
            h_at.clone().field(format!("{PATH}[{i}].trigger")),
            &mut errors,
        ) else {
            continue;
        };
        if !enabled {
            out.disabled += 1;
            continue;
        }
        let mut r = Reader {
            at: h_at.clone(),
            prefix,
            errors: &mut errors,
        };
        let handler = match kind.as_deref() {
            Some("webhook") => {
                let wire = WebhookWire {
                    url: ("url", &h.url),
                    template: ("bodyTemplate", &h.body_template),
                    headers: Headers::List(&h.headers),
                    cooldown: Cooldown::Duration(&h.cooldown_period),
                    common: &h.common,
                };
                webhook(&mut r, &wire).map(HandlerConfig::Webhook)
            }
            Some("log") => {
                let prefix = r
                    .str("logPrefix", &h.log_prefix)
                    .or_else(|| r.str("prefix", &h.prefix))
                    .unwrap_or_default();
                Some(HandlerConfig::Log(LogConfig { prefix }))
            }
            Some(other) => {
                r.errors.push(
                    Problem::new(
                        format!("found {other:?}"),
                        "expected \"webhook\" or \"log\" (custom JavaScript and plugin handlers are not supported)",
                    )
                    .at(h_at.clone().field(format!("{PATH}[{i}].type"))),
                );
                None
            }
            None => None,
        };
        if let Some(h) = handler {
            out.events.entry(event_type).or_default().push(h);
        }
    }
    errors.into_result(out)
}
