//! Two gateway processes on one Redis are one gateway: a key created on one works on the other,
//! and limits are counted across both.

mod common;

use common::{Gateway, TempDir, api, redis_storage};
use hookshot_testkit::receiver::Receiver;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_share_keys_and_limits() {
    let upstream = Receiver::start().await;
    let prefix = format!(
        "e2e-{}-{}:",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let (dir_a, dir_b) = (TempDir::new("redis-a"), TempDir::new("redis-b"));
    for dir in [&dir_a, &dir_b] {
        dir.write_api(
            "orders",
            &api("orders", "/orders/", &upstream.url("/"), json!({})),
        );
    }
    let conf = json!({"storage": redis_storage(&prefix)});
    let a = Gateway::start(&dir_a, conf.clone()).await;
    let b = Gateway::start(&dir_b, conf).await;
    assert_eq!(
        a.get("/hello", &[]).await.json()["details"]["redis"]["status"],
        "pass"
    );
    let key = a
        .create_key(json!({"rate": 3, "per": 60, "quota_max": -1}))
        .await;
    assert_eq!(
        b.get("/orders/x", &[("Authorization", &key)]).await.status,
        200
    );
    assert_eq!(
        a.get("/orders/x", &[("Authorization", &key)]).await.status,
        200
    );
    assert_eq!(
        b.get("/orders/x", &[("Authorization", &key)]).await.status,
        200
    );
    assert_eq!(
        a.get("/orders/x", &[("Authorization", &key)]).await.status,
        429
    );
    assert_eq!(
        b.get("/orders/x", &[("Authorization", &key)]).await.status,
        429
    );
    // Quota across both.
    let q = b
        .create_key(json!({"quota_max": 2, "quota_renewal_rate": 3600}))
        .await;
    assert_eq!(
        a.get("/orders/x", &[("Authorization", &q)]).await.status,
        200
    );
    let second = b.get("/orders/x", &[("Authorization", &q)]).await;
    assert_eq!(
        (second.status, second.header("x-ratelimit-remaining")),
        (200, Some("0"))
    );
    assert_eq!(
        a.get("/orders/x", &[("Authorization", &q)]).await.status,
        403
    );
    // Deleted on one, gone on the other.
    assert_eq!(
        b.admin(
            "DELETE",
            &format!("/tyk/keys/{key}"),
            &serde_json::Value::Null
        )
        .await
        .status,
        200
    );
    assert_eq!(
        a.get("/orders/x", &[("Authorization", &key)]).await.status,
        403
    );
}
