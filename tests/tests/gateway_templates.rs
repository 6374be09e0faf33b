//! Template escaping through the real `hookshot` binary: a hostile key reaches a receiver inside
//! its JSON string, whether the template is liquid with a JSON `Content-Type` in `header_map` or
//! Tyk's Go syntax in a `.tmpl` file.

mod common;

use std::time::Duration;

use common::{Gateway, TempDir, api};
use hookshot_testkit::receiver::Receiver;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

const HOSTILE_KEY: &str = r#"k","injected":true,"z":""#;

fn handler(url: &str, template: &str, content_type: Option<(&str, &str)>) -> Value {
    let mut headers = json!({});
    if let Some((name, value)) = content_type {
        headers[name] = json!(value);
    }
    json!({"handler_name": "eh_web_hook_handler", "handler_meta": {
        "method": "POST", "target_path": url, "template_path": template,
        "event_timeout": 0, "header_map": headers
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_key_stays_inside_its_json_string() {
    let hooks = Receiver::start().await;
    let dir = TempDir::new("templates");
    let liquid = r#"{"event": "{{ Type }}", "key": "{{ Meta.Key }}"}"#;
    std::fs::write(dir.path().join("alert.tmpl"), liquid).unwrap();
    std::fs::write(
        dir.path().join("tyk.tmpl"),
        r#"{"event": "{{.Type}}", "key": "{{.Meta.Key}}"}"#,
    )
    .unwrap();
    let events = json!({"AuthFailure": [
        handler(&hooks.url("/liquid-json"), "alert.tmpl", Some(("Content-Type", "application/json"))),
        handler(&hooks.url("/liquid-vnd"), "alert.tmpl", Some(("content-type", "application/vnd.api+json; charset=utf-8"))),
        handler(&hooks.url("/liquid-text"), "alert.tmpl", Some(("Content-Type", "text/plain"))),
        handler(&hooks.url("/go-tmpl"), "tyk.tmpl", None),
    ]});
    dir.write_api(
        "orders",
        &api("orders", "/orders/", "http://127.0.0.1:1/", events),
    );
    // Keys in clear, so that the whole hostile key reaches the template (obfuscated, only its
    // last four characters would).
    let gw = Gateway::start(&dir, json!({"hookshot": {"send_keys_in_clear": true}})).await;

    let a = gw.get("/orders/x", &[("Authorization", HOSTILE_KEY)]).await;
    assert_eq!(a.status, 403);
    let mut got = hooks.wait_for(4, WAIT).await;
    got.sort_by(|a, b| a.path.cmp(&b.path));
    let bodies: Vec<(&str, String)> = got
        .iter()
        .map(|r| (r.path.as_str(), r.body_text()))
        .collect();

    // Tyk's html/template escaping, byte for byte.
    assert_eq!(bodies[0].0, "/go-tmpl");
    assert_eq!(
        bodies[0].1,
        r#"{"event": "AuthFailure", "key": "k&#34;,&#34;injected&#34;:true,&#34;z&#34;:&#34;"}"#
    );
    // A liquid template declared JSON: the key comes back whole, and adds no field.
    for (path, body) in [&bodies[1], &bodies[3]] {
        let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
        assert_eq!(
            v,
            json!({"event": "AuthFailure", "key": HOSTILE_KEY}),
            "{path}"
        );
    }
    // A liquid template of another Content-Type keeps the liquid rule: its values as they are.
    assert_eq!(bodies[2].0, "/liquid-text");
    assert_eq!(
        bodies[2].1,
        format!(r#"{{"event": "AuthFailure", "key": "{HOSTILE_KEY}"}}"#)
    );
    assert_eq!(got[2].header("content-type"), Some("text/plain"));
    assert_eq!(got[1].header("content-type"), Some("application/json"));
}
