//! The dispatcher's unit tests: routing, bounds, shutdown, panics and retries.

use std::sync::Mutex;

use async_trait::async_trait;
use hookshot_core::{EventHandler, Pending, Step};
use hookshot_event::ApiRef;

use super::state::{HeldEvent, Job};
use super::worker::retry;
use super::*;

/// A handler that records what it sees; `hold` makes it wait until released.
struct Recorder {
    label: String,
    seen: Mutex<Vec<String>>,
    hold: Option<Arc<Semaphore>>,
}

impl Recorder {
    fn new(label: &str) -> Arc<Recorder> {
        Arc::new(Recorder {
            label: label.into(),
            seen: Mutex::new(Vec::new()),
            hold: None,
        })
    }

    fn holding(label: &str, gate: Arc<Semaphore>) -> Arc<Recorder> {
        Arc::new(Recorder {
            label: label.into(),
            seen: Mutex::new(Vec::new()),
            hold: Some(gate),
        })
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

#[async_trait]
impl EventHandler for Recorder {
    fn label(&self) -> &str {
        &self.label
    }
    async fn start(&self, event: &Event) -> Step {
        if let Some(gate) = &self.hold {
            let _ = gate.acquire().await.unwrap();
        }
        let api = event.api.as_ref().map_or("-", |a| a.id.as_str());
        self.seen
            .lock()
            .unwrap()
            .push(format!("{api}:{}", event.event_type));
        Step::Done(Outcome::Delivered {
            status: 200,
            attempts: 1,
        })
    }
    async fn resume(&self, _: Pending) -> Step {
        unreachable!()
    }
}

fn on_api(t: EventType, api: &str) -> Event {
    Event::sample(&t).with_api(ApiRef {
        id: api.into(),
        ..ApiRef::default()
    })
}

async fn until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A dispatcher with one global handler, for `HostDown`.
fn on_host_down(
    handler: Arc<dyn EventHandler>,
    queue_capacity: usize,
    concurrency: usize,
    shutdown_grace: Duration,
) -> Arc<Dispatcher> {
    let mut routes = Routes::new();
    routes.add_global(EventType::HostDown, handler);
    Dispatcher::start(
        DispatcherConfig {
            queue_capacity,
            concurrency,
            shutdown_grace,
            ..DispatcherConfig::default()
        },
        routes,
    )
}

#[tokio::test]
async fn routes_to_the_api_and_global_handlers_of_the_event_type() {
    let orders = Recorder::new("orders");
    let billing = Recorder::new("billing");
    let global = Recorder::new("global");
    let mut routes = Routes::new();
    routes.add_api("orders", EventType::AuthFailure, orders.clone());
    routes.add_api("billing", EventType::AuthFailure, billing.clone());
    routes.add_global(EventType::AuthFailure, global.clone());
    routes.add_global(EventType::TokenCreated, global.clone());
    let d = Dispatcher::start(DispatcherConfig::default(), routes);
    d.fire(on_api(EventType::AuthFailure, "orders"));
    d.fire(on_api(EventType::KeyExpired, "orders"));
    let mut token = Event::sample(&EventType::TokenCreated);
    token.api = None;
    d.fire(token);
    until("three deliveries", || global.seen().len() == 2).await;
    assert_eq!(d.shutdown().await, ShutdownReport { abandoned: 0 });
    assert_eq!(orders.seen(), ["orders:AuthFailure"]);
    assert!(billing.seen().is_empty());
    assert_eq!(global.seen(), ["orders:AuthFailure", "-:TokenCreated"]);
    let m = d.metrics();
    assert_eq!(m.fired, 3);
    let report = |label: &str, event: EventType| {
        m.handlers
            .iter()
            .find(|h| h.label == label && h.event == event)
            .unwrap()
            .metrics
            .clone()
    };
    assert_eq!(report("orders", EventType::AuthFailure).delivered, 1);
    // One handler registered twice: each registration counts its own events.
    assert_eq!(report("global", EventType::AuthFailure).delivered, 1);
    assert_eq!(report("global", EventType::TokenCreated).delivered, 1);
    assert_eq!(report("orders", EventType::AuthFailure).latency_count, 1);
}

#[tokio::test]
async fn a_full_queue_drops_and_counts_without_waiting() {
    let gate = Arc::new(Semaphore::new(0));
    let stuck = Recorder::holding("stuck", gate.clone());
    let mut routes = Routes::new();
    routes.add_api("orders", EventType::AuthFailure, stuck.clone());
    let d = Dispatcher::start(
        DispatcherConfig {
            queue_capacity: 10,
            concurrency: 2,
            shutdown_grace: Duration::from_secs(5),
            ..DispatcherConfig::default()
        },
        routes,
    );
    for _ in 0..1000 {
        d.fire(on_api(EventType::AuthFailure, "orders"));
    }
    let m = d.metrics();
    assert_eq!(m.fired, 1000);
    // At most 10 queued and 4 taken by the workers (twice the concurrency).
    assert!(m.dropped >= 1000 - 14, "dropped {}", m.dropped);
    assert_eq!(m.dropped, m.handlers[0].metrics.dropped);
    gate.add_permits(1000);
    d.shutdown().await;
    assert_eq!(stuck.seen().len() as u64 + d.metrics().dropped, 1000);
}

#[tokio::test]
async fn shutdown_drains_the_queue_then_refuses_new_events() {
    let gate = Arc::new(Semaphore::new(0));
    let slow = Recorder::holding("slow", gate.clone());
    let d = on_host_down(slow.clone(), 100, 1, Duration::from_secs(10));
    for _ in 0..20 {
        d.fire(Event::sample(&EventType::HostDown));
    }
    let drain = tokio::spawn({
        let d = d.clone();
        async move { d.shutdown().await }
    });
    gate.add_permits(100);
    assert_eq!(drain.await.unwrap(), ShutdownReport { abandoned: 0 });
    assert_eq!(slow.seen().len(), 20);
    d.fire(Event::sample(&EventType::HostDown));
    assert_eq!(d.metrics().dropped, 1);
}

#[tokio::test]
async fn shutdown_gives_up_at_its_deadline() {
    let stuck = Recorder::holding("stuck", Arc::new(Semaphore::new(0)));
    let d = on_host_down(stuck, 100, 4, Duration::from_millis(100));
    for _ in 0..3 {
        d.fire(Event::sample(&EventType::HostDown));
    }
    assert_eq!(d.shutdown().await, ShutdownReport { abandoned: 3 });
}

#[tokio::test]
async fn jobs_still_queued_at_the_deadline_are_not_started_and_counted() {
    let gate = Arc::new(Semaphore::new(0));
    let stuck = Recorder::holding("stuck", gate.clone());
    let d = on_host_down(stuck.clone(), 100, 1, Duration::from_millis(100));
    for _ in 0..5 {
        d.fire(Event::sample(&EventType::HostDown));
    }
    // Two workers (twice the concurrency) hold a job each; three wait in the queue.
    until("both workers busy", || d.metrics().queue_depth == 3).await;
    assert_eq!(d.shutdown().await, ShutdownReport { abandoned: 5 });
    let m = d.metrics();
    assert_eq!(m.queue_depth, 0);
    assert_eq!(m.handlers[0].metrics.failed(FailReason::Shutdown), 3);
    // Released, the two running jobs finish; nothing else starts.
    gate.add_permits(100);
    until("the running jobs", || stuck.seen().len() == 2).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(stuck.seen().len(), 2);
    assert_eq!(d.metrics().outstanding, 0);
}

#[tokio::test]
async fn a_dropped_dispatcher_still_delivers_what_it_queued() {
    let gate = Arc::new(Semaphore::new(0));
    let slow = Recorder::holding("slow", gate.clone());
    let d = on_host_down(slow.clone(), 100, 1, Duration::from_secs(5));
    for _ in 0..10 {
        d.fire(Event::sample(&EventType::HostDown));
    }
    drop(d);
    gate.add_permits(100);
    until("every queued job", || slow.seen().len() == 10).await;
}

/// Panics on every event.
struct Panicky;

#[async_trait]
impl EventHandler for Panicky {
    fn label(&self) -> &str {
        "panicky"
    }
    async fn start(&self, _: &Event) -> Step {
        panic!("a handler bug");
    }
    async fn resume(&self, _: Pending) -> Step {
        unreachable!()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_counted_and_the_workers_carry_on() {
    let panicky = Arc::new(Panicky);
    let quick = Recorder::new("quick");
    let mut routes = Routes::new();
    routes.add_global(EventType::HostDown, panicky.clone());
    routes.add_global(EventType::HostUp, quick.clone());
    let d = Dispatcher::start(
        DispatcherConfig {
            queue_capacity: 100,
            concurrency: 1,
            shutdown_grace: Duration::from_secs(10),
            ..DispatcherConfig::default()
        },
        routes,
    );
    // Ten panics, five times the two workers the pool has.
    for _ in 0..10 {
        d.fire(Event::sample(&EventType::HostDown));
    }
    until("ten failures", || {
        d.metrics().handlers[0].metrics.failed(FailReason::Other) == 10
    })
    .await;
    d.fire(Event::sample(&EventType::HostUp));
    until("the next delivery", || quick.seen().len() == 1).await;
    assert_eq!(d.shutdown().await, ShutdownReport { abandoned: 0 });
    assert_eq!(d.metrics().outstanding, 0);
}

/// A delivery of a small request, as a webhook's waiting retry holds it.
fn pending(attempts: u32) -> Pending {
    Pending::new("request", attempts, 200)
}

/// Prepares at once; every send waits on `gate`.
struct StuckSender {
    gate: Semaphore,
}

#[async_trait]
impl EventHandler for StuckSender {
    fn label(&self) -> &str {
        "stuck-sender"
    }
    async fn start(&self, _: &Event) -> Step {
        Step::Send(pending(0))
    }
    async fn resume(&self, _: Pending) -> Step {
        let _ = self.gate.acquire().await.unwrap();
        Step::Done(Outcome::Delivered {
            status: 200,
            attempts: 1,
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_jobs_waiting_for_a_slot_stay_bounded() {
    let stuck = Arc::new(StuckSender {
        gate: Semaphore::new(0),
    });
    let d = on_host_down(stuck.clone(), 10, 2, Duration::from_millis(100));
    for _ in 0..1000 {
        d.fire(Event::sample(&EventType::HostDown));
        tokio::task::yield_now().await;
    }
    // 10 queued, and 4 workers: 2 sending, 2 prepared and waiting for a slot.
    let m = d.metrics();
    assert!(m.outstanding <= 14, "outstanding {}", m.outstanding);
    assert_eq!(m.dropped + m.outstanding as u64, 1000);
    stuck.gate.add_permits(1000);
    d.shutdown().await;
}

/// Fails once with a long backoff, then succeeds.
struct SlowRetry {
    attempts: Mutex<u32>,
}

#[async_trait]
impl EventHandler for SlowRetry {
    fn label(&self) -> &str {
        "slow-retry"
    }
    async fn start(&self, _: &Event) -> Step {
        *self.attempts.lock().unwrap() += 1;
        Step::Retry {
            after: Duration::from_millis(300),
            pending: pending(1),
        }
    }
    async fn resume(&self, _: Pending) -> Step {
        *self.attempts.lock().unwrap() += 1;
        Step::Done(Outcome::Delivered {
            status: 200,
            attempts: 2,
        })
    }
}

#[tokio::test]
async fn retries_beyond_the_bound_are_not_made_and_count_as_failed() {
    let retrying = Arc::new(SlowRetry {
        attempts: Mutex::new(0),
    });
    let mut routes = Routes::new();
    routes.add_global(EventType::HostDown, retrying.clone());
    let d = Dispatcher::start(
        DispatcherConfig {
            max_waiting_retries: 2,
            shutdown_grace: Duration::from_secs(10),
            ..DispatcherConfig::default()
        },
        routes,
    );
    for _ in 0..5 {
        d.fire(Event::sample(&EventType::HostDown));
    }
    until("the first attempts", || {
        *retrying.attempts.lock().unwrap() == 5
    })
    .await;
    let m = d.metrics();
    assert_eq!(m.waiting_retries, 2);
    assert_eq!(m.handlers[0].metrics.failed(FailReason::RetryOverflow), 3);
    let allowance = 2 * RETRY_ALLOWANCE;
    assert!(m.queued_bytes > allowance, "{}", m.queued_bytes);
    d.shutdown().await;
    let m = d.metrics();
    assert_eq!(m.handlers[0].metrics.delivered, 2);
    assert_eq!((m.waiting_retries, m.queued_bytes), (0, 0));
}

#[tokio::test]
async fn the_retry_allowance_covers_a_waiting_retry_task() {
    let d = on_host_down(Recorder::new("r"), 10, 1, Duration::from_secs(1));
    let job = Job {
        event: Arc::new(HeldEvent {
            event: Event::sample(&EventType::HostDown),
            bytes: 0,
            budget: d.shared.budget.clone(),
        }),
        handler: Recorder::new("r"),
        metrics: Arc::default(),
        fired: Instant::now(),
    };
    let slot = d.shared.retry_slot(0).unwrap();
    let task = retry(job, Duration::from_secs(1), pending(0), slot);
    // Besides the future: tokio's task header and the timer entry of its sleep.
    let size = std::mem::size_of_val(&task);
    assert!(
        size + 256 <= RETRY_ALLOWANCE,
        "a retry task takes {size} bytes"
    );
}

#[tokio::test]
async fn a_waiting_retry_holds_no_worker_and_no_delivery_slot() {
    let retrying = Arc::new(SlowRetry {
        attempts: Mutex::new(0),
    });
    let quick = Recorder::new("quick");
    let mut routes = Routes::new();
    routes.add_global(EventType::HostDown, retrying.clone());
    routes.add_global(EventType::HostUp, quick.clone());
    let d = Dispatcher::start(
        DispatcherConfig {
            queue_capacity: 100,
            concurrency: 1,
            shutdown_grace: Duration::from_secs(10),
            ..DispatcherConfig::default()
        },
        routes,
    );
    // Three events for the two workers: the third starts only if the first retries let their
    // workers go.
    for _ in 0..3 {
        d.fire(Event::sample(&EventType::HostDown));
    }
    until("the first attempts", || {
        *retrying.attempts.lock().unwrap() == 3
    })
    .await;
    d.fire(Event::sample(&EventType::HostUp));
    // With the only slot free while the retries wait, the other event is delivered first.
    until("the quick delivery", || quick.seen().len() == 1).await;
    assert_eq!(*retrying.attempts.lock().unwrap(), 3);
    d.shutdown().await;
    assert_eq!(*retrying.attempts.lock().unwrap(), 6);
}
