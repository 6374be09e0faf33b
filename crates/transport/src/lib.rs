//! HTTP transport for Hookshot webhooks.
//!
//! A [`Transport`] sends one [`WebhookRequest`] and says whether the receiver accepted it; only a
//! 2xx answer is success. [`HttpTransport`] is the one Hookshot uses: hyper-util's pooled client
//! over HTTP/1.1 and HTTP/2, TLS through rustls (ring) trusting webpki's roots, the system's and an
//! optional extra CA file, a connect timeout and a total timeout per request, no redirects.
//! Errors say what went wrong in words an operator reads, and are asked with
//! [`Error::is_timeout`], [`Error::is_connect`] and [`Error::is_retryable`].
//!
//! Architecture invariant: this crate knows HTTP and TLS and nothing of events, templates, stores
//! or the gateway.

mod config;
mod error;
mod http_transport;
mod retry_after;
mod tls;

pub use crate::config::HttpTransportConfig;
pub use crate::error::{ConfigError, Error, Result, SendError};
pub use crate::http_transport::HttpTransport;
pub use crate::tls::client_config as tls_client_config;

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

/// One request to send.
///
/// Its `Debug` shows the URL as [`redacted`] and the headers by name only: webhook URLs and
/// `header_map` values are often credentials.
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

/// A URL as this crate's errors and logs show it: `scheme://host[:port]`, never user-info, path or
/// query (a webhook's path or query is often its secret). The same form as
/// `hookshot_event::TargetUrl::redacted`, which this crate cannot depend on.
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
