//! The settings of an [`HttpTransport`](crate::HttpTransport).

use std::path::PathBuf;
use std::time::Duration;

/// How an [`HttpTransport`](crate::HttpTransport) connects, waits and trusts.
///
/// `HttpTransportConfig::default()` is what a gateway uses unless told otherwise; change single
/// fields with struct update syntax:
///
/// ```
/// # use std::time::Duration;
/// # use hookshot_transport::HttpTransportConfig;
/// let config = HttpTransportConfig {
///     request_timeout: Duration::from_secs(10),
///     ..HttpTransportConfig::default()
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTransportConfig {
    /// The time allowed to open a TCP connection (split between the addresses a name resolves
    /// to). Default 5 s. Running out of it is a connect error that is also a timeout.
    pub connect_timeout: Duration,
    /// The total time of one request, unless the request sets its own
    /// ([`WebhookRequest::timeout`](crate::WebhookRequest::timeout), which is how a handler's
    /// `request_timeout` applies): resolving, connecting, the TLS handshake, sending, and the
    /// receiver's status line and headers. Default 30 s, as Tyk.
    pub request_timeout: Duration,
    /// How long an unused pooled connection is kept open for the next request. Default 90 s.
    pub pool_idle_timeout: Duration,
    /// The most unused connections kept open per host. Default 64; set it at least to the number
    /// of requests in flight to one receiver, or connections are closed and opened again.
    pub pool_max_idle_per_host: usize,
    /// A PEM file of CA certificates to trust besides webpki's roots and the system's, for
    /// receivers whose certificates come from a private CA. Default none. A file that cannot be
    /// read, or holds no usable certificate, makes [`HttpTransport::new`](crate::HttpTransport::new)
    /// fail with a message naming it.
    pub extra_ca_file: Option<PathBuf>,
}

impl Default for HttpTransportConfig {
    fn default() -> Self {
        HttpTransportConfig {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 64,
            extra_ca_file: None,
        }
    }
}
