//! The dispatcher: `fire` queues and returns at once; deliveries run with bounded concurrency.
//!
//! Events wait in a bounded queue; when it is full the event is dropped and counted (and the warning
//! is rate-limited). A worker takes each job when a delivery slot is free; a retry waiting for its
//! backoff holds no slot. Shutdown stops new events and drains what is queued up to a deadline.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use hookshot_event::{Event, EventType};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, watch};

use crate::EventSink;
use crate::handler::{EventHandler, Step};
use crate::log_gate::LogGate;
use crate::metrics::MetricsSnapshot;
use crate::outcome::{FailReason, Outcome};
use crate::routes::Routes;

/// Dispatcher settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatcherConfig {
    /// Jobs (one event at one handler) that may wait for a delivery slot; more are dropped and counted.
    pub queue_capacity: usize,
    /// Requests to receivers in flight at once; as many more jobs may be preparing (rendering,
    /// claiming their cool-down) meanwhile, so a slow cool-down store never holds a delivery slot.
    pub concurrency: usize,
    /// How long shutdown waits for queued and in-flight deliveries.
    pub shutdown_grace: Duration,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            queue_capacity: 10_000,
            concurrency: 64,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

struct Job {
    event: Arc<Event>,
    handler: Arc<dyn EventHandler>,
    fired: Instant,
}

struct Shared {
    /// Slots for preparing jobs (render, checksum, cool-down claim).
    preparing: Arc<Semaphore>,
    /// Slots for requests to receivers: the dispatcher's concurrency.
    delivering: Arc<Semaphore>,
    outstanding: AtomicUsize,
    idle: Notify,
    fired: AtomicU64,
    dropped: AtomicU64,
    closed: AtomicBool,
    abandon: watch::Sender<bool>,
    drop_log: LogGate,
}

impl Shared {
    fn job_done(&self) {
        if self.outstanding.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }
}

/// Routes fired events to their handlers and delivers them in the background.
pub struct Dispatcher {
    config: DispatcherConfig,
    queue: mpsc::Sender<Job>,
    routes: RwLock<Arc<Routes>>,
    shared: Arc<Shared>,
}

/// What a shutdown left undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Jobs still queued, in flight or waiting to retry when the deadline passed.
    pub abandoned: usize,
}

/// The dispatcher's counters at one moment.
#[derive(Debug, Clone)]
pub struct DispatcherMetrics {
    /// Jobs waiting for a delivery slot.
    pub queue_depth: usize,
    /// The queue's capacity.
    pub queue_capacity: usize,
    /// Jobs queued, running or waiting to retry.
    pub outstanding: usize,
    /// Events fired (each counted once, whatever the number of handlers).
    pub fired: u64,
    /// Jobs dropped because the queue was full or the dispatcher was shutting down.
    pub dropped: u64,
    /// Each registered handler's counters.
    pub handlers: Vec<HandlerReport>,
}

/// One registered handler's counters.
#[derive(Debug, Clone)]
pub struct HandlerReport {
    /// The API, or `None` for a global handler.
    pub api_id: Option<String>,
    /// The event type it is registered for.
    pub event: EventType,
    /// The handler's label.
    pub label: String,
    /// Its counters.
    pub metrics: MetricsSnapshot,
}

impl Dispatcher {
    /// Starts a dispatcher on the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn start(config: DispatcherConfig, routes: Routes) -> Arc<Dispatcher> {
        let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
        let (abandon, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            preparing: Arc::new(Semaphore::new(config.concurrency.max(1))),
            delivering: Arc::new(Semaphore::new(config.concurrency.max(1))),
            outstanding: AtomicUsize::new(0),
            idle: Notify::new(),
            fired: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            abandon,
            drop_log: LogGate::new(Duration::from_secs(10)),
        });
        tokio::spawn(run_queue(rx, shared.clone()));
        Arc::new(Dispatcher {
            config,
            queue: tx,
            routes: RwLock::new(Arc::new(routes)),
            shared,
        })
    }

    /// Replaces the routing table (a configuration reload); deliveries under way finish with the
    /// handlers they started with.
    pub fn set_routes(&self, routes: Routes) {
        *self.routes.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(routes);
    }

    /// The current routing table.
    pub fn routes(&self) -> Arc<Routes> {
        self.routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stops taking events and waits, up to the configured grace period, until every queued and
    /// in-flight delivery has finished; retries still waiting then are abandoned.
    pub async fn shutdown(&self) -> ShutdownReport {
        self.shared.closed.store(true, Ordering::Release);
        let deadline = tokio::time::Instant::now() + self.config.shutdown_grace;
        loop {
            let idle = self.shared.idle.notified();
            if self.shared.outstanding.load(Ordering::Acquire) == 0 {
                return ShutdownReport { abandoned: 0 };
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                let abandoned = self.shared.outstanding.load(Ordering::Acquire);
                let _ = self.shared.abandon.send(true);
                if abandoned > 0 {
                    tracing::warn!(
                        abandoned,
                        "webhook queue not drained before the shutdown deadline"
                    );
                }
                return ShutdownReport { abandoned };
            }
        }
    }

    /// Counters of the dispatcher and of every registered handler.
    pub fn metrics(&self) -> DispatcherMetrics {
        let routes = self.routes();
        DispatcherMetrics {
            queue_depth: self.queue.max_capacity() - self.queue.capacity(),
            queue_capacity: self.queue.max_capacity(),
            outstanding: self.shared.outstanding.load(Ordering::Relaxed),
            fired: self.shared.fired.load(Ordering::Relaxed),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
            handlers: routes
                .registrations()
                .iter()
                .map(|r| HandlerReport {
                    api_id: r.api_id.clone(),
                    event: r.event.clone(),
                    label: r.handler.label().to_owned(),
                    metrics: r.handler.metrics().snapshot(),
                })
                .collect(),
        }
    }

    fn drop_job(&self, handler: &dyn EventHandler, event: &Event, why: &str) {
        handler.metrics().record_dropped();
        self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        if let Some(held) = self.shared.drop_log.allow() {
            tracing::warn!(
                handler = handler.label(),
                event = %event.event_type,
                dropped_since_last = held,
                "webhook event dropped: {why}"
            );
        }
    }
}

impl EventSink for Dispatcher {
    fn fire(&self, event: Event) {
        self.shared.fired.fetch_add(1, Ordering::Relaxed);
        let routes = self.routes();
        let event = Arc::new(event);
        let fired = Instant::now();
        for handler in routes.handlers_for(&event) {
            if self.shared.closed.load(Ordering::Acquire) {
                self.drop_job(handler.as_ref(), &event, "the dispatcher is shutting down");
                continue;
            }
            self.shared.outstanding.fetch_add(1, Ordering::AcqRel);
            let job = Job {
                event: event.clone(),
                handler: handler.clone(),
                fired,
            };
            if let Err(e) = self.queue.try_send(job) {
                self.shared.job_done();
                let why = match e {
                    mpsc::error::TrySendError::Full(_) => "the queue is full",
                    mpsc::error::TrySendError::Closed(_) => "the dispatcher has stopped",
                };
                self.drop_job(handler.as_ref(), &event, why);
            }
        }
    }
}

async fn run_queue(mut rx: mpsc::Receiver<Job>, shared: Arc<Shared>) {
    while let Some(job) = rx.recv().await {
        let Ok(permit) = shared.preparing.clone().acquire_owned().await else {
            return;
        };
        tokio::spawn(run_job(job, permit, shared.clone()));
    }
}

async fn run_job(job: Job, preparing: OwnedSemaphorePermit, shared: Arc<Shared>) {
    let handler = job.handler;
    // Preparing (render, checksum, cool-down claim) takes a slot of its own, so that waiting on
    // the cool-down store never holds a delivery slot. The preparing slot is kept until a delivery
    // slot is had, so jobs taken off the queue stay bounded by twice the concurrency.
    let mut step = handler.start(&job.event).await;
    let mut preparing = Some(preparing);
    let outcome = loop {
        match step {
            Step::Done(outcome) => break outcome,
            Step::Send(pending) => {
                let Ok(permit) = shared.delivering.clone().acquire_owned().await else {
                    break Outcome::Failed {
                        reason: FailReason::Shutdown,
                        detail: "the dispatcher stopped".into(),
                        attempts: pending.attempts(),
                    };
                };
                drop(preparing.take());
                step = handler.resume(pending).await;
                drop(permit);
            }
            Step::Retry { after, pending } => {
                // A retry waiting for its backoff holds no slot.
                drop(preparing.take());
                let mut abandon = shared.abandon.subscribe();
                let abandoned = *abandon.borrow()
                    || tokio::select! {
                        _ = tokio::time::sleep(after) => false,
                        _ = abandon.wait_for(|a| *a) => true,
                    };
                if abandoned {
                    break Outcome::Failed {
                        reason: FailReason::Shutdown,
                        detail: "shut down while waiting to retry".into(),
                        attempts: pending.attempts(),
                    };
                }
                step = Step::Send(pending);
            }
        }
    };
    drop(preparing);
    let latency = outcome.is_delivered().then(|| job.fired.elapsed());
    handler.metrics().record(&outcome, latency);
    shared.job_done();
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use hookshot_event::ApiRef;

    use super::*;
    use crate::handler::Pending;
    use crate::metrics::HandlerMetrics;

    /// A handler that records what it sees; `hold` makes it wait until released.
    struct Recorder {
        label: String,
        metrics: HandlerMetrics,
        seen: Mutex<Vec<String>>,
        hold: Option<Arc<Semaphore>>,
    }

    impl Recorder {
        fn new(label: &str) -> Arc<Recorder> {
            Arc::new(Recorder {
                label: label.into(),
                metrics: HandlerMetrics::default(),
                seen: Mutex::new(Vec::new()),
                hold: None,
            })
        }

        fn holding(label: &str, gate: Arc<Semaphore>) -> Arc<Recorder> {
            Arc::new(Recorder {
                label: label.into(),
                metrics: HandlerMetrics::default(),
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
        fn metrics(&self) -> &HandlerMetrics {
            &self.metrics
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
        assert_eq!(report("global", EventType::AuthFailure).delivered, 2);
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
            },
            routes,
        );
        for _ in 0..1000 {
            d.fire(on_api(EventType::AuthFailure, "orders"));
        }
        let m = d.metrics();
        assert_eq!(m.fired, 1000);
        // At most 10 queued, 2 taken by workers, 1 held by the queue loop waiting for a slot.
        assert!(m.dropped >= 1000 - 13, "dropped {}", m.dropped);
        assert_eq!(m.dropped, m.handlers[0].metrics.dropped);
        gate.add_permits(1000);
        d.shutdown().await;
        assert_eq!(stuck.seen().len() as u64 + d.metrics().dropped, 1000);
    }

    #[tokio::test]
    async fn shutdown_drains_the_queue_then_refuses_new_events() {
        let gate = Arc::new(Semaphore::new(0));
        let slow = Recorder::holding("slow", gate.clone());
        let mut routes = Routes::new();
        routes.add_global(EventType::HostDown, slow.clone());
        let d = Dispatcher::start(
            DispatcherConfig {
                queue_capacity: 100,
                concurrency: 1,
                shutdown_grace: Duration::from_secs(10),
            },
            routes,
        );
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
        let mut routes = Routes::new();
        routes.add_global(EventType::HostDown, stuck);
        let d = Dispatcher::start(
            DispatcherConfig {
                queue_capacity: 100,
                concurrency: 4,
                shutdown_grace: Duration::from_millis(100),
            },
            routes,
        );
        for _ in 0..3 {
            d.fire(Event::sample(&EventType::HostDown));
        }
        assert_eq!(d.shutdown().await, ShutdownReport { abandoned: 3 });
    }

    fn pending() -> Pending {
        Pending {
            request: Arc::new(crate::webhook::PreparedRequest {
                request: hookshot_transport::WebhookRequest {
                    method: http::Method::POST,
                    url: "http://x/".parse().unwrap(),
                    headers: Default::default(),
                    body: Default::default(),
                    timeout: None,
                },
                body: Default::default(),
                webhook_id: "msg_1".into(),
            }),
            attempts: 0,
        }
    }

    /// Prepares at once; every send waits on `gate`.
    struct StuckSender {
        metrics: HandlerMetrics,
        gate: Semaphore,
    }

    #[async_trait]
    impl EventHandler for StuckSender {
        fn label(&self) -> &str {
            "stuck-sender"
        }
        fn metrics(&self) -> &HandlerMetrics {
            &self.metrics
        }
        async fn start(&self, _: &Event) -> Step {
            Step::Send(pending())
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
            metrics: HandlerMetrics::default(),
            gate: Semaphore::new(0),
        });
        let mut routes = Routes::new();
        routes.add_global(EventType::HostDown, stuck.clone());
        let d = Dispatcher::start(
            DispatcherConfig {
                queue_capacity: 10,
                concurrency: 2,
                shutdown_grace: Duration::from_millis(100),
            },
            routes,
        );
        for _ in 0..1000 {
            d.fire(Event::sample(&EventType::HostDown));
            tokio::task::yield_now().await;
        }
        // 10 queued, 2 sending, 2 prepared and waiting for a slot, 1 taken by the queue loop.
        let m = d.metrics();
        assert!(m.outstanding <= 15, "outstanding {}", m.outstanding);
        assert_eq!(m.dropped + m.outstanding as u64, 1000);
        stuck.gate.add_permits(1000);
        d.shutdown().await;
    }

    /// Fails once with a long backoff, then succeeds.
    struct SlowRetry {
        metrics: HandlerMetrics,
        attempts: Mutex<u32>,
    }

    #[async_trait]
    impl EventHandler for SlowRetry {
        fn label(&self) -> &str {
            "slow-retry"
        }
        fn metrics(&self) -> &HandlerMetrics {
            &self.metrics
        }
        async fn start(&self, _: &Event) -> Step {
            *self.attempts.lock().unwrap() += 1;
            Step::Retry {
                after: Duration::from_millis(300),
                pending: Pending {
                    attempts: 1,
                    ..pending()
                },
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
    async fn a_waiting_retry_holds_no_delivery_slot() {
        let retrying = Arc::new(SlowRetry {
            metrics: HandlerMetrics::default(),
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
            },
            routes,
        );
        d.fire(Event::sample(&EventType::HostDown));
        until("the first attempt", || {
            *retrying.attempts.lock().unwrap() == 1
        })
        .await;
        d.fire(Event::sample(&EventType::HostUp));
        // With the only slot free while the retry waits, the other event is delivered first.
        until("the quick delivery", || quick.seen().len() == 1).await;
        assert_eq!(*retrying.attempts.lock().unwrap(), 1);
        d.shutdown().await;
        assert_eq!(*retrying.attempts.lock().unwrap(), 2);
    }
}
