//! Every shipped template, for every event type: loads, compiles, renders valid JSON, and renders
//! the same through the compiled program as through the liquid crate.

use hookshot_event::{Event, EventType};
use hookshot_template::{Engine, Escaping, SHIPPED, Syntax, Template, lint};

fn all_types() -> Vec<EventType> {
    EventType::ALL
        .iter()
        .cloned()
        .chain([EventType::Custom("PaymentDeclined".into())])
        .collect()
}

#[test]
fn every_shipped_template_is_valid_json_for_every_event() {
    for name in SHIPPED {
        let t = Template::shipped(name).unwrap();
        assert_eq!(t.syntax(), Syntax::Liquid, "{name}");
        assert_eq!(t.escaping(), Escaping::Json, "{name}");
        assert_eq!(t.engine(), Engine::Compiled, "{name} should compile");
        for ty in all_types() {
            let body = t.render(&Event::sample(&ty)).unwrap();
            if let Err(e) = serde_json::from_str::<serde_json::Value>(&body) {
                panic!("{name} / {ty}: {e}\n{body}");
            }
        }
        assert_eq!(lint(&t, &all_types()), vec![], "{name}");
    }
}

#[test]
fn compiled_and_liquid_renders_agree() {
    for name in SHIPPED {
        let t = Template::shipped(name).unwrap();
        for ty in all_types() {
            let event = Event::sample(&ty);
            let compiled = t.render(&event).unwrap();
            let liquid = t.render_with_liquid(&event).unwrap().unwrap();
            assert_eq!(compiled, liquid, "{name} / {ty}");
        }
    }
}
