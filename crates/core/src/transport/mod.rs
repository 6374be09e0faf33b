//! The transport seam: send one request, learn whether the receiver accepted it.

mod error;

pub use error::{BoxError, Error, Result, SendError, SendKind, SetupError};

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

/// One request to send.
///
/// Its `Debug` shows the URL as [`redacted`] and the headers by name only: webhook URLs and
/// header values are often credentials.
#[derive(Clone)]
pub struct WebhookRequest {
    /// The method.
    pub method: http::Method,
    /// The absolute URL.
    pub url: http::Uri,
    /// The headers, exactly as sent.
    pub headers: http::HeaderMap,
    /// The body (empty for none).
    pub body: Bytes,
    /// The total time this attempt may take (`None`: the transport's default).
    pub timeout: Option<Duration>,
}

impl std::fmt::Debug for WebhookRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<&str> = self.headers.keys().map(http::HeaderName::as_str).collect();
        f.debug_struct("WebhookRequest")
            .field("method", &self.method)
            .field("url", &redacted(&self.url))
            .field("headers", &headers)
            .field("body_len", &self.body.len())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A URL as errors and logs show it: `scheme://host[:port]`, never user-info, path or query (a
/// webhook's path or query is often its secret); [`TargetUrl::redacted`](crate::TargetUrl::redacted)
/// is this of a configured URL.
pub fn redacted(url: &http::Uri) -> String {
    let host = url.host().unwrap_or_default();
    let scheme = url.scheme_str().unwrap_or("http");
    match url.port_u16() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    }
}

/// A receiver's 2xx answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The status code.
    pub status: http::StatusCode,
}

/// Something that delivers webhook requests.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Transport: Send + Sync {
    /// Sends `request`; a non-2xx answer is an error.
    async fn send(&self, request: WebhookRequest) -> Result<Delivered>;
}
