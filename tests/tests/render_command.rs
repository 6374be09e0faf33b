//! `hookshot render` on the real binary: bodies exactly as they would be sent, and errors that
//! name the file, line and column.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/render")
        .join(name)
}

fn render(args: &[&str]) -> Output {
    Command::new(hookshot_testkit::hookshot_bin())
        .arg("render")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn failure(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[test]
fn a_shipped_template_for_a_sample_event() {
    let out = render(&[
        "--template",
        "default_webhook.json",
        "--event-type",
        "AuthFailure",
    ]);
    assert_eq!(
        stdout(&out),
        "{\n    \"event\": \"AuthFailure\",\n    \"message\": \"Auth Failure\",\n    \"path\": \"/orders/api/users\",\n    \"origin\": \"203.0.113.7\",\n    \"key\": \"5d8a1f0c8e6b4e2f9a7c3b1d\"\n}"
    );
}

#[test]
fn every_shipped_template_gives_json_for_every_sample() {
    for template in [
        "default_webhook.json",
        "templates/default_webhook.json",
        "breaker_webhook.json",
        "slack.json",
        "teams.json",
        "discord.json",
        "pagerduty.json",
    ] {
        for event in [
            "AuthFailure",
            "HostDown",
            "TokenDeleted",
            "CertificateExpired",
            "Deploy",
        ] {
            let body = stdout(&render(&["--template", template, "--event-type", event]));
            let v: serde_json::Value = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{template} / {event}: {e}\n{body}"));
            assert!(body.contains(event), "{template} / {event}: {v}");
        }
    }
}

#[test]
fn a_go_syntax_template_file_and_an_event_file() {
    let out = render(&[
        "--template",
        fixture("tyk_style.json").to_str().unwrap(),
        "--event",
        fixture("quotes_event.json").to_str().unwrap(),
    ]);
    let body = stdout(&out);
    assert_eq!(
        body,
        r#"{"event": "AuthFailure", "path": "/say/\"hi\"\n<b>\\é", "at": "2014-11-27T12:52:05Z"}"#
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["path"], "/say/\"hi\"\n<b>\\é");

    let out = render(&[
        "--template",
        fixture("tyk_style.json").to_str().unwrap(),
        "--event-type",
        "HostDown",
    ]);
    assert_eq!(stdout(&out), r#"{"down": "orders.internal", "code": 503}"#);
}

#[test]
fn a_markup_template_escapes_entities() {
    let out = render(&[
        "--template",
        fixture("body.xml").to_str().unwrap(),
        "--event",
        fixture("quotes_event.json").to_str().unwrap(),
    ]);
    assert_eq!(
        stdout(&out),
        "<event type-name=\"AuthFailure\">\n  <path>/say/&#34;hi&#34;\n&lt;b&gt;\\é</path>\n  <key>K&#39;1&amp;2&#43;3</key>\n</event>\n"
    );
}

#[test]
fn a_template_outside_the_go_subset_is_refused_with_its_position() {
    let path = fixture("broken_go.json");
    let stderr = failure(&render(&[
        "--template",
        path.to_str().unwrap(),
        "--event-type",
        "AuthFailure",
    ]));
    assert!(
        stderr.starts_with(&format!(
            "hookshot render: {}:3:15: {{{{range}}}} is not supported: ",
            path.display()
        )),
        "{stderr}"
    );
}

#[test]
fn a_broken_liquid_template_is_refused_with_its_position() {
    let path = fixture("broken_liquid.json");
    let stderr = failure(&render(&[
        "--template",
        path.to_str().unwrap(),
        "--event-type",
        "AuthFailure",
    ]));
    assert!(
        stderr.starts_with(&format!("hookshot render: {}:", path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("{% endif %} tag expected"), "{stderr}");
}

#[test]
fn a_malformed_event_file_is_reported_at_its_line_and_column() {
    let path = fixture("bad_event.json");
    let stderr = failure(&render(&[
        "--template",
        "default_webhook.json",
        "--event",
        path.to_str().unwrap(),
    ]));
    assert_eq!(
        stderr.trim_end(),
        format!(
            "hookshot render: {}:3:25: not an event: trailing comma",
            path.display()
        )
    );
    let path = fixture("wrong_event.json");
    let stderr = failure(&render(&[
        "--template",
        "default_webhook.json",
        "--event",
        path.to_str().unwrap(),
    ]));
    // A field of the wrong type is found after parsing, where serde no longer knows its position.
    assert_eq!(
        stderr.trim_end(),
        format!(
            "hookshot render: {}: not an event: in Meta of TriggerExceeded: invalid type: string \"eighty\", expected i64",
            path.display()
        )
    );
}

#[test]
fn unreadable_files_are_named() {
    let stderr = failure(&render(&[
        "--template",
        "no/such/template.json",
        "--event-type",
        "AuthFailure",
    ]));
    assert!(
        stderr.starts_with("hookshot render: no/such/template.json: cannot read the template: "),
        "{stderr}"
    );
    let stderr = failure(&render(&[
        "--template",
        "slack.json",
        "--event",
        "no/such/event.json",
    ]));
    assert!(
        stderr.starts_with("hookshot render: no/such/event.json: cannot read the event: "),
        "{stderr}"
    );
}

#[test]
fn the_event_is_given_one_way() {
    let out = render(&["--template", "slack.json"]);
    assert_eq!(out.status.code(), Some(2));
    let out = render(&[
        "--template",
        "slack.json",
        "--event",
        "x.json",
        "--event-type",
        "AuthFailure",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
