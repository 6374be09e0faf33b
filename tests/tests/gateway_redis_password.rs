//! A Redis password with URL delimiters in it (`/`, `#`, `?`, `%`) reaches Redis unchanged, for
//! the keys and limits store and for the webhook cool-down store alike.

mod common;

use std::time::Duration;

use common::{Gateway, TempDir, api};
use hookshot_testkit::receiver::Receiver;
use hookshot_testkit::redis::RedisServer;
use serde_json::json;

const PASSWORD: &str = "a/b#c?d%e";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_with_url_delimiters_works_for_every_store() {
    let redis = RedisServer::start_with_args(&["--requirepass", PASSWORD]);
    let upstream = Receiver::start().await;
    let hooks = Receiver::start().await;
    let dir = TempDir::new("redis-password");
    // A cool-down, so the webhook goes through the cool-down store; failing closed, so a store that
    // cannot log in sends nothing.
    let events = json!({"AuthFailure": [{"handler_name": "eh_web_hook_handler", "handler_meta": {
        "method": "POST", "target_path": hooks.url("/hook"), "event_timeout": 60
    }}]});
    dir.write_api(
        "orders",
        &api("orders", "/orders/", &upstream.url("/"), events),
    );
    let gw = Gateway::start(
        &dir,
        json!({
            "storage": {"type": "redis", "host": "127.0.0.1", "port": redis.port(),
                        "password": PASSWORD},
            "hookshot": {"shutdown_grace_secs": 5, "fail_open": false}
        }),
    )
    .await;
    assert_eq!(
        gw.get("/hello", &[]).await.json()["details"]["redis"]["status"],
        "pass"
    );
    let key = gw
        .create_key(json!({"rate": 100, "per": 60, "quota_max": 10, "quota_renewal_rate": 3600}))
        .await;
    let a = gw.get("/orders/x", &[("Authorization", &key)]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.header("x-ratelimit-remaining"), Some("9"));

    let a = gw
        .get("/orders/x", &[("Authorization", "no-such-key")])
        .await;
    assert_eq!(a.status, 403, "{}", a.body);
    let got = hooks.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(
        got.len(),
        1,
        "the cool-down store could not claim the event"
    );
}
