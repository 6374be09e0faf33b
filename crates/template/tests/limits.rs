//! What a template may cost: nesting is capped at load, with the line of the first level too deep,
//! before anything recurses (these tests run on the default 2 MiB test thread stack).

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
