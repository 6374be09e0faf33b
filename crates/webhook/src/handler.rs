//! The handler trait the dispatcher drives, and the delivery state carried between attempts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hookshot_event::Event;

use crate::metrics::HandlerMetrics;
use crate::outcome::Outcome;

/// Something that reacts to events: a webhook, a log line, or a handler of a user's own.
///
/// A handler works in steps so that a dispatcher holds a delivery slot only while a request is
/// being sent: [`start`](Self::start) prepares a fresh event (render, checksum, cool-down claim) and
/// either finishes or hands back a [`Pending`] request to [`resume`](Self::resume) (send) when a
/// slot is free, at once ([`Step::Send`]) or after a backoff ([`Step::Retry`]).
#[async_trait]
pub trait EventHandler: Send + Sync {
    /// A name for logs and metrics.
    fn label(&self) -> &str;

    /// The handler's counters.
    fn metrics(&self) -> &HandlerMetrics;

    /// Prepares a fresh event: no request to a receiver is made here.
    async fn start(&self, event: &Event) -> Step;

    /// Makes the next attempt of a prepared delivery.
    async fn resume(&self, pending: Pending) -> Step;

    /// Handles an event to the end, waiting out retries inline: for users without a dispatcher.
    ///
    /// Counts the outcome in [`metrics`](Self::metrics) as a dispatcher does, a delivery's latency
    /// taken from this call. A dispatcher drives [`start`](Self::start) and
    /// [`resume`](Self::resume) itself and counts there, so an event is counted once either way.
    async fn handle(&self, event: &Event) -> Outcome {
        let called = Instant::now();
        let mut step = self.start(event).await;
        loop {
            match step {
                Step::Done(outcome) => {
                    let latency = outcome.is_delivered().then(|| called.elapsed());
                    self.metrics().record(&outcome, latency);
                    return outcome;
                }
                Step::Send(pending) => step = self.resume(pending).await,
                Step::Retry { after, pending } => {
                    tokio::time::sleep(after).await;
                    step = self.resume(pending).await;
                }
            }
        }
    }
}

/// Where a handler is after one step.
#[derive(Debug)]
pub enum Step {
    /// Finished.
    Done(Outcome),
    /// Ready to send: make the attempt when a delivery slot is free.
    Send(Pending),
    /// Try again after `after`.
    Retry {
        /// How long to wait.
        after: Duration,
        /// What the next attempt needs.
        pending: Pending,
    },
}

/// The state of a delivery between attempts: the same request (body, `webhook-id`) every time.
#[derive(Debug, Clone)]
pub struct Pending {
    pub(crate) request: Arc<crate::webhook::PreparedRequest>,
    pub(crate) attempts: u32,
}

impl Pending {
    /// Attempts made so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}
