//! [`WebhookConfigBuilder`]: a [`WebhookConfig`] for Rust users, checked as the file reader
//! checks one.

use hookshot_core::TargetUrl;
use std::time::Duration;

use http::{HeaderMap, Method};

use super::validate;
use super::{
    MAX_EVENT_TIMEOUT_SECS, MAX_REQUEST_TIMEOUT_SECS, RetryPolicy, SigningKey, WebhookConfig,
};
use crate::error::{ConfigErrors, Location, Problem};

/// Builds a [`WebhookConfig`]. The setters only record; [`build`](Self::build) checks everything
/// at once, with the file reader's rules and words (the same methods, header names and values,
/// maxima of [`MAX_EVENT_TIMEOUT_SECS`], [`MAX_REQUEST_TIMEOUT_SECS`] and
/// [`MAX_BACKOFF_MS`](super::MAX_BACKOFF_MS)), and reports every mistake, each located at the
/// setter it came from (`field `header``).
///
/// ```
/// use std::time::Duration;
/// use hookshot_config::WebhookConfig;
///
/// let url = "https://hooks.example.com/in".parse().unwrap();
/// let config = WebhookConfig::builder(http::Method::POST, url)
///     .id("ops")
///     .header("X-Team", "ops")
///     .cooldown(Duration::from_secs(60))
///     .build()
///     .unwrap();
/// assert_eq!(config.label(), "ops");
///
/// let url = "https://hooks.example.com/in".parse().unwrap();
/// let refused = WebhookConfig::builder(http::Method::POST, url)
///     .header("X-Team", "ops\r\nInjected: yes")
///     .build()
///     .unwrap_err();
/// assert_eq!(refused.len(), 1);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct WebhookConfigBuilder {
    method: Method,
    url: TargetUrl,
    id: Option<String>,
    name: Option<String>,
    template: Option<String>,
    headers: Vec<(String, String)>,
    cooldown: Duration,
    request_timeout: Option<Duration>,
    retry: RetryPolicy,
    signing_key: Option<SigningKey>,
}

impl WebhookConfigBuilder {
    /// A handler sending `method` requests to `url`, with no cool-down, no retry and the default
    /// template.
    pub fn new(method: Method, url: TargetUrl) -> WebhookConfigBuilder {
        WebhookConfigBuilder {
            method,
            url,
            id: None,
            name: None,
            template: None,
            headers: Vec::new(),
            cooldown: Duration::ZERO,
            request_timeout: None,
            retry: RetryPolicy::default(),
            signing_key: None,
        }
    }

    /// An identifier, used in logs and metrics.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// A human name, used in logs.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The body template's path or shipped name; without one, the default template.
    pub fn template(mut self, template: impl Into<String>) -> Self {
        self.template = Some(template.into());
        self
    }

    /// A header added to each request (overriding a default of the same name; a later one of
    /// the same name overrides an earlier one). Checked by [`build`](Self::build).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// How long an identical request is suppressed after one is sent; at most 30 days.
    pub fn cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The total time one attempt may take; more than zero and at most 1 hour.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// Retries of a failed delivery: 1 to 20 attempts, backoffs from 1 ms to 1 hour.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Signs each request with a Standard Webhooks key.
    pub fn signing_key(mut self, key: SigningKey) -> Self {
        self.signing_key = Some(key);
        self
    }

    /// The handler, or everything wrong with it.
    pub fn build(self) -> Result<WebhookConfig, ConfigErrors> {
        let mut errors = ConfigErrors::default();
        let mut refuse = |field: &str, problem: Problem| {
            errors.push(problem.at(Location::default().field(field)));
        };
        if let Err(p) = validate::method(&self.method) {
            refuse("method", p);
        }
        if let Err(p) = validate::url_without_user_info(&self.url) {
            refuse("url", p);
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            match validate::header(name, value) {
                Ok((name, value)) => {
                    headers.insert(name, value);
                }
                Err(p) => refuse("header", p),
            }
        }
        let days = Duration::from_secs(MAX_EVENT_TIMEOUT_SECS);
        if let Err(p) = validate::duration_at_most(self.cooldown, days, "seconds", "30 days") {
            refuse("cooldown", p);
        }
        if let Some(timeout) = self.request_timeout {
            let hour = Duration::from_secs(MAX_REQUEST_TIMEOUT_SECS);
            if timeout.is_zero() {
                refuse(
                    "request_timeout",
                    Problem::new(
                        "found 0 seconds",
                        "expected a whole number of seconds, 1 or more",
                    ),
                );
            } else if let Err(p) = validate::duration_at_most(timeout, hour, "seconds", "1 hour") {
                refuse("request_timeout", p);
            }
        }
        for p in validate::retry_policy(&self.retry) {
            refuse("retry", p);
        }
        errors.into_result(WebhookConfig {
            id: self.id,
            name: self.name,
            method: self.method,
            url: self.url,
            template: self.template,
            headers,
            cooldown: self.cooldown,
            request_timeout: self.request_timeout,
            retry: self.retry,
            signing_key: self.signing_key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> WebhookConfigBuilder {
        WebhookConfig::builder(
            Method::POST,
            TargetUrl::parse("https://hooks.example.com/in").unwrap(),
        )
    }

    fn messages(b: WebhookConfigBuilder) -> Vec<String> {
        b.build()
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn builds_what_it_was_given() {
        let key = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let c = builder()
            .id("ops")
            .name("Ops")
            .template("slack.json")
            .header("X-Team", "ops")
            .header("x-team", "dev")
            .cooldown(Duration::from_secs(10))
            .request_timeout(Duration::from_secs(5))
            .signing_key(key.clone())
            .build()
            .unwrap();
        assert_eq!(c.id(), Some("ops"));
        assert_eq!(c.name(), Some("Ops"));
        assert_eq!(c.template(), Some("slack.json"));
        assert_eq!(c.headers()["x-team"], "dev", "a later header overrides");
        assert_eq!(c.cooldown(), Duration::from_secs(10));
        assert_eq!(c.request_timeout(), Some(Duration::from_secs(5)));
        assert_eq!(c.signing_key(), Some(&key));
        assert!(c.sends_body());
    }

    #[test]
    fn refuses_a_cr_lf_header_value_with_the_file_readers_words() {
        assert_eq!(
            messages(builder().header("X-Ok", "a\r\nInjected: yes")),
            [
                "field `header`: found the value \"a\\r\\nInjected: yes\" for header \"X-Ok\", which holds '\\r'; expected a header value without CR, LF or NUL"
            ]
        );
        assert_eq!(
            messages(builder().header("X Bad", "v")),
            [
                "field `header`: found the header name \"X Bad\"; expected a header name made of letters, digits and !#$%&'*+-.^_`|~ (an HTTP token)"
            ]
        );
    }

    #[test]
    fn enforces_the_file_readers_maxima_and_reports_every_mistake() {
        let errors = messages(
            WebhookConfig::builder(
                Method::HEAD,
                TargetUrl::parse("https://u:p@hooks.example.com/in").unwrap(),
            )
            .cooldown(Duration::from_secs(MAX_EVENT_TIMEOUT_SECS + 1))
            .request_timeout(Duration::from_secs(3601))
            .retry(RetryPolicy {
                max_attempts: 21,
                initial_backoff: Duration::from_millis(3_600_001),
                max_backoff: Duration::ZERO,
            }),
        );
        assert_eq!(
            errors,
            [
                "field `method`: found \"HEAD\"; expected one of GET, PUT, POST, PATCH, DELETE (any case)",
                "field `url`: found \"https://u:****@hooks.example.com/…\", which holds user-info; expected the URL without user-info; credentials in a URL are not sent, so put them in `header_map`, e.g. \"Authorization\": \"Basic <base64 of user:password>\"",
                "field `cooldown`: found 2592001 seconds; expected at most 2592000 seconds (30 days)",
                "field `request_timeout`: found 3601 seconds; expected at most 3600 seconds (1 hour)",
                "field `retry`: found the number 21; expected a whole number of attempts from 1 to 20",
                "field `retry`: found 3600001 milliseconds; expected at most 3600000 milliseconds (1 hour)",
                "field `retry`: found 0 milliseconds; expected a whole number of milliseconds, 1 or more",
            ]
        );
        assert_eq!(
            messages(builder().retry(RetryPolicy {
                max_attempts: 3,
                initial_backoff: Duration::from_millis(1000),
                max_backoff: Duration::from_millis(10),
            })),
            [
                "field `retry`: found 10 (below initial_backoff_ms 1000); expected max_backoff_ms at least initial_backoff_ms"
            ]
        );
        assert!(
            builder()
                .cooldown(Duration::from_secs(MAX_EVENT_TIMEOUT_SECS))
                .build()
                .is_ok()
        );
    }
}
