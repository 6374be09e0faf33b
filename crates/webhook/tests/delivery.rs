//! The webhook engine against real parts: a loopback receiver (plain and TLS), the real HTTP
//! transport, the in-memory store and the Redis the test command started.

use std::sync::Arc;
use std::time::Duration;

use hookshot_config::{RetryPolicy, SigningKey, WebhookConfig, WebhookConfigBuilder};
use hookshot_cooldown::{MemoryStore, RedisConfig, RedisStore};
use hookshot_core::TargetUrl;
use hookshot_event::{Event, EventMeta, EventType, KeyFailureMeta};
use hookshot_template::Template;
use hookshot_testkit::receiver::{Receiver, Reply, TestCa};
use hookshot_transport::{HttpTransport, HttpTransportConfig};
use hookshot_webhook::{
    CooldownStore, Dispatcher, DispatcherConfig, EventSink, FailReason, Instrumented, Outcome,
    RenderError, Renderer, Routes, Transport, USER_AGENT_VALUE, WebhookHandler,
};
use http::Method;

/// Renders the event's type, path and key as JSON: enough to tell events apart.
struct JsonRenderer;

impl Renderer for JsonRenderer {
    fn content_type(&self) -> Option<&'static str> {
        Some("application/json")
    }

    fn render(&self, event: &Event) -> Result<String, RenderError> {
        let meta = event.meta.to_json();
        Ok(serde_json::json!({"event": event.event_type, "path": meta["Path"], "key": meta["Key"]}).to_string())
    }
}

fn builder(url: &str, method: Method) -> WebhookConfigBuilder {
    WebhookConfig::builder(method, TargetUrl::parse(url).unwrap()).id("test")
}

fn config(url: &str, method: Method) -> WebhookConfig {
    builder(url, method).build().unwrap()
}

fn transport() -> Arc<dyn Transport> {
    Arc::new(HttpTransport::new(HttpTransportConfig::default()).unwrap())
}

fn memory() -> Arc<dyn CooldownStore> {
    Arc::new(MemoryStore::new())
}

fn webhook(config: WebhookConfig, store: Arc<dyn CooldownStore>) -> WebhookHandler {
    WebhookHandler::new(config, Arc::new(JsonRenderer), store, transport())
}

/// A handler used without a dispatcher, with counters of its own.
fn handler(config: WebhookConfig, store: Arc<dyn CooldownStore>) -> Instrumented<WebhookHandler> {
    Instrumented::new(webhook(config, store))
}

fn auth_failure(key: &str) -> Event {
    Event::new(
        EventType::AuthFailure,
        EventMeta::KeyFailure(KeyFailureMeta {
            message: "Auth Failure".into(),
            path: "/orders/".into(),
            key: key.into(),
            ..Default::default()
        }),
    )
}

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn sends_header_map_and_defaults() {
    let rx = Receiver::start().await;
    let c = builder(&rx.url("/hooks?team=ops"), Method::POST)
        .header("X-Tyk-Test-Header", "Tyk v1.BANANA")
        .build()
        .unwrap();
    let outcome = handler(c, memory()).handle(&auth_failure("k1")).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 200,
            attempts: 1
        }
    );
    let req = &rx.wait_for(1, WAIT).await[0];
    assert_eq!(req.method, http::Method::POST);
    assert_eq!(req.path, "/hooks?team=ops");
    assert_eq!(req.header("user-agent"), Some(USER_AGENT_VALUE));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("x-tyk-test-header"), Some("Tyk v1.BANANA"));
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["event"], "AuthFailure");
    assert_eq!(body["key"], "k1");
}

#[tokio::test]
async fn get_and_delete_arrive_without_a_body() {
    let rx = Receiver::start().await;
    for method in [Method::GET, Method::DELETE] {
        let outcome = handler(config(&rx.url("/bodyless"), method.clone()), memory())
            .handle(&auth_failure("k"))
            .await;
        assert!(outcome.is_delivered(), "{method}: {outcome:?}");
    }
    let reqs = rx.wait_for(2, WAIT).await;
    assert_eq!(reqs[0].method, http::Method::GET);
    assert_eq!(reqs[1].method, http::Method::DELETE);
    for r in &reqs {
        assert!(r.body.is_empty(), "{} carried a body", r.method);
        assert_eq!(r.header("content-length").unwrap_or("0"), "0");
    }
}

async fn cooldown_suppresses_identical_events_only(store: Arc<dyn CooldownStore>) {
    let rx = Receiver::start().await;
    let c = builder(&rx.url("/cool"), Method::POST)
        .cooldown(Duration::from_secs(60))
        .build()
        .unwrap();
    let h = handler(c, store);
    assert!(h.handle(&auth_failure("same")).await.is_delivered());
    assert_eq!(h.handle(&auth_failure("same")).await, Outcome::Suppressed);
    assert_eq!(h.handle(&auth_failure("same")).await, Outcome::Suppressed);
    assert!(h.handle(&auth_failure("other")).await.is_delivered());
    let reqs = rx.wait_for(2, WAIT).await;
    assert_eq!(reqs.len(), 2);
}

#[tokio::test]
async fn cooldown_with_the_memory_store() {
    cooldown_suppresses_identical_events_only(memory()).await;
}

#[tokio::test]
async fn cooldown_with_the_redis_store() {
    let prefix = format!("webhook-test-{}.", std::process::id());
    let store =
        RedisStore::new(RedisConfig::new(hookshot_testkit::redis_url()).with_key_prefix(prefix))
            .unwrap();
    cooldown_suppresses_identical_events_only(Arc::new(store)).await;
}

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

#[tokio::test]
async fn signatures_verify_with_an_independent_implementation() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let rx = Receiver::start().await;
    let c = builder(&rx.url("/signed"), Method::POST)
        .signing_key(SigningKey::parse(secret).unwrap())
        .build()
        .unwrap();
    assert!(
        handler(c, memory())
            .handle(&auth_failure("k"))
            .await
            .is_delivered()
    );
    let req = &rx.wait_for(1, WAIT).await[0];
    let verifier = standardwebhooks::Webhook::new(secret).unwrap();
    verifier
        .verify(&req.body, &req.headers)
        .expect("the signature verifies");
    assert!(req.header("webhook-id").unwrap().starts_with("msg_"));
    // A changed body does not verify.
    let mut tampered = req.body.to_vec();
    tampered.push(b' ');
    assert!(verifier.verify(&tampered, &req.headers).is_err());
    // Nor does another secret.
    let other = standardwebhooks::Webhook::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
    assert!(other.verify(&req.body, &req.headers).is_err());
}

/// Every counter of one handler that an event can end in, and the jobs the dispatcher still holds.
fn accounted(m: &hookshot_webhook::DispatcherMetrics) -> u64 {
    let h = &m.handlers[0].metrics;
    h.delivered + h.suppressed + h.logged + h.failed_total() + h.dropped + m.outstanding as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fire_never_waits_and_counts_the_overflow() {
    let rx = Receiver::start().await;
    rx.set_default_reply(Reply::never());
    let c = builder(&rx.url("/stuck"), Method::POST)
        .request_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut routes = Routes::new();
    routes.add_api(
        "orders",
        EventType::AuthFailure,
        Arc::new(webhook(c, memory())),
    );
    let config = DispatcherConfig {
        queue_capacity: 1000,
        concurrency: 32,
        shutdown_grace: Duration::from_millis(200),
        ..DispatcherConfig::default()
    };
    let d = Dispatcher::start(config.clone(), routes);
    let event = auth_failure("k").with_api(hookshot_event::ApiRef {
        id: "orders".into(),
        ..Default::default()
    });
    // 100,000 fires on this task, with no await between them, while the workers run on other
    // threads: fire cannot wait on anything.
    const FIRES: u64 = 100_000;
    for _ in 0..FIRES {
        d.fire(event.clone());
    }
    let m = d.metrics();
    assert_eq!(m.fired, FIRES);
    // No request is ever answered, so no job ends and no retry waits: a job fired is dropped or
    // held, queued or by one of the 2 × concurrency workers (sending, or prepared and waiting for
    // a delivery slot). The queue fills before anything is dropped (the byte budget is far away).
    assert_eq!(m.dropped_over_budget, 0);
    assert_eq!(m.waiting_retries, 0);
    let held = FIRES - m.dropped;
    let most = (config.queue_capacity + 2 * config.concurrency) as u64;
    assert!(
        (config.queue_capacity as u64..=most).contains(&held),
        "{held} jobs held, {} dropped; the queue and the workers hold {} to {most}",
        m.dropped,
        config.queue_capacity
    );
    assert_eq!(m.outstanding as u64, held);
    assert_eq!(m.handlers[0].metrics.dropped, m.dropped);
    assert_eq!(accounted(&m), FIRES, "{m:?}");
    // At the deadline the queued jobs are counted as failed (shutdown); those the workers hold
    // stay outstanding (their requests are still out) and are reported abandoned with them.
    let report = d.shutdown().await;
    let after = d.metrics();
    let h = &after.handlers[0].metrics;
    assert_eq!(report.abandoned as u64, held);
    assert_eq!(
        h.failed(hookshot_webhook::FailReason::Shutdown) + after.outstanding as u64,
        held
    );
    assert!(after.outstanding <= 2 * config.concurrency, "{after:?}");
    assert_eq!(h.delivered + h.suppressed, 0);
    assert_eq!(accounted(&after), FIRES, "{after:?}");
}

/// The dispatcher's bounds, checked after every fire: waiting retries, held bytes and jobs.
fn within_bounds(d: &Dispatcher, config: &DispatcherConfig) -> hookshot_webhook::DispatcherMetrics {
    let m = d.metrics();
    assert!(
        m.waiting_retries <= config.max_waiting_retries,
        "{} retries waiting",
        m.waiting_retries
    );
    assert!(
        m.queued_bytes <= config.max_queued_bytes,
        "{} bytes held",
        m.queued_bytes
    );
    assert!(
        m.outstanding
            <= config.queue_capacity + 2 * config.concurrency + config.max_waiting_retries,
        "{} jobs outstanding",
        m.outstanding
    );
    m
}

#[tokio::test(start_paused = true)]
async fn a_receiver_down_with_20_attempts_keeps_retries_and_bytes_within_their_bounds() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = builder(&format!("http://127.0.0.1:{port}/down"), Method::POST)
        .retry(RetryPolicy {
            max_attempts: 20,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_millis(30_000),
        })
        .build()
        .unwrap();
    let mut routes = Routes::new();
    routes.add_api(
        "orders",
        EventType::AuthFailure,
        Arc::new(webhook(c, memory())),
    );
    let config = DispatcherConfig {
        queue_capacity: 1000,
        concurrency: 8,
        max_waiting_retries: 500,
        max_queued_bytes: 2 * 1024 * 1024,
        shutdown_grace: Duration::from_secs(1),
    };
    let d = Dispatcher::start(config.clone(), routes);
    let (mut peak_retries, mut peak_bytes) = (0, 0);
    for i in 0..100_000u32 {
        // Every 50th event is as large as a library user may make one: 64 KiB of request head.
        let mut event = auth_failure(&format!("key-{i}"));
        if i % 50 == 0
            && let EventMeta::KeyFailure(m) = &mut event.meta
        {
            m.originating_request = "A".repeat(64 * 1024);
        }
        d.fire(event.with_api(hookshot_event::ApiRef {
            id: "orders".into(),
            ..Default::default()
        }));
        let m = within_bounds(&d, &config);
        peak_retries = peak_retries.max(m.waiting_retries);
        peak_bytes = peak_bytes.max(m.queued_bytes);
        if i % 100 == 0 {
            tokio::task::yield_now().await;
        }
        if i % 5000 == 0 {
            // Idle for a (paused, so instant) while: due backoffs elapse and retries go out.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
    let m = within_bounds(&d, &config);
    let h = &m.handlers[0].metrics;
    assert_eq!(m.fired, 100_000);
    assert_eq!(h.delivered, 0);
    assert_eq!(
        peak_retries, config.max_waiting_retries,
        "the retry bound was reached"
    );
    assert!(h.failed(FailReason::RetryOverflow) > 0, "{h:?}");
    assert!(h.retried > 0, "{h:?}");
    assert!(peak_bytes > 0 && peak_bytes <= config.max_queued_bytes);
    d.shutdown().await;
    // Everything given back once the abandoned retries and running jobs end.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    loop {
        let m = d.metrics();
        if m.outstanding == 0 {
            assert_eq!((m.waiting_retries, m.queued_bytes), (0, 0));
            let h = &m.handlers[0].metrics;
            assert_eq!(h.dropped + h.failed_total(), 100_000, "{h:?}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still outstanding: {m:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn events_larger_than_the_byte_budget_allows_are_dropped_and_counted() {
    let rx = Receiver::start().await;
    rx.set_default_reply(Reply::never());
    let c = builder(&rx.url("/stuck"), Method::POST)
        .request_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut routes = Routes::new();
    routes.add_global(EventType::AuthFailure, Arc::new(webhook(c, memory())));
    let config = DispatcherConfig {
        queue_capacity: 1000,
        concurrency: 2,
        max_queued_bytes: 1024 * 1024,
        shutdown_grace: Duration::from_millis(200),
        ..DispatcherConfig::default()
    };
    let d = Dispatcher::start(config.clone(), routes);
    // 300 KB keys: three fit in the budget, whatever the queue's count would allow.
    for i in 0..20 {
        d.fire(auth_failure(&format!("{i}{}", "k".repeat(300_000))));
        within_bounds(&d, &config);
    }
    // One larger than the whole budget never gets in.
    d.fire(auth_failure(&"k".repeat(2 * 1024 * 1024)));
    let m = within_bounds(&d, &config);
    assert_eq!(m.fired, 21);
    assert_eq!(m.dropped_over_budget, 21 - 3, "{m:?}");
    assert_eq!(m.dropped, m.dropped_over_budget);
    assert!(m.queued_bytes > 900_000, "{}", m.queued_bytes);
    d.shutdown().await;
}

/// Writes `source` to a fresh file named `name` and loads it as a template.
fn template_file(name: &str, source: &str) -> hookshot_template::Result<Template> {
    let dir = std::env::temp_dir().join(format!(
        "hookshot-webhook-ct-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, source).unwrap();
    Template::from_file(&path)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[tokio::test]
async fn content_type_follows_the_template_unless_header_map_sets_one() {
    let rx = Receiver::start().await;
    let json_src = r#"{"event": "{{ Type }}"}"#;
    let cases: Vec<(&str, Template, Option<&str>, Option<&str>)> = vec![
        (
            "default template",
            Template::default_webhook(),
            None,
            Some("application/json"),
        ),
        (
            "default template, Content-Type in header_map",
            Template::default_webhook(),
            Some("text/plain; charset=utf-8"),
            Some("text/plain; charset=utf-8"),
        ),
        (
            "a .tmpl template",
            template_file("alert.tmpl", "{{ Type }} at {{ Meta.Path }}").unwrap(),
            None,
            None,
        ),
        (
            "a .json template",
            template_file("alert.json", json_src).unwrap(),
            None,
            Some("application/json"),
        ),
        (
            "a .json template with an XML Content-Type in header_map",
            template_file("alert.json", json_src).unwrap(),
            Some("application/xml"),
            Some("application/xml"),
        ),
    ];
    for (what, template, header, expected) in cases {
        let mut c = builder(&rx.url("/ct"), Method::POST);
        if let Some(h) = header {
            c = c.header("Content-Type", h);
        }
        let c = c.build().unwrap();
        let before = rx.request_count() as usize;
        let h = Instrumented::new(WebhookHandler::new(
            c,
            Arc::new(template),
            memory(),
            transport(),
        ));
        assert!(h.handle(&auth_failure("k")).await.is_delivered(), "{what}");
        let req = rx.wait_for(before + 1, WAIT).await.pop().unwrap();
        let got: Vec<_> = req.headers.get_all("content-type").iter().collect();
        match expected {
            Some(ct) => assert_eq!(got, [ct], "{what}"),
            None => assert!(got.is_empty(), "{what}: {got:?}"),
        }
    }
    // A custom template that does not exist never reaches a handler: the gateway refuses it when
    // it assembles the handlers (hookshot-gateway's
    // events::tests::a_missing_custom_template_is_refused_when_the_handlers_are_assembled).
}
