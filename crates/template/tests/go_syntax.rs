//! The translation of Tyk's Go template syntax: each construct of the subset, nested, with
//! whitespace and trim markers, against the output Go's `html/template` gives for the same template
//! and event (the cases are in `go/constructs.json`; the Go program of `go/` writes Go's output
//! for each to `go/constructs_expected.json`, `cargo xtask golden`; HTML entities are decoded on
//! both sides: the escaping of `.txt` templates is tested byte for byte in `golden.rs`); and every
//! refusal, with its message.

use std::path::Path;

use hookshot_event::Event;
use hookshot_template::{Engine, Error, Escaping, Syntax, Template};

fn event(name: &str) -> Event {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/events")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A case of `go/constructs.json` with Go's output for it, as the Go program of `go/` wrote
/// them to `go/constructs_expected.json` (`cargo xtask golden`).
struct Construct {
    what: String,
    template: String,
    event: String,
    go: String,
}

const CONSTRUCTS: &str = "tests/go/constructs_expected.json";

fn constructs() -> Vec<Construct> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(CONSTRUCTS);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run cargo xtask golden", path.display()));
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let field = |name: &str| {
                c[name]
                    .as_str()
                    .unwrap_or_else(|| panic!("{CONSTRUCTS}: case {i} has no string {name:?}"))
                    .to_owned()
            };
            Construct {
                what: field("what"),
                template: field("template"),
                event: field("event"),
                go: field("output"),
            }
        })
        .collect()
}

#[test]
fn translated_constructs_render_as_go_does() {
    let cases = constructs();
    assert!(
        cases.len() >= 50,
        "{CONSTRUCTS}: only {} cases",
        cases.len()
    );
    for c in &cases {
        let what = &c.what;
        let t = Template::parse("case.txt", &c.template).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(t.syntax(), Syntax::Go, "{what}: detected as Go");
        assert_eq!(t.engine(), Engine::Compiled, "{what}");
        assert_eq!(t.escaping(), Escaping::Markup, "{what}");
        let got = decode_entities(
            &t.render(&event(&c.event))
                .unwrap_or_else(|e| panic!("{what}: {e}")),
        );
        assert_eq!(got, decode_entities(&c.go), "{what}: {:?}", c.template);
    }
}

/// `s` with the entities of Go's `html/template` escaping decoded.
fn decode_entities(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#43;", "+")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

const SUBSET: &str = "Hookshot translates the Go template subset Tyk uses: field paths, if / else if / else / end, eq, ne, lt, le, gt, ge, and, or, not, parentheses, as_rfc3339, as_rfc3339_from_string and comments";

/// (template, the whole error message; `SUBSET` stands for the list of what is translated)
const REFUSED: &[(&str, &str)] = &[
    (
        "{{range .Meta}}x{{end}}",
        "case.txt:1:3: {{range}} is not supported: SUBSET; liquid's {% for %} can loop",
    ),
    (
        "{{with .Meta}}{{.Path}}{{end}}",
        "case.txt:1:3: {{with}} is not supported: SUBSET; use {{if}} and the full field path",
    ),
    (
        "{{define \"x\"}}a{{end}}",
        "case.txt:1:3: {{define}} is not supported: SUBSET; a template is a single file",
    ),
    (
        "{{template \"x\" .}}",
        "case.txt:1:3: {{template}} is not supported: SUBSET; a template is a single file",
    ),
    (
        "{{block \"x\" .}}a{{end}}",
        "case.txt:1:3: {{block}} is not supported: SUBSET; a template is a single file",
    ),
    (
        "{{break}}",
        "case.txt:1:3: {{break}} is not supported: SUBSET; they only make sense inside range",
    ),
    (
        "{{$x := .Type}}{{$x}}",
        "case.txt:1:3: the variable `$x` is not supported: SUBSET; write the field path (such as `.Meta.Path`) instead",
    ),
    (
        "a {{ $ }}",
        "case.txt:1:6: the variable `$` is not supported: SUBSET; write the field path (such as `.Meta.Path`) instead",
    ),
    (
        "{{printf \"%s\" .Type}}",
        "case.txt:1:3: the function `printf` is not supported: SUBSET",
    ),
    (
        "{{len .Meta.Path}}",
        "case.txt:1:3: the function `len` is not supported: SUBSET",
    ),
    (
        "{{index .Meta \"Path\"}}",
        "case.txt:1:3: the function `index` is not supported: SUBSET",
    ),
    (
        "{{.Type | html}}",
        "case.txt:1:11: the function `html` is not supported: SUBSET",
    ),
    (
        "{{.}}",
        "case.txt:1:3: `.` alone (the whole event) is not supported: SUBSET; name a field such as `.Type` or `.Meta.Message`",
    ),
    (
        "{{if eq .Type nil}}x{{end}}",
        "case.txt:1:15: `nil` is not supported: SUBSET; a missing field is already false in `if`",
    ),
    (
        "{{if eq .Type 'a'}}x{{end}}",
        "case.txt:1:15: the character constant 'a' is not supported: SUBSET; use a string such as \"a\"",
    ),
    (
        "{{if eq .Meta.CircuitEvent 0x1}}x{{end}}",
        "case.txt:1:28: the number `0x1` is not supported: SUBSET; write plain decimal numbers such as 3 or 2.5",
    ),
    (
        "{{(eq .Type \"x\").Foo}}",
        "case.txt:1:17: a field of a parenthesised expression is not supported: SUBSET",
    ),
    (
        "{{if .Type}}a{{else with .Meta}}b{{end}}",
        "case.txt:1:21: {{else with}} is not supported: SUBSET",
    ),
    (
        "line1\nline2 {{.Type}}\n  {{range .X}}{{end}}",
        "case.txt:3:5: {{range}} is not supported: SUBSET; liquid's {% for %} can loop",
    ),
    (
        "{{foo .Type}}",
        "case.txt:1:3: function `foo` is not defined (the functions are eq, ne, lt, le, gt, ge, and, or, not, as_rfc3339, as_rfc3339_from_string; fields start with a dot, as in `.foo`)",
    ),
    (
        "{{if .Type}}x",
        "case.txt:1:1: unclosed {{if}}: missing {{end}}",
    ),
    (
        "x{{end}}",
        "case.txt:1:4: unexpected {{end}} without {{if}}",
    ),
    (
        "{{else}}",
        "case.txt:1:3: unexpected {{else}} outside {{if}}",
    ),
    (
        "{{if .A}}{{else}}{{else}}{{end}}",
        "case.txt:1:20: expected {{end}}: this {{if}} already had its {{else}}",
    ),
    (
        "{{.Type | .Meta.Path}}",
        "case.txt:1:11: a value cannot take arguments: only functions can (a value can be piped into a function, as in `.TimeStamp | as_rfc3339_from_string`)",
    ),
    (
        "{{eq .Type}}",
        "case.txt:1:3: wrong number of arguments for eq: want at least 2, got 1",
    ),
    (
        "{{ not .A .B }}",
        "case.txt:1:4: wrong number of arguments for not: want 1, got 2",
    ),
    ("{{.Type \"x}}", "case.txt:1:9: unterminated quoted string"),
    ("{{/* open", "case.txt:1:1: unclosed comment"),
    (
        "{{/* c */ }}",
        "case.txt:1:1: comment ends before closing delimiter",
    ),
    ("{{.Type", "case.txt:1:1: unclosed action"),
    ("{{ (.Type }}", "case.txt:1:1: unclosed left paren"),
    (
        "{{.Type}} {% if Type %}x{% endif %}",
        "case.txt:1:11: this liquid tag is in a template written in Go's syntax (its action at line 1, column 1); write the template in one syntax or the other",
    ),
];

#[test]
fn constructs_outside_the_subset_are_refused_at_load_with_their_position() {
    for (src, want) in REFUSED {
        let err = Template::parse("case.txt", src).expect_err(src);
        assert_eq!(err.to_string(), want.replace("SUBSET", SUBSET), "{src:?}");
        if err.to_string().contains("is not supported") {
            assert!(matches!(err, Error::Unsupported { .. }), "{src:?}");
        } else {
            assert!(matches!(err, Error::Syntax { .. }), "{src:?}");
        }
    }
}

#[test]
fn go_errors_at_render_name_the_position() {
    let t = Template::parse(
        "case.txt",
        "a\n  {{if eq .Meta.CircuitEvent \"0\"}}x{{end}}",
    )
    .unwrap();
    let err = t.render(&event("BreakerTripped")).unwrap_err().to_string();
    assert_eq!(
        err,
        "rendering case.txt: line 2, column 8: eq: incompatible types for comparison (an integer and a string)"
    );
    let t = Template::parse("case.txt", "{{.Meta.HostInfo}}").unwrap();
    let err = t.render(&event("HostDown")).unwrap_err().to_string();
    assert_eq!(
        err,
        "rendering case.txt: line 1, column 3: `.Meta.HostInfo` is an object, which cannot be printed; print one of its fields"
    );
    let t = Template::parse("case.txt", "{{.Meta.Path.Length}}").unwrap();
    let err = t.render(&event("AuthFailure")).unwrap_err().to_string();
    assert_eq!(
        err,
        "rendering case.txt: line 1, column 3: .Meta.Path.Length: Meta.Path is not an object, so it has no field Length"
    );
}

#[test]
fn detection_of_the_syntax() {
    for (src, syntax) in [
        ("{{.Type}}", Syntax::Go),
        ("{{ if .Meta.Key }}k{{ end }}", Syntax::Go),
        ("{{- /* only a comment */ -}}", Syntax::Go),
        ("{{ Type }}", Syntax::Liquid),
        (
            "{% if Type == \"AuthFailure\" %}x{% endif %}",
            Syntax::Liquid,
        ),
        ("{{ Meta.Path | upcase }}", Syntax::Liquid),
        ("plain text, no actions", Syntax::Liquid),
    ] {
        assert_eq!(
            Template::parse("t.txt", src).unwrap().syntax(),
            syntax,
            "{src}"
        );
    }
}
