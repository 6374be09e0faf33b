//! The dispatcher: `fire` queues and returns at once; deliveries run with bounded concurrency.
//!
//! Events wait in a bounded queue; when it is full the event is dropped and counted (and the warning
//! is rate-limited). A fixed pool of workers, started with the dispatcher, takes jobs off the queue:
//! twice the concurrency, so that as many jobs may be preparing (rendering, claiming their
//! cool-down) as are being sent, and a slow cool-down store never holds a delivery slot. A retry
//! waiting for its backoff leaves the pool and holds no slot. Shutdown stops new events and drains
//! what is queued up to a deadline.
//!
//! What the dispatcher holds is bounded (see [`DispatcherConfig`]): at most `queue_capacity` jobs
//! wait for a worker, at most `max_waiting_retries` retries wait for their backoff, and the events
//! held anywhere (queued, being worked on, waiting to retry; each counted once however many
//! handlers it goes to, by [`Event::estimated_size`]) together with the requests of waiting
//! retries stay within `max_queued_bytes`. An event that would pass the byte budget is dropped and
//! counted; a retry past either retry bound is not made, and its event counts as failed
//! ([`FailReason::RetryOverflow`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use hookshot_core::{
    Event, EventHandler, EventSink, EventType, FailReason, Outcome, Pending, Step,
};
use tokio::sync::{Notify, Semaphore, watch};

use crate::log_gate::LogGate;
use crate::metrics::{HandlerMetrics, MetricsSnapshot};
use crate::routes::{Route, Routes};

/// Dispatcher settings.
///
/// The memory a dispatcher holds for deliveries is at most `max_queued_bytes` (events and the
/// requests of waiting retries, estimated) + `queue_capacity` × about 40 bytes (a queued job) +
/// `2 × concurrency` requests being rendered or sent (each as large as its renderer makes it).
/// With the defaults: 64 MiB + 0.4 MB + 128 requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatcherConfig {
    /// Jobs (one event at one handler) that may wait for a worker; more are dropped and counted.
    pub queue_capacity: usize,
    /// Retries that may wait for their backoff at once (each a task holding its request); a retry
    /// beyond it is not made and its event counts as failed (`retry_overflow`). The default is
    /// the default `queue_capacity`; 0 makes no retry at all.
    pub max_waiting_retries: usize,
    /// Bytes of events (queued, being worked on or waiting to retry, estimated by
    /// [`Event::estimated_size`] and counted once per event) and of the requests of waiting
    /// retries (body, headers, URL and [`RETRY_ALLOWANCE`]) the dispatcher may hold at once. An
    /// event that would pass it is dropped and counted; a retry that would is not made and counts
    /// as failed (`retry_overflow`). Default 64 MiB.
    pub max_queued_bytes: usize,
    /// Requests to receivers in flight at once; as many more jobs may be preparing (rendering,
    /// claiming their cool-down) meanwhile, so a slow cool-down store never holds a delivery slot.
    /// The dispatcher keeps twice this many worker tasks for as long as it runs.
    pub concurrency: usize,
    /// How long shutdown waits for queued and in-flight deliveries.
    pub shutdown_grace: Duration,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            queue_capacity: 10_000,
            max_waiting_retries: 10_000,
            max_queued_bytes: 64 * 1024 * 1024,
            concurrency: 64,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// What a waiting retry is charged beside its request, for its task, its timer and its job.
pub const RETRY_ALLOWANCE: usize = 1024;

/// A count the dispatcher keeps within a limit: the bytes of events and of waiting retries'
/// requests, and the number of waiting retries.
struct Budget {
    used: AtomicUsize,
    limit: usize,
}

impl Budget {
    /// Takes `n` if it fits within the limit.
    fn take(&self, n: usize) -> bool {
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            let Some(next) = used.checked_add(n).filter(|&next| next <= self.limit) else {
                return false;
            };
            match self
                .used
                .compare_exchange_weak(used, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => used = now,
            }
        }
    }

    fn give_back(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }
}

/// An event the dispatcher holds, charged to the budget until the last job of it is done.
struct HeldEvent {
    event: Event,
    bytes: usize,
    budget: Arc<Budget>,
}

impl Drop for HeldEvent {
    fn drop(&mut self) {
        self.budget.give_back(self.bytes);
    }
}

struct Job {
    event: Arc<HeldEvent>,
    handler: Arc<dyn EventHandler>,
    /// The counters of the registration the job came from.
    metrics: Arc<HandlerMetrics>,
    fired: Instant,
}

/// A retry's place among the waiting ones and its bytes, given back when its task ends.
struct RetrySlot {
    shared: Arc<Shared>,
    bytes: usize,
}

impl Drop for RetrySlot {
    fn drop(&mut self) {
        self.shared.waiting_retries.give_back(1);
        self.shared.budget.give_back(self.bytes);
    }
}

/// The jobs waiting for a worker.
struct Queue {
    jobs: VecDeque<Job>,
    capacity: usize,
    /// No more jobs will come (the dispatcher was shut down or dropped): the workers stop once the
    /// queue is empty.
    finished: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    /// One permit per queued job; closed when the workers are to stop.
    queued: Semaphore,
    /// Slots for requests to receivers: the dispatcher's concurrency.
    delivering: Semaphore,
    outstanding: AtomicUsize,
    idle: Notify,
    fired: AtomicU64,
    dropped: AtomicU64,
    /// Jobs dropped because their event would have passed the byte budget.
    over_budget: AtomicU64,
    budget: Arc<Budget>,
    /// Retries waiting for their backoff, within `max_waiting_retries`.
    waiting_retries: Budget,
    closed: AtomicBool,
    abandon: watch::Sender<bool>,
    drop_log: LogGate,
    panic_log: LogGate,
}

impl Shared {
    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `job`, or gives it back when the queue is full.
    fn push(&self, job: Job) -> Result<(), Job> {
        {
            let mut q = self.queue();
            if q.finished || q.jobs.len() >= q.capacity {
                return Err(job);
            }
            q.jobs.push_back(job);
        }
        self.queued.add_permits(1);
        Ok(())
    }

    /// Takes the next job, for a worker that holds one of `queued`'s permits.
    fn pop(&self) -> Option<Job> {
        let mut q = self.queue();
        let job = q.jobs.pop_front();
        if q.finished && q.jobs.is_empty() {
            self.queued.close();
        }
        job
    }

    /// No more jobs will be queued: the workers stop once the queue is empty.
    fn finish(&self) {
        let mut q = self.queue();
        q.finished = true;
        if q.jobs.is_empty() {
            self.queued.close();
        }
    }

    /// A place among the waiting retries for a request of `request_bytes`, or why there is none.
    fn retry_slot(self: &Arc<Self>, request_bytes: usize) -> Result<RetrySlot, &'static str> {
        if !self.waiting_retries.take(1) {
            return Err("too many retries are waiting (max_waiting_retries)");
        }
        let bytes = request_bytes.saturating_add(RETRY_ALLOWANCE);
        if !self.budget.take(bytes) {
            self.waiting_retries.give_back(1);
            return Err("its request would pass the byte budget (max_queued_bytes)");
        }
        Ok(RetrySlot {
            shared: self.clone(),
            bytes,
        })
    }

    fn job_done(&self) {
        if self.outstanding.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }
}

/// Routes fired events to their handlers and delivers them in the background.
pub struct Dispatcher {
    config: DispatcherConfig,
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
    /// Retries waiting for their backoff (or making their next attempt).
    pub waiting_retries: usize,
    /// The most retries that may wait at once.
    pub max_waiting_retries: usize,
    /// Estimated bytes of the events held and of the requests of waiting retries.
    pub queued_bytes: usize,
    /// The byte budget `queued_bytes` stays within.
    pub max_queued_bytes: usize,
    /// Jobs dropped because their event would have passed the byte budget (counted in `dropped`
    /// too).
    pub dropped_over_budget: u64,
    /// Jobs queued, running or waiting to retry.
    pub outstanding: usize,
    /// Events fired (each counted once, whatever the number of handlers).
    pub fired: u64,
    /// Jobs dropped because the queue was full, the byte budget was spent or the dispatcher was
    /// shutting down.
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
    /// Starts a dispatcher and its workers on the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn start(config: DispatcherConfig, routes: Routes) -> Arc<Dispatcher> {
        let concurrency = config.concurrency.max(1);
        let (abandon, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                capacity: config.queue_capacity.max(1),
                finished: false,
            }),
            queued: Semaphore::new(0),
            delivering: Semaphore::new(concurrency),
            outstanding: AtomicUsize::new(0),
            idle: Notify::new(),
            fired: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            over_budget: AtomicU64::new(0),
            budget: Arc::new(Budget {
                used: AtomicUsize::new(0),
                limit: config.max_queued_bytes,
            }),
            waiting_retries: Budget {
                used: AtomicUsize::new(0),
                limit: config.max_waiting_retries,
            },
            closed: AtomicBool::new(false),
            abandon,
            drop_log: LogGate::new(Duration::from_secs(10)),
            panic_log: LogGate::new(Duration::from_secs(10)),
        });
        for _ in 0..2 * concurrency {
            tokio::spawn(work(shared.clone()));
        }
        Arc::new(Dispatcher {
            config,
            routes: RwLock::new(Arc::new(routes)),
            shared,
        })
    }

    /// Replaces the routing table (a configuration reload); deliveries under way finish with the
    /// handlers they started with.
    pub fn set_routes(&self, routes: Routes) {
        *self.routes.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(routes);
    }

    /// The current routing table.
    pub fn routes(&self) -> Arc<Routes> {
        self.routes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops taking events and waits, up to the configured grace period, until every queued and
    /// in-flight delivery has finished. At the deadline, jobs still queued are not started, and
    /// retries waiting for their backoff are abandoned; both are counted as failed (`shutdown`).
    pub async fn shutdown(&self) -> ShutdownReport {
        let shared = &self.shared;
        shared.closed.store(true, Ordering::Release);
        let deadline = tokio::time::Instant::now() + self.config.shutdown_grace;
        let report = loop {
            let idle = shared.idle.notified();
            if shared.outstanding.load(Ordering::Acquire) == 0 {
                break ShutdownReport { abandoned: 0 };
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                let abandoned = shared.outstanding.load(Ordering::Acquire);
                let _ = shared.abandon.send(true);
                let unstarted: Vec<Job> = shared.queue().jobs.drain(..).collect();
                for job in unstarted {
                    let outcome = Outcome::Failed {
                        reason: FailReason::Shutdown,
                        detail: "shut down before it was sent".into(),
                        attempts: 0,
                    };
                    done(&job, &outcome, shared);
                }
                if abandoned > 0 {
                    tracing::warn!(
                        abandoned,
                        "webhook queue not drained before the shutdown deadline"
                    );
                }
                break ShutdownReport { abandoned };
            }
        };
        shared.finish();
        report
    }

    /// Counters of the dispatcher and of every registered handler.
    pub fn metrics(&self) -> DispatcherMetrics {
        let routes = self.routes();
        let shared = &self.shared;
        DispatcherMetrics {
            queue_depth: shared.queue().jobs.len(),
            queue_capacity: self.config.queue_capacity.max(1),
            waiting_retries: shared.waiting_retries.used.load(Ordering::Relaxed),
            max_waiting_retries: shared.waiting_retries.limit,
            queued_bytes: shared.budget.used.load(Ordering::Relaxed),
            max_queued_bytes: shared.budget.limit,
            dropped_over_budget: shared.over_budget.load(Ordering::Relaxed),
            outstanding: shared.outstanding.load(Ordering::Relaxed),
            fired: shared.fired.load(Ordering::Relaxed),
            dropped: shared.dropped.load(Ordering::Relaxed),
            handlers: routes
                .registrations()
                .iter()
                .map(|r| HandlerReport {
                    api_id: r.api_id.clone(),
                    event: r.event.clone(),
                    label: r.handler.label().to_owned(),
                    metrics: r.metrics.snapshot(),
                })
                .collect(),
        }
    }

    fn drop_job(&self, route: &Route, event: &Event, why: &str) {
        route.metrics.record_dropped();
        self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        if let Some(held) = self.shared.drop_log.allow() {
            tracing::warn!(
                handler = route.handler.label(),
                event = %event.event_type,
                dropped_since_last = held,
                "webhook event dropped: {why}"
            );
        }
    }
}

impl Drop for Dispatcher {
    /// The workers deliver what is queued, then stop.
    fn drop(&mut self) {
        self.shared.finish();
    }
}

impl EventSink for Dispatcher {
    fn fire(&self, event: Event) {
        self.shared.fired.fetch_add(1, Ordering::Relaxed);
        let routes = self.routes();
        if routes.routes_for(&event).next().is_none() {
            return;
        }
        let bytes = event.estimated_size();
        if !self.shared.budget.take(bytes) {
            for route in routes.routes_for(&event) {
                self.shared.over_budget.fetch_add(1, Ordering::Relaxed);
                self.drop_job(
                    route,
                    &event,
                    "its event would pass the byte budget (max_queued_bytes)",
                );
            }
            return;
        }
        let event = Arc::new(HeldEvent {
            event,
            bytes,
            budget: self.shared.budget.clone(),
        });
        let fired = Instant::now();
        for route in routes.routes_for(&event.event) {
            if self.shared.closed.load(Ordering::Acquire) {
                self.drop_job(route, &event.event, "the dispatcher is shutting down");
                continue;
            }
            self.shared.outstanding.fetch_add(1, Ordering::AcqRel);
            let job = Job {
                event: event.clone(),
                handler: route.handler.clone(),
                metrics: route.metrics.clone(),
                fired,
            };
            if self.shared.push(job).is_err() {
                self.shared.job_done();
                self.drop_job(route, &event.event, "the queue is full");
            }
        }
    }
}

/// One worker: takes jobs off the queue until the queue is finished and empty.
async fn work(shared: Arc<Shared>) {
    let _respawn = Respawn(shared.clone());
    loop {
        match shared.queued.acquire().await {
            Ok(permit) => permit.forget(),
            Err(_) => return,
        }
        // The queue may have been emptied by a shutdown past its deadline.
        if let Some(job) = shared.pop() {
            run_job(job, &shared).await;
        }
    }
}

/// Puts a new worker in the place of one whose handler panicked, so the pool keeps its size.
struct Respawn(Arc<Shared>);

impl Drop for Respawn {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(work(self.0.clone()));
        }
    }
}

/// Counts the job as failed if its handler panics, so that no job is lost from the counts and
/// shutdown does not wait for it.
struct PanicGuard<'a> {
    job: &'a Job,
    shared: &'a Shared,
}

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        if let Some(held) = self.shared.panic_log.allow() {
            tracing::error!(
                handler = self.job.handler.label(),
                event = %self.job.event.event.event_type,
                panics_not_logged = held,
                "webhook handler panicked; the event is counted as failed"
            );
        }
        let outcome = Outcome::Failed {
            reason: FailReason::Other,
            detail: "the handler panicked".into(),
            attempts: 0,
        };
        done(self.job, &outcome, self.shared);
    }
}

async fn run_job(job: Job, shared: &Arc<Shared>) {
    let guard = PanicGuard { job: &job, shared };
    let step = job.handler.start(&job.event.event).await;
    let next = advance(&job, step, shared).await;
    drop(guard);
    match next {
        Ok(outcome) => done(&job, &outcome, shared),
        // A retry waiting for its backoff leaves the worker free, within the retry bounds.
        Err((after, pending)) => match shared.retry_slot(pending.estimated_bytes()) {
            Ok(slot) => {
                tokio::spawn(retry(job, after, pending, slot));
            }
            Err(why) => {
                if let Some(held) = shared.drop_log.allow() {
                    tracing::warn!(
                        handler = job.handler.label(),
                        event = %job.event.event.event_type,
                        dropped_since_last = held,
                        "webhook retry not made: {why}"
                    );
                }
                let outcome = Outcome::Failed {
                    reason: FailReason::RetryOverflow,
                    detail: format!("retry not made: {why}"),
                    attempts: pending.attempts(),
                };
                done(&job, &outcome, shared);
            }
        },
    }
}

/// Sends as long as the handler asks to, each send holding a delivery slot; a retry is counted and
/// handed back with its backoff.
async fn advance(
    job: &Job,
    mut step: Step,
    shared: &Shared,
) -> Result<Outcome, (Duration, Pending)> {
    loop {
        match step {
            Step::Done(outcome) => return Ok(outcome),
            Step::Retry { after, pending } => {
                job.metrics.record_retry();
                return Err((after, pending));
            }
            Step::Send(pending) => {
                let Ok(_slot) = shared.delivering.acquire().await else {
                    return Ok(Outcome::Failed {
                        reason: FailReason::Shutdown,
                        detail: "the dispatcher stopped".into(),
                        attempts: pending.attempts(),
                    });
                };
                step = job.handler.resume(pending).await;
            }
        }
    }
}

/// Waits out each backoff, holding no slot, and sends again until the handler is done; `slot` is
/// its place among the waiting retries, given back when it ends.
async fn retry(job: Job, mut after: Duration, mut pending: Pending, slot: RetrySlot) {
    let shared = slot.shared.clone();
    let mut abandon = shared.abandon.subscribe();
    let guard = PanicGuard {
        job: &job,
        shared: &shared,
    };
    let outcome = loop {
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
        match advance(&job, Step::Send(pending), &shared).await {
            Ok(outcome) => break outcome,
            Err((next, again)) => (after, pending) = (next, again),
        }
    };
    drop(guard);
    // The slot goes back before the job counts as done, so that an idle dispatcher holds none.
    drop(slot);
    done(&job, &outcome, &shared);
}

fn done(job: &Job, outcome: &Outcome, shared: &Shared) {
    let latency = outcome.is_delivered().then(|| job.fired.elapsed());
    job.metrics.record(outcome, latency);
    shared.job_done();
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use hookshot_event::ApiRef;

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
}
