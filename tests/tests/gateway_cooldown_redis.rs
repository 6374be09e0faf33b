//! Webhook cool-downs in Redis, as Tyk keeps them: a delivered webhook leaves
//! `webhook.cache.<md5 of the request in Tyk's byte format>` = `1` with the handler's
//! `event_timeout` as TTL, and two gateway processes on one Redis deliver an event fired on both
//! once.

mod common;

use std::time::Duration;

use common::{Gateway, TempDir, api, metric_sum, redis_command, redis_storage};
use hookshot_testkit::receiver::Receiver;
use md5::{Digest, Md5};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

/// Something no other run of these tests sends, so that keys left in a shared Redis by an earlier
/// run (they expire after `event_timeout`) cannot be taken for this run's.
fn unique(tag: &str) -> String {
    format!(
        "{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// The MD5 Tyk computes for a webhook request: what Go's `http.Request.Write` writes for
/// `http.NewRequest(method, url, body)`. Written out here from that format, independently of
/// `hookshot_cooldown::Checksum`.
fn tyk_md5(method: &str, path_and_query: &str, host: &str, body: &[u8]) -> String {
    let mut bytes = format!(
        "{method} {path_and_query} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Go-http-client/1.1\r\n"
    )
    .into_bytes();
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        bytes.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(body);
    Md5::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_md5_written_out_here_matches_tyks_and_gos_values() {
    // The vectors Go wrote for Tyk's request (crates/cooldown/tests/go, `cargo xtask golden`):
    // the request target and Host are read from Go's request line and head, the method upper-cased
    // as Tyk does.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/cooldown/tests/go/checksums.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    let vectors = file["vectors"].as_array().unwrap();
    assert!(
        vectors.len() >= 40,
        "{}: {} vectors",
        path.display(),
        vectors.len()
    );
    let mut tyks_own = false;
    for v in vectors {
        let s = |name: &str| v[name].as_str().unwrap();
        let request = s("request");
        let target = request.split(' ').nth(1).unwrap();
        let host = request
            .split("\r\n")
            .find_map(|line| line.strip_prefix("Host: "))
            .unwrap();
        let method = s("method").to_ascii_uppercase();
        assert_eq!(
            tyk_md5(&method, target, host, s("body").as_bytes()),
            s("md5"),
            "{}: {request:?}",
            s("what")
        );
        // Tyk's own test vector (tyk/README.md): GET with a body, tabs as written.
        tyks_own |= s("md5") == "62a6b4fa9b45cd372b871764296fb3a5";
    }
    assert!(
        tyks_own,
        "Tyk's test vector is not among {}",
        path.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivered_webhook_leaves_tyks_cache_key_with_the_event_timeout_as_ttl() {
    const EVENT_TIMEOUT: i64 = 30;
    // A database of this test's own, so that listing the cache keys sees only this gateway's.
    const DB: i64 = 5;
    let url = hookshot_testkit::redis_url();
    let upstream = Receiver::start().await;
    let hooks = Receiver::start().await;
    let run = unique("cache-key");
    let dir = TempDir::new("cache-key");
    let hook_path = format!("/hook/cache?run={run}");
    let events = json!({"AuthFailure": [{"handler_name": "eh_web_hook_handler", "handler_meta": {
        "method": "POST", "target_path": hooks.url(&hook_path), "event_timeout": EVENT_TIMEOUT,
        "header_map": {"X-E2E": "yes"}
    }}]});
    dir.write_api(
        "orders",
        &api("orders", "/orders/", &upstream.url("/"), events),
    );
    // The gateway's key prefix applies to sessions and counters; cool-down keys stay Tyk's.
    let prefix = format!("{run}:");
    let mut storage = redis_storage(&prefix);
    storage["database"] = json!(DB);
    // Keys in clear, so that the body (and its checksum) is this run's own.
    let gw = Gateway::start(
        &dir,
        json!({"storage": storage, "hookshot": {"send_keys_in_clear": true}}),
    )
    .await;

    let bad_key = format!("bad-{run}");
    let a = gw
        .get(
            "/orders/x",
            &[("Authorization", &bad_key), ("X-Real-IP", "203.0.113.5")],
        )
        .await;
    assert_eq!(a.status, 403, "{}", a.body);
    let got = hooks.wait_for(1, WAIT).await;
    let r = &got[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", &*hook_path));
    assert!(r.body_text().contains(&bad_key), "{}", r.body_text());

    let host = hooks.addr().to_string();
    let md5 = tyk_md5("POST", &hook_path, &host, &r.body);
    let key = format!("webhook.cache.{md5}");
    // The claim is made before the send, so it is there once the webhook arrived.
    let value = redis_command(&url, DB, &["GET", &key]).await;
    assert_eq!(
        value.text().as_deref(),
        Some("1"),
        "expected {key} = 1 in database {DB}; cache keys there: {:?}",
        redis_command(&url, DB, &["KEYS", "*webhook.cache.*"]).await
    );
    let ttl = redis_command(&url, DB, &["TTL", &key]).await.int();
    assert!(
        0 < ttl && ttl <= EVENT_TIMEOUT,
        "TTL of {key} is {ttl}, expected 1..={EVENT_TIMEOUT}"
    );
    // Not under the gateway's own key prefix, and not in database 0.
    let prefixed = format!("{prefix}{key}");
    assert_eq!(
        redis_command(&url, DB, &["EXISTS", &prefixed]).await.int(),
        0
    );
    if DB != 0 {
        assert_eq!(redis_command(&url, 0, &["EXISTS", &key]).await.int(), 0);
    }
    // The 32 digits are lower-case hex.
    assert!(
        md5.len() == 32
            && md5
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_on_one_redis_deliver_an_event_fired_on_both_once() {
    let upstream = Receiver::start().await;
    let hooks = Receiver::start().await;
    let run = unique("shared-cooldown");
    let (dir_a, dir_b) = (TempDir::new("cooldown-a"), TempDir::new("cooldown-b"));
    let events = json!({"AuthFailure": common::hook("POST", &hooks.url("/hook/shared"), 60)});
    for dir in [&dir_a, &dir_b] {
        dir.write_api(
            "orders",
            &api("orders", "/orders/", &upstream.url("/"), events.clone()),
        );
    }
    // Keys in clear, so that the body (and its cool-down key) is this run's own.
    let conf = json!({"storage": redis_storage(&format!("{run}:")),
        "hookshot": {"send_keys_in_clear": true}});
    let a = Gateway::start(&dir_a, conf.clone()).await;
    let b = Gateway::start(&dir_b, conf).await;

    // The same failing request (same key, path and origin) to both at once.
    let bad_key = format!("bad-{run}");
    let headers = [
        ("Authorization", bad_key.as_str()),
        ("X-Real-IP", "198.51.100.23"),
    ];
    let (ra, rb) = tokio::join!(
        a.get("/orders/items", &headers),
        b.get("/orders/items", &headers)
    );
    assert_eq!((ra.status, rb.status), (403, 403));

    // Both gateways fired the event; one delivered it, the other found it claimed.
    let mut seen = (0, 0);
    for _ in 0..200 {
        let (ma, mb) = tokio::join!(a.get("/metrics", &[]), b.get("/metrics", &[]));
        let count = |name: &str| {
            metric_sum(
                &ma.body,
                &format!("hookshot_webhook_{name}_total{{api=\"orders\""),
            ) + metric_sum(
                &mb.body,
                &format!("hookshot_webhook_{name}_total{{api=\"orders\""),
            )
        };
        seen = (count("delivered"), count("suppressed"));
        if seen.0 + seen.1 >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen, (1, 1), "(delivered, suppressed) across both gateways");
    let got = hooks.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].body_text().contains(&bad_key));

    // Sent again to either gateway within the window: still nothing new.
    b.get("/orders/items", &headers).await;
    a.get("/orders/items", &headers).await;
    let mut suppressed = 0;
    for _ in 0..200 {
        let (ma, mb) = tokio::join!(a.get("/metrics", &[]), b.get("/metrics", &[]));
        suppressed = metric_sum(&ma.body, "hookshot_webhook_suppressed_total{api=\"orders\"")
            + metric_sum(&mb.body, "hookshot_webhook_suppressed_total{api=\"orders\"");
        if suppressed >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(suppressed, 3);
    assert_eq!(hooks.requests().len(), 1);
}
