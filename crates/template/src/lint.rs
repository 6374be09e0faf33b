//! The start-up check: render a template for every event type it is attached to.

use hookshot_event::{Event, EventType};

use crate::escape::Escaping;
use crate::template::Template;

/// A problem found by [`lint`]: the template fails, or writes a body that is not JSON, for an event
/// type it is attached to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template {template}, event {event_type}: {problem}")]
pub struct LintError {
    /// The template's name or path.
    pub template: String,
    /// The event type whose sample failed.
    pub event_type: EventType,
    /// What went wrong.
    pub problem: String,
}

/// Renders [`Event::sample`] of each of `events` with `template` and reports every problem: a
/// rendering error, and, for a JSON template, a body that is not valid JSON (with its line and
/// column in the body). An empty list means the template is fine for those events.
///
/// The gateway calls this at start, so that a broken template stops the start instead of dropping
/// events at run time.
pub fn lint(template: &Template, events: &[EventType]) -> Vec<LintError> {
    let mut errors = Vec::new();
    for event_type in events {
        let error = |problem: String| LintError {
            template: template.name().to_owned(),
            event_type: event_type.clone(),
            problem,
        };
        let body = match template.render(&Event::sample(event_type)) {
            Ok(body) => body,
            Err(e) => {
                errors.push(error(e.to_string()));
                continue;
            }
        };
        if template.escaping() != Escaping::Json {
            continue;
        }
        if body.trim().is_empty() {
            errors.push(error(
                "renders an empty body, which is not JSON (add a branch for this event)".into(),
            ));
            continue;
        }
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&body) {
            let line = body.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
            errors.push(error(format!(
                "renders invalid JSON: {e} of the body, in `{}`",
                line.trim()
            )));
        }
    }
    errors
}
