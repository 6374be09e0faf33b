//! Errors of sending a webhook request, and of setting up a transport.
//!
//! What went wrong is asked through methods ([`Error::is_timeout`], [`Error::is_connect`],
//! [`Error::is_retryable`], ...), never by matching on the HTTP client's own types, which stay
//! private.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

/// An underlying error kept as a [`SendError`]'s or [`SetupError`]'s source.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// A request was not delivered, or a transport could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The receiver answered with a status other than 2xx (a 3xx included: redirects are not
    /// followed).
    #[error("{}", StatusMessage(*status, *retry_after))]
    Status {
        /// The status code.
        status: http::StatusCode,
        /// The receiver's `Retry-After`, when it sent one that could be read (delta-seconds or an
        /// HTTP-date; a date in the past is zero).
        retry_after: Option<Duration>,
    },
    /// The request got no answer: the connection could not be made (DNS, refused, TLS), the time
    /// ran out, the connection broke, or the request could not be sent at all.
    #[error(transparent)]
    Send(SendError),
    /// The transport cannot be set up as configured (for example an unreadable extra CA file).
    #[error(transparent)]
    Setup(SetupError),
}

/// Why a request got no answer; ask it through [`Error`]'s methods.
#[derive(Debug)]
pub struct SendError {
    kind: SendKind,
    message: String,
    source: Option<BoxError>,
}

/// What kind of failure a [`SendError`] is; a transport of its own picks one with
/// [`Error::send`], everyone else asks through [`Error`]'s methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendKind {
    /// DNS, connection refused or unreachable, TLS handshake or certificate.
    Connect,
    /// The connection was not made within the connect timeout.
    ConnectTimeout,
    /// No complete answer within the request's total time.
    Timeout,
    /// The connection broke after the request started.
    ConnectionLost,
    /// The request cannot be sent (a URL that is not absolute http(s), for example).
    InvalidRequest,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for SendError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// A transport that cannot be set up as configured; the message names the setting and the file.
#[derive(Debug)]
pub struct SetupError {
    message: String,
    source: Option<BoxError>,
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for SetupError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

struct StatusMessage(http::StatusCode, Option<Duration>);

impl fmt::Display for StatusMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let StatusMessage(status, retry_after) = *self;
        write!(f, "receiver answered {}", status.as_u16())?;
        if let Some(reason) = status.canonical_reason() {
            write!(f, " {reason}")?;
        }
        if status.is_redirection() {
            f.write_str(
                ": a redirect, which is not followed (point the webhook at the final URL)",
            )?;
        }
        if let Some(after) = retry_after {
            write!(f, " (Retry-After: {after:?})")?;
        }
        Ok(())
    }
}

impl Error {
    /// A connection to `target` (a host and port, or a URL) could not be made, for `reason`.
    ///
    /// For transports of your own and for test doubles; [`Error::is_connect`] and
    /// [`Error::is_retryable`] are true.
    pub fn connect(target: impl fmt::Display, reason: impl fmt::Display) -> Error {
        Error::send(
            SendKind::Connect,
            format!("connecting to {target} failed: {reason}"),
            None,
        )
    }

    /// `url` gave no answer within `within`. Pass the URL as [`redacted`](crate::redacted)
    /// shows it: a webhook's path and query are often its secret.
    ///
    /// For transports of your own and for test doubles; [`Error::is_timeout`] and
    /// [`Error::is_retryable`] are true.
    pub fn timeout(url: impl fmt::Display, within: Duration) -> Error {
        Error::send(
            SendKind::Timeout,
            format!("no answer from {url} within {within:?}"),
            None,
        )
    }

    /// The connection to `url` broke before its answer, for `reason`. Pass the URL as
    /// [`redacted`](crate::redacted) shows it.
    ///
    /// For transports of your own and for test doubles; [`Error::is_retryable`] is true (the
    /// receiver may or may not have seen the request).
    pub fn connection_lost(url: impl fmt::Display, reason: impl fmt::Display) -> Error {
        Error::send(
            SendKind::ConnectionLost,
            format!("the connection to {url} broke before an answer: {reason}"),
            None,
        )
    }

    /// The request cannot be sent, for `reason`; trying again will not help.
    pub fn invalid_request(reason: impl fmt::Display) -> Error {
        Error::send(
            SendKind::InvalidRequest,
            format!("the request cannot be sent: {reason}"),
            None,
        )
    }

    /// A request that got no answer, of `kind`, with an operator's `message` (name the URL as
    /// [`redacted`](crate::redacted) shows it) and the underlying error when there is one.
    pub fn send(kind: SendKind, message: String, source: Option<BoxError>) -> Error {
        Error::Send(SendError {
            kind,
            message,
            source,
        })
    }

    /// A transport that cannot be set up: `message` names the setting and the file.
    pub fn setup(message: String, source: Option<BoxError>) -> Error {
        Error::Setup(SetupError { message, source })
    }

    fn send_kind(&self) -> Option<SendKind> {
        match self {
            Error::Send(e) => Some(e.kind),
            _ => None,
        }
    }

    /// Whether the receiver answered with a non-2xx status.
    pub fn is_status(&self) -> bool {
        matches!(self, Error::Status { .. })
    }

    /// The receiver's non-2xx status, when it answered.
    pub fn status(&self) -> Option<http::StatusCode> {
        match self {
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The receiver's `Retry-After`, when it answered with one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the receiver answered with a redirect (3xx), which is not followed.
    pub fn is_redirect(&self) -> bool {
        self.status().is_some_and(|s| s.is_redirection())
    }

    /// Whether the time ran out: the whole request's, or the connect timeout's.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.send_kind(),
            Some(SendKind::Timeout | SendKind::ConnectTimeout)
        )
    }

    /// Whether no connection could be made: DNS, refused or unreachable, TLS handshake or
    /// certificate verification, or the connect timeout.
    pub fn is_connect(&self) -> bool {
        matches!(
            self.send_kind(),
            Some(SendKind::Connect | SendKind::ConnectTimeout)
        )
    }

    /// Whether the transport's configuration is at fault (it never comes from sending).
    pub fn is_setup(&self) -> bool {
        matches!(self, Error::Setup(_))
    }

    /// Whether trying again later may succeed: connect errors, timeouts, a connection that broke,
    /// 429 and 5xx. Other 4xx, 3xx, invalid requests and configuration errors are not retryable.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Status { status, .. } => {
                *status == http::StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
            }
            Error::Send(e) => e.kind != SendKind::InvalidRequest,
            Error::Setup(_) => false,
        }
    }
}

/// The result of sending a request.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    fn status(code: u16, retry_after: Option<Duration>) -> Error {
        Error::Status {
            status: StatusCode::from_u16(code).unwrap(),
            retry_after,
        }
    }

    #[test]
    fn retryable_table() {
        let cases: Vec<(Error, bool)> = vec![
            (status(500, None), true),
            (status(502, None), true),
            (status(503, Some(Duration::from_secs(3))), true),
            (status(429, None), true),
            (status(400, None), false),
            (status(401, None), false),
            (status(404, None), false),
            (status(410, None), false),
            (status(301, None), false),
            (status(302, None), false),
            (Error::connect("127.0.0.1:9", "connection refused"), true),
            (Error::timeout("http://x/y", Duration::from_secs(30)), true),
            (Error::connection_lost("http://x/y", "closed"), true),
            (Error::invalid_request("relative URL"), false),
            (Error::setup("bad".into(), None), false),
        ];
        for (err, want) in cases {
            assert_eq!(err.is_retryable(), want, "{err}");
        }
    }

    #[test]
    fn kinds() {
        let e = Error::connect("127.0.0.1:9", "connection refused");
        assert!(e.is_connect() && !e.is_timeout() && !e.is_status());
        let e = Error::timeout("http://x/y", Duration::from_secs(30));
        assert!(e.is_timeout() && !e.is_connect());
        let e = Error::send(SendKind::ConnectTimeout, "x".into(), None);
        assert!(e.is_timeout() && e.is_connect() && e.is_retryable());
        let e = status(302, None);
        assert!(e.is_redirect() && e.is_status() && !e.is_retryable());
        assert_eq!(e.status(), Some(StatusCode::FOUND));
        let e = status(503, Some(Duration::from_secs(7)));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert!(Error::setup("x".into(), None).is_setup());
    }

    #[test]
    fn messages_an_operator_understands() {
        assert_eq!(
            Error::connect("127.0.0.1:9", "connection refused").to_string(),
            "connecting to 127.0.0.1:9 failed: connection refused"
        );
        assert_eq!(
            Error::timeout("https://x/y", Duration::from_secs(30)).to_string(),
            "no answer from https://x/y within 30s"
        );
        assert_eq!(
            Error::timeout("https://x/y", Duration::from_millis(300)).to_string(),
            "no answer from https://x/y within 300ms"
        );
        assert_eq!(
            status(503, None).to_string(),
            "receiver answered 503 Service Unavailable"
        );
        assert_eq!(
            status(429, Some(Duration::from_secs(120))).to_string(),
            "receiver answered 429 Too Many Requests (Retry-After: 120s)"
        );
        assert_eq!(
            status(302, None).to_string(),
            "receiver answered 302 Found: a redirect, which is not followed (point the webhook at the final URL)"
        );
        assert_eq!(status(599, None).to_string(), "receiver answered 599");
    }
}
