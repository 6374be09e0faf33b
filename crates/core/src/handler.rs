//! The handler seam: what a handler does with an event, in steps a dispatcher can schedule.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hookshot_event::Event;

/// Something that reacts to events: a webhook, a log line, or a handler of a user's own.
///
/// A handler works in steps so that a dispatcher holds a delivery slot only while a request is
/// being sent: [`start`](Self::start) prepares a fresh event (render, checksum, cool-down claim) and
/// either finishes or hands back a [`Pending`] delivery to [`resume`](Self::resume) (send) when a
/// slot is free, at once ([`Step::Send`]) or after a backoff ([`Step::Retry`]). Whoever drives the
/// steps counts the outcomes: a handler keeps no counters of its own.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait EventHandler: Send + Sync {
    /// A name for logs and metrics.
    fn label(&self) -> &str;

    /// Prepares a fresh event: no request to a receiver is made here.
    async fn start(&self, event: &Event) -> Step;

    /// Makes the next attempt of a prepared delivery.
    async fn resume(&self, pending: Pending) -> Step;
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

/// A delivery between attempts: the handler's own state (for a webhook, the rendered request with
/// its body and `webhook-id`, the same for every attempt), the attempts made so far, and an
/// estimate of the bytes it holds, which a dispatcher counts against its memory budget while the
/// delivery waits.
///
/// A handler makes one with [`Pending::new`] and gets its state back in
/// [`resume`](EventHandler::resume) with [`Pending::state`] or [`Pending::into_state`].
#[derive(Clone)]
pub struct Pending {
    state: Arc<dyn Any + Send + Sync>,
    attempts: u32,
    bytes: usize,
}

impl Pending {
    /// A delivery of `state`, after `attempts` attempts, holding about `bytes` bytes.
    pub fn new<T: Any + Send + Sync>(state: T, attempts: u32, bytes: usize) -> Pending {
        Pending::shared(Arc::new(state), attempts, bytes)
    }

    /// [`Pending::new`] with state already behind an `Arc` (kept between attempts without a copy).
    pub fn shared<T: Any + Send + Sync>(state: Arc<T>, attempts: u32, bytes: usize) -> Pending {
        Pending {
            state,
            attempts,
            bytes,
        }
    }

    /// Attempts made so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// About how many bytes the delivery holds while it waits.
    pub fn estimated_bytes(&self) -> usize {
        self.bytes
    }

    /// The handler's state, when it is a `T`.
    pub fn state<T: Any>(&self) -> Option<&T> {
        self.state.downcast_ref()
    }

    /// The handler's state as the `Arc` it was made with, when it is a `T`; the `Pending` back
    /// otherwise.
    pub fn into_state<T: Any + Send + Sync>(self) -> Result<Arc<T>, Pending> {
        let Pending {
            state,
            attempts,
            bytes,
        } = self;
        state.downcast::<T>().map_err(|state| Pending {
            state,
            attempts,
            bytes,
        })
    }
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("attempts", &self.attempts)
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

/// Why a delivery failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailReason {
    /// The template could not be rendered for this event.
    Render,
    /// The cool-down store could not be asked and its policy is fail-closed.
    StoreUnavailable,
    /// The receiver could not be reached (refused, DNS, TLS).
    Connect,
    /// The receiver did not answer in time.
    Timeout,
    /// The receiver answered with a status other than 2xx.
    Status,
    /// The request could not be built or sent for another reason.
    Other,
    /// The gateway shut down before a pending retry was due.
    Shutdown,
    /// A retry was due, but as many retries as allowed were already waiting, or its request would
    /// have passed the dispatcher's byte budget.
    RetryOverflow,
}

impl FailReason {
    /// Every reason, in a stable order (for metrics).
    pub const ALL: [FailReason; 8] = [
        FailReason::Render,
        FailReason::StoreUnavailable,
        FailReason::Connect,
        FailReason::Timeout,
        FailReason::Status,
        FailReason::Other,
        FailReason::Shutdown,
        FailReason::RetryOverflow,
    ];

    /// A short label for metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            FailReason::Render => "render",
            FailReason::StoreUnavailable => "store_unavailable",
            FailReason::Connect => "connect",
            FailReason::Timeout => "timeout",
            FailReason::Status => "status",
            FailReason::Other => "other",
            FailReason::Shutdown => "shutdown",
            FailReason::RetryOverflow => "retry_overflow",
        }
    }

    /// Its position in [`FailReason::ALL`], for arrays of counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of one event at one handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered 2xx.
    Delivered {
        /// The status it answered.
        status: u16,
        /// Attempts made, the successful one included.
        attempts: u32,
    },
    /// An identical request was sent within the cool-down window: not sent again.
    Suppressed,
    /// The handler wrote the event to the log.
    Logged,
    /// Not delivered.
    Failed {
        /// Why.
        reason: FailReason,
        /// What went wrong, for the log.
        detail: String,
        /// Attempts made (0 when nothing was sent).
        attempts: u32,
    },
}

impl Outcome {
    /// Whether the receiver accepted it.
    pub fn is_delivered(&self) -> bool {
        matches!(self, Outcome::Delivered { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_delivery_gives_its_state_back_only_as_its_own_type() {
        let pending = Pending::new(String::from("body"), 2, 4);
        assert_eq!(pending.attempts(), 2);
        assert_eq!(pending.estimated_bytes(), 4);
        assert_eq!(pending.state::<String>().map(String::as_str), Some("body"));
        assert!(pending.state::<u32>().is_none());
        let pending = pending.into_state::<u32>().unwrap_err();
        assert_eq!(pending.attempts(), 2);
        assert_eq!(*pending.into_state::<String>().unwrap(), "body");
    }

    #[test]
    fn every_reason_has_its_own_index_and_label() {
        for (i, reason) in FailReason::ALL.iter().enumerate() {
            assert_eq!(reason.index(), i);
        }
        let labels: std::collections::BTreeSet<_> =
            FailReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(labels.len(), FailReason::ALL.len());
    }
}
