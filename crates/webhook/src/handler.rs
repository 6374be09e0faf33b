//! A handler driven to the end without a dispatcher, with its outcomes counted.

use std::time::Instant;

use hookshot_core::{Event, EventHandler, Outcome, Step};

use crate::metrics::HandlerMetrics;

/// A handler with counters of its own, for a program that calls it directly instead of through a
/// [`Dispatcher`](crate::Dispatcher) (which keeps the counters of each registration itself).
///
/// [`handle`](Instrumented::handle) drives the handler's steps to the end, waiting out retries
/// inline, and counts the outcome and every retry in [`metrics`](Instrumented::metrics) as a
/// dispatcher does; a delivery's latency is taken from the call.
#[derive(Debug)]
pub struct Instrumented<H> {
    handler: H,
    metrics: HandlerMetrics,
}

impl<H: EventHandler> Instrumented<H> {
    /// Wraps `handler` with zeroed counters.
    pub fn new(handler: H) -> Instrumented<H> {
        Instrumented {
            handler,
            metrics: HandlerMetrics::default(),
        }
    }

    /// Handles `event` to the end and counts what became of it.
    pub async fn handle(&self, event: &Event) -> Outcome {
        let called = Instant::now();
        let mut step = self.handler.start(event).await;
        loop {
            match step {
                Step::Done(outcome) => {
                    let latency = outcome.is_delivered().then(|| called.elapsed());
                    self.metrics.record(&outcome, latency);
                    return outcome;
                }
                Step::Send(pending) => step = self.handler.resume(pending).await,
                Step::Retry { after, pending } => {
                    self.metrics.record_retry();
                    tokio::time::sleep(after).await;
                    step = self.handler.resume(pending).await;
                }
            }
        }
    }

    /// The counters.
    pub fn metrics(&self) -> &HandlerMetrics {
        &self.metrics
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The handler, counters dropped.
    pub fn into_inner(self) -> H {
        self.handler
    }
}
