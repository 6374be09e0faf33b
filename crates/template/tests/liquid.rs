//! Liquid templates: the data, Hookshot's filters, escaping by kind, liquid's own features, and the
//! compiled program agreeing with the liquid crate on every event.

use std::path::Path;

use hookshot_event::Event;
use hookshot_template::{Engine, Error, Escaping, Syntax, Template};

fn events() -> Vec<(String, Event)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/events");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let event = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (name, event)
        })
        .collect()
}

fn event(name: &str) -> Event {
    events()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, e)| e)
        .unwrap()
}

fn render(name: &str, src: &str, event_name: &str) -> String {
    Template::parse(name, src)
        .unwrap()
        .render(&event(event_name))
        .unwrap()
}

/// Templates within the compiled subset, exercising liquid's semantics where they are subtle.
const COMPILED: &[&str] = &[
    "{{ Type }}|{{ EventType }}|{{ Meta.Message }}|{{ EventMetaData.Message }}|{{ TimeStamp }}|{{ API.ID }}|{{ API.Name }}|{{ API.OrgID }}",
    "{{ Meta.HostInfo.ResponseCode }} {{ Meta.HostInfo.Latency }} {{ Meta.HostInfo.IsTCPError }} {{ Meta.CircuitEvent }} {{ Meta.Ratio }}",
    "{{ Meta[\"Path\"] }}|{{ Meta.HostInfo.MetaData[\"host_name\"] }}|{{ Meta.HostInfo.MetaData.api_id }}",
    "{% if Type == \"HostDown\" %}a{% elsif Type == \"HostUp\" %}b{% else %}c{% endif %}",
    "{% if Meta.Path %}path{% endif %}{% if Meta.Nope %}nope{% endif %}{% if Meta.Origin %}origin{% endif %}",
    "{% if Meta.Path == nil %}nil{% endif %}{% if Meta.Nope == nil %}NIL{% endif %}{% if Meta.Nope == false %}F{% endif %}",
    "{% if Meta.HostInfo.IsTCPError == false %}http{% endif %}{% if Meta.Path == true %}T{% endif %}",
    "{% if Meta.CircuitEvent == 1 %}one{% endif %}{% if Meta.CircuitEvent != 0 %}nz{% endif %}{% if Meta.CircuitEvent <> 1 %}ne{% endif %}",
    "{% if Meta.HostInfo.Latency > 10 %}slow{% endif %}{% if Meta.HostInfo.Latency == 12.5 %}exact{% endif %}{% if Meta.TriggerLimit <= 80 %}le{% endif %}",
    "{% if Meta.HostInfo.ResponseCode >= 500 and Meta.HostInfo.ResponseCode < 600 %}5xx{% endif %}",
    "{% if Type == \"X\" or Type == \"AuthFailure\" and Meta.Key != \"\" %}x{% endif %}{% if Type == \"AuthFailure\" or Type == \"X\" and false %}y{% endif %}",
    "{% if Meta.Path contains \"orders\" %}o{% endif %}{% if Type contains \"Token\" %}t{% endif %}",
    "{% unless Type == \"AuthFailure\" %}u{% else %}e{% endunless %}",
    "{% case Type %}ignored{% when \"HostDown\", \"HostUp\" %}host{% when \"AuthFailure\" or \"KeyExpired\" %}key{% else %}other{% endcase %}",
    "{% case Meta.CircuitEvent %}{% when 0 %}tripped{% when 1 %}reset{% endcase %}",
    "{{ Meta.DaysRemaining | json }},{{ Meta.Message | json }},{{ Meta.HostInfo.IsTCPError | json }},{{ Meta.Nope | json }},{{ Type | json }}",
    "{{ TimeStamp | as_rfc3339 }}|{{ TimeStamp | as_rfc3339_from_string }}|{{ Meta.ExpiresAt | as_rfc3339 }}|{{ Meta.ExpiredAt | as_rfc3339 }}|{{ Meta.Path | as_rfc3339_from_string }}",
    "{{ Meta.Reason | default: \"none\" }}|{{ Meta.Path | default: \"none\" }}|{{ Meta.HostInfo.IsTCPError | default: \"dflt\" }}|{{ Meta.Nope | default: 7 }}",
    "a  \n {{- Type -}} \n\t b|x\t {%- if true -%} \ty{%- endif -%}\n\nz",
    "{{ \"lit\" }} {{ 'single' }} {{ 3 }} {{ -2 }} {{ 2.5 }} {{ true }} {{ nil }}",
    "a{% comment %}x{{ Type }}{% endcomment %}b{%- comment -%} {% comment %}nested{% endcomment %} {%- endcomment -%} c",
    "{{ Meta | json }}",
    "{% if Meta == nil %}n{% endif %}{{ Meta.Tags | json }}{{ Meta.Tags }}{{ Meta.Nothing }}",
    "{{ Meta.Service.Name }}/{{ Meta.Service.Version }}/{{ Meta.Service.Canary | json }}",
];

#[test]
fn compiled_programs_agree_with_the_liquid_crate() {
    let events = events();
    for src in COMPILED {
        for name in ["t.json", "t.xml", "t.txt"] {
            let t = Template::parse(name, src).unwrap_or_else(|e| panic!("{src}: {e}"));
            assert_eq!(t.syntax(), Syntax::Liquid, "{src}");
            assert_eq!(t.engine(), Engine::Compiled, "{src}");
            for (event_name, event) in &events {
                let compiled = t.render(event);
                let liquid = t.render_with_liquid(event).unwrap();
                match (compiled, liquid) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "{name} {src:?} / {event_name}"),
                    // `contains` on a missing value is an error in liquid; the same one.
                    (Err(a), Err(b)) => {
                        assert_eq!(
                            a.to_string(),
                            b.to_string(),
                            "{name} {src:?} / {event_name}"
                        )
                    }
                    (a, b) => panic!("{name} {src:?} / {event_name}: {a:?} vs {b:?}"),
                }
            }
        }
    }
}

#[test]
fn the_data_is_the_events_serde_form() {
    assert_eq!(
        render(
            "t.txt",
            "{{ Type }} {{ Meta.Path }} {{ API.Name }} {{ EventMetaData.Key }}",
            "AuthFailure"
        ),
        "AuthFailure /orders/api/users Orders API 5d8a1f0c8e6b4e2f9a7c3b1d"
    );
    assert_eq!(
        render(
            "t.txt",
            "{{ Meta.HostInfo.MetaData.host_name }}",
            "HostDown"
        ),
        "orders.internal"
    );
    // A field the event does not have is empty, however deep, on both engines.
    let src = "[{{ Meta.HostInfo.MetaData.host_name }}][{{ API.Name }}][{{ Nope.Deeper }}]";
    assert_eq!(render("t.txt", src, "TokenCreated"), "[][][]");
    let with_liquid = format!("{src}{{{{ Type | upcase }}}}");
    let t = Template::parse("t.txt", &with_liquid).unwrap();
    assert_eq!(t.engine(), Engine::Liquid);
    assert_eq!(
        t.render(&event("TokenCreated")).unwrap(),
        "[][][]TOKENCREATED"
    );
}

#[test]
fn hookshot_filters() {
    let src = "{{ TimeStamp | as_rfc3339_from_string }}|{{ Meta.ExpiresAt | as_rfc3339 }}|{{ Meta.CertName | as_rfc3339_from_string }}";
    assert_eq!(
        render("t.txt", src, "CertificateExpiringSoon"),
        "2026-11-28T18:36:24Z|2026-12-01T00:00:00Z|orders.example.com"
    );
    assert_eq!(
        render("t.txt", "{{ TimeStamp | as_rfc3339 }}", "Deploy_nested"),
        "2026-11-28T18:36:24+01:00"
    );
    assert_eq!(
        render(
            "t.json",
            "[{{ Meta.Message | json }}, {{ Meta.DaysRemaining | json }}, {{ Meta.Nope | json }}]",
            "CertificateExpiringSoon"
        ),
        "[\"Certificate is expiring soon\", 3, null]"
    );
    assert_eq!(
        render("t.json", "{{ Meta.Service | json }}", "Deploy_nested"),
        "{\"Canary\":false,\"Name\":\"orders\",\"Version\":3}"
    );
}

#[test]
fn standard_filters_and_tags_go_through_the_liquid_crate() {
    let src = "{% assign t = Type | downcase %}{{ t }} {{ Meta.Path | upcase | append: \"!\" }} {{ Meta.Path | size }} {% for tag in Meta.Tags %}<{{ tag }}>{% endfor %}";
    let t = Template::parse("t.txt", src).unwrap();
    assert_eq!(t.engine(), Engine::Liquid);
    assert_eq!(
        t.render(&event("AuthFailure")).unwrap(),
        "authfailure /ORDERS/API/USERS! 17 "
    );
    assert_eq!(
        t.render(&event("Deploy_nested")).unwrap(),
        "deploy ! 0 <blue><green>"
    );
}

#[test]
fn json_templates_escape_every_value_as_json_string_content() {
    let src = "{\"path\": \"{{ Meta.Path }}\", \"key\": \"{{ Meta.Key }}\", \"api\": \"{{ API.Name }}\", \"raw\": {{ Meta.Path | json }}}";
    for engine_src in [src.to_owned(), format!("{src}{{{{ '' | upcase }}}}")] {
        let t = Template::parse("body.json", &engine_src).unwrap();
        assert_eq!(t.escaping(), Escaping::Json);
        let body = t.render(&event("AuthFailure_special")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["path"], "/a\"b<c>&d'e+f/é日", "{body}");
        assert_eq!(
            v["raw"], v["path"],
            "json output is not escaped twice: {body}"
        );
        assert_eq!(v["key"], "k<script>alert('x')</script>");
    }
    let body = render("t.json", "\"{{ API.Name }}\"", "Deploy_nested");
    assert_eq!(body, r#""Orders <API> & \"co\"""#);
}

#[test]
fn markup_templates_use_entities_and_other_templates_nothing() {
    assert_eq!(
        render(
            "t.html",
            "<p>{{ API.Name }}</p>{{ API.Name | json }}",
            "Deploy_nested"
        ),
        "<p>Orders &lt;API&gt; &amp; &#34;co&#34;</p>&#34;Orders &lt;API&gt; &amp; \\&#34;co\\&#34;&#34;"
    );
    assert_eq!(
        render("t.tmpl", "{{ API.Name }}", "Deploy_nested"),
        "Orders <API> & \"co\""
    );
}

#[test]
fn raw_blocks_are_text() {
    let t = Template::parse("t.json", "{% raw %}{{ Type }}{% endraw %}:{{ Type }}").unwrap();
    assert_eq!(
        t.render(&event("AuthFailure")).unwrap(),
        "{{ Type }}:AuthFailure"
    );
}

#[test]
fn capture_is_refused_where_it_would_escape_twice() {
    let src = "{% capture m %}{{ Meta.Message }}{% endcapture %}{{ m }}";
    let err = Template::parse("t.json", src).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unsupported {
                line: 1,
                column: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "t.json:1:1: {% capture %} is not supported: in a JSON or markup template every output is escaped, so captured text would be escaped twice; use {% assign %} instead"
    );
    assert_eq!(render("t.txt", src, "AuthFailure"), "Auth Failure");
}

#[test]
fn liquid_syntax_errors_have_a_position() {
    let err = Template::parse("t.json", "{\n  \"a\": \"{{ Type | nope }}\"\n}")
        .unwrap_err()
        .to_string();
    assert_eq!(err, "t.json:2:19: Unknown filter: requested filter `nope`");
    let err = Template::parse("t.json", "a\n  {% if Type %}x")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("t.json:"), "{err}");
    assert!(
        err.contains("Unclosed block. {% endif %} tag expected"),
        "{err}"
    );
    // liquid-core panics on this one; Hookshot reports it.
    let err = Template::parse("t.json", "x {% comment %}{% if Type == \"a\" %}")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "t.json:1:3: {% comment %} is never closed with {% endcomment %}"
    );
    let err = Template::parse("t.json", "x\n  {{ Type | }}")
        .unwrap_err()
        .to_string();
    assert_eq!(err, "t.json:2:13: expected Identifier");
}
