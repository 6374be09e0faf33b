//! The webhook engine against real parts, failing and retrying: a failing receiver, one that
//! never answers, an address where nothing listens, and delivery over TLS with a private CA.

mod common;

use std::sync::Arc;
use std::time::Duration;

use hookshot_config::{RetryPolicy, SigningKey};
use hookshot_testkit::receiver::{Receiver, Reply, TestCa};
use hookshot_transport::{HttpTransport, HttpTransportConfig};
use hookshot_webhook::{FailReason, Instrumented, Outcome, WebhookHandler};
use http::Method;

use common::*;

#[tokio::test]
async fn retries_a_failing_receiver_with_the_same_body_and_id() {
    let rx = Receiver::start().await;
    rx.push_reply(Reply::status(503));
    rx.push_reply(Reply::status(429).header("Retry-After", "0"));
    let c = builder(&rx.url("/flaky"), Method::POST)
        .retry(RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
        })
        .signing_key(SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap())
        .build()
        .unwrap();
    let outcome = handler(c, memory()).handle(&auth_failure("k")).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 200,
            attempts: 3
        }
    );
    let reqs = rx.wait_for(3, WAIT).await;
    assert_eq!(reqs.len(), 3);
    assert!(reqs.iter().all(|r| r.body == reqs[0].body));
    let ids: Vec<_> = reqs
        .iter()
        .map(|r| r.header("webhook-id").unwrap().to_owned())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
}

#[tokio::test]
async fn a_receiver_that_never_answers_times_out() {
    let rx = Receiver::start().await;
    rx.set_default_reply(Reply::never());
    let c = builder(&rx.url("/silent"), Method::POST)
        .request_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let outcome = tokio::time::timeout(WAIT, handler(c, memory()).handle(&auth_failure("k")))
        .await
        .expect("the handler gave up within its request timeout");
    assert!(
        matches!(
            outcome,
            Outcome::Failed {
                reason: FailReason::Timeout,
                attempts: 1,
                ..
            }
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn an_address_where_nothing_listens_is_a_connect_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = config(&format!("http://127.0.0.1:{port}/nobody"), Method::POST);
    let outcome = handler(c, memory()).handle(&auth_failure("k")).await;
    assert!(
        matches!(&outcome, Outcome::Failed { reason: FailReason::Connect, detail, .. } if detail.contains("refused")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn delivers_over_https_to_a_receiver_with_a_private_ca() {
    let ca = TestCa::new();
    let rx = Receiver::start_tls(&ca).await;
    let ca_file = ca.write_ca_file();
    let transport = HttpTransport::new(HttpTransportConfig {
        extra_ca_file: Some(ca_file.path().to_path_buf()),
        ..HttpTransportConfig::default()
    })
    .unwrap();
    let h = Instrumented::new(WebhookHandler::new(
        config(&rx.url("/tls"), Method::POST),
        Arc::new(JsonRenderer),
        memory(),
        Arc::new(transport),
    ));
    assert!(rx.url("/tls").starts_with("https://"));
    assert_eq!(
        h.handle(&auth_failure("k")).await,
        Outcome::Delivered {
            status: 200,
            attempts: 1
        }
    );
    // Without the CA, the receiver's certificate is refused.
    let h = handler(config(&rx.url("/tls"), Method::POST), memory());
    assert!(matches!(
        h.handle(&auth_failure("k")).await,
        Outcome::Failed {
            reason: FailReason::Connect,
            ..
        }
    ));
}
