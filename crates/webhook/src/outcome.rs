//! What became of one event at one handler.

use std::fmt;

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

    pub(crate) fn index(self) -> usize {
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
