//! `hookshot check` on a configuration with mistakes of every kind at once: each one is printed,
//! naming its file, API, event and field, and the exit status is 1.

mod common;

use common::{TempDir, api};
use serde_json::json;

#[test]
fn check_prints_every_kind_of_mistake_at_once() {
    let dir = TempDir::new("check-all");
    let hook = |method: &str, template: Option<&str>| {
        let mut meta = json!({"method": method, "target_path": "http://127.0.0.1:9/hook", "event_timeout": 10});
        if let Some(t) = template {
            meta["template_path"] = json!(t);
        }
        json!([{"handler_name": "eh_web_hook_handler", "handler_meta": meta}])
    };
    // a.json and b.json share an api_id; c.json takes a.json's listen path.
    dir.write_api(
        "a",
        &api(
            "orders",
            "/orders/",
            "http://127.0.0.1:9/",
            json!({"AuthFailure": hook("POST", None)}),
        ),
    );
    dir.write_api(
        "b",
        &api("orders", "/other/", "http://127.0.0.1:9/", json!({})),
    );
    dir.write_api(
        "c",
        &api("shadow", "/orders", "http://127.0.0.1:9/", json!({})),
    );
    // A handler whose method is not one a webhook can use.
    dir.write_api(
        "d",
        &api(
            "billing",
            "/billing/",
            "http://127.0.0.1:9/",
            json!({"KeyExpired": hook("FETCH", None)}),
        ),
    );
    // A handler whose template file is not there.
    dir.write_api(
        "e",
        &api(
            "reports",
            "/reports/",
            "http://127.0.0.1:9/",
            json!({"QuotaExceeded": hook("POST", Some("templates/missing.json"))}),
        ),
    );
    // Malformed JSON: a missing comma on line 3.
    std::fs::write(
        dir.path().join("apps/f.json"),
        "{\n  \"api_id\": \"broken\"\n  \"name\": \"Broken\"\n}\n",
    )
    .unwrap();
    // The gateway configuration has a port given as a string.
    let out = common::check(
        &dir,
        &json!({
            "listen_port": "8080",
            "secret": "s",
            "app_path": "apps"
        }),
    );
    let (stdout, stderr) = (out.stdout, out.stderr);
    let conf = dir.path().join("hookshot.conf");
    assert_eq!(out.code, Some(1), "{stdout}{stderr}");
    let apps = dir.path().join("apps");
    let file = |name: &str| apps.join(name).display().to_string();
    let want = [
        format!(
            "{}, field `listen_port`: found the string \"8080\"; expected a whole number from 0 to 65535",
            conf.display()
        ),
        format!(
            "{}, API \"orders\", field `api_id`: found \"orders\", already the id of the API in {}",
            file("b.json"),
            file("a.json")
        ),
        format!(
            "{}, API \"shadow\", field `proxy.listen_path`: found \"/orders\", already the listen path of API \"orders\" in {}",
            file("c.json"),
            file("a.json")
        ),
        format!(
            "{}, API \"billing\", event \"KeyExpired\", handler #0, field `handler_meta.method`: found \"FETCH\"",
            file("d.json")
        ),
        format!(
            "{}, API \"reports\", event \"QuotaExceeded\", handler #0, field `handler_meta.template_path`: found \"templates/missing.json\"",
            file("e.json")
        ),
        format!("{}:3:3: malformed JSON", file("f.json")),
    ];
    let missing: Vec<&String> = want.iter().filter(|w| !stderr.contains(*w)).collect();
    assert!(
        missing.is_empty(),
        "not printed: {missing:#?}\n--- stderr ---\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}: 6 error(s)", conf.display())),
        "{stderr}"
    );
}
