//! The workers: a job from the queue to its outcome, sends holding a delivery slot, retries
//! waiting on a task of their own.

use std::sync::Arc;
use std::time::Duration;

use hookshot_core::{FailReason, Outcome, Pending, Step};

use super::state::{Job, RetrySlot, Shared};

/// One worker: takes jobs off the queue until the queue is finished and empty.
pub(super) async fn work(shared: Arc<Shared>) {
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
pub(super) struct Respawn(Arc<Shared>);

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
pub(super) struct PanicGuard<'a> {
    pub(super) job: &'a Job,
    pub(super) shared: &'a Shared,
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

pub(super) async fn run_job(job: Job, shared: &Arc<Shared>) {
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
pub(super) async fn advance(
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
pub(super) async fn retry(job: Job, mut after: Duration, mut pending: Pending, slot: RetrySlot) {
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

pub(super) fn done(job: &Job, outcome: &Outcome, shared: &Shared) {
    let latency = outcome.is_delivered().then(|| job.fired.elapsed());
    job.metrics.record(outcome, latency);
    shared.job_done();
}
