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
mod tests;
