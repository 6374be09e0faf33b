//! `hookshot render`: the body a template gives for an event, exactly as the webhook would send it.

use std::path::Path;

use hookshot_event::{Event, EventType};
use hookshot_template::Template;

/// The event to render.
#[derive(Debug, Clone, Copy)]
pub enum EventSource<'a> {
    /// A file in the event JSON shape (`{"Type": ..., "Meta": {...}, "TimeStamp": ...}`).
    File(&'a Path),
    /// The built-in sample of the event type of this name.
    Sample(&'a str),
}

/// Renders `template` (a file path, or the name of a shipped template such as `slack.json`) for
/// the event from `source`. The error names the file, and the line and column where there is one.
pub fn render(template: &str, source: EventSource<'_>) -> Result<String, String> {
    let template = Template::load(template).map_err(|e| e.to_string())?;
    let event = match source {
        EventSource::Sample(name) => Event::sample(&EventType::from_name(name)),
        EventSource::File(path) => read_event(path)?,
    };
    template.render(&event).map_err(|e| e.to_string())
}

/// Reads an event file, reporting JSON errors at their line and column.
pub fn read_event(path: &Path) -> Result<Event, String> {
    let name = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{name}: cannot read the event: {e}"))?;
    serde_json::from_str(&text).map_err(|e| {
        let message = e.to_string();
        let message = message
            .rfind(" at line ")
            .map_or(message.as_str(), |i| &message[..i]);
        if e.line() == 0 {
            format!("{name}: not an event: {message}")
        } else {
            format!(
                "{name}:{}:{}: not an event: {message}",
                e.line(),
                e.column()
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_sample_with_a_shipped_template() {
        let body = render("default_webhook.json", EventSource::Sample("AuthFailure")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["event"], "AuthFailure");
        assert!(!body.ends_with('\n'));
    }

    #[test]
    fn errors_name_the_file() {
        let err = render("no/such/template.json", EventSource::Sample("AuthFailure")).unwrap_err();
        assert!(
            err.starts_with("no/such/template.json: cannot read the template"),
            "{err}"
        );
        let err = render(
            "slack.json",
            EventSource::File(Path::new("no/such/event.json")),
        )
        .unwrap_err();
        assert!(
            err.starts_with("no/such/event.json: cannot read the event"),
            "{err}"
        );
    }
}
