//! The key check and limits: the presented key, its session, expiry and access rights, then its
//! rate and quota, each refusal answered as Tyk answers it.

use std::net::IpAddr;
use std::sync::Arc;

use hookshot_config::ConfigError;
use hookshot_event::EventType;
use http::header::HeaderValue;
use http::{Request, Response, StatusCode};

use super::{Body, Gateway, error_response};
use crate::api::Api;
use crate::session::hash_key;
use crate::store::{QuotaState, StoreError, now_unix};

impl Gateway {
    /// Key auth, expiry, access rights, rate and quota; `Ok` with the quota headers to send, or
    /// the refusal.
    pub(super) async fn authorise(
        &self,
        api: Arc<Api>,
        req: Request<Body>,
        peer: IpAddr,
    ) -> (
        Request<Body>,
        Result<Option<(i64, QuotaState)>, Response<Body>>,
    ) {
        let decision = self.decide(&api, &req, peer).await;
        (req, decision)
    }

    async fn decide(
        &self,
        api: &Api,
        req: &Request<Body>,
        peer: IpAddr,
    ) -> Result<Option<(i64, QuotaState)>, Response<Body>> {
        let key = req
            .headers()
            .get(&api.auth_header)
            .and_then(|v| v.to_str().ok())
            .map_or("", strip_bearer);
        if key.is_empty() {
            return Err(error_response(
                StatusCode::UNAUTHORIZED,
                "Authorization field missing",
            ));
        }
        let hash = hash_key(key);
        // One deadline for every storage call of this request.
        let deadline = tokio::time::Instant::now() + self.storage_deadline;
        let storage = &self.storage_circuit;
        let session = match storage.call(deadline, self.keys.get(&hash)).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                self.fire_key_event(
                    api,
                    EventType::AuthFailure,
                    self.origin(api, req, peer, key),
                );
                return Err(error_response(
                    StatusCode::FORBIDDEN,
                    "Access to this API has been disallowed",
                ));
            }
            Err(e) => return Err(self.storage_failure(e)),
        };
        if session.is_expired(now_unix()) {
            self.fire_key_event(api, EventType::KeyExpired, self.origin(api, req, peer, key));
            return Err(error_response(
                StatusCode::UNAUTHORIZED,
                "Key has expired, please renew",
            ));
        }
        if !session.may_access(api.id()) {
            // Tyk fires no event for a valid key used on an API it has no rights to.
            return Err(error_response(
                StatusCode::FORBIDDEN,
                "Access to this API has been disallowed",
            ));
        }
        let limits = match session.limits() {
            Ok(limits) => limits,
            Err(e) => return Err(self.session_failure(api, &hash, &e)),
        };
        if let Some((limit, window)) = limits.rate {
            match storage
                .call(deadline, self.limits.rate_hit(&hash, limit, window))
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    self.fire_key_event(
                        api,
                        EventType::RatelimitExceeded,
                        self.origin(api, req, peer, key),
                    );
                    return Err(error_response(
                        StatusCode::TOO_MANY_REQUESTS,
                        "Rate Limit Exceeded",
                    ));
                }
                Err(e) => return Err(self.storage_failure(e)),
            }
        }
        let Some((quota_max, renewal_secs)) = limits.quota else {
            return Ok(None);
        };
        let quota = self.limits.quota_hit(&hash, quota_max, renewal_secs);
        match storage.call(deadline, quota).await {
            Ok(q) if q.allowed => Ok(Some((quota_max, q))),
            Ok(q) => {
                self.fire_key_event(
                    api,
                    EventType::QuotaExceeded,
                    self.origin(api, req, peer, key),
                );
                let mut response = error_response(StatusCode::FORBIDDEN, "Quota exceeded");
                set_quota_headers(response.headers_mut(), (quota_max, q));
                Err(response)
            }
            Err(e) => Err(self.storage_failure(e)),
        }
    }

    fn storage_failure(&self, e: StoreError) -> Response<Body> {
        self.metrics.storage_error();
        if let Some(suppressed) = self.storage_log.allow() {
            tracing::error!(error = %e, suppressed, "storage did not answer; requests get 503 until it does");
        }
        error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "The gateway's storage is unavailable, please try again later",
        )
    }

    /// A stored session whose limits cannot be applied (written by hand or by another gateway):
    /// the request gets 500 naming the field, and the operator a log line (through a gate) with
    /// the key's hash, never the key.
    fn session_failure(&self, api: &Api, key_hash: &str, e: &ConfigError) -> Response<Body> {
        if let Some(suppressed) = self.session_log.allow() {
            tracing::error!(
                api = api.id(),
                key_hash,
                problem = %e,
                suppressed,
                "a key's stored session holds limits the gateway cannot apply; requests with the \
                 key get 500 until the session is corrected through the keys API"
            );
        }
        error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!(
                "This key's session cannot be applied ({e}); the gateway's operator must correct it"
            ),
        )
    }
}

fn strip_bearer(v: &str) -> &str {
    let v = v.trim();
    match v.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => v[7..].trim(),
        _ => v,
    }
}

pub(super) fn set_quota_headers(headers: &mut http::HeaderMap, (max, q): (i64, QuotaState)) {
    for (name, value) in [
        ("x-ratelimit-limit", max),
        ("x-ratelimit-remaining", q.remaining),
        ("x-ratelimit-reset", q.resets_at),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_is_stripped() {
        assert_eq!(strip_bearer("Bearer abc"), "abc");
        assert_eq!(strip_bearer("bearer  abc "), "abc");
        assert_eq!(strip_bearer("abc"), "abc");
    }
}
