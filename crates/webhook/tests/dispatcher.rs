//! The webhook engine against real parts, under load: the dispatcher never makes `fire` wait and
//! keeps its retries, held bytes and jobs within their bounds.

mod common;

use std::sync::Arc;
use std::time::Duration;

use hookshot_config::RetryPolicy;
use hookshot_event::{EventMeta, EventType};
use hookshot_testkit::receiver::{Receiver, Reply};
use hookshot_webhook::{Dispatcher, DispatcherConfig, EventSink, FailReason, Routes};
use http::Method;

use common::*;

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
