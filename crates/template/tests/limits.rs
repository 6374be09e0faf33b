//! What a template may cost: nesting is capped at load, with the line of the first level too deep,
//! before anything recurses (these tests run on the default 2 MiB test thread stack); liquid ranges
//! are capped before they are built; a body is capped while it is rendered, by both engines.

use hookshot_template::{Error, MAX_NESTING, Template};

/// The line and column of a refusal for nesting too deep.
fn too_deep(name: &str, src: &str) -> (usize, usize) {
    match Template::parse(name, src) {
        Err(Error::Unsupported {
            line,
            column,
            construct,
            hint,
            ..
        }) => {
            assert_eq!(
                construct,
                format!("nesting deeper than {MAX_NESTING} levels")
            );
            assert!(hint.contains("at most 100 levels"), "{hint}");
            (line, column)
        }
        other => panic!("{name}: expected a refusal for nesting, got {other:?}"),
    }
}

const DEEP: usize = 100_000;

#[test]
fn go_blocks_nested_100_000_deep_are_refused_with_the_line_of_the_first_too_deep() {
    let src = format!(
        "{}x\n{}",
        "{{if .Type}}\n".repeat(DEEP),
        "{{end}}".repeat(DEEP)
    );
    assert_eq!(too_deep("deep.json", &src), (MAX_NESTING + 1, 1));
}

#[test]
fn go_parentheses_and_pipes_nested_100_000_deep_are_refused() {
    let parens = format!("\n{{{{{}.Type{}}}}}", "(".repeat(DEEP), ")".repeat(DEEP));
    assert_eq!(too_deep("parens.tmpl", &parens), (2, MAX_NESTING + 3));
    let pipes = format!("{{{{.Type{}}}}}", " | not".repeat(DEEP));
    assert_eq!(too_deep("pipes.tmpl", &pipes).0, 1);
    // Blocks and parentheses count together.
    let both = format!(
        "{}{{{{{}.Type{}}}}}{}",
        "{{if .Type}}".repeat(60),
        "(".repeat(41),
        ")".repeat(41),
        "{{end}}".repeat(60)
    );
    too_deep("both.json", &both);
}

#[test]
fn go_templates_up_to_the_limit_load_and_render() {
    let ifs = MAX_NESTING / 2;
    let parens = MAX_NESTING - ifs;
    let src = format!(
        "{}{{{{{}.Type{}}}}}{}",
        "{{if .Type}}".repeat(ifs),
        "(".repeat(parens),
        ")".repeat(parens),
        "{{end}}".repeat(ifs)
    );
    let t = Template::parse("edge.json", &src).unwrap();
    let body = t.render(&hookshot_event::Event::sample(
        &hookshot_event::EventType::AuthFailure,
    ));
    assert_eq!(body.unwrap(), "AuthFailure");
}

#[test]
fn liquid_blocks_nested_100_000_deep_are_refused_before_the_liquid_crate_parses_them() {
    for (open, close) in [
        ("{% if Type %}", "{% endif %}"),
        ("{% for x in Meta %}", "{% endfor %}"),
        ("{% unless Type %}", "{% endunless %}"),
        ("{% capture c %}", "{% endcapture %}"),
        ("{%- case Type -%}{% when 'x' %}", "{% endcase %}"),
    ] {
        let src = format!(
            "{}x{}",
            format!("{open}\n").repeat(DEEP),
            close.repeat(DEEP)
        );
        assert_eq!(too_deep("deep.txt", &src), (MAX_NESTING + 1, 1), "{open}");
    }
}

#[test]
fn liquid_operator_and_filter_chains_100_000_long_are_refused() {
    let and = format!("{{% if Type{} %}}x{{% endif %}}", " and Type".repeat(DEEP));
    assert_eq!(too_deep("and.json", &and), (1, 1));
    let or = format!(
        "a\n{{% if Type{} %}}x{{% endif %}}",
        " or Type".repeat(DEEP)
    );
    assert_eq!(too_deep("or.json", &or), (2, 1));
    let filters = format!("{{{{ Meta.Key{} }}}}", " | default: 1".repeat(DEEP));
    assert_eq!(too_deep("filters.json", &filters), (1, 1));
    // Quoted text is not counted.
    let quoted = format!("{{{{ '{}' }}}}", "| and or ".repeat(DEEP));
    Template::parse("quoted.json", &quoted).unwrap();
}

#[test]
fn liquid_templates_up_to_the_limit_load_and_render() {
    let src = format!(
        "{}{{{{ Type }}}}{}",
        "{% if Type %}".repeat(MAX_NESTING - 1),
        "{% endif %}".repeat(MAX_NESTING - 1)
    );
    let t = Template::parse("edge.json", &src).unwrap();
    let body = t.render(&hookshot_event::Event::sample(
        &hookshot_event::EventType::AuthFailure,
    ));
    assert_eq!(body.unwrap(), "AuthFailure");
}

fn auth_failure(key: &str, path: &str) -> hookshot_event::Event {
    serde_json::from_value(serde_json::json!({
        "Type": "AuthFailure",
        "Meta": {
            "Message": "Auth Failure",
            "OriginatingRequest": "",
            "Path": path,
            "Origin": "-2",
            "Key": key,
        },
        "TimeStamp": "2026-11-28 18:36:24.182420098 +0000 UTC",
    }))
    .unwrap()
}

fn render_error(t: &Template, event: &hookshot_event::Event) -> String {
    match t.render(event) {
        Err(e @ Error::Render { .. }) => e.to_string(),
        other => panic!("{}: expected a render error, got {other:?}", t.name()),
    }
}

#[test]
fn liquid_ranges_with_bounds_from_the_event_are_capped_before_they_are_built() {
    use hookshot_template::MAX_RANGE_ELEMENTS;
    for src in [
        "{% for i in (1..Meta.Key) %}{{ i }},{% endfor %}",
        "{%- for i in ( 1 .. Meta.Key ) limit: 2 -%}{{ i }},{% endfor %}",
        "{% tablerow i in (1..Meta.Key) %}{{ i }}{% endtablerow %}",
        "{% for x in (1..2) %}{% for i in (Meta.Origin..Meta.Key) %}{{ i }},{% endfor %}{% endfor %}",
    ] {
        let t = Template::parse("ranges.txt", src).unwrap();
        let err = render_error(&t, &auth_failure("100000000000", "/"));
        assert!(
            err.starts_with("rendering ranges.txt: ")
                && err.contains("..100000000000) has ")
                && err.contains(&format!(
                    "more than the {MAX_RANGE_ELEMENTS} a range may have"
                )),
            "{src}: {err}"
        );
        // Within the cap, the range renders as the liquid crate renders it.
        t.render(&auth_failure("3", "/")).unwrap();
        assert!(t.render(&auth_failure("9000", "/")).is_ok(), "{src}");
    }
    // The cap itself.
    let t = Template::parse("edge.txt", "{% for i in (1..Meta.Key) %}{% endfor %}").unwrap();
    let at_cap = MAX_RANGE_ELEMENTS.to_string();
    assert_eq!(t.render(&auth_failure(&at_cap, "/")).unwrap(), "");
    let beyond = (MAX_RANGE_ELEMENTS + 1).to_string();
    assert!(render_error(&t, &auth_failure(&beyond, "/")).contains("has 10001 elements"));
    // A bound the event sizes.
    let t = Template::parse(
        "size.txt",
        "{% for i in (1..Meta.Path.size) %}.{% endfor %}",
    )
    .unwrap();
    let long = "x".repeat(MAX_RANGE_ELEMENTS + 1);
    assert!(render_error(&t, &auth_failure("k", &long)).contains("has 10001 elements"));
    assert_eq!(t.render(&auth_failure("k", "/abc")).unwrap(), "....");
}

#[test]
fn a_capped_range_renders_what_the_same_literal_range_renders() {
    for (variable, literal) in [
        (
            "a\n  {%- for i in (1..Meta.Key) -%}\n {{ i }} {%- endfor %}\nb",
            "a\n  {%- for i in (1..3) -%}\n {{ i }} {%- endfor %}\nb",
        ),
        (
            "{% for i in (Meta.Origin..Meta.Key) reversed %}{{ forloop.index }}:{{ i }} {% endfor %}",
            "{% for i in (-2..3) reversed %}{{ forloop.index }}:{{ i }} {% endfor %}",
        ),
        (
            "{% raw %}{% for i in (1..Meta.Key) %}{% endraw %}{% tablerow i in (1..Meta.Key) cols: 2 %}{{ i }}{% endtablerow %}",
            "{% raw %}{% for i in (1..Meta.Key) %}{% endraw %}{% tablerow i in (1..3) cols: 2 %}{{ i }}{% endtablerow %}",
        ),
    ] {
        let event = auth_failure("3", "/");
        let got = Template::parse("v.txt", variable)
            .unwrap()
            .render(&event)
            .unwrap();
        let want = Template::parse("l.txt", literal)
            .unwrap()
            .render(&event)
            .unwrap();
        assert_eq!(got, want, "{variable}");
    }
}

#[test]
fn literal_ranges_beyond_the_cap_are_refused_at_load_with_their_line() {
    let err =
        Template::parse("big.txt", "ok\n  {% for i in (1..10001) %}{% endfor %}").unwrap_err();
    assert_eq!(
        err.to_string(),
        "big.txt:2:3: the range (1..10001) is not supported: a range has at most 10000 elements"
    );
    Template::parse("fits.txt", "{% for i in (1..10000) %}{% endfor %}").unwrap();
}

#[test]
fn a_body_larger_than_the_cap_fails_the_render_naming_the_template() {
    use hookshot_template::MAX_BODY_BYTES;
    let path = "p".repeat(100 * 1024);
    let event = auth_failure("k", &path);
    let message =
        format!("the body is larger than {MAX_BODY_BYTES} bytes, the most a template may render");
    let eleven = |each: &str| each.repeat(11);
    for (name, src) in [
        // Go syntax, compiled.
        ("go.json", eleven("{{.Meta.Path}}")),
        ("go.tmpl", eleven("{{.Meta.Path}}")),
        // Liquid, compiled.
        ("compiled.json", eleven("{{ Meta.Path }}")),
        // Liquid, rendered by the liquid crate.
        (
            "crate.txt",
            "{% for i in (1..11) %}{{ Meta.Path | upcase }}{% endfor %}".into(),
        ),
        (
            "crate.json",
            "{% for i in (1..11) %}{{ Meta.Path }}{% endfor %}".into(),
        ),
    ] {
        let t = Template::parse(name, &src).unwrap();
        assert_eq!(
            render_error(&t, &event),
            format!("rendering {name}: {message}"),
            "{name}"
        );
        // Ten copies fit.
        let ten = auth_failure("k", &"p".repeat(MAX_BODY_BYTES / 11));
        assert!(t.render(&ten).is_ok(), "{name}");
    }
}
