//! Go-syntax templates that are not `.json` render the bytes Go's `html/template` renders, as Tyk
//! renders them, whatever their extension, for events full of hostile values.
//!
//! `go/expected.json` is written by the Go program in `go/` (`cargo xtask golden`), which parses
//! every template of `go/templates/` as Tyk's webhook handler does and executes it against every
//! event of `go/events/`. This test only reads it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hookshot_event::Event;
use hookshot_template::{Error, Escaping, Syntax, Template};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go")
}

fn event(name: &str) -> Event {
    let path = dir().join("events").join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn expected() -> BTreeMap<String, BTreeMap<String, String>> {
    serde_json::from_str(&std::fs::read_to_string(dir().join("expected.json")).unwrap()).unwrap()
}

#[test]
fn go_syntax_templates_render_the_bytes_go_html_template_renders() {
    let expected = expected();
    let templates: Vec<String> = std::fs::read_dir(dir().join("templates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        expected.len(),
        templates.len(),
        "regenerate with cargo xtask golden"
    );
    let mut checked = 0;
    for (file, by_event) in &expected {
        let template = Template::from_file(dir().join("templates").join(file)).unwrap();
        assert_eq!(template.syntax(), Syntax::Go, "{file}");
        assert_eq!(template.escaping(), Escaping::Markup, "{file}");
        assert_eq!(by_event.len(), 3, "{file}");
        for (name, want) in by_event {
            let got = template.render(&event(name)).unwrap();
            assert_eq!(&got, want, "{file} / {name}");
            checked += 1;
        }
    }
    assert_eq!(checked, 5 * 3);
}

#[test]
fn a_hostile_key_adds_no_field_to_a_json_looking_tmpl_body() {
    let template = Template::from_file(dir().join("templates/injection.tmpl")).unwrap();
    let body = template.render(&event("injected_key")).unwrap();
    assert_eq!(body, expected()["injection.tmpl"]["injected_key"]);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let fields: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        ["at", "event", "key", "message", "origin", "path", "time"]
    );
    assert_eq!(v["key"], "k&#34;,&#34;injected&#34;:true,&#34;z&#34;:&#34;");
}

#[test]
fn html_contexts_hookshot_does_not_reproduce_are_refused_with_their_line() {
    for name in ["t.tmpl", "t.txt", "t", "t.html"] {
        for (src, line, column, construct) in [
            (
                "<p>\n<a href=\"{{.Meta.Path}}\">x</a>",
                2,
                10,
                "an action inside an HTML attribute value",
            ),
            ("<p {{.Type}}>", 1, 4, "an action inside an HTML tag"),
            (
                "ok\n<script>var k = \"{{.Meta.Key}}\"</script>",
                2,
                1,
                "the element <script>",
            ),
            ("{{.Type}}\n  <!-- {{.Type}} -->", 2, 3, "an HTML comment"),
        ] {
            match Template::parse(name, src) {
                Err(Error::Unsupported {
                    line: l,
                    column: c,
                    construct: what,
                    ..
                }) => assert_eq!(
                    (l, c, what.as_str()),
                    (line, column, construct),
                    "{name}: {src}"
                ),
                other => panic!("{name}: {src}: {other:?}"),
            }
        }
        let err = Template::parse(name, "{{.Type}} <a").unwrap_err();
        assert!(
            err.to_string().contains("ends inside an HTML tag"),
            "{name}: {err}"
        );
    }
    // A JSON template is escaped as JSON, wherever its values are.
    let t = Template::parse("t.json", "<a href=\"{{.Meta.Path}}\"><!-- {{.Type}} -->").unwrap();
    assert_eq!(t.escaping(), Escaping::Json);
}
