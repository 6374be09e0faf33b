//! `WebhookHandler`: render, build the request, checksum, claim, sign, send, retry.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use hookshot_config::WebhookConfig;
use hookshot_core::{
    Claim, CooldownStore, Event, EventHandler, FailReason, Outcome, Pending, Renderer, Step,
    Transport, WebhookRequest,
};
use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};

use crate::log_gate::LogGate;
use crate::signing::Signer;

/// The `User-Agent` Hookshot sends unless `header_map` sets one.
pub const USER_AGENT_VALUE: &str = concat!("Hookshot/", env!("CARGO_PKG_VERSION"));

/// A webhook handler: one configured endpoint, its template, a cool-down store and a transport.
pub struct WebhookHandler {
    config: WebhookConfig,
    label: String,
    renderer: Arc<dyn Renderer>,
    store: Arc<dyn CooldownStore>,
    transport: Arc<dyn Transport>,
    base_headers: HeaderMap,
    signer: Option<Signer>,
    failures: LogGate,
}

/// A rendered request, fixed for all attempts of one event.
#[derive(Debug)]
pub(crate) struct PreparedRequest {
    pub(crate) request: WebhookRequest,
    /// The body that was rendered (and signed); sent only when the method carries one.
    pub(crate) body: Bytes,
    /// The Standard Webhooks message id, when the handler signs.
    pub(crate) webhook_id: Option<String>,
}

impl PreparedRequest {
    /// An estimate of the bytes it holds: the body (shared with the request's when it is sent),
    /// the headers, the URL and the id.
    pub(crate) fn estimated_size(&self) -> usize {
        let headers: usize = self
            .request
            .headers
            .iter()
            .map(|(name, value)| 32 + name.as_str().len() + value.len())
            .sum();
        std::mem::size_of::<PreparedRequest>()
            + self.body.len().max(self.request.body.len())
            + headers
            + self.request.url.authority().map_or(0, |a| a.as_str().len())
            + self
                .request
                .url
                .path_and_query()
                .map_or(0, |p| p.as_str().len())
            + self.webhook_id.as_ref().map_or(0, String::len)
    }
}

impl WebhookHandler {
    /// Assembles a handler from a checked configuration; it cannot fail, as `hookshot-config`
    /// has checked the headers and parsed the signing key. Requests get the renderer's
    /// `Content-Type` (`application/json` for the default template and templates whose path
    /// ends in `.json`; none for other templates) unless the configured headers set one.
    pub fn new(
        config: WebhookConfig,
        renderer: Arc<dyn Renderer>,
        store: Arc<dyn CooldownStore>,
        transport: Arc<dyn Transport>,
    ) -> WebhookHandler {
        let label = config.label();
        let mut base_headers = HeaderMap::new();
        base_headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        if let Some(content_type) = renderer.content_type() {
            base_headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        // The configured headers override the defaults, as Tyk's `header_map` does.
        for (name, value) in config.headers() {
            base_headers.insert(name.clone(), value.clone());
        }
        let signer = config.signing_key().cloned().map(Signer::new);
        WebhookHandler {
            config,
            label,
            renderer,
            store,
            transport,
            base_headers,
            signer,
            failures: LogGate::new(Duration::from_secs(10)),
        }
    }

    /// The same handler under another label (in logs and metrics), for example to tell apart two
    /// handlers whose [`WebhookConfig::label`]s are the same.
    pub fn with_label(mut self, label: impl Into<String>) -> WebhookHandler {
        self.label = label.into();
        self
    }

    /// The handler's configuration.
    pub fn config(&self) -> &WebhookConfig {
        &self.config
    }

    fn finish(&self, outcome: Outcome) -> Step {
        if let Outcome::Failed {
            reason,
            detail,
            attempts,
        } = &outcome
        {
            if let Some(suppressed) = self.failures.allow() {
                tracing::warn!(
                    handler = %self.label,
                    url = %self.config.url().redacted(),
                    %reason,
                    attempts,
                    suppressed_since_last = suppressed,
                    "webhook not delivered: {detail}"
                );
            }
        } else {
            tracing::debug!(handler = %self.label, ?outcome, "webhook outcome");
        }
        Step::Done(outcome)
    }

    async fn attempt(&self, prepared: Arc<PreparedRequest>, attempts_before: u32) -> Step {
        let attempts = attempts_before + 1;
        let signature = self.signer.as_ref().map(|signer| {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            signer.headers(
                prepared.webhook_id.as_deref().unwrap_or_default(),
                now,
                &prepared.body,
            )
        });
        // The prepared request is kept only while another attempt may follow; the last one takes it.
        let (mut request, kept) = if attempts < self.config.retry().max_attempts {
            (prepared.request.clone(), Some(prepared))
        } else {
            let request =
                Arc::try_unwrap(prepared).map_or_else(|p| p.request.clone(), |p| p.request);
            (request, None)
        };
        if let Some(signature) = signature {
            request.headers.extend(signature);
        }
        match self.transport.send(request).await {
            Ok(delivered) => self.finish(Outcome::Delivered {
                status: delivered.status.as_u16(),
                attempts,
            }),
            Err(e) => {
                let policy = self.config.retry();
                if e.is_retryable()
                    && let Some(prepared) = kept
                {
                    let after = crate::backoff::delay(policy, attempts, e.retry_after());
                    tracing::debug!(handler = %self.label, attempts, ?after, "retrying webhook: {e}");
                    let bytes = prepared.estimated_size();
                    return Step::Retry {
                        after,
                        pending: Pending::shared(prepared, attempts, bytes),
                    };
                }
                let reason = if e.is_timeout() {
                    FailReason::Timeout
                } else if e.is_connect() {
                    FailReason::Connect
                } else if e.status().is_some() {
                    FailReason::Status
                } else {
                    FailReason::Other
                };
                self.finish(Outcome::Failed {
                    reason,
                    detail: e.to_string(),
                    attempts,
                })
            }
        }
    }

    /// Renders the body for `event`, or says why not.
    fn render(&self, event: &Event) -> Result<Bytes, Outcome> {
        match self.renderer.render(event) {
            Ok(body) => Ok(Bytes::from(body)),
            Err(e) => Err(Outcome::Failed {
                reason: FailReason::Render,
                detail: e.to_string(),
                attempts: 0,
            }),
        }
    }

    /// Claims the request's checksum for the cool-down: `None` to go on, the outcome otherwise.
    async fn claim(&self, body: &[u8]) -> Option<Outcome> {
        let window = self.config.cooldown();
        if window.is_zero() {
            return None;
        }
        let checksum = hookshot_cooldown::request_checksum(
            self.config.method().as_str(),
            self.config.url(),
            body,
        );
        match self.store.claim(&checksum, window).await {
            Claim::Won | Claim::Unavailable { send: true } => None,
            Claim::Held => Some(Outcome::Suppressed),
            Claim::Unavailable { send: false } => Some(Outcome::Failed {
                reason: FailReason::StoreUnavailable,
                detail: "the cool-down store is unavailable and its policy is fail-closed".into(),
                attempts: 0,
            }),
        }
    }

    /// The request for a rendered `body` whose claim was won: headers, message id, the body when
    /// the method carries one.
    fn request(&self, body: Bytes) -> PreparedRequest {
        let request = WebhookRequest {
            method: self.config.method().clone(),
            url: self.config.url().uri().clone(),
            headers: self.base_headers.clone(),
            // GET and DELETE carry no body; the checksum still covers the rendered one.
            body: if self.config.sends_body() {
                body.clone()
            } else {
                Bytes::new()
            },
            timeout: self.config.request_timeout(),
        };
        PreparedRequest {
            request,
            body,
            webhook_id: self
                .signer
                .as_ref()
                .map(|_| crate::signing::new_message_id()),
        }
    }
}

#[async_trait]
impl EventHandler for WebhookHandler {
    fn label(&self) -> &str {
        &self.label
    }

    /// Render, checksum and claim; the request (headers, id) is built only once the claim is won.
    async fn start(&self, event: &Event) -> Step {
        let body = match self.render(event) {
            Ok(body) => body,
            Err(outcome) => return self.finish(outcome),
        };
        if let Some(outcome) = self.claim(&body).await {
            return self.finish(outcome);
        }
        let prepared = self.request(body);
        let bytes = prepared.estimated_size();
        Step::Send(Pending::new(prepared, 0, bytes))
    }

    async fn resume(&self, pending: Pending) -> Step {
        let attempts = pending.attempts();
        match pending.into_state::<PreparedRequest>() {
            Ok(prepared) => self.attempt(prepared, attempts).await,
            Err(_) => self.finish(Outcome::Failed {
                reason: FailReason::Other,
                detail: "resumed with a delivery another handler prepared".into(),
                attempts,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use hookshot_config::{RetryPolicy, SigningKey};
    use hookshot_core::{
        Delivered, EventType, MockCooldownStore, MockRenderer, MockTransport, RenderError,
        TargetUrl, TransportError,
    };
    use http::Method;

    use super::*;
    use crate::Instrumented;

    fn builder(method: Method, event_timeout: u64) -> hookshot_config::WebhookConfigBuilder {
        WebhookConfig::builder(
            method,
            TargetUrl::parse("http://hooks.example.com:8080/in?x=1").unwrap(),
        )
        .id("ops")
        .header("X-Team", "ops")
        .cooldown(Duration::from_secs(event_timeout))
        .request_timeout(Duration::from_secs(7))
    }

    fn config(method: Method, event_timeout: u64) -> WebhookConfig {
        builder(method, event_timeout).build().unwrap()
    }

    fn renderer(body: &'static str) -> Arc<dyn Renderer> {
        typed_renderer(body, Some("application/json"))
    }

    fn typed_renderer(body: &'static str, content_type: Option<&'static str>) -> Arc<dyn Renderer> {
        let mut r = MockRenderer::new();
        r.expect_render().returning(move |_| Ok(body.to_owned()));
        r.expect_content_type().return_const(content_type);
        Arc::new(r)
    }

    fn store_never_called() -> Arc<dyn CooldownStore> {
        let mut s = MockCooldownStore::new();
        s.expect_claim().never();
        Arc::new(s)
    }

    /// A transport that records requests and answers from a script.
    fn transport(
        answers: Vec<Result<Delivered, TransportError>>,
    ) -> (Arc<dyn Transport>, Arc<Mutex<Vec<WebhookRequest>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let answers = Mutex::new(answers.into_iter());
        let mut t = MockTransport::new();
        let log = seen.clone();
        t.expect_send().returning(move |req| {
            log.lock().unwrap().push(req);
            answers
                .lock()
                .unwrap()
                .next()
                .expect("no more scripted answers")
        });
        (Arc::new(t), seen)
    }

    fn ok() -> Result<Delivered, TransportError> {
        Ok(Delivered {
            status: http::StatusCode::OK,
        })
    }

    /// A handler counted as a program without a dispatcher counts it.
    fn handler(
        config: WebhookConfig,
        renderer: Arc<dyn Renderer>,
        store: Arc<dyn CooldownStore>,
        transport: Arc<dyn Transport>,
    ) -> Instrumented<WebhookHandler> {
        Instrumented::new(WebhookHandler::new(config, renderer, store, transport))
    }

    fn event() -> Event {
        Event::sample(&EventType::AuthFailure)
    }

    #[tokio::test]
    async fn builds_the_request_as_configured() {
        let (t, seen) = transport(vec![ok()]);
        let h = handler(
            config(Method::POST, 0),
            renderer("{\"a\":1}"),
            store_never_called(),
            t,
        );
        let outcome = h.handle(&event()).await;
        assert_eq!(
            outcome,
            Outcome::Delivered {
                status: 200,
                attempts: 1
            }
        );
        let req = seen.lock().unwrap().pop().unwrap();
        assert_eq!(req.method, http::Method::POST);
        assert_eq!(req.url.to_string(), "http://hooks.example.com:8080/in?x=1");
        assert_eq!(req.headers["user-agent"], USER_AGENT_VALUE);
        assert_eq!(req.headers["content-type"], "application/json");
        assert_eq!(req.headers["x-team"], "ops");
        assert_eq!(req.body, "{\"a\":1}");
        assert_eq!(req.timeout, Some(Duration::from_secs(7)));
        // Instrumented::handle counts its outcome, as the dispatcher does for the events it
        // drives.
        let counted = h.metrics().snapshot();
        assert_eq!((counted.delivered, counted.latency_count), (1, 1));
        assert_eq!(counted.failed_total() + counted.suppressed, 0);
    }

    #[tokio::test]
    async fn header_map_overrides_defaults_and_non_json_gets_no_content_type() {
        let c = builder(Method::PUT, 0)
            .header("User-Agent", "Custom/1")
            .build()
            .unwrap();
        let (t, seen) = transport(vec![ok()]);
        let h = handler(c, typed_renderer("plain", None), store_never_called(), t);
        h.handle(&event()).await;
        let req = seen.lock().unwrap().pop().unwrap();
        assert_eq!(req.headers["user-agent"], "Custom/1");
        assert!(req.headers.get("content-type").is_none());

        let c = builder(Method::POST, 0)
            .header("Content-Type", "application/xml")
            .build()
            .unwrap();
        let (t, seen) = transport(vec![ok()]);
        let h = handler(c, renderer("<a/>"), store_never_called(), t);
        h.handle(&event()).await;
        let req = seen.lock().unwrap().pop().unwrap();
        assert_eq!(req.headers.get_all("content-type").iter().count(), 1);
        assert_eq!(req.headers["content-type"], "application/xml");
    }

    #[tokio::test]
    async fn get_and_delete_send_no_body_but_the_checksum_covers_it() {
        for method in [Method::GET, Method::DELETE] {
            let expected = hookshot_cooldown::request_checksum(
                method.as_str(),
                config(method.clone(), 30).url(),
                b"{\"rendered\":true}",
            );
            let mut store = MockCooldownStore::new();
            store
                .expect_claim()
                .withf(move |c, w| *c == expected && *w == Duration::from_secs(30))
                .times(1)
                .returning(|_, _| Claim::Won);
            let (t, seen) = transport(vec![ok()]);
            let h = handler(
                config(method.clone(), 30),
                renderer("{\"rendered\":true}"),
                Arc::new(store),
                t,
            );
            assert!(h.handle(&event()).await.is_delivered());
            assert!(seen.lock().unwrap()[0].body.is_empty(), "{method}");
        }
    }

    #[tokio::test]
    async fn a_held_checksum_is_suppressed_without_sending() {
        let mut store = MockCooldownStore::new();
        store.expect_claim().times(1).returning(|_, _| Claim::Held);
        let mut t = MockTransport::new();
        t.expect_send().never();
        let h = handler(
            config(Method::POST, 10),
            renderer("x"),
            Arc::new(store),
            Arc::new(t),
        );
        assert_eq!(h.handle(&event()).await, Outcome::Suppressed);
    }

    #[tokio::test]
    async fn store_policy_decides_when_the_store_is_unavailable() {
        let mut store = MockCooldownStore::new();
        store
            .expect_claim()
            .returning(|_, _| Claim::Unavailable { send: false });
        let mut t = MockTransport::new();
        t.expect_send().never();
        let h = handler(
            config(Method::POST, 10),
            renderer("x"),
            Arc::new(store),
            Arc::new(t),
        );
        assert!(matches!(
            h.handle(&event()).await,
            Outcome::Failed {
                reason: FailReason::StoreUnavailable,
                attempts: 0,
                ..
            }
        ));

        let mut store = MockCooldownStore::new();
        store
            .expect_claim()
            .returning(|_, _| Claim::Unavailable { send: true });
        let (t, _) = transport(vec![ok()]);
        let h = handler(config(Method::POST, 10), renderer("x"), Arc::new(store), t);
        assert!(h.handle(&event()).await.is_delivered());
    }

    #[tokio::test]
    async fn a_render_error_fails_without_claiming_or_sending() {
        let mut r = MockRenderer::new();
        r.expect_render()
            .returning(|_| Err(RenderError::new("rendering t.json: boom")));
        r.expect_content_type()
            .return_const(Some("application/json"));
        let mut t = MockTransport::new();
        t.expect_send().never();
        let h = handler(
            config(Method::POST, 10),
            Arc::new(r),
            store_never_called(),
            Arc::new(t),
        );
        assert!(matches!(
            h.handle(&event()).await,
            Outcome::Failed {
                reason: FailReason::Render,
                ..
            }
        ));
    }

    #[tokio::test]
    async fn retries_reuse_body_and_id_and_stop_at_max_attempts() {
        let c = builder(Method::POST, 0)
            .retry(RetryPolicy {
                max_attempts: 3,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(2),
            })
            .signing_key(SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap())
            .build()
            .unwrap();
        let unavailable = || {
            Err(TransportError::Status {
                status: http::StatusCode::SERVICE_UNAVAILABLE,
                retry_after: None,
            })
        };
        let (t, seen) = transport(vec![unavailable(), unavailable(), unavailable()]);
        let h = handler(c, renderer("same"), store_never_called(), t);
        let Step::Send(pending) = h.handler().start(&event()).await else {
            panic!("expected a prepared request")
        };
        assert_eq!(pending.attempts(), 0);
        let Step::Retry { pending, .. } = h.handler().resume(pending).await else {
            panic!("expected a retry")
        };
        assert_eq!(pending.attempts(), 1);
        let Step::Retry { pending, .. } = h.handler().resume(pending).await else {
            panic!("expected a retry")
        };
        let Step::Done(outcome) = h.handler().resume(pending).await else {
            panic!("expected the last attempt to finish")
        };
        assert!(matches!(
            outcome,
            Outcome::Failed {
                reason: FailReason::Status,
                attempts: 3,
                ..
            }
        ));
        // The handler keeps no counters: whoever drives its steps counts the retries.
        assert_eq!(h.metrics().snapshot().retried, 0);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        let ids: Vec<_> = seen
            .iter()
            .map(|r| r.headers["webhook-id"].clone())
            .collect();
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        assert!(seen.iter().all(|r| r.body == "same"));
    }

    #[tokio::test]
    async fn a_client_error_is_not_retried() {
        let c = builder(Method::POST, 0)
            .retry(RetryPolicy {
                max_attempts: 5,
                ..RetryPolicy::default()
            })
            .build()
            .unwrap();
        let (t, seen) = transport(vec![Err(TransportError::Status {
            status: http::StatusCode::BAD_REQUEST,
            retry_after: None,
        })]);
        let h = handler(c, renderer("x"), store_never_called(), t);
        assert!(matches!(
            h.handle(&event()).await,
            Outcome::Failed {
                reason: FailReason::Status,
                attempts: 1,
                ..
            }
        ));
        assert_eq!(seen.lock().unwrap().len(), 1);
    }
}
