//! Errors of sending a webhook request.

use std::time::Duration;

/// A request was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The receiver answered with a status other than 2xx.
    #[error("receiver answered {status}")]
    Status {
        /// The status code.
        status: http::StatusCode,
        /// The receiver's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
}

impl Error {
    /// Whether trying again later may succeed (429 and 5xx).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Status { status, .. } => {
                *status == http::StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
            }
        }
    }
}

/// A result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
