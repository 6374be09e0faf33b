//! Loading templates, what a template tells the webhook layer, and its use as a `Renderer`.

use std::sync::Arc;

use hookshot_event::{Event, EventType};
use hookshot_template::{Engine, Error, Escaping, Renderer, SHIPPED, Syntax, Template};

#[test]
fn shipped_templates_by_name() {
    for name in SHIPPED {
        let t = Template::shipped(name).unwrap();
        assert_eq!(t.name(), name);
        assert_eq!(t.is_default(), name == "default_webhook.json");
        assert_eq!(t.content_type(), Some("application/json"));
    }
    let t = Template::shipped("templates/default_webhook.json").unwrap();
    assert!(t.is_default());
    assert_eq!(t.name(), "default_webhook.json");
    assert!(Template::default_webhook().is_default());
    let err = Template::shipped("opsgenie.json").unwrap_err();
    assert!(matches!(err, Error::NotShipped { .. }));
    assert_eq!(
        err.to_string(),
        "\"opsgenie.json\" is not a shipped template; the shipped templates are default_webhook.json, breaker_webhook.json, slack.json, teams.json, discord.json, pagerduty.json"
    );
}

#[test]
fn the_kind_gives_escaping_and_content_type() {
    for (name, escaping, content_type) in [
        ("hooks/body.json", Escaping::Json, Some("application/json")),
        ("hooks/body.JSON", Escaping::Json, Some("application/json")),
        ("hooks/body.xml", Escaping::Markup, None),
        ("hooks/body.html", Escaping::Markup, None),
        ("hooks/transform.tmpl", Escaping::Raw, None),
    ] {
        let t = Template::parse(name, "{{ Type }}").unwrap();
        assert_eq!(t.escaping(), escaping, "{name}");
        assert_eq!(t.content_type(), content_type, "{name}");
        assert!(!t.is_default());
        assert_eq!(t.name(), name);
    }
    let t = Template::parse_with("anything", "{{ Type }}", Escaping::Json).unwrap();
    assert_eq!(t.content_type(), Some("application/json"));
}

#[test]
fn load_prefers_a_file_and_falls_back_to_the_shipped_set() {
    let dir = std::env::temp_dir().join(format!("hookshot-template-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("slack.json");
    std::fs::write(&file, "{\"mine\": \"{{ Type }}\"}").unwrap();
    let event = Event::sample(&EventType::AuthFailure);

    let from_file = Template::load(file.to_str().unwrap()).unwrap();
    assert_eq!(
        from_file.render(&event).unwrap(),
        "{\"mine\": \"AuthFailure\"}"
    );
    assert_eq!(from_file.name(), file.display().to_string());

    let shipped = Template::load("slack.json").unwrap();
    assert!(shipped.render(&event).unwrap().contains("\"blocks\""));

    let missing = dir.join("missing.json");
    let err = Template::load(missing.to_str().unwrap()).unwrap_err();
    assert!(matches!(err, Error::Read { .. }));
    assert!(
        err.to_string().starts_with(&format!(
            "{}: cannot read the template: ",
            missing.display()
        )),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_template_is_a_shareable_renderer() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Template>();
    let events: Vec<Event> = EventType::ALL
        .iter()
        .chain([&EventType::Custom("Deploy".into())])
        .map(Event::sample)
        .collect();
    let sources = [
        ("default_webhook.json", None),
        (
            "alert.txt",
            Some("{{.Type}} at {{.TimeStamp}}: {{.Meta.Path}} {{.Meta.Key}}"),
        ),
        (
            "alert.xml",
            Some(
                "<e t=\"{{ Type }}\">{{ Meta.Message }}{% if Meta.Path %} {{ Meta.Path }}{% endif %}</e>",
            ),
        ),
    ];
    for (name, source) in sources {
        let load = || match source {
            None => Template::default_webhook(),
            Some(src) => Template::parse(name, src).unwrap(),
        };
        // What the template renders called directly, from an instance of its own.
        let direct = load();
        let expected: Vec<String> = events.iter().map(|e| direct.render(e).unwrap()).collect();
        assert!(
            expected
                .iter()
                .zip(&events)
                .all(|(body, e)| body.contains(e.event_type.as_str())),
            "{name}: {expected:?}"
        );
        // One template shared as a Renderer by two threads, each rendering every event in turn.
        let renderer: Arc<dyn Renderer> = Arc::new(load());
        assert_eq!(renderer.content_type(), direct.content_type(), "{name}");
        let bodies: Vec<Vec<String>> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    let (renderer, events) = (renderer.clone(), &events);
                    s.spawn(move || {
                        (0..20)
                            .flat_map(|_| events.iter())
                            .map(|e| renderer.render(e).unwrap())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        for got in bodies {
            for (i, body) in got.iter().enumerate() {
                assert_eq!(body, &expected[i % events.len()], "{name}, render {i}");
            }
        }
    }
    let t = Template::parse("t.txt", "{{.Type}}").unwrap();
    assert_eq!((t.syntax(), t.engine()), (Syntax::Go, Engine::Compiled));
    assert!(
        t.render_with_liquid(&Event::sample(&EventType::HostUp))
            .is_none()
    );
}

#[test]
fn render_to_appends_and_leaves_the_buffer_alone_on_error() {
    let t = Template::parse("t.txt", "{{.Type}}{{.Meta.Path.X}}").unwrap();
    let mut out = String::from("kept");
    assert!(
        t.render_to(&Event::sample(&EventType::AuthFailure), &mut out)
            .is_err()
    );
    assert_eq!(out, "kept");
    let t = Template::parse("t.txt", "-{{ Type }}").unwrap();
    t.render_to(&Event::sample(&EventType::HostUp), &mut out)
        .unwrap();
    assert_eq!(out, "kept-HostUp");
}

#[test]
fn a_liquid_template_for_json_bodies_escapes_as_json_whatever_its_name() {
    let event: Event = serde_json::from_value(serde_json::json!({
        "Type": "AuthFailure",
        "Meta": {"Message": "m", "OriginatingRequest": "", "Path": "/p", "Origin": "",
                 "Key": "k\",\"injected\":true,\"z\":\""},
        "TimeStamp": "2026-11-28 18:36:24.182420098 +0000 UTC",
    }))
    .unwrap();
    for name in ["alert.tmpl", "alert.txt", "alert", "alert.xml"] {
        for src in [
            "{\"key\": \"{{ Meta.Key }}\"}",
            "{\"key\": \"{{ Meta.Key | upcase | downcase }}\"}{% if false %}{% endif %}",
        ] {
            let t = Template::parse(name, src).unwrap().for_json_body().unwrap();
            assert_eq!(t.escaping(), Escaping::Json, "{name}");
            assert_eq!(t.content_type(), Some("application/json"), "{name}");
            let body: serde_json::Value = serde_json::from_str(&t.render(&event).unwrap()).unwrap();
            assert_eq!(
                body,
                serde_json::json!({"key": "k\",\"injected\":true,\"z\":\""}),
                "{name}: {src}"
            );
        }
    }
    // A Go-syntax template keeps Tyk's html/template escaping.
    let go = Template::parse("alert.tmpl", "{\"key\": \"{{.Meta.Key}}\"}")
        .unwrap()
        .for_json_body()
        .unwrap();
    assert_eq!(go.escaping(), Escaping::Markup);
    assert_eq!(
        go.render(&event).unwrap(),
        "{\"key\": \"k&#34;,&#34;injected&#34;:true,&#34;z&#34;:&#34;\"}"
    );
    // Re-parsing keeps what a JSON liquid template refuses.
    let err = Template::parse("c.txt", "{% capture x %}{{ Type }}{% endcapture %}{{ x }}")
        .unwrap()
        .for_json_body()
        .unwrap_err();
    assert!(
        err.to_string().contains("{% capture %} is not supported"),
        "{err}"
    );
}
