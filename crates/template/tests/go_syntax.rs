//! The translation of Tyk's Go template syntax: each construct of the subset, nested, with
//! whitespace and trim markers, against the output Go's `html/template` gives for the same template
//! and event (obtained once with Go 1.19 and written here, HTML entities decoded: the escaping of
//! `.txt` templates is tested byte for byte in `golden.rs`); and every refusal, with its message.

use std::path::Path;

use hookshot_event::Event;
use hookshot_template::{Engine, Error, Escaping, Syntax, Template};

fn event(name: &str) -> Event {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/events")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// (what, template, event fixture, Go's output)
const TRANSLATED: &[(&str, &str, &str, &str)] = &[
    ("field", "{{.Type}}", "AuthFailure", "AuthFailure"),
    (
        "field with spaces",
        "{{ .Type }}",
        "AuthFailure",
        "AuthFailure",
    ),
    (
        "field with extra spaces and tabs",
        "{{  \t.Meta.Path  }}",
        "AuthFailure",
        "/orders/api/users",
    ),
    (
        "nested field",
        "{{.Meta.HostInfo.CheckURL}}",
        "HostDown",
        "http://orders.internal:8080/health",
    ),
    (
        "map key",
        "{{.Meta.HostInfo.MetaData.host_name}}",
        "HostDown",
        "orders.internal",
    ),
    (
        "seed names",
        "{{.EventType}} {{.EventMetaData.Key}}",
        "KeyExpired",
        "KeyExpired 5d8a1f0c8e6b4e2f9a7c3b1d",
    ),
    (
        "API fields",
        "{{.API.ID}}/{{.API.Name}}/{{.API.OrgID}}",
        "QuotaExceeded",
        "orders/Orders API/acme",
    ),
    (
        "API of a system event is empty",
        "[{{.API.Name}}]",
        "TokenCreated",
        "[]",
    ),
    (
        "integer",
        "{{.Meta.HostInfo.ResponseCode}}",
        "HostDown",
        "503",
    ),
    ("float", "{{.Meta.HostInfo.Latency}}", "HostUp", "12.5"),
    (
        "boolean",
        "{{.Meta.HostInfo.IsTCPError}}",
        "HostDown",
        "false",
    ),
    (
        "time stamp",
        "{{.TimeStamp}}",
        "AuthFailure",
        "2026-11-28 18:36:24.182420098 +0000 UTC",
    ),
    (
        "missing field is empty",
        "[{{.Meta.Reason}}]",
        "AuthFailure",
        "[]",
    ),
    (
        "missing nested field is empty",
        "[{{.Meta.HostInfo.MetaData.host_name}}]",
        "AuthFailure",
        "[]",
    ),
    (
        "pipe into as_rfc3339_from_string",
        "{{.TimeStamp | as_rfc3339_from_string}}",
        "AuthFailure",
        "2026-11-28T18:36:24Z",
    ),
    (
        "call as_rfc3339_from_string",
        "{{as_rfc3339_from_string .TimeStamp}}",
        "AuthFailure",
        "2026-11-28T18:36:24Z",
    ),
    (
        "as_rfc3339_from_string leaves other text",
        "{{.Meta.Path | as_rfc3339_from_string}}",
        "AuthFailure",
        "/orders/api/users",
    ),
    (
        "pipe into as_rfc3339",
        "{{.Meta.ExpiresAt | as_rfc3339}}",
        "CertificateExpiringSoon",
        "2026-12-01T00:00:00Z",
    ),
    (
        "if eq",
        "{{if eq .Type \"AuthFailure\"}}yes{{end}}",
        "AuthFailure",
        "yes",
    ),
    (
        "if eq false",
        "[{{if eq .Type \"HostDown\"}}yes{{end}}]",
        "AuthFailure",
        "[]",
    ),
    (
        "if else",
        "{{if eq .Type \"HostDown\"}}down{{else}}other{{end}}",
        "AuthFailure",
        "other",
    ),
    (
        "else if chain",
        "{{if eq .Type \"HostDown\"}}a{{else if eq .Type \"AuthFailure\"}}b{{else}}c{{end}}",
        "AuthFailure",
        "b",
    ),
    (
        "else if chain falls to else",
        "{{if eq .Type \"HostDown\"}}a{{else if eq .Type \"HostUp\"}}b{{else}}c{{end}}",
        "TokenCreated",
        "c",
    ),
    (
        "ne",
        "{{if ne .Type \"AuthFailure\"}}x{{else}}y{{end}}",
        "AuthFailure",
        "y",
    ),
    (
        "eq with several values",
        "{{if eq .Type \"HostDown\" \"HostUp\"}}host{{end}}",
        "HostUp",
        "host",
    ),
    (
        "eq on integers",
        "{{if eq .Meta.CircuitEvent 1}}reset{{else}}tripped{{end}}",
        "BreakerReset",
        "reset",
    ),
    (
        "pipe into eq",
        "{{if .Type | eq \"AuthFailure\"}}piped{{end}}",
        "AuthFailure",
        "piped",
    ),
    (
        "and with parentheses",
        "{{if and (eq .Type \"HostDown\") (eq .Meta.HostInfo.ResponseCode 503)}}down-503{{end}}",
        "HostDown",
        "down-503",
    ),
    (
        "or with parentheses",
        "{{if or (eq .Type \"HostUp\") (eq .Type \"HostDown\")}}host{{end}}",
        "HostDown",
        "host",
    ),
    (
        "not",
        "{{if not (eq .Type \"AuthFailure\")}}x{{else}}y{{end}}",
        "AuthFailure",
        "y",
    ),
    (
        "nested parentheses",
        "{{if and (or (eq .Type \"X\") (eq .Type \"AuthFailure\")) (not (eq .Meta.Key \"\"))}}ok{{end}}",
        "AuthFailure",
        "ok",
    ),
    (
        "and returns its last value",
        "{{and .Meta.Path .Meta.Key}}",
        "AuthFailure",
        "5d8a1f0c8e6b4e2f9a7c3b1d",
    ),
    (
        "and returns the first false value",
        "[{{and .Meta.Reason .Meta.Key}}]",
        "AuthFailure",
        "[]",
    ),
    (
        "or returns the first true value",
        "{{or .Meta.Reason \"none\"}}",
        "AuthFailure",
        "none",
    ),
    (
        "gt and lt",
        "{{if gt .Meta.UsagePercentage .Meta.TriggerLimit}}over{{end}}{{if lt .Meta.TriggerLimit 50}}low{{end}}",
        "TriggerExceeded",
        "over",
    ),
    (
        "truth of a string",
        "{{if .Meta.APIID}}has{{else}}none{{end}}",
        "CertificateExpired",
        "has",
    ),
    (
        "truth of a missing field",
        "{{if .Meta.APIID}}has{{else}}none{{end}}",
        "AuthFailure",
        "none",
    ),
    (
        "truth of zero",
        "{{if .Meta.CircuitEvent}}one{{else}}zero{{end}}",
        "BreakerTripped",
        "zero",
    ),
    (
        "truth of false",
        "{{if .Meta.HostInfo.IsTCPError}}tcp{{else}}http{{end}}",
        "HostDown",
        "http",
    ),
    (
        "truth of an object",
        "{{if .Meta.HostInfo}}host{{end}}",
        "HostUp",
        "host",
    ),
    (
        "nested if inside else",
        "{{if eq .Type \"X\"}}x{{else}}{{if eq .Type \"AuthFailure\"}}in{{end}}-{{end}}",
        "AuthFailure",
        "in-",
    ),
    (
        "nested if inside if",
        "{{if .Meta.Key}}[{{if eq .Meta.Origin \"203.0.113.7\"}}origin{{end}}]{{end}}",
        "AuthFailure",
        "[origin]",
    ),
    (
        "trim both sides",
        "a  \n {{- .Type -}} \n\t b",
        "AuthFailure",
        "aAuthFailureb",
    ),
    (
        "trim left only",
        "a \n\t{{- .Type}} b",
        "AuthFailure",
        "aAuthFailure b",
    ),
    (
        "trim right only",
        "a {{.Type -}} \r\n b",
        "AuthFailure",
        "a AuthFailureb",
    ),
    (
        "trim markers around if",
        "<\n  {{- if .Meta.Key -}}\n  key\n  {{- end -}}\n>",
        "AuthFailure",
        "<key>",
    ),
    (
        "no trim without the space",
        "{{.Type}}{{-3}}",
        "AuthFailure",
        "AuthFailure-3",
    ),
    (
        "trim marker after a number",
        "{{.Type}} {{3 -}} y",
        "AuthFailure",
        "AuthFailure 3y",
    ),
    ("comment", "a {{/* note */}} b", "AuthFailure", "a  b"),
    (
        "comment with trim markers",
        "a {{- /* note */ -}} b",
        "AuthFailure",
        "ab",
    ),
    (
        "string literals",
        "{{.Type}}:{{\"tab\\there\"}}|{{`raw \\t`}}",
        "AuthFailure",
        "AuthFailure:tab\there|raw \\t",
    ),
    (
        "number and boolean literals",
        "{{.Type}}: {{42}} {{2.5}} {{true}}",
        "AuthFailure",
        "AuthFailure: 42 2.5 true",
    ),
    (
        "string with braces",
        "{{.Type}}{{\"}}{{\"}}",
        "AuthFailure",
        "AuthFailure}}{{",
    ),
    (
        "multi-line template",
        "line1\n{{if eq .Type \"HostDown\"}}\nhost {{.Meta.HostInfo.MetaData.api_id}}\n{{end}}\nend",
        "HostDown",
        "line1\n\nhost orders\n\nend",
    ),
    (
        "time stamp compared as Tyk's string",
        "{{if eq .TimeStamp \"2026-11-28 18:36:24.182420098 +0000 UTC\"}}same{{end}}|{{if lt .TimeStamp \"2027\"}}lt{{end}}",
        "AuthFailure",
        "same|lt",
    ),
    (
        "custom event",
        "{{.Type}}: {{.Meta.Message}} [{{.Meta.Path}}]",
        "PaymentDeclined",
        "PaymentDeclined: PaymentDeclined happened []",
    ),
];

#[test]
fn translated_constructs_render_as_go_does() {
    assert!(TRANSLATED.len() >= 30);
    for (what, src, event_name, want) in TRANSLATED {
        let t = Template::parse("case.txt", src).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(t.syntax(), Syntax::Go, "{what}: detected as Go");
        assert_eq!(t.engine(), Engine::Compiled, "{what}");
        assert_eq!(t.escaping(), Escaping::Markup, "{what}");
        let got = decode_entities(
            &t.render(&event(event_name))
                .unwrap_or_else(|e| panic!("{what}: {e}")),
        );
        assert_eq!(&got, want, "{what}: {src:?}");
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
