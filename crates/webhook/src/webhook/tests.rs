use std::sync::Mutex;

use hookshot_config::{RetryPolicy, SigningKey};
use hookshot_core::{
    Delivered, EventType, MockCooldownStore, MockRenderer, MockTransport, RenderError, TargetUrl,
    TransportError,
};
use http::Method;

use super::*;
use crate::Instrumented;

fn builder(method: Method, event_timeout: u64) -> hookshot_config::WebhookConfigBuilder {
    WebhookConfig::builder(
        method,
        TargetUrl::parse("http://hooks.example.com:8080/in?x=1").unwrap(),
    )
    .id("ops")
    .header("X-Team", "ops")
    .cooldown(Duration::from_secs(event_timeout))
    .request_timeout(Duration::from_secs(7))
}

fn config(method: Method, event_timeout: u64) -> WebhookConfig {
    builder(method, event_timeout).build().unwrap()
}

fn renderer(body: &'static str) -> Arc<dyn Renderer> {
    typed_renderer(body, Some("application/json"))
}

fn typed_renderer(body: &'static str, content_type: Option<&'static str>) -> Arc<dyn Renderer> {
    let mut r = MockRenderer::new();
    r.expect_render().returning(move |_| Ok(body.to_owned()));
    r.expect_content_type().return_const(content_type);
    Arc::new(r)
}

fn store_never_called() -> Arc<dyn CooldownStore> {
    let mut s = MockCooldownStore::new();
    s.expect_claim().never();
    Arc::new(s)
}

/// A transport that records requests and answers from a script.
fn transport(
    answers: Vec<Result<Delivered, TransportError>>,
) -> (Arc<dyn Transport>, Arc<Mutex<Vec<WebhookRequest>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let answers = Mutex::new(answers.into_iter());
    let mut t = MockTransport::new();
    let log = seen.clone();
    t.expect_send().returning(move |req| {
        log.lock().unwrap().push(req);
        answers
            .lock()
            .unwrap()
            .next()
            .expect("no more scripted answers")
    });
    (Arc::new(t), seen)
}

fn ok() -> Result<Delivered, TransportError> {
    Ok(Delivered {
        status: http::StatusCode::OK,
    })
}

/// A handler counted as a program without a dispatcher counts it.
fn handler(
    config: WebhookConfig,
    renderer: Arc<dyn Renderer>,
    store: Arc<dyn CooldownStore>,
    transport: Arc<dyn Transport>,
) -> Instrumented<WebhookHandler> {
    Instrumented::new(WebhookHandler::new(config, renderer, store, transport))
}

fn event() -> Event {
    Event::sample(&EventType::AuthFailure)
}

#[tokio::test]
async fn builds_the_request_as_configured() {
    let (t, seen) = transport(vec![ok()]);
    let h = handler(
        config(Method::POST, 0),
        renderer("{\"a\":1}"),
        store_never_called(),
        t,
    );
    let outcome = h.handle(&event()).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 200,
            attempts: 1
        }
    );
    let req = seen.lock().unwrap().pop().unwrap();
    assert_eq!(req.method, http::Method::POST);
    assert_eq!(req.url.to_string(), "http://hooks.example.com:8080/in?x=1");
    assert_eq!(req.headers["user-agent"], USER_AGENT_VALUE);
    assert_eq!(req.headers["content-type"], "application/json");
    assert_eq!(req.headers["x-team"], "ops");
    assert_eq!(req.body, "{\"a\":1}");
    assert_eq!(req.timeout, Some(Duration::from_secs(7)));
    // Instrumented::handle counts its outcome, as the dispatcher does for the events it
    // drives.
    let counted = h.metrics().snapshot();
    assert_eq!((counted.delivered, counted.latency_count), (1, 1));
    assert_eq!(counted.failed_total() + counted.suppressed, 0);
}

#[tokio::test]
async fn header_map_overrides_defaults_and_non_json_gets_no_content_type() {
    let c = builder(Method::PUT, 0)
        .header("User-Agent", "Custom/1")
        .build()
        .unwrap();
    let (t, seen) = transport(vec![ok()]);
    let h = handler(c, typed_renderer("plain", None), store_never_called(), t);
    h.handle(&event()).await;
    let req = seen.lock().unwrap().pop().unwrap();
    assert_eq!(req.headers["user-agent"], "Custom/1");
    assert!(req.headers.get("content-type").is_none());

    let c = builder(Method::POST, 0)
        .header("Content-Type", "application/xml")
        .build()
        .unwrap();
    let (t, seen) = transport(vec![ok()]);
    let h = handler(c, renderer("<a/>"), store_never_called(), t);
    h.handle(&event()).await;
    let req = seen.lock().unwrap().pop().unwrap();
    assert_eq!(req.headers.get_all("content-type").iter().count(), 1);
    assert_eq!(req.headers["content-type"], "application/xml");
}

#[tokio::test]
async fn get_and_delete_send_no_body_but_the_checksum_covers_it() {
    for method in [Method::GET, Method::DELETE] {
        let expected = hookshot_cooldown::request_checksum(
            method.as_str(),
            config(method.clone(), 30).url(),
            b"{\"rendered\":true}",
        );
        let mut store = MockCooldownStore::new();
        store
            .expect_claim()
            .withf(move |c, w| *c == expected && *w == Duration::from_secs(30))
            .times(1)
            .returning(|_, _| Claim::Won);
        let (t, seen) = transport(vec![ok()]);
        let h = handler(
            config(method.clone(), 30),
            renderer("{\"rendered\":true}"),
            Arc::new(store),
            t,
        );
        assert!(h.handle(&event()).await.is_delivered());
        assert!(seen.lock().unwrap()[0].body.is_empty(), "{method}");
    }
}

#[tokio::test]
async fn a_held_checksum_is_suppressed_without_sending() {
    let mut store = MockCooldownStore::new();
    store.expect_claim().times(1).returning(|_, _| Claim::Held);
    let mut t = MockTransport::new();
    t.expect_send().never();
    let h = handler(
        config(Method::POST, 10),
        renderer("x"),
        Arc::new(store),
        Arc::new(t),
    );
    assert_eq!(h.handle(&event()).await, Outcome::Suppressed);
}

#[tokio::test]
async fn store_policy_decides_when_the_store_is_unavailable() {
    let mut store = MockCooldownStore::new();
    store
        .expect_claim()
        .returning(|_, _| Claim::Unavailable { send: false });
    let mut t = MockTransport::new();
    t.expect_send().never();
    let h = handler(
        config(Method::POST, 10),
        renderer("x"),
        Arc::new(store),
        Arc::new(t),
    );
    assert!(matches!(
        h.handle(&event()).await,
        Outcome::Failed {
            reason: FailReason::StoreUnavailable,
            attempts: 0,
            ..
        }
    ));

    let mut store = MockCooldownStore::new();
    store
        .expect_claim()
        .returning(|_, _| Claim::Unavailable { send: true });
    let (t, _) = transport(vec![ok()]);
    let h = handler(config(Method::POST, 10), renderer("x"), Arc::new(store), t);
    assert!(h.handle(&event()).await.is_delivered());
}

#[tokio::test]
async fn a_render_error_fails_without_claiming_or_sending() {
    let mut r = MockRenderer::new();
    r.expect_render()
        .returning(|_| Err(RenderError::new("rendering t.json: boom")));
    r.expect_content_type()
        .return_const(Some("application/json"));
    let mut t = MockTransport::new();
    t.expect_send().never();
    let h = handler(
        config(Method::POST, 10),
        Arc::new(r),
        store_never_called(),
        Arc::new(t),
    );
    assert!(matches!(
        h.handle(&event()).await,
        Outcome::Failed {
            reason: FailReason::Render,
            ..
        }
    ));
}

#[tokio::test]
async fn retries_reuse_body_and_id_and_stop_at_max_attempts() {
    let c = builder(Method::POST, 0)
        .retry(RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
        })
        .signing_key(SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap())
        .build()
        .unwrap();
    let unavailable = || {
        Err(TransportError::Status {
            status: http::StatusCode::SERVICE_UNAVAILABLE,
            retry_after: None,
        })
    };
    let (t, seen) = transport(vec![unavailable(), unavailable(), unavailable()]);
    let h = handler(c, renderer("same"), store_never_called(), t);
    let Step::Send(pending) = h.handler().start(&event()).await else {
        panic!("expected a prepared request")
    };
    assert_eq!(pending.attempts(), 0);
    let Step::Retry { pending, .. } = h.handler().resume(pending).await else {
        panic!("expected a retry")
    };
    assert_eq!(pending.attempts(), 1);
    let Step::Retry { pending, .. } = h.handler().resume(pending).await else {
        panic!("expected a retry")
    };
    let Step::Done(outcome) = h.handler().resume(pending).await else {
        panic!("expected the last attempt to finish")
    };
    assert!(matches!(
        outcome,
        Outcome::Failed {
            reason: FailReason::Status,
            attempts: 3,
            ..
        }
    ));
    // The handler keeps no counters: whoever drives its steps counts the retries.
    assert_eq!(h.metrics().snapshot().retried, 0);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    let ids: Vec<_> = seen
        .iter()
        .map(|r| r.headers["webhook-id"].clone())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert!(seen.iter().all(|r| r.body == "same"));
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    let c = builder(Method::POST, 0)
        .retry(RetryPolicy {
            max_attempts: 5,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let (t, seen) = transport(vec![Err(TransportError::Status {
        status: http::StatusCode::BAD_REQUEST,
        retry_after: None,
    })]);
    let h = handler(c, renderer("x"), store_never_called(), t);
    assert!(matches!(
        h.handle(&event()).await,
        Outcome::Failed {
            reason: FailReason::Status,
            attempts: 1,
            ..
        }
    ));
    assert_eq!(seen.lock().unwrap().len(), 1);
}
