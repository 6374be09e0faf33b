//! The request path of the real `hookshot` binary: each refusal with Tyk's status and body and the
//! webhook its event sends, and what passes proxied to a real upstream.

mod common;

use std::time::Duration;

use common::{Gateway, TempDir, api, hook};
use hookshot_testkit::receiver::{Receiver, Reply};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Setup {
    gw: Gateway,
    upstream: Receiver,
    hooks: Receiver,
    _dir: TempDir,
}

async fn setup() -> Setup {
    let upstream = Receiver::start().await;
    let hooks = Receiver::start().await;
    let dir = TempDir::new("requests");
    let events = json!({
        "AuthFailure": hook("POST", &hooks.url("/hook/auth"), 0),
        "KeyExpired": hook("POST", &hooks.url("/hook/expired"), 0),
        "RatelimitExceeded": hook("POST", &hooks.url("/hook/rate"), 0),
        "QuotaExceeded": hook("GET", &hooks.url("/hook/quota"), 0),
    });
    dir.write_api(
        "orders",
        &api("orders", "/orders/", &upstream.url("/base/"), events),
    );
    let mut open = api("open", "/open/", &upstream.url("/"), json!({}));
    open["use_keyless"] = json!(true);
    dir.write_api("open", &open);
    dir.write_api(
        "down",
        &api("down", "/down/", "http://127.0.0.1:1/", json!({})),
    );
    let gw = Gateway::start(&dir, json!({})).await;
    Setup {
        gw,
        upstream,
        hooks,
        _dir: dir,
    }
}

fn error_body(message: &str) -> serde_json::Value {
    json!({ "error": message })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_auth_header_is_401_and_fires_nothing() {
    let s = setup().await;
    let a = s.gw.get("/orders/x", &[]).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.json(), error_body("Authorization field missing"));
    assert_eq!(a.header("content-type"), Some("application/json"));
    // A key that exists but has no rights to this API: 403, and no event either.
    let other = s
        .gw
        .create_key(json!({"access_rights": {"billing": {"api_id": "billing", "api_name": "Billing", "versions": ["Default"]}}}))
        .await;
    let a = s.gw.get("/orders/x", &[("Authorization", &other)]).await;
    assert_eq!(a.status, 403);
    assert_eq!(
        a.json(),
        error_body("Access to this API has been disallowed")
    );
    // The unknown key fires the only webhook of this test.
    s.gw.get("/orders/x", &[("Authorization", "nope")]).await;
    let got = s.hooks.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.hooks.requests().len(), 1, "{got:?}");
    assert_eq!(got[0].path, "/hook/auth");
    let metrics = s.gw.get("/metrics", &[]).await.body;
    assert!(
        metrics.contains("hookshot_events_fired_total{event=\"AuthFailure\"} 1"),
        "{metrics}"
    );
    assert!(!metrics.contains("event=\"KeyExpired\"} 1"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_key_is_403_with_an_auth_failure_webhook() {
    let s = setup().await;
    let a =
        s.gw.get(
            "/orders/items?id=7",
            &[
                ("authorization", "no-such-key"),
                ("X-Forwarded-For", "203.0.113.9, 10.0.0.1"),
            ],
        )
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(
        a.json(),
        error_body("Access to this API has been disallowed")
    );
    let got = s.hooks.wait_for(1, WAIT).await;
    let r = &got[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/hook/auth");
    assert_eq!(r.header("x-e2e"), Some("yes"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.body_text();
    common::body_json(r);
    // The key is obfuscated as Tyk's logs write keys.
    for want in [
        "AuthFailure",
        "\"****-key\"",
        "/orders/items",
        "203.0.113.9",
    ] {
        assert!(body.contains(want), "{want} not in {body}");
    }
    assert!(!body.contains("no-such-key"), "{body}");
    assert!(s.upstream.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_inactive_keys_are_401_with_key_expired_webhooks() {
    let s = setup().await;
    let expired = s.gw.create_key(json!({"expires": now() - 10})).await;
    let inactive = s.gw.create_key(json!({"is_inactive": true})).await;
    for key in [&expired, &inactive] {
        let a = s.gw.get("/orders/x", &[("Authorization", key)]).await;
        assert_eq!(a.status, 401);
        assert_eq!(a.json(), error_body("Key has expired, please renew"));
    }
    let got = s.hooks.wait_for(2, WAIT).await;
    assert!(
        got.iter()
            .all(|r| r.path == "/hook/expired" && r.method == "POST")
    );
    let bodies: Vec<String> = got.iter().map(|r| r.body_text()).collect();
    let obfuscated = |key: &str| format!("\"****{}\"", &key[key.len() - 4..]);
    assert!(
        bodies
            .iter()
            .any(|b| b.contains(&obfuscated(&expired)) && b.contains("KeyExpired")),
        "{bodies:?}"
    );
    assert!(
        bodies.iter().any(|b| b.contains(&obfuscated(&inactive))),
        "{bodies:?}"
    );
    assert!(
        bodies
            .iter()
            .all(|b| !b.contains(&expired) && !b.contains(&inactive)),
        "{bodies:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_rate_is_429_with_a_ratelimit_webhook() {
    let s = setup().await;
    let key =
        s.gw.create_key(json!({"rate": 2, "per": 60, "quota_max": -1}))
            .await;
    for _ in 0..2 {
        let a = s.gw.get("/orders/x", &[("Authorization", &key)]).await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let a = s.gw.get("/orders/x", &[("Authorization", &key)]).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.json(), error_body("Rate Limit Exceeded"));
    let got = s.hooks.wait_for(1, WAIT).await;
    assert_eq!(got[0].path, "/hook/rate");
    assert!(got[0].body_text().contains("RatelimitExceeded"));
    assert_eq!(s.upstream.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_quota_is_403_with_rate_limit_headers_and_a_bodiless_get_webhook() {
    let s = setup().await;
    let key =
        s.gw.create_key(json!({"quota_max": 2, "quota_renewal_rate": 3600}))
            .await;
    let first = s.gw.get("/orders/x", &[("Authorization", &key)]).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-ratelimit-limit"), Some("2"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("1"));
    let reset: i64 = first.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert!(reset > now() && reset <= now() + 3600, "{reset}");
    let second = s.gw.get("/orders/x", &[("Authorization", &key)]).await;
    assert_eq!(second.header("x-ratelimit-remaining"), Some("0"));
    let a = s.gw.get("/orders/x", &[("Authorization", &key)]).await;
    assert_eq!(a.status, 403);
    assert_eq!(a.json(), error_body("Quota exceeded"));
    assert_eq!(a.header("x-ratelimit-limit"), Some("2"));
    assert_eq!(a.header("x-ratelimit-remaining"), Some("0"));
    let got = s.hooks.wait_for(1, WAIT).await;
    assert_eq!(got[0].path, "/hook/quota");
    assert_eq!(got[0].method, "GET");
    assert!(
        got[0].body.is_empty(),
        "a GET webhook carries no body: {}",
        got[0].body_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_key_is_proxied_with_path_stripped_and_body_streamed() {
    let s = setup().await;
    s.upstream.push_reply(
        Reply::status(201)
            .header("x-upstream", "1")
            .body("{\"created\": true}"),
    );
    let key = s.gw.create_key(json!({"quota_max": -1})).await;
    let a =
        s.gw.send(
            "POST",
            "/orders/items/7?full=1",
            &[
                ("Authorization", &format!("Bearer {key}")),
                ("Content-Type", "application/json"),
                ("X-Forwarded-For", "198.51.100.4"),
            ],
            b"{\"qty\": 3}",
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.header("x-upstream"), Some("1"));
    assert_eq!(a.body, "{\"created\": true}");
    let got = s.upstream.wait_for(1, WAIT).await;
    let r = &got[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/base/items/7?full=1");
    assert_eq!(r.body_text(), "{\"qty\": 3}");
    assert_eq!(r.header("x-forwarded-for"), Some("198.51.100.4, 127.0.0.1"));
    assert!(r.header("connection").is_none());
    assert!(s.hooks.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyless_apis_pass_and_unreachable_upstreams_are_502() {
    let s = setup().await;
    let a = s.gw.get("/open/ping", &[]).await;
    assert_eq!(a.status, 200);
    assert_eq!(s.upstream.wait_for(1, WAIT).await[0].path, "/ping");
    let key = s.gw.create_key(json!({})).await;
    let a = s.gw.get("/down/x", &[("Authorization", &key)]).await;
    assert_eq!(a.status, 502);
    assert_eq!(
        a.json(),
        error_body("There was a problem proxying the request")
    );
    let a = s.gw.get("/nowhere", &[]).await;
    assert_eq!(a.status, 404);
    let hello = s.gw.get("/hello", &[]).await;
    assert_eq!(hello.status, 200);
    assert_eq!(hello.json()["status"], "pass");
    let metrics = s.gw.get("/metrics", &[]).await.body;
    assert!(
        metrics.contains("hookshot_requests_total{api=\"down\",status=\"502\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("hookshot_upstream_errors_total 1"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_failures_within_the_cool_down_send_one_webhook_and_another_after_it() {
    let upstream = Receiver::start().await;
    let hooks = Receiver::start().await;
    let dir = TempDir::new("cooldown");
    let events = json!({"AuthFailure": hook("POST", &hooks.url("/hook/auth"), 1)});
    dir.write_api(
        "orders",
        &api("orders", "/orders/", &upstream.url("/"), events),
    );
    let gw = Gateway::start(&dir, json!({})).await;
    for _ in 0..3 {
        assert_eq!(
            gw.get("/orders/x", &[("Authorization", "same-bad-key")])
                .await
                .status,
            403
        );
    }
    hooks.wait_for(1, WAIT).await;
    let mut suppressed = false;
    for _ in 0..100 {
        let metrics = gw.get("/metrics", &[]).await.body;
        if metrics
            .contains("hookshot_webhook_suppressed_total{api=\"orders\",event=\"AuthFailure\"")
        {
            suppressed = metrics.lines().any(|l| {
                l.starts_with("hookshot_webhook_suppressed_total{api=\"orders\"")
                    && l.ends_with(" 2")
            });
        }
        if suppressed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(suppressed, "two of three identical failures are suppressed");
    assert_eq!(hooks.requests().len(), 1);
    // After the one-second window the same failure is delivered again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    gw.get("/orders/x", &[("Authorization", "same-bad-key")])
        .await;
    let got = hooks.wait_for(2, WAIT).await;
    assert_eq!(got[0].body, got[1].body);
}
