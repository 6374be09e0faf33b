//! `RedisConfig`: where the Redis store connects and how it behaves when Redis does not answer.

use std::fmt;
use std::time::Duration;

use hookshot_redis::redact;

use crate::TYK_KEY_PREFIX;

/// What a claim answers when Redis cannot be asked in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailurePolicy {
    /// Send anyway ([`Claim::Unavailable`](crate::Claim::Unavailable) with `send: true`):
    /// a webhook may go out twice, but none is lost. Tyk's effective behaviour; the default.
    #[default]
    FailOpen,
    /// Suppress (`send: false`): nothing is ever sent twice, but webhooks are lost while Redis is
    /// unreachable.
    FailClosed,
}

impl FailurePolicy {
    /// Whether a claim that could not be asked sends.
    pub fn sends(self) -> bool {
        self == FailurePolicy::FailOpen
    }

    /// `fail-open` or `fail-closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailurePolicy::FailOpen => "fail-open",
            FailurePolicy::FailClosed => "fail-closed",
        }
    }
}

impl fmt::Display for FailurePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Redis store's configuration. Build it with [`RedisConfig::new`] and the `with_` methods;
/// [`RedisStore::new`](crate::RedisStore::new) checks it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisConfig {
    /// The server: `redis://[[user]:password@]host[:port][/db]`, or `rediss://...` for TLS
    /// (certificates checked against the system's roots; `rediss://host/#insecure` skips the check).
    /// Default `redis://127.0.0.1:6379/0`.
    pub url: String,
    /// Prepended to the checksum's 32 hex digits to make the key. Default `webhook.cache.`, Tyk's,
    /// so that Tyk and Hookshot gateways on one Redis share cool-downs.
    pub key_prefix: String,
    /// How long a claim may take, waiting for a connection included, before the failure policy
    /// answers it. Default 250 ms.
    pub claim_timeout: Duration,
    /// How long one connection attempt (TCP, TLS, authentication, database selection) may take.
    /// Attempts run in the background; claims do not wait for them beyond `claim_timeout`.
    /// Default 2 s.
    pub connect_timeout: Duration,
    /// What a claim answers when Redis cannot be asked in time. Default fail-open.
    pub failure_policy: FailurePolicy,
    /// The least time between two warnings about failures; the failures in between are counted in
    /// the next warning. Default 10 s.
    pub warning_interval: Duration,
    /// For `rediss://` only: the certificate authorities (PEM) to trust instead of the system's
    /// roots, for a server whose certificate an internal CA issued. Default none.
    pub tls_root_cert: Option<Vec<u8>>,
}

impl RedisConfig {
    /// The defaults with the server at `url`.
    pub fn new(url: impl Into<String>) -> RedisConfig {
        RedisConfig {
            url: url.into(),
            ..RedisConfig::default()
        }
    }

    /// With another key prefix.
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> RedisConfig {
        self.key_prefix = prefix.into();
        self
    }

    /// With another claim time limit.
    pub fn with_claim_timeout(mut self, limit: Duration) -> RedisConfig {
        self.claim_timeout = limit;
        self
    }

    /// With another connection attempt time limit.
    pub fn with_connect_timeout(mut self, limit: Duration) -> RedisConfig {
        self.connect_timeout = limit;
        self
    }

    /// With another failure policy.
    pub fn with_failure_policy(mut self, policy: FailurePolicy) -> RedisConfig {
        self.failure_policy = policy;
        self
    }

    /// With another interval between warnings.
    pub fn with_warning_interval(mut self, interval: Duration) -> RedisConfig {
        self.warning_interval = interval;
        self
    }

    /// Trusting the certificate authorities in `pem` (instead of the system's roots) for `rediss://`.
    pub fn with_tls_root_cert(mut self, pem: impl Into<Vec<u8>>) -> RedisConfig {
        self.tls_root_cert = Some(pem.into());
        self
    }

    /// The URL with its password replaced by `***`, for logs and errors.
    pub fn redacted_url(&self) -> String {
        redact(&self.url)
    }
}

impl Default for RedisConfig {
    fn default() -> RedisConfig {
        RedisConfig {
            url: "redis://127.0.0.1:6379/0".into(),
            key_prefix: TYK_KEY_PREFIX.into(),
            claim_timeout: Duration::from_millis(250),
            connect_timeout: Duration::from_secs(2),
            failure_policy: FailurePolicy::FailOpen,
            warning_interval: Duration::from_secs(10),
            tls_root_cert: None,
        }
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.redacted_url())
            .field("key_prefix", &self.key_prefix)
            .field("claim_timeout", &self.claim_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("failure_policy", &self.failure_policy)
            .field("warning_interval", &self.warning_interval)
            .field(
                "tls_root_cert",
                &self
                    .tls_root_cert
                    .as_ref()
                    .map(|pem| format!("{} bytes", pem.len())),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_tyks() {
        let c = RedisConfig::default();
        assert_eq!(c.key_prefix, "webhook.cache.");
        assert_eq!(c.failure_policy, FailurePolicy::FailOpen);
        assert!(c.failure_policy.sends());
        assert!(!FailurePolicy::FailClosed.sends());
        assert_eq!(c.claim_timeout, Duration::from_millis(250));
    }

    #[test]
    fn builder_sets_each_field() {
        let c = RedisConfig::new("redis://h:1/2")
            .with_key_prefix("p.")
            .with_claim_timeout(Duration::from_millis(5))
            .with_connect_timeout(Duration::from_millis(6))
            .with_failure_policy(FailurePolicy::FailClosed)
            .with_warning_interval(Duration::from_millis(7));
        assert_eq!(c.url, "redis://h:1/2");
        assert_eq!(c.key_prefix, "p.");
        assert_eq!(c.claim_timeout, Duration::from_millis(5));
        assert_eq!(c.connect_timeout, Duration::from_millis(6));
        assert_eq!(c.failure_policy, FailurePolicy::FailClosed);
        assert_eq!(c.warning_interval, Duration::from_millis(7));
    }

    #[test]
    fn passwords_never_show() {
        let cases = [
            ("redis://:s3cret@h:6379/1", "redis://:***@h:6379/1"),
            ("rediss://user:s3cret@h/0", "rediss://user:***@h/0"),
            ("redis://user@h", "redis://user@h"),
            ("redis://h:6379", "redis://h:6379"),
            ("redis://:p@ss@h/", "redis://:***@h/"),
            ("not a url", "not a url"),
        ];
        for (url, want) in cases {
            assert_eq!(redact(url), want, "{url}");
        }
        let shown = format!("{:?}", RedisConfig::new("redis://:s3cret@h"));
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
