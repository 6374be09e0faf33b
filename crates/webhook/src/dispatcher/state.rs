//! What the dispatcher's workers share: the queue, the byte and retry budgets, the counters.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use hookshot_core::{Event, EventHandler};
use tokio::sync::{Notify, Semaphore, watch};

use super::RETRY_ALLOWANCE;
use crate::log_gate::LogGate;
use crate::metrics::HandlerMetrics;

/// A count the dispatcher keeps within a limit: the bytes of events and of waiting retries'
/// requests, and the number of waiting retries.
pub(super) struct Budget {
    pub(super) used: AtomicUsize,
    pub(super) limit: usize,
}

impl Budget {
    /// Takes `n` if it fits within the limit.
    pub(super) fn take(&self, n: usize) -> bool {
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

    pub(super) fn give_back(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }
}

/// An event the dispatcher holds, charged to the budget until the last job of it is done.
pub(super) struct HeldEvent {
    pub(super) event: Event,
    pub(super) bytes: usize,
    pub(super) budget: Arc<Budget>,
}

impl Drop for HeldEvent {
    fn drop(&mut self) {
        self.budget.give_back(self.bytes);
    }
}

pub(super) struct Job {
    pub(super) event: Arc<HeldEvent>,
    pub(super) handler: Arc<dyn EventHandler>,
    /// The counters of the registration the job came from.
    pub(super) metrics: Arc<HandlerMetrics>,
    pub(super) fired: Instant,
}

/// A retry's place among the waiting ones and its bytes, given back when its task ends.
pub(super) struct RetrySlot {
    pub(super) shared: Arc<Shared>,
    pub(super) bytes: usize,
}

impl Drop for RetrySlot {
    fn drop(&mut self) {
        self.shared.waiting_retries.give_back(1);
        self.shared.budget.give_back(self.bytes);
    }
}

/// The jobs waiting for a worker.
pub(super) struct Queue {
    pub(super) jobs: VecDeque<Job>,
    pub(super) capacity: usize,
    /// No more jobs will come (the dispatcher was shut down or dropped): the workers stop once the
    /// queue is empty.
    pub(super) finished: bool,
}

pub(super) struct Shared {
    pub(super) queue: Mutex<Queue>,
    /// One permit per queued job; closed when the workers are to stop.
    pub(super) queued: Semaphore,
    /// Slots for requests to receivers: the dispatcher's concurrency.
    pub(super) delivering: Semaphore,
    pub(super) outstanding: AtomicUsize,
    pub(super) idle: Notify,
    pub(super) fired: AtomicU64,
    pub(super) dropped: AtomicU64,
    /// Jobs dropped because their event would have passed the byte budget.
    pub(super) over_budget: AtomicU64,
    pub(super) budget: Arc<Budget>,
    /// Retries waiting for their backoff, within `max_waiting_retries`.
    pub(super) waiting_retries: Budget,
    pub(super) closed: AtomicBool,
    pub(super) abandon: watch::Sender<bool>,
    pub(super) drop_log: LogGate,
    pub(super) panic_log: LogGate,
}

impl Shared {
    pub(super) fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `job`, or gives it back when the queue is full.
    pub(super) fn push(&self, job: Job) -> Result<(), Job> {
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
    pub(super) fn pop(&self) -> Option<Job> {
        let mut q = self.queue();
        let job = q.jobs.pop_front();
        if q.finished && q.jobs.is_empty() {
            self.queued.close();
        }
        job
    }

    /// No more jobs will be queued: the workers stop once the queue is empty.
    pub(super) fn finish(&self) {
        let mut q = self.queue();
        q.finished = true;
        if q.jobs.is_empty() {
            self.queued.close();
        }
    }

    /// A place among the waiting retries for a request of `request_bytes`, or why there is none.
    pub(super) fn retry_slot(
        self: &Arc<Self>,
        request_bytes: usize,
    ) -> Result<RetrySlot, &'static str> {
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

    pub(super) fn job_done(&self) {
        if self.outstanding.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }
}
