//! The webhook handler as a domain type: what to send where, when and how often, every value
//! checked when it was read or built.

mod builder;
mod signing_key;
pub(crate) mod validate;

use hookshot_core::TargetUrl;
use std::time::Duration;

use http::{HeaderMap, Method};

pub use builder::WebhookConfigBuilder;
pub use signing_key::{MAX_SIGNING_KEY_BYTES, MIN_SIGNING_KEY_BYTES, SigningKey, SigningKeyError};

/// The longest cool-down (`event_timeout`, OAS `cooldownPeriod`) a handler may ask for: 30 days,
/// in seconds.
pub const MAX_EVENT_TIMEOUT_SECS: u64 = 30 * 24 * 3600;
/// The longest `request_timeout` a handler may ask for: 1 hour, in seconds.
pub const MAX_REQUEST_TIMEOUT_SECS: u64 = 3600;
/// The longest retry backoff (`retry.initial_backoff_ms`, `retry.max_backoff_ms`): 1 hour, in
/// milliseconds.
pub const MAX_BACKOFF_MS: u64 = 3_600_000;
/// The most attempts `retry.max_attempts` may ask for.
pub const MAX_RETRY_ATTEMPTS: u32 = 20;

/// Opt-in retries of a failed delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1: no retry, as Tyk); at most [`MAX_RETRY_ATTEMPTS`].
    pub max_attempts: u32,
    /// The backoff ceiling before the second attempt; it doubles each retry.
    pub initial_backoff: Duration,
    /// The largest backoff; also the cap on an honoured `Retry-After`.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 1,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// A webhook handler (`eh_web_hook_handler`, or an OAS handler of type `webhook`), checked:
/// read from a file by [`EventHandlers::from_definition`](crate::EventHandlers::from_definition)
/// or made with [`WebhookConfig::builder`].
///
/// Its `Debug` shows the URL redacted ([`TargetUrl::redacted`]), the header names without their
/// values (they often carry credentials) and whether a signing key is set, never the key.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    pub(crate) id: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) method: Method,
    pub(crate) url: TargetUrl,
    pub(crate) template: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) cooldown: Duration,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    pub(crate) signing_key: Option<SigningKey>,
}

impl WebhookConfig {
    /// A builder of a handler sending `method` requests to `url`; see [`WebhookConfigBuilder`].
    pub fn builder(method: Method, url: TargetUrl) -> WebhookConfigBuilder {
        WebhookConfigBuilder::new(method, url)
    }

    /// `id`: an optional identifier, used in logs and metrics.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// `name`: an optional human name, used in logs.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The HTTP method: GET, PUT, POST, PATCH or DELETE.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// Whether requests carry the rendered body. The seed document: "Request types that do not
    /// support an encoded BODY will not have the event metadata encoded as part of the request";
    /// GET and DELETE carry none (the cool-down checksum still covers it).
    pub fn sends_body(&self) -> bool {
        self.method != Method::GET && self.method != Method::DELETE
    }

    /// Where the request goes (Tyk's `target_path`, OAS `url`).
    pub fn url(&self) -> &TargetUrl {
        &self.url
    }

    /// The body template (Tyk's `template_path`, OAS `bodyTemplate`); `None`: the default template.
    pub fn template(&self) -> Option<&str> {
        self.template.as_deref()
    }

    /// Headers added to each request; they override the defaults (`User-Agent`, `Content-Type`).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// How long an identical request is suppressed after one is sent (Tyk's `event_timeout`,
    /// OAS `cooldownPeriod`); zero: no cool-down.
    pub fn cooldown(&self) -> Duration {
        self.cooldown
    }

    /// The total time one attempt may take (`None`: the transport's default).
    pub fn request_timeout(&self) -> Option<Duration> {
        self.request_timeout
    }

    /// Retries of a failed delivery.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The Standard Webhooks key requests are signed with, when they are.
    pub fn signing_key(&self) -> Option<&SigningKey> {
        self.signing_key.as_ref()
    }

    /// A handler name for logs and metrics: the `id`, else the `name`, else
    /// `METHOD scheme://host[:port]` ([`TargetUrl::redacted`]: never user-info, path or query).
    pub fn label(&self) -> String {
        self.id
            .clone()
            .or_else(|| self.name.clone())
            .unwrap_or_else(|| format!("{} {}", self.method, self.url.redacted()))
    }
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("method", &self.method)
            .field("url", &self.url)
            .field("template", &self.template)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("cooldown", &self.cooldown)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("signing_key", &self.signing_key)
            .finish()
    }
}
