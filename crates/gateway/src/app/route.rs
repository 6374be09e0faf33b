//! Routing: where a request goes (`/hello`, the control API, an API or nothing), by its
//! normalised path, and whether a listener serving some endpoints answers it.

use std::sync::Arc;

use http::Request;
use http::header;

use super::{Body, Gateway};
use crate::api::Api;
use crate::path::PathError;

/// Where a request is routed.
pub(super) enum Route {
    /// `/hello`.
    Hello,
    /// The control API: `/tyk/...` and `/metrics`.
    Control,
    /// An API.
    Api(Arc<Api>),
    /// Nothing.
    NotFound,
}

impl Route {
    fn same(&self, other: &Route) -> bool {
        match (self, other) {
            (Route::Hello, Route::Hello)
            | (Route::Control, Route::Control)
            | (Route::NotFound, Route::NotFound) => true,
            (Route::Api(a), Route::Api(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// The host a request names (`Host`, else the target's authority), without its port.
fn request_host<B>(req: &Request<B>) -> Option<&str> {
    let host = match req.headers().get(header::HOST) {
        Some(v) => v.to_str().ok()?,
        None => req.uri().authority()?.as_str(),
    };
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    Some(match host.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or(host, |(inside, _)| inside),
        None => host.split_once(':').map_or(host, |(name, _)| name),
    })
}

/// Replaces the path of `req`'s target, keeping its query as sent.
fn set_path(req: &mut Request<Body>, path: &str) -> Option<()> {
    let target = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = Some(http::uri::PathAndQuery::try_from(target).ok()?);
    *req.uri_mut() = http::Uri::from_parts(parts).ok()?;
    Some(())
}

impl Gateway {
    pub(super) fn is_control_host<B>(&self, req: &Request<B>) -> bool {
        match &self.control_hostname {
            None => true,
            Some(name) => request_host(req).is_some_and(|h| h.eq_ignore_ascii_case(name)),
        }
    }

    /// Where the request goes, by its normalised path, which replaces the path it came with.
    pub(super) fn route(&self, req: &mut Request<Body>) -> Result<Route, PathError> {
        let apis = self.apis();
        let target = |path: &str| {
            if path == "/hello" {
                Route::Hello
            } else if path == "/metrics" || path.starts_with("/tyk/") || path == "/tyk" {
                Route::Control
            } else {
                apis.route(path)
                    .cloned()
                    .map_or(Route::NotFound, Route::Api)
            }
        };
        let original = req.uri().path();
        let path = crate::path::normalise(original)?;
        let route = target(&path.resolved);
        if path.had_dot_segments() && !route.same(&target(&path.written)) {
            return Err(PathError::Climbs);
        }
        if path.resolved != original {
            let resolved = path.resolved.into_owned();
            set_path(req, &resolved).ok_or(PathError::BadEscape)?;
        }
        Ok(route)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_host_is_read_without_its_port() {
        let host = |h: &str| {
            let req = Request::get("/").header("host", h).body(()).unwrap();
            request_host(&req).map(str::to_owned)
        };
        assert_eq!(
            host("ctl.example.com:8081").as_deref(),
            Some("ctl.example.com")
        );
        assert_eq!(host("CTL.example.com").as_deref(), Some("CTL.example.com"));
        assert_eq!(host("[::1]:8081").as_deref(), Some("::1"));
        assert_eq!(host("[::1]").as_deref(), Some("::1"));
        let h2 = Request::get("http://ctl:1/x").body(()).unwrap();
        assert_eq!(request_host(&h2), Some("ctl"));
    }
}
