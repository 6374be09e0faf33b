//! The event's schema is the event crate's alone: every field its `Fields` accessor gives is a field
//! of the event's serde form and the other way round, and a template naming it renders the value
//! the serde form holds, in both syntaxes and through both engines. A field added to the event's
//! metadata is covered here with no edit to this crate.

use std::collections::BTreeMap;

use hookshot_event::{Event, EventType, FieldValue, Fields};
use hookshot_template::Template;
use serde_json::Value;

/// Every event type, and a custom one.
fn every_event_type() -> impl Iterator<Item = EventType> {
    EventType::ALL
        .iter()
        .cloned()
        .chain([EventType::Custom("Deploy".into())])
}

/// The leaves under `record`, by their dotted path, as the accessor gives them.
fn accessor_leaves(prefix: &str, record: &dyn Fields, out: &mut BTreeMap<String, Value>) {
    record.each_field(&mut |name, value| {
        let path = format!("{prefix}{name}");
        assert_eq!(
            record.field(name).map(|v| format!("{v:?}")),
            Some(format!("{value:?}")),
            "{path}: looked up and visited differently"
        );
        let leaf = match value {
            FieldValue::Str(s) => Value::from(s),
            FieldValue::Int(n) => Value::from(n),
            FieldValue::Float(f) => Value::from(f),
            FieldValue::Bool(b) => Value::from(b),
            FieldValue::Time(t) => Value::from(t.to_string()),
            FieldValue::Record(r) | FieldValue::Map(r) => {
                return accessor_leaves(&format!("{path}."), r, out);
            }
            FieldValue::Json(j) => j.clone(),
        };
        out.insert(path, leaf);
    });
}

/// The leaves of the serde form, by their dotted path.
fn serde_leaves(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                serde_leaves(&format!("{prefix}{k}."), v, out);
            }
        }
        Value::Null => {}
        leaf => {
            out.insert(prefix.trim_end_matches('.').to_owned(), leaf.clone());
        }
    }
}

/// What a JSON template with the field `path` alone renders, read back as JSON.
fn render(event: &Event, source: &str, path: &str, expected: &Value) -> Vec<Value> {
    let template =
        Template::parse("field.json", source).unwrap_or_else(|e| panic!("{path}: {source}: {e}"));
    let mut bodies = vec![template.render(event).unwrap()];
    if let Some(liquid) = template.render_with_liquid(event) {
        bodies.push(liquid.unwrap());
    }
    bodies
        .into_iter()
        .map(|body| {
            let body = if expected.is_string() {
                format!("\"{body}\"")
            } else {
                body
            };
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {source}: {e}: {body}"))
        })
        .collect()
}

#[test]
fn every_field_of_every_family_renders_its_serde_value() {
    let mut checked = 0;
    for event_type in every_event_type() {
        let event = Event::sample(&event_type);
        let mut by_accessor = BTreeMap::new();
        accessor_leaves("", &event, &mut by_accessor);
        let mut by_serde = BTreeMap::new();
        serde_leaves("", &event.to_json(), &mut by_serde);
        assert_eq!(
            by_accessor, by_serde,
            "{event_type}: accessor and serde form"
        );
        assert!(by_accessor.contains_key("Meta.Message"), "{event_type}");

        for (path, expected) in &by_accessor {
            let liquid = format!("{{{{ {path} }}}}");
            let go = format!("{{{{.{path}}}}}");
            for source in [liquid, go] {
                for got in render(&event, &source, path, expected) {
                    assert_eq!(&got, expected, "{event_type}: {source}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 200, "only {checked} renders checked");
}
