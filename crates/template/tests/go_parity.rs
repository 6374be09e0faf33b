//! Go-syntax templates render as Go's `html/template` renders them, modulo escaping.
//!
//! `fixtures/go/` holds templates written for this test with the constructs of Tyk's shipped
//! templates (`default_webhook.json`, `breaker_webhook.json`, `monitor_template.json`,
//! `transform_test.tmpl`) and of the seed document's `.EventType` / `.EventMetaData` template, plus
//! one exercising the whole translated subset with trim markers, and an XML one.
//! `fixtures/go_expected.json` holds, for each of them and each event of `fixtures/events/`, what
//! Go 1.19's `html/template` produced with Tyk's `as_rfc3339` / `as_rfc3339_from_string` and the
//! event decoded into maps (a missing field then renders as nothing, as Hookshot does); the Go
//! program of `tests/go/` writes it (`cargo xtask golden`). For the JSON templates the expected
//! text has HTML entities decoded (`&#43;` back to `+`): that is the escaping Hookshot deliberately
//! does differently, and the sample values need no JSON escaping. For the text and XML templates
//! the expectation is Go's output byte for byte, entities included.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hookshot_event::Event;
use hookshot_template::{Engine, Error, Syntax, Template};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn event(name: &str) -> Event {
    let path = fixtures().join("events").join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn fixtures_render_as_go_does_for_every_event() {
    let expected: BTreeMap<String, BTreeMap<String, String>> = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("go_expected.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(expected.len(), 6);
    let mut checked = 0;
    for (fixture, by_event) in &expected {
        let template = Template::from_file(fixtures().join("go").join(fixture)).unwrap();
        assert_eq!(template.syntax(), Syntax::Go, "{fixture}");
        assert_eq!(template.engine(), Engine::Compiled, "{fixture}");
        // Every event type and a custom event; the XML template also an event full of markup.
        let xml = fixture.ends_with(".xml");
        assert_eq!(by_event.len(), if xml { 21 } else { 20 }, "{fixture}");
        for (name, want) in by_event {
            let got = template.render(&event(name)).unwrap();
            assert_eq!(&got, want, "{fixture} / {name}");
            checked += 1;
        }
    }
    assert_eq!(checked, 5 * 20 + 21);
}

#[test]
fn a_json_fixture_stays_valid_json_where_go_would_break_it() {
    let special = event("AuthFailure_special");
    for fixture in [
        "tyk_default_style.json",
        "seed_style.json",
        "breaker_style.json",
    ] {
        let template = Template::from_file(fixtures().join("go").join(fixture)).unwrap();
        let body = template.render(&special).unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(v["path"], "/a\"b<c>&d'e+f/é日", "{fixture}");
        if fixture != "breaker_style.json" {
            assert_eq!(v["key"], "k<script>alert('x')</script>", "{fixture}");
        }
    }
}

#[test]
fn the_transform_style_template_is_refused_where_it_leaves_the_subset() {
    let err = Template::from_file(fixtures().join("go/transform_style.tmpl")).unwrap_err();
    let Error::Unsupported {
        line,
        column,
        construct,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(
        (*line, *column, construct.as_str()),
        (5, 11, "{{range}}"),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with("transform_style.tmpl:5:11: {{range}} is not supported: Hookshot translates the Go template subset Tyk uses: field paths, if / else if / else / end, eq, ne, lt, le, gt, ge, and, or, not, parentheses, as_rfc3339, as_rfc3339_from_string and comments; liquid's {% for %} can loop"),
        "{err}"
    );
}
