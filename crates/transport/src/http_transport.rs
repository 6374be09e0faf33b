//! [`HttpTransport`]: the [`Transport`] on hyper-util's pooled client, over http and https.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Incoming};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::time::Instant;

use crate::SendKind;
use crate::{Delivered, Error, HttpTransportConfig, Result, Transport, WebhookRequest, redacted};

/// The most of a response body read (and thrown away) so that its connection can be used again;
/// past it the connection is closed instead.
const MAX_DISCARDED_BODY: usize = 64 * 1024;

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Sends webhook requests over HTTP/1.1 or HTTP/2, plain or TLS, from a pool of connections.
///
/// Cheap to clone: clones share one pool, so build one and clone it wherever it is needed.
/// Sending needs a Tokio runtime.
///
/// - Only a 2xx answer is [`Delivered`]; any other status, a 3xx included (redirects are not
///   followed), is [`Error::Status`] with the receiver's `Retry-After`.
/// - The method, URL, headers and body go out as given (an empty body is no body); hyper adds
///   only what HTTP needs (`Host`, `Content-Length`).
/// - The response body is read, up to 64 KiB and within the request's time, and thrown away.
#[derive(Clone)]
pub struct HttpTransport {
    client: HttpsClient,
    request_timeout: Duration,
    connect_timeout: Duration,
}

impl fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransport")
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// A transport with `config`'s timeouts, pool and roots.
    ///
    /// # Errors
    /// [`Error::Setup`] when the extra CA file cannot be read or holds no usable certificate.
    pub fn new(config: HttpTransportConfig) -> Result<HttpTransport> {
        let tls = crate::tls::client_config(config.extra_ca_file.as_deref())?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(config.connect_timeout));
        let https = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(config.pool_idle_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(https);
        Ok(HttpTransport {
            client,
            request_timeout: config.request_timeout,
            connect_timeout: config.connect_timeout,
        })
    }

    /// The total time of a request that does not set its own.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }
}

#[async_trait]
impl Transport for HttpTransport {
    async fn send(&self, request: WebhookRequest) -> Result<Delivered> {
        let WebhookRequest {
            method,
            url,
            headers,
            body,
            timeout,
        } = request;
        check_url(&url)?;
        let within = timeout.unwrap_or(self.request_timeout);
        let deadline = Instant::now() + within;

        let mut req = http::Request::new(Full::new(body));
        *req.method_mut() = method;
        *req.uri_mut() = url.clone();
        *req.headers_mut() = headers;

        let response = match tokio::time::timeout_at(deadline, self.client.request(req)).await {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => return Err(self.classify(e, &url)),
            Err(_) => return Err(Error::timeout(redacted(&url), within)),
        };
        let (parts, body) = response.into_parts();
        let status = parts.status;
        let retry_after = if status.is_success() {
            None
        } else {
            parts
                .headers
                .get(http::header::RETRY_AFTER)
                .and_then(|v| crate::retry_after::parse(v, SystemTime::now()))
        };
        if status.is_redirection() {
            let location = parts
                .headers
                .get(http::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .map(|l| {
                    l.parse::<http::Uri>()
                        .map_or_else(|_| "?".to_owned(), |u| redacted(&u))
                });
            tracing::debug!(
                url = %redacted(&url),
                %status,
                ?location,
                "redirect not followed"
            );
        }
        discard(body, deadline, &url).await;
        if status.is_success() {
            Ok(Delivered { status })
        } else {
            Err(Error::Status {
                status,
                retry_after,
            })
        }
    }
}

/// Refuses what the client cannot send: a URL that is not absolute `http` or `https`.
fn check_url(url: &http::Uri) -> Result<()> {
    match url.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => {
            return Err(Error::invalid_request(format!(
                "the URL {} has the scheme {other:?}; expected http or https",
                redacted(url)
            )));
        }
        None => {
            return Err(Error::invalid_request(
                "the URL is not absolute; expected http://host/... or https://host/...",
            ));
        }
    }
    if url.host().is_none_or(str::is_empty) {
        return Err(Error::invalid_request(format!(
            "the URL {} has no host",
            redacted(url)
        )));
    }
    Ok(())
}

/// Reads the rest of a response body and throws it away, so that the connection goes back to the
/// pool; gives up (closing the connection) past [`MAX_DISCARDED_BODY`] or the deadline.
async fn discard(mut body: Incoming, deadline: Instant, url: &http::Uri) {
    if body.is_end_stream() {
        return;
    }
    let mut read = 0usize;
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(None) => return,
            Ok(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    read += data.len();
                    if read > MAX_DISCARDED_BODY {
                        tracing::debug!(url = %redacted(url), "response body over 64 KiB; closing its connection");
                        return;
                    }
                }
            }
            Ok(Some(Err(error))) => {
                tracing::debug!(url = %redacted(url), %error, "response body broke off");
                return;
            }
            Err(_) => {
                tracing::debug!(url = %redacted(url), "response body not complete within the request's time; closing its connection");
                return;
            }
        }
    }
}

impl HttpTransport {
    /// Turns the client's error into one an operator reads, with a kind that can be asked.
    fn classify(&self, err: hyper_util::client::legacy::Error, url: &http::Uri) -> Error {
        let (kind, message) = if err.is_connect() {
            let target = target(url);
            let (kind, reason) = connect_reason(&err, url, self.connect_timeout);
            (kind, format!("connecting to {target} failed: {reason}"))
        } else if find::<hyper::Error>(&err).is_some_and(hyper::Error::is_user) {
            let reason = innermost(&err);
            (
                SendKind::InvalidRequest,
                format!("the request to {} cannot be sent: {reason}", redacted(url)),
            )
        } else {
            let reason = innermost(&err);
            (
                SendKind::ConnectionLost,
                format!(
                    "the connection to {} broke before an answer: {reason}",
                    redacted(url)
                ),
            )
        };
        Error::send(kind, message, Some(Box::new(err)))
    }
}

/// `host:port` of a URL, the port filled in from the scheme.
fn target(url: &http::Uri) -> String {
    let host = url.host().unwrap_or_default();
    let port = url
        .port_u16()
        .unwrap_or(if url.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    format!("{host}:{port}")
}

/// Why a connection could not be made, in words.
fn connect_reason(
    err: &(dyn StdError + 'static),
    url: &http::Uri,
    connect_timeout: Duration,
) -> (SendKind, String) {
    if let Some(tls) = find::<rustls::Error>(err) {
        let reason = match tls {
            rustls::Error::InvalidCertificate(_) => format!(
                "TLS certificate verification failed ({tls}); if the receiver's certificate comes \
                 from a private CA, trust that CA with the extra CA file"
            ),
            _ => format!("TLS handshake failed ({tls})"),
        };
        return (SendKind::Connect, reason);
    }
    // hyper-util's connector names its stage: "dns error", "tcp connect error", ...
    let stage_dns = chain(err).any(|e| e.to_string() == "dns error");
    let stage_tcp = stage_dns || chain(err).any(|e| e.to_string().starts_with("tcp "));
    let Some(io) = find_io(err) else {
        return (SendKind::Connect, innermost(err));
    };
    let reason = match io.kind() {
        io::ErrorKind::TimedOut if stage_tcp => {
            return (
                SendKind::ConnectTimeout,
                format!("no connection within {connect_timeout:?}"),
            );
        }
        _ if stage_dns => format!("could not resolve the host name ({io})"),
        io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        io::ErrorKind::ConnectionReset => "connection reset".to_owned(),
        io::ErrorKind::HostUnreachable => "host unreachable".to_owned(),
        io::ErrorKind::NetworkUnreachable => "network unreachable".to_owned(),
        io::ErrorKind::AddrNotAvailable => "address not available".to_owned(),
        _ if !stage_tcp && url.scheme_str() == Some("https") => {
            format!("TLS handshake failed ({})", innermost(err))
        }
        _ => innermost(err),
    };
    (SendKind::Connect, reason)
}

/// An error and its sources, looking inside `io::Error`s too (whose `source()` skips the error
/// they wrap).
fn chain<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    let mut stack = vec![err];
    std::iter::from_fn(move || {
        let e = stack.pop()?;
        if let Some(next) = e.source() {
            stack.push(next);
        }
        if let Some(inner) = e.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
            stack.push(inner);
        }
        Some(e)
    })
}

fn find<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    chain(err).find_map(|e| e.downcast_ref::<T>())
}

/// The deepest `io::Error` whose kind says something.
fn find_io<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a io::Error> {
    chain(err)
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .filter(|e| e.kind() != io::ErrorKind::Other)
        .last()
        .or_else(|| chain(err).find_map(|e| e.downcast_ref::<io::Error>()))
}

/// The message of the deepest cause.
fn innermost(err: &(dyn StdError + 'static)) -> String {
    chain(err)
        .last()
        .map_or_else(|| err.to_string(), ToString::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_that_cannot_be_sent() {
        for (url, want) in [
            ("/relative", "is not absolute"),
            ("ftp://host/x", "expected http or https"),
        ] {
            let err = check_url(&url.parse().unwrap()).unwrap_err();
            assert!(!err.is_retryable(), "{url}");
            assert!(err.to_string().contains(want), "{url}: {err}");
        }
        assert!(check_url(&"http://127.0.0.1:8080/x".parse().unwrap()).is_ok());
        assert!(check_url(&"https://hooks.example.com/x?y=1".parse().unwrap()).is_ok());
    }

    #[test]
    fn targets() {
        assert_eq!(
            target(&"http://a.example/x".parse().unwrap()),
            "a.example:80"
        );
        assert_eq!(
            target(&"https://a.example/x".parse().unwrap()),
            "a.example:443"
        );
        assert_eq!(
            target(&"http://127.0.0.1:9/".parse().unwrap()),
            "127.0.0.1:9"
        );
        assert_eq!(target(&"http://[::1]:9/".parse().unwrap()), "[::1]:9");
    }

    #[test]
    fn urls_are_shown_without_user_info_path_or_query() {
        for (url, shown) in [
            (
                "https://hooks.slack.com/services/T/B/s3cret",
                "https://hooks.slack.com",
            ),
            (
                "http://u:p@h.example:8080/x?token=s3cret",
                "http://h.example:8080",
            ),
            ("http://[::1]:9/x", "http://[::1]:9"),
        ] {
            assert_eq!(redacted(&url.parse().unwrap()), shown, "{url}");
        }
        let err = check_url(&"ftp://u:p@h.example/s3cret".parse().unwrap()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the request cannot be sent: the URL ftp://h.example has the scheme \"ftp\"; expected http or https"
        );
    }

    #[test]
    fn chain_looks_inside_io_errors() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let inner = io::Error::new(io::ErrorKind::InvalidData, tls);
        let outer = io::Error::other(inner);
        let found = find::<rustls::Error>(&outer);
        assert!(matches!(found, Some(rustls::Error::InvalidCertificate(_))));
        let (kind, reason) = connect_reason(
            &outer,
            &"https://127.0.0.1/".parse().unwrap(),
            Duration::from_secs(5),
        );
        assert_eq!(kind, SendKind::Connect);
        assert!(
            reason.contains("certificate verification failed"),
            "{reason}"
        );
    }

    /// Stands in for hyper-util's private connect error, which names its stage.
    #[derive(Debug)]
    struct Stage(&'static str, io::Error);
    impl fmt::Display for Stage {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl StdError for Stage {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.1)
        }
    }

    #[test]
    fn connect_reasons() {
        let http: http::Uri = "http://hooks.example/x".parse().unwrap();
        let https: http::Uri = "https://hooks.example/x".parse().unwrap();
        let five = Duration::from_secs(5);
        let cases = [
            (
                Stage(
                    "dns error",
                    io::Error::other("failed to lookup address information"),
                ),
                &http,
                SendKind::Connect,
                "could not resolve the host name (failed to lookup address information)",
            ),
            (
                Stage("tcp connect error", io::ErrorKind::ConnectionRefused.into()),
                &http,
                SendKind::Connect,
                "connection refused",
            ),
            (
                Stage("tcp connect error", io::ErrorKind::TimedOut.into()),
                &http,
                SendKind::ConnectTimeout,
                "no connection within 5s",
            ),
            (
                Stage("tcp connect error", io::ErrorKind::HostUnreachable.into()),
                &https,
                SendKind::Connect,
                "host unreachable",
            ),
        ];
        for (err, url, kind, reason) in cases {
            assert_eq!(connect_reason(&err, url, five), (kind, reason.to_owned()));
        }
        // Past the TCP stage on https: the handshake.
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof");
        let (kind, reason) = connect_reason(&eof, &https, five);
        assert_eq!(kind, SendKind::Connect);
        assert_eq!(reason, "TLS handshake failed (tls handshake eof)");
    }

    #[test]
    fn default_config_builds() {
        let t = HttpTransport::new(HttpTransportConfig::default()).unwrap();
        assert_eq!(t.request_timeout(), Duration::from_secs(30));
    }
}
