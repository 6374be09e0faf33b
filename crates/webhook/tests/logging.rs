//! What a failing webhook writes to the log: the receiver by scheme, host and port, never the
//! path or query of its URL (often a bearer secret). Alone in its test binary, so that no other
//! test's threads share the tracing callsites it watches.

use std::sync::Arc;
use std::time::Duration;

use hookshot_cooldown::MemoryStore;
use hookshot_core::TargetUrl;
use hookshot_event::{Event, EventMeta, EventType, KeyFailureMeta};
use hookshot_template::Template;
use hookshot_testkit::receiver::{Receiver, Reply};
use hookshot_transport::{HttpTransport, HttpTransportConfig};
use hookshot_webhook::{Instrumented, Outcome, RetryPolicy, WebhookConfig, WebhookHandler};

fn handler(url: &str) -> WebhookHandler {
    let config = WebhookConfig::builder(http::Method::POST, TargetUrl::parse(url).unwrap())
        .retry(RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
        })
        .build()
        .unwrap();
    WebhookHandler::new(
        config,
        Arc::new(Template::default_webhook()),
        Arc::new(MemoryStore::new()),
        Arc::new(HttpTransport::new(HttpTransportConfig::default()).unwrap()),
    )
}

fn auth_failure() -> Event {
    Event::new(
        EventType::AuthFailure,
        EventMeta::KeyFailure(KeyFailureMeta {
            message: "Auth Failure".into(),
            path: "/orders/".into(),
            key: "k".into(),
            ..Default::default()
        }),
    )
}

#[tokio::test(flavor = "current_thread")]
async fn a_failing_delivery_logs_the_receiver_without_its_path_or_query() {
    let logs = hookshot_testkit::logs::capture(tracing::Level::DEBUG);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let rx = Receiver::start().await;
    rx.set_default_reply(Reply::status(500));
    for url in [
        format!("http://127.0.0.1:{port}/services/T0/B0/s3cret?token=t0k"),
        rx.url("/services/T0/B0/s3cret?token=t0k"),
    ] {
        let outcome = Instrumented::new(handler(&url))
            .handle(&auth_failure())
            .await;
        assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome:?}");
        tracing::debug!(?outcome, "the outcome, as a caller would log it");
    }
    let text = logs.text();
    assert!(
        text.contains(&format!(
            "handler=POST http://127.0.0.1:{port} url=http://127.0.0.1:{port}"
        )),
        "{text}"
    );
    assert!(text.contains("retrying webhook"), "{text}");
    assert_eq!(text.matches("webhook not delivered").count(), 2, "{text}");
    for secret in ["s3cret", "t0k", "/services"] {
        assert!(!text.contains(secret), "{secret} in the log:\n{text}");
    }
}
