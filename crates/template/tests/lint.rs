//! The start-up lint: every problem of a template for the event types it is attached to.

use hookshot_event::EventType;
use hookshot_template::{LintError, SHIPPED, Template, lint};

#[test]
fn shipped_templates_pass_for_every_event_type() {
    let mut types = EventType::ALL.to_vec();
    types.push(EventType::Custom("Deploy".into()));
    for name in SHIPPED {
        assert_eq!(
            lint(&Template::shipped(name).unwrap(), &types),
            vec![],
            "{name}"
        );
    }
}

#[test]
fn invalid_json_is_reported_for_the_event_type_that_produces_it() {
    // A trailing comma in one branch, as in Tyk's own default template.
    let src = "{{if eq .Type \"UpstreamOAuthError\"}}{\n  \"api_id\": \"{{.Meta.APIID}}\",\n}{{else}}{\"event\": \"{{.Type}}\"}{{end}}";
    let t = Template::parse("hooks/oauth.json", src).unwrap();
    let errors = lint(&t, &[EventType::AuthFailure, EventType::UpstreamOAuthError]);
    assert_eq!(
        errors,
        vec![LintError {
            template: "hooks/oauth.json".into(),
            event_type: EventType::UpstreamOAuthError,
            problem: "renders invalid JSON: trailing comma at line 3 column 1 of the body, in `}`"
                .into(),
        }]
    );
    assert_eq!(
        errors[0].to_string(),
        "template hooks/oauth.json, event UpstreamOAuthError: renders invalid JSON: trailing comma at line 3 column 1 of the body, in `}`"
    );
}

#[test]
fn every_problem_is_reported() {
    let src = "{% case Type %}{% when \"HostDown\" %}{\"down\": true}{% when \"AuthFailure\" %}{\"key\": {{ Meta.Key }}}{% endcase %}";
    let t = Template::parse("t.json", src).unwrap();
    let errors = lint(
        &t,
        &[
            EventType::HostDown,
            EventType::AuthFailure,
            EventType::TokenCreated,
        ],
    );
    let problems: Vec<_> = errors
        .iter()
        .map(|e| (e.event_type.as_str(), e.problem.as_str()))
        .collect();
    assert_eq!(
        problems,
        [
            (
                "AuthFailure",
                "renders invalid JSON: expected `,` or `}` at line 1 column 10 of the body, in `{\"key\": 5d8a1f0c8e6b4e2f9a7c3b1d}`"
            ),
            (
                "TokenCreated",
                "renders an empty body, which is not JSON (add a branch for this event)"
            ),
        ]
    );
}

#[test]
fn rendering_errors_are_reported() {
    let t = Template::parse("t.txt", "{{if eq .Meta.CircuitEvent \"0\"}}x{{end}}").unwrap();
    let errors = lint(&t, &[EventType::BreakerTripped, EventType::AuthFailure]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].to_string(),
        "template t.txt, event BreakerTripped: rendering t.txt: line 1, column 6: eq: incompatible types for comparison (an integer and a string)"
    );
}

#[test]
fn other_templates_are_not_held_to_json() {
    let t = Template::parse("t.txt", "not JSON: {{ Type }}").unwrap();
    assert_eq!(lint(&t, &EventType::ALL), vec![]);
}
