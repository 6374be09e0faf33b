//! A Redis outage while the gateway runs: keyed requests get a clear 503 (not a hang) while Redis
//! is down, and the gateway serves again once Redis is back, without a restart.
//!
//! The test runs a `redis-server` of its own, so that stopping it takes Redis from no other test.

mod common;

use std::time::{Duration, Instant};

use common::{Gateway, TempDir, api};
use hookshot_testkit::receiver::Receiver;
use hookshot_testkit::redis::RedisServer;
use serde_json::json;

/// Far above the gateway's 1 s Redis timeout: only a request that hangs takes this long.
const NO_HANG: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_gives_503_and_the_gateway_recovers_when_redis_returns() {
    let mut redis = RedisServer::start();
    let upstream = Receiver::start().await;
    let hooks = Receiver::start().await;
    let dir = TempDir::new("outage");
    dir.write_api(
        "orders",
        &api(
            "orders",
            "/orders/",
            &upstream.url("/"),
            json!({"AuthFailure": common::hook("POST", &hooks.url("/hook"), 0)}),
        ),
    );
    let storage = json!({
        "type": "redis", "host": "127.0.0.1", "port": redis.port(), "timeout_secs": 1
    });
    let gw = Gateway::start(&dir, json!({"storage": storage})).await;
    let key = "outage-test-key";
    let create = gw
        .admin(
            "POST",
            &format!("/tyk/keys/{key}"),
            &json!({"rate": 1000, "per": 1, "quota_max": -1}),
        )
        .await;
    assert_eq!(create.status, 200, "{}", create.body);
    assert_eq!(
        gw.get("/orders/x", &[("Authorization", key)]).await.status,
        200
    );

    redis.stop();
    let started = Instant::now();
    let a = gw.get("/orders/x", &[("Authorization", key)]).await;
    let took = started.elapsed();
    assert_eq!(a.status, 503, "{}", a.body);
    assert_eq!(
        a.json(),
        json!({"error": "The gateway's storage is unavailable, please try again later"})
    );
    assert!(took < NO_HANG, "the 503 took {took:?}");
    // Unknown keys cannot be told from known ones without Redis: 503 as well, and no event.
    let unknown = gw.get("/orders/x", &[("Authorization", "nope")]).await;
    assert_eq!(unknown.status, 503, "{}", unknown.body);
    let hello = gw.get("/hello", &[]).await;
    assert_eq!(hello.status, 503, "{}", hello.body);
    let metrics = gw.get("/metrics", &[]).await.body;
    assert!(
        common::metric_sum(&metrics, "hookshot_storage_errors_total") >= 2,
        "{metrics}"
    );
    assert_eq!(
        common::metric_sum(
            &metrics,
            "hookshot_events_fired_total{event=\"AuthFailure\"}"
        ),
        0,
        "{metrics}"
    );
    assert_eq!(upstream.requests().len(), 1);

    // Redis is back (empty: it keeps nothing on disk). The same gateway process reconnects; the
    // key is stored again through it, and keyed requests pass.
    redis.start_again();
    let deadline = Instant::now() + NO_HANG;
    let recreated = loop {
        let a = gw
            .admin(
                "POST",
                &format!("/tyk/keys/{key}"),
                &json!({"rate": 1000, "per": 1, "quota_max": -1}),
            )
            .await;
        if a.status == 200 || Instant::now() > deadline {
            break a;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(recreated.status, 200, "{}", recreated.body);
    assert_eq!(
        gw.get("/hello", &[]).await.json()["details"]["redis"]["status"],
        "pass"
    );
    for _ in 0..3 {
        let a = gw.get("/orders/x", &[("Authorization", key)]).await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    assert_eq!(upstream.requests().len(), 4);
    // Unknown keys are refused with Tyk's answer again, and their webhook is delivered.
    let a = gw.get("/orders/x", &[("Authorization", "nope")]).await;
    assert_eq!(a.status, 403, "{}", a.body);
    let got = hooks.wait_for(1, NO_HANG).await;
    assert!(got[0].body_text().contains("AuthFailure"));
}
