//! What can go wrong between Hookshot and Redis, in the words an operator needs.

use std::time::Duration;

/// Why a command got no answer from Redis, or why a connection cannot be set up.
///
/// No variant holds the URL's password: errors name the server through
/// [`Settings::redacted_url`](crate::Settings::redacted_url), and Redis' own errors do not
/// repeat the URL.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The settings are wrong (a URL that does not parse, a zero time limit, a CA for a URL
    /// without TLS); the message names the setting and what would be accepted.
    #[error("{0}")]
    Config(String),
    /// Redis answered the command with an error, or the connection failed while it was out.
    #[error("{0}")]
    Redis(#[from] redis::RedisError),
    /// The command was sent and got no answer within its limit.
    #[error("no answer within {0:?}")]
    NoAnswer(Duration),
    /// No connection could be had within the command's limit.
    #[error("{}", not_connected(*.waited, .last_attempt.as_deref()))]
    NotConnected {
        /// How long the command waited.
        waited: Duration,
        /// Why the last connection attempt failed, when one did.
        last_attempt: Option<String>,
    },
}

fn not_connected(waited: Duration, last: Option<&str>) -> String {
    match last {
        None => format!("not connected within {waited:?}"),
        Some(last) => format!("not connected within {waited:?}; the last attempt failed: {last}"),
    }
}

impl Error {
    /// Whether Redis itself was never reached: no connection could be had in time (as opposed to
    /// a command that was sent and failed or went unanswered).
    pub fn is_not_connected(&self) -> bool {
        matches!(self, Error::NotConnected { .. })
    }

    /// Whether the command went unanswered within its limit.
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::NoAnswer(_) => true,
            Error::Redis(e) => e.is_timeout(),
            _ => false,
        }
    }
}

/// A result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_failed() {
        let ms = Duration::from_millis(250);
        assert_eq!(Error::NoAnswer(ms).to_string(), "no answer within 250ms");
        let e = Error::NotConnected {
            waited: ms,
            last_attempt: None,
        };
        assert_eq!(e.to_string(), "not connected within 250ms");
        assert!(e.is_not_connected() && !e.is_timeout());
        let e = Error::NotConnected {
            waited: ms,
            last_attempt: Some("Connection refused (os error 111)".into()),
        };
        assert_eq!(
            e.to_string(),
            "not connected within 250ms; the last attempt failed: Connection refused (os error 111)"
        );
    }
}
