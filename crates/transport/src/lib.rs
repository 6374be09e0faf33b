//! HTTP transport for Hookshot webhooks.
//!
//! A [`Transport`] sends one [`WebhookRequest`] and says whether the receiver accepted it; only a
//! 2xx answer is success. [`HttpTransport`] is the one Hookshot uses: hyper-util's pooled client
//! over HTTP/1.1 and HTTP/2, TLS through rustls (ring) trusting webpki's roots, the system's and an
//! optional extra CA file, a connect timeout and a total timeout per request, no redirects.
//! Errors say what went wrong in words an operator reads, and are asked with
//! [`Error::is_timeout`], [`Error::is_connect`] and [`Error::is_retryable`].
//!
//! The seam itself ([`Transport`], [`WebhookRequest`], [`Delivered`], [`Error`]) is declared in
//! `hookshot-core` and re-exported here; a transport of your own needs only that crate.
//!
//! ```
//! use std::time::Duration;
//!
//! use hookshot_transport::{HttpTransport, HttpTransportConfig, Transport, WebhookRequest};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() {
//!     let transport = HttpTransport::new(HttpTransportConfig::default()).unwrap();
//!     // A port nobody listens on: the port of a listener just closed.
//!     let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
//!     let request = WebhookRequest {
//!         method: http::Method::POST,
//!         url: format!("http://127.0.0.1:{port}/hooks/s3cret").parse().unwrap(),
//!         headers: http::HeaderMap::new(),
//!         body: r#"{"event": "AuthFailure"}"#.into(),
//!         timeout: Some(Duration::from_secs(5)),
//!     };
//!     let error = transport.send(request).await.unwrap_err();
//!     assert!(error.is_connect() && error.is_retryable());
//!     // The message names the receiver, never the URL's path (often its secret).
//!     assert!(!error.to_string().contains("s3cret"), "{error}");
//! }
//! ```
//!
//! Architecture invariant: this crate knows HTTP and TLS and implements the transport seam; it
//! knows nothing of templates, stores, handlers or the gateway.

mod config;
mod http_transport;
mod retry_after;
mod tls;

pub use crate::config::HttpTransportConfig;
pub use crate::http_transport::HttpTransport;
pub use crate::tls::client_config as tls_client_config;

#[cfg(feature = "mock")]
pub use hookshot_core::MockTransport;
pub use hookshot_core::transport::{
    Delivered, Error, Result, SendError, SendKind, SetupError, Transport, WebhookRequest, redacted,
};
