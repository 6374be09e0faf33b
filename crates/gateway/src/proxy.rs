//! Forwarding a request to an API's upstream: the listen path stripped when asked, hop-by-hop
//! headers removed, `X-Forwarded-For` appended, bodies streamed both ways.

use std::net::IpAddr;
use std::time::Duration;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, Uri};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::api::Api;
use crate::app::Body;

/// Why a request could not be forwarded.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The upstream could not be reached or broke the connection.
    #[error("the upstream could not be reached: {0}")]
    Unreachable(String),
    /// The upstream did not answer in time.
    #[error("the upstream did not answer within {0:?}")]
    Timeout(Duration),
    /// The upstream URL could not be built.
    #[error("the upstream URL is invalid: {0}")]
    BadUrl(String),
}

/// The pooled HTTP(S) client requests go upstream through; cheap to share.
#[derive(Clone)]
pub struct Upstream {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Body>,
    timeout: Option<Duration>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("timeout", &self.timeout)
            .finish()
    }
}

const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// Removes the hop-by-hop headers, and those the `Connection` header names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for name in named.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
}

impl Upstream {
    /// A client that trusts the servers `tls` trusts (the webhook transport's roots and extra CA
    /// file, from [`hookshot_transport::tls_client_config`]) and waits `timeout` for an upstream's
    /// response headers (`None`: no limit).
    pub fn new(tls: rustls::ClientConfig, timeout: Option<Duration>) -> Upstream {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(https);
        Upstream { client, timeout }
    }

    /// How long it waits for an upstream's response headers.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Sends the request upstream for `api` from the client at `peer`, and returns the answer
    /// with the hop-by-hop headers removed.
    pub async fn forward(
        &self,
        api: std::sync::Arc<Api>,
        mut req: Request<Body>,
        peer: IpAddr,
    ) -> Result<Response<Body>, ProxyError> {
        let path_and_query = api.upstream_path(req.uri().path(), req.uri().query());
        let uri = match &api.upstream_origin {
            Some((scheme, authority)) => Uri::builder()
                .scheme(scheme.clone())
                .authority(authority.clone())
                .path_and_query(path_and_query),
            None => Uri::builder()
                .scheme(api.target.uri().scheme_str().unwrap_or("http"))
                .authority(api.target.host_header())
                .path_and_query(path_and_query),
        }
        .build()
        .map_err(|e| ProxyError::BadUrl(e.to_string()))?;
        *req.uri_mut() = uri;
        *req.version_mut() = http::Version::HTTP_11;
        let headers = req.headers_mut();
        strip_hop_by_hop(headers);
        let forwarded = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            Some(prior) if !prior.is_empty() => format!("{prior}, {peer}"),
            _ => peer.to_string(),
        };
        if let Ok(v) = HeaderValue::from_str(&forwarded) {
            headers.insert("x-forwarded-for", v);
        }
        if let Some(v) = &api.upstream_host {
            headers.insert(header::HOST, v.clone());
        }
        let call = self.client.request(req);
        let response = match self.timeout {
            Some(t) => tokio::time::timeout(t, call)
                .await
                .map_err(|_| ProxyError::Timeout(t))?,
            None => call.await,
        }
        .map_err(|e| {
            let mut msg = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                msg = format!("{msg}: {s}");
                source = s.source();
            }
            ProxyError::Unreachable(msg)
        })?;
        let (mut parts, body) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        Ok(Response::from_parts(
            parts,
            body.map_err(Into::into).boxed(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_go() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-private"),
        );
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("x-private", HeaderValue::from_static("1"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert("x-kept", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-kept"));
    }
}
