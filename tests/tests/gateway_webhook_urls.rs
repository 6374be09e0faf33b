//! Webhook URLs hold secrets (Slack, Discord and Teams paths, `?token=` queries, user-info): the
//! real binary names handlers in `/metrics` by id, name or `METHOD scheme://host[:port]` only, and
//! refuses user-info in a URL at load.

mod common;

use std::time::Duration;

use common::{Gateway, TempDir, api};
use hookshot_testkit::receiver::Receiver;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

fn handler(url: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut meta = json!({"method": "POST", "target_path": url, "event_timeout": 0});
    if let (Some(m), Some(e)) = (meta.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    json!({"handler_name": "eh_web_hook_handler", "handler_meta": meta})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_name_handlers_without_the_path_or_query_of_their_url() {
    let hooks = Receiver::start().await;
    let dir = TempDir::new("webhook-urls");
    let events = json!({"AuthFailure": [
        handler(&hooks.url("/services/T0/B0/s3cretpath?token=qu3ry"), json!({})),
        handler(&hooks.url("/services/T1/B1/s3cretpath2?token=qu3ry2"), json!({})),
        handler(&hooks.url("/api/webhooks/1/s3cretpath3"), json!({"id": "ops"})),
        handler(&hooks.url("/in?token=qu3ry4"), json!({"name": "Ops channel"})),
    ]});
    dir.write_api(
        "orders",
        &api("orders", "/orders/", "http://127.0.0.1:1/", events),
    );
    let gw = Gateway::start(
        &dir,
        json!({"hookshot": {"shutdown_grace_secs": 5, "queue_capacity": 500}}),
    )
    .await;

    let a = gw
        .get("/orders/x", &[("Authorization", "no-such-key")])
        .await;
    assert_eq!(a.status, 403, "{}", a.body);
    assert_eq!(hooks.wait_for(4, WAIT).await.len(), 4);

    let origin = format!("http://{}", hooks.addr());
    let series: Vec<String> = [
        format!("POST {origin}"),
        format!("POST {origin} #2"),
        "ops".to_owned(),
        "Ops channel".to_owned(),
    ]
    .iter()
    .map(|label| {
        format!(
            "hookshot_webhook_delivered_total{{api=\"orders\",event=\"AuthFailure\",handler=\"{label}\"}} 1\n"
        )
    })
    .collect();
    // A delivery is counted once its answer is read, just after the receiver recorded it.
    let deadline = std::time::Instant::now() + WAIT;
    let metrics = loop {
        let metrics = gw.get("/metrics", &[]).await.body;
        if series.iter().all(|s| metrics.contains(s)) {
            break metrics;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not every handler counted one delivery ({series:#?}) in\n{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // The retry bound follows the queue's capacity unless set; the byte budget is 64 MiB.
    for gauge in [
        "hookshot_webhook_max_waiting_retries 500\n",
        "hookshot_webhook_max_queued_bytes 67108864\n",
        "hookshot_webhook_waiting_retries 0\n",
        "hookshot_webhook_queued_bytes 0\n",
    ] {
        assert!(metrics.contains(gauge), "no {gauge:?} in\n{metrics}");
    }
    for secret in ["s3cretpath", "qu3ry", "/services", "/api/webhooks", "/in"] {
        assert!(
            !metrics.contains(secret),
            "{secret} in /metrics:\n{metrics}"
        );
    }
}

#[test]
fn user_info_in_a_webhook_url_is_refused_at_load_without_showing_the_password() {
    let dir = TempDir::new("webhook-userinfo");
    let events = json!({"AuthFailure": [
        handler("https://alice:pa55word@hooks.example.com/in?token=qu3ry", json!({})),
    ]});
    dir.write_api(
        "orders",
        &api("orders", "/orders/", "http://127.0.0.1:1/", events),
    );
    let out = common::check(&dir, &json!({"app_path": "apps"}));
    let stderr = out.stderr;
    assert_eq!(out.code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "API \"orders\", event \"AuthFailure\", handler #0, field `handler_meta.target_path`: \
             found \"https://alice:****@hooks.example.com/…\", which holds user-info; expected the \
             URL without user-info; credentials in a URL are not sent, so put them in \
             `header_map`, e.g. \"Authorization\": \"Basic <base64 of user:password>\""
        ),
        "{stderr}"
    );
    assert!(stderr.contains("orders.json"), "{stderr}");
    for secret in ["pa55word", "qu3ry"] {
        assert!(!stderr.contains(secret), "{secret} in:\n{stderr}");
    }
}
