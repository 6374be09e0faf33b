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
mod state;
#[cfg(test)]
mod tests;
mod worker;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use hookshot_core::{Event, EventSink, EventType, FailReason, Outcome};
use tokio::sync::{Notify, Semaphore, watch};

use crate::log_gate::LogGate;
use crate::metrics::MetricsSnapshot;
use crate::routes::{Route, Routes};
use state::{Budget, HeldEvent, Job, Queue, Shared};
use worker::{done, work};

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
