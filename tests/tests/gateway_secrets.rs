//! No credential reaches a webhook receiver, on the real binary: token events carry neither the
//! admin secret nor a key, key events carry an obfuscated key and a redacted request head, every
//! event field stays within its cap, absurd session limits are refused instead of panicking, and
//! a short admin secret on a public listener stops the start.

mod common;

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use common::{Gateway, SECRET, TempDir, api, redis_command, redis_storage};
use hookshot_testkit::receiver::{Receiver, Recorded};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

/// The shipped templates every event is rendered with, besides the test's own dump templates.
const SHIPPED: [Option<&str>; 5] = [
    None,
    Some("slack.json"),
    Some("teams.json"),
    Some("discord.json"),
    Some("pagerduty.json"),
];

/// Prints every field of a key event, the request head included.
const KEY_DUMP: &str = r#"{"type": "{{ Type }}", "key": "{{ Meta.Key }}", "path": "{{ Meta.Path }}", "origin": "{{ Meta.Origin }}", "head": "{{ Meta.OriginatingRequest }}"}"#;
/// Prints every field of a token event, the request head included.
const TOKEN_DUMP: &str = r#"{"type": "{{ Type }}", "org": "{{ Meta.Org }}", "key": "{{ Meta.Key }}", "head": "{{ Meta.OriginatingRequest }}"}"#;

/// One handler per shipped template and one with `dump`, each posting to `<base>/<template>`.
fn handlers(hooks: &Receiver, base: &str, dump: &str) -> Value {
    let mut list: Vec<Value> = SHIPPED
        .iter()
        .map(|template| {
            let mut meta = json!({"method": "POST", "event_timeout": 0,
                "target_path": hooks.url(&format!("{base}/{}", template.unwrap_or("default")))});
            if let Some(t) = template {
                meta["template_path"] = json!(t);
            }
            json!({"handler_name": "eh_web_hook_handler", "handler_meta": meta})
        })
        .collect();
    list.push(
        json!({"handler_name": "eh_web_hook_handler", "handler_meta": {
        "method": "POST", "event_timeout": 0, "template_path": dump,
        "target_path": hooks.url(&format!("{base}/dump"))}}),
    );
    Value::Array(list)
}

/// Every string of a JSON document (keys and values).
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                strings(v, out);
            }
        }
        _ => {}
    }
}

/// Asserts that no `secret` is in the body, as sent, in any JSON string of it, or in the
/// base64-decoding of any such string or of any run of base64 characters in it.
fn assert_carries_none(r: &Recorded, secrets: &[&str]) {
    let body = r.body_text();
    let mut texts = vec![body.clone()];
    if let Ok(doc) = serde_json::from_str::<Value>(&body) {
        strings(&doc, &mut texts);
    }
    let runs: Vec<String> = texts
        .iter()
        .flat_map(|t| {
            t.split(|c: char| !(c.is_ascii_alphanumeric() || "+/=".contains(c)))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let decoded: Vec<String> = texts
        .iter()
        .chain(&runs)
        .filter_map(|t| base64::engine::general_purpose::STANDARD.decode(t).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    for text in texts.iter().chain(&decoded) {
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "{} carries {secret:?}: {text}",
                r.path
            );
        }
    }
}

fn decode(head: &Value) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(head.as_str().unwrap())
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_events_carry_neither_the_secret_nor_a_key() {
    let hooks = Receiver::start().await;
    let dir = TempDir::new("redact-token");
    std::fs::write(dir.path().join("token_dump.json"), TOKEN_DUMP).unwrap();
    let conf = json!({"event_handlers": {"events": {
        "TokenCreated": handlers(&hooks, "/created", "token_dump.json"),
        "TokenUpdated": handlers(&hooks, "/updated", "token_dump.json"),
        "TokenDeleted": handlers(&hooks, "/deleted", "token_dump.json"),
    }}});
    let gw = Gateway::start(&dir, conf).await;
    let generated = gw.create_key(json!({"org_id": "acme"})).await;
    let chosen = "chosen-key-0123456789";
    let path = format!("/tyk/keys/{chosen}");
    for (method, body) in [
        ("POST", json!({"org_id": "acme"})),
        ("PUT", json!({"org_id": "acme", "rate": 5, "per": 1})),
        ("DELETE", Value::Null),
    ] {
        let a = gw.admin(method, &path, &body).await;
        assert_eq!(a.status, 200, "{method}: {}", a.body);
    }
    let got = hooks.wait_for(4 * 6, WAIT).await;
    assert_eq!(got.len(), 24);
    for r in &got {
        assert_carries_none(r, &[SECRET, &generated, chosen]);
        if r.path.ends_with("/dump") {
            let doc = common::body_json(r);
            assert_eq!(doc["head"], "", "{}", r.body_text());
            assert_eq!(doc["org"], "acme");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_events_carry_an_obfuscated_key_and_no_credential() {
    let upstream = Receiver::start().await;
    let hooks = Receiver::start().await;
    let dir = TempDir::new("redact-keys");
    std::fs::write(dir.path().join("key_dump.json"), KEY_DUMP).unwrap();
    let mut def = api(
        "secure",
        "/secure/",
        &upstream.url("/"),
        json!({
            "AuthFailure": handlers(&hooks, "/auth", "key_dump.json"),
            "KeyExpired": handlers(&hooks, "/expired", "key_dump.json"),
            "RatelimitExceeded": handlers(&hooks, "/rate", "key_dump.json"),
            "QuotaExceeded": handlers(&hooks, "/quota", "key_dump.json"),
        }),
    );
    def["auth"]["auth_header_name"] = json!("X-Api-Key");
    dir.write_api("secure", &def);
    let gw = Gateway::start(&dir, json!({})).await;
    let unknown = "unknown-key-9f8e7d6c5b4a";
    let expired = "expired-key-0a1b2c3d4e5f";
    let rated = "rated-key-1122334455aa";
    let quota = "quota-key-66778899bbcc";
    for (key, session) in [
        (expired, json!({"org_id": "acme", "expires": 1})),
        (rated, json!({"org_id": "acme", "rate": 1, "per": 3600})),
        (
            quota,
            json!({"org_id": "acme", "quota_max": 1, "quota_renewal_rate": 3600}),
        ),
    ] {
        let a = gw
            .admin("POST", &format!("/tyk/keys/{key}"), &session)
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let call = |key: &'static str| {
        let gw = &gw;
        async move {
            gw.get(
                &format!("/secure/orders?api_key={key}&page=2"),
                &[
                    ("X-Api-Key", key),
                    ("Authorization", "Bearer other-credential-1234"),
                    ("Proxy-Authorization", "Basic cHJveHktY3JlZGVudGlhbA=="),
                    ("Cookie", "sid=cookie-credential-5678"),
                    ("x-tyk-authorization", SECRET),
                ],
            )
            .await
            .status
        }
    };
    assert_eq!(call(unknown).await, 403);
    assert_eq!(call(expired).await, 401);
    assert_eq!(call(rated).await, 200);
    assert_eq!(call(rated).await, 429);
    assert_eq!(call(quota).await, 200);
    assert_eq!(call(quota).await, 403);
    let got = hooks.wait_for(4 * 6, WAIT).await;
    assert_eq!(got.len(), 24);
    let credentials = [
        SECRET,
        unknown,
        expired,
        rated,
        quota,
        "other-credential-1234",
        "cHJveHktY3JlZGVudGlhbA==",
        "proxy-credential",
        "cookie-credential-5678",
    ];
    for r in &got {
        assert_carries_none(r, &credentials);
        let body = r.body_text();
        let (event, key) = match r.path.split('/').nth(1) {
            Some("auth") => ("AuthFailure", unknown),
            Some("expired") => ("KeyExpired", expired),
            Some("rate") => ("RatelimitExceeded", rated),
            Some("quota") => ("QuotaExceeded", quota),
            other => panic!("unexpected webhook path {other:?}"),
        };
        // Tyk's obfuscation: `****` and the last four characters.
        let obfuscated = format!("****{}", &key[key.len() - 4..]);
        assert!(body.contains(&obfuscated), "{}: {body}", r.path);
        if r.path.ends_with("/dump") {
            let doc = common::body_json(r);
            assert_eq!(doc["type"], event);
            assert_eq!(doc["key"], obfuscated.as_str());
            assert_eq!(doc["path"], "/secure/orders");
            let head = decode(&doc["head"]);
            assert!(
                head.starts_with("GET /secure/orders?api_key=[redacted]&page=2 HTTP/1.1\r\n"),
                "{head}"
            );
            for header in [
                "x-api-key: [redacted]",
                "authorization: [redacted]",
                "proxy-authorization: [redacted]",
                "cookie: [redacted]",
                "x-tyk-authorization: [redacted]",
            ] {
                assert!(head.contains(header), "{header} not in {head}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_in_clear_only_when_asked() {
    let hooks = Receiver::start().await;
    let dir = TempDir::new("redact-clear");
    dir.write_api(
        "secure",
        &api(
            "secure",
            "/secure/",
            "http://127.0.0.1:9/",
            json!({"AuthFailure": common::hook("POST", &hooks.url("/auth"), 0)}),
        ),
    );
    let gw = Gateway::start(&dir, json!({"hookshot": {"send_keys_in_clear": true}})).await;
    let a = gw
        .get("/secure/x", &[("Authorization", "clear-key-0123456789")])
        .await;
    assert_eq!(a.status, 403);
    let got = hooks.wait_for(1, WAIT).await;
    assert_eq!(common::body_json(&got[0])["key"], "clear-key-0123456789");
}

/// The caps an event's fields are held to: key 256 bytes, path 2 KiB, origin 256 bytes, request
/// head 8 KiB before base64 (10,924 bytes after).
const EVENT_FIELDS_CAP: usize = 256 + 2048 + 256 + 10_924;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_300_kb_auth_header_yields_an_event_under_the_cap() {
    let hooks = Receiver::start().await;
    let dir = TempDir::new("redact-caps");
    std::fs::write(dir.path().join("key_dump.json"), KEY_DUMP).unwrap();
    dir.write_api(
        "secure",
        &api(
            "secure",
            "/secure/",
            "http://127.0.0.1:9/",
            json!({"AuthFailure": [
                {"handler_name": "eh_web_hook_handler", "handler_meta": {"method": "POST",
                    "event_timeout": 0, "template_path": "key_dump.json",
                    "target_path": hooks.url("/dump")}},
                {"handler_name": "eh_web_hook_handler", "handler_meta": {"method": "POST",
                    "event_timeout": 0, "target_path": hooks.url("/default")}},
            ]}),
        ),
    );
    // Keys in clear: the worst case for the key's size; and the largest request head the
    // listener may be set to take (64 KiB by default would answer this one 431 before any event).
    let gw = Gateway::start(
        &dir,
        json!({"hookshot": {"send_keys_in_clear": true, "max_header_bytes": 1_048_576}}),
    )
    .await;
    let key = "k".repeat(300 * 1024);
    let path = format!("/secure/{}", "p".repeat(20 * 1024));
    let origin = "o".repeat(1024);
    let big = "b".repeat(30 * 1024);
    let a = gw
        .get(
            &path,
            &[
                ("Authorization", &key),
                ("X-Real-IP", &origin),
                ("X-Big", &big),
            ],
        )
        .await;
    assert_eq!(a.status, 403);
    let got = hooks.wait_for(2, WAIT).await;
    for r in &got {
        assert!(
            r.body.len() < EVENT_FIELDS_CAP + 200,
            "{}: {} bytes",
            r.path,
            r.body.len()
        );
    }
    let dump = got.iter().find(|r| r.path == "/dump").unwrap();
    let doc = common::body_json(dump);
    let truncated = "...[truncated]";
    for (field, cap) in [("key", 256), ("path", 2048), ("origin", 256)] {
        let value = doc[field].as_str().unwrap();
        assert_eq!(value.len(), cap, "{field}");
        assert!(value.ends_with(truncated), "{field}: {value}");
    }
    let head = decode(&doc["head"]);
    assert_eq!(head.len(), 8192);
    assert!(head.ends_with(truncated));
    assert!(!head.contains("kkkk"), "the key is redacted from the head");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_session_limits_get_400() {
    let dir = TempDir::new("redact-limits");
    let gw = Gateway::start(&dir, json!({})).await;
    for body in [
        json!({"rate": 1, "per": 1e20}),
        json!({"rate": 1, "per": -7}),
        json!({"rate": 1e300, "per": 1}),
        json!({"quota_max": 5, "quota_renewal_rate": 9_223_372_036_854_775_807_i64}),
    ] {
        let a = gw.admin("POST", "/tyk/keys/create", &body).await;
        assert_eq!(a.status, 400, "{body}: {}", a.body);
        let message = a.json()["message"].as_str().unwrap().to_owned();
        assert!(message.contains("field `"), "{message}");
        assert!(message.contains("expected"), "{message}");
    }
    let a = gw
        .admin("POST", "/tyk/keys/create", &json!({"rate": 1, "per": 1e20}))
        .await;
    assert!(
        a.body
            .contains("field `per`: found the number 1e20; expected a window in seconds"),
        "{}",
        a.body
    );
    // A key made with sound limits cannot be changed to absurd ones either.
    let key = gw.create_key(json!({"rate": 1, "per": 1})).await;
    let a = gw
        .admin(
            "PUT",
            &format!("/tyk/keys/{key}"),
            &json!({"rate": 1, "per": 1e20}),
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_session_with_absurd_limits_is_a_configuration_error_not_a_panic() {
    let upstream = Receiver::start().await;
    let dir = TempDir::new("redact-stored");
    dir.write_api(
        "orders",
        &api("orders", "/orders/", &upstream.url("/"), json!({})),
    );
    let prefix = format!("secrets-{}:", std::process::id());
    let gw = Gateway::start(&dir, json!({"storage": redis_storage(&prefix)})).await;
    let a = gw
        .admin("POST", "/tyk/keys/create", &json!({"rate": 5, "per": 1}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let (key, hash) = (
        a.json()["key"].as_str().unwrap().to_owned(),
        a.json()["key_hash"].as_str().unwrap().to_owned(),
    );
    assert_eq!(
        gw.get("/orders/x", &[("Authorization", &key)]).await.status,
        200
    );
    // As another gateway (or a hand) would write it, past the keys API's checks.
    let stored = json!({"org_id": "acme", "rate": 1.0, "per": 1e20, "quota_max": -1}).to_string();
    let url = hookshot_testkit::redis_url();
    let set = redis_command(
        &url,
        0,
        &["SET", &format!("{prefix}apikey-{hash}"), &stored],
    )
    .await;
    assert_eq!(set.text().as_deref(), Some("OK"));
    for _ in 0..3 {
        let a = gw.get("/orders/x", &[("Authorization", &key)]).await;
        assert_eq!(a.status, 500, "{}", a.body);
        assert!(a.body.contains("field `per`"), "{}", a.body);
        assert!(!a.body.contains(&key), "{}", a.body);
    }
    assert_eq!(gw.get("/hello", &[]).await.status, 200);
    redis_command(&url, 0, &["DEL", &format!("{prefix}apikey-{hash}")]).await;
}

fn short_secret_conf(dir: &TempDir, listen_address: &str, secret: &str) -> std::path::PathBuf {
    let path = dir.path().join(format!("short-{listen_address}.conf"));
    let conf = json!({"listen_address": listen_address, "listen_port": 0, "secret": secret,
        "app_path": "apps"});
    std::fs::write(&path, conf.to_string()).unwrap();
    path
}

/// Runs `hookshot <args> --conf <conf>` until it exits (at most 30 s: a gateway that starts is
/// killed and reported as a success); whether it succeeded, and its standard error.
fn hookshot(args: &[&str], conf: &std::path::Path, secret_env: Option<&str>) -> (bool, String) {
    let mut cmd = Command::new(hookshot_testkit::hookshot_bin());
    cmd.args(args)
        .arg("--conf")
        .arg(conf)
        .env_remove("HOOKSHOT_SECRET")
        .env_remove("TYK_GW_SECRET")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(s) = secret_env {
        cmd.env("HOOKSHOT_SECRET", s);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let success = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.success();
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            break true;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (success, stderr)
}

#[test]
fn a_short_secret_on_a_public_listener_is_refused_by_check_and_at_start() {
    let dir = TempDir::new("redact-short");
    let want = "field `secret`: found a secret of 10 characters";
    let public = short_secret_conf(&dir, "0.0.0.0", SECRET);
    let (ok, stderr) = hookshot(&["check"], &public, None);
    assert!(!ok && stderr.contains(want), "{stderr}");
    assert!(!stderr.contains(SECRET), "{stderr}");
    let (ok, stderr) = hookshot(&[], &public, None);
    assert!(!ok && stderr.contains(want), "{stderr}");
    // The environment's secret is the one checked.
    let long = short_secret_conf(&dir, "", "a-secret-long-enough-for-anyone");
    assert!(hookshot(&["check"], &long, None).0);
    let (ok, stderr) = hookshot(&["check"], &long, Some("tiny"));
    assert!(
        !ok && stderr.contains("found a secret of 4 characters"),
        "{stderr}"
    );
    // A loopback-only listener may keep a short secret (as every other test gateway does).
    let loopback = short_secret_conf(&dir, "127.0.0.1", SECRET);
    let (ok, stderr) = hookshot(&["check"], &loopback, None);
    assert!(ok, "{stderr}");
}
