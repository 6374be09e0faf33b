//! `RedisStore`: cool-downs shared by several gateways (Tyk's among them) through Redis.
//!
//! One claim is one `SET <prefix><hex> 1 NX EX <seconds>` sent through a
//! [`hookshot_redis::Redis`]: one multiplexed connection that pipelines the claims made while
//! another pipeline is out, reconnects by itself, and answers every command within its limit.
//! The store either makes its own connection ([`RedisStore::new`]) or shares one with the rest of
//! the process ([`RedisStore::on_connection`]), so that keys, limits and cool-downs on one Redis
//! use one connection and see the same health. No claim waits longer than `claim_timeout`: past
//! it the failure policy answers.

mod config;
mod failure_log;

pub use config::{FailurePolicy, RedisConfig};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use hookshot_redis::{Redis, Settings, Value};

use crate::error::{Error, Result};
use crate::{Checksum, Claim, ClaimStats, CooldownStore};
use failure_log::FailureLog;

/// The longest window Redis is asked for (about 136 years).
const MAX_WINDOW_SECS: u64 = u32::MAX as u64;

/// The Redis cool-down store: one `SET <prefix><hex> 1 NX EX <seconds>` per claim.
///
/// Every claim of the store goes through one multiplexed (pipelined) connection. The first claim
/// that needs it starts connecting in the background and waits for it at most the claim time
/// limit. A connection error, or three commands in a row without an answer in time (a server
/// that vanished without closing the socket), drops the connection, and a background task
/// reconnects with backoff (50 ms doubling to 1 s) until it succeeds; while its last attempt
/// failed, claims do not wait. No claim waits longer than the limit: past it the failure policy
/// answers.
///
/// Cheap to clone (clones share the connection and the counters). Claims must run on a Tokio
/// runtime; making the store does not need one and does not connect.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    config: RedisConfig,
    redis: Redis,
    /// The connection's failed attempts when the store was made (a shared connection may have
    /// failed before).
    connect_failures_before: u64,
    won: AtomicU64,
    held: AtomicU64,
    unavailable: AtomicU64,
    errors: AtomicU64,
    failures: FailureLog,
}

impl RedisStore {
    /// A store for `config`, on a connection of its own; checks the configuration but does not
    /// connect (the first claim does).
    ///
    /// # Errors
    /// [`Error::Config`] when the URL does not parse or names a scheme other than `redis`,
    /// `rediss` or `unix`, or when a time limit is zero.
    pub fn new(config: RedisConfig) -> Result<RedisStore> {
        check_claim_timeout(&config.claim_timeout, &config.redacted_url())?;
        let mut settings = Settings::new(config.url.clone())
            .with_connect_timeout(config.connect_timeout)
            .with_command_timeout(config.claim_timeout);
        settings.tls_root_cert = config.tls_root_cert.clone();
        let redis = Redis::new(settings).map_err(|e| Error::Config(e.to_string()))?;
        Ok(RedisStore::made(redis, config))
    }

    /// A store on `redis`, a connection shared with the rest of the process. Of `config`, the key
    /// prefix, `claim_timeout` (bounded by the connection's own command limit: the shorter wins),
    /// the failure policy and the warning interval are used; the URL, `connect_timeout` and
    /// `tls_root_cert` are the connection's, and [`RedisStore::config`] shows those.
    ///
    /// # Errors
    /// [`Error::Config`] when `claim_timeout` is zero.
    pub fn on_connection(redis: Redis, mut config: RedisConfig) -> Result<RedisStore> {
        check_claim_timeout(&config.claim_timeout, redis.redacted_url())?;
        let settings = redis.settings();
        config.url = settings.url.clone();
        config.connect_timeout = settings.connect_timeout;
        config.tls_root_cert = settings.tls_root_cert.clone();
        config.claim_timeout = config.claim_timeout.min(settings.command_timeout);
        Ok(RedisStore::made(redis, config))
    }

    fn made(redis: Redis, config: RedisConfig) -> RedisStore {
        RedisStore {
            inner: Arc::new(Inner {
                failures: FailureLog::new(config.warning_interval),
                connect_failures_before: redis.connect_failures(),
                config,
                redis,
                won: AtomicU64::new(0),
                held: AtomicU64::new(0),
                unavailable: AtomicU64::new(0),
                errors: AtomicU64::new(0),
            }),
        }
    }

    /// The configuration the store was made with.
    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    /// The connection the store claims through.
    pub fn connection(&self) -> &Redis {
        &self.inner.redis
    }

    /// The Redis key of `checksum`: the prefix and the 32 lower-case hex digits.
    pub fn key(&self, checksum: &Checksum) -> String {
        checksum.key(&self.inner.config.key_prefix)
    }

    /// Whether the store holds a connection it believes to be working.
    pub fn is_connected(&self) -> bool {
        self.inner.redis.is_connected()
    }

    /// How many connections the store has made: 1 after the first claim, one more after each
    /// reconnect.
    pub fn connections(&self) -> u64 {
        self.inner.redis.connections()
    }

    /// What the store has answered so far.
    pub fn stats(&self) -> ClaimStats {
        let i = &self.inner;
        let connect_failures = i
            .redis
            .connect_failures()
            .saturating_sub(i.connect_failures_before);
        ClaimStats::new(
            i.won.load(Ordering::Relaxed),
            i.held.load(Ordering::Relaxed),
            i.unavailable.load(Ordering::Relaxed),
            i.errors.load(Ordering::Relaxed) + connect_failures,
        )
    }
}

fn check_claim_timeout(limit: &Duration, shown: &str) -> Result<()> {
    if limit.is_zero() {
        return Err(Error::Config(format!(
            "Redis store {shown}: claim_timeout is 0; expected a time limit such as 250 ms"
        )));
    }
    Ok(())
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("config", &self.inner.config)
            .field("connected", &self.is_connected())
            .field("stats", &self.stats())
            .finish()
    }
}

/// A window in whole seconds for `EX`: rounded up, at least 1.
fn ex_seconds(window: Duration) -> u64 {
    let secs = window
        .as_secs()
        .saturating_add(u64::from(window.subsec_nanos() > 0));
    secs.clamp(1, MAX_WINDOW_SECS)
}

impl Inner {
    /// Redis answered the claim.
    fn answered(&self) {
        self.failures.answered(|failures| {
            tracing::info!(
                redis = %self.redis.redacted_url(),
                failures,
                "cool-down store: Redis answers again"
            );
        });
    }

    fn failed(&self, failure: &hookshot_redis::Error) -> Claim {
        self.unavailable.fetch_add(1, Ordering::Relaxed);
        if !failure.is_not_connected() {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let policy = self.config.failure_policy;
        self.failures.failed(|w| {
            tracing::warn!(
                redis = %self.redis.redacted_url(),
                error = %failure,
                policy = %policy,
                failures = w.failures,
                not_logged = w.suppressed,
                "cool-down store: Redis cannot be asked; claims are answered by the {policy} policy"
            );
        });
        Claim::Unavailable {
            send: policy.sends(),
        }
    }
}

#[async_trait]
impl CooldownStore for RedisStore {
    async fn claim(&self, checksum: &Checksum, window: Duration) -> Claim {
        let inner = &self.inner;
        if window.is_zero() {
            inner.won.fetch_add(1, Ordering::Relaxed);
            return Claim::Won;
        }
        let prefix = inner.config.key_prefix.as_bytes();
        let mut key = Vec::with_capacity(prefix.len() + 32);
        key.extend_from_slice(prefix);
        key.extend_from_slice(&checksum.hex_bytes());
        let mut set = hookshot_redis::cmd("SET");
        set.arg(key)
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(ex_seconds(window));
        match inner
            .redis
            .value_within(set, inner.config.claim_timeout)
            .await
        {
            Ok(Value::Okay) => {
                inner.answered();
                inner.won.fetch_add(1, Ordering::Relaxed);
                Claim::Won
            }
            Ok(Value::Nil) => {
                inner.answered();
                inner.held.fetch_add(1, Ordering::Relaxed);
                Claim::Held
            }
            Ok(other) => inner.failed(&hookshot_redis::Error::Redis(
                (
                    hookshot_redis::ErrorKind::UnexpectedReturnType,
                    "unexpected reply to SET NX EX",
                    format!("{other:?}"),
                )
                    .into(),
            )),
            Err(failure) => inner.failed(&failure),
        }
    }

    fn stats(&self) -> ClaimStats {
        RedisStore::stats(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_round_up_to_whole_seconds() {
        assert_eq!(ex_seconds(Duration::from_millis(1)), 1);
        assert_eq!(ex_seconds(Duration::from_millis(999)), 1);
        assert_eq!(ex_seconds(Duration::from_secs(1)), 1);
        assert_eq!(ex_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(ex_seconds(Duration::from_secs(60)), 60);
        assert_eq!(ex_seconds(Duration::MAX), MAX_WINDOW_SECS);
    }

    #[test]
    fn configuration_errors_name_the_problem_and_hide_the_password() {
        let bad = [
            (RedisConfig::new("http://:pw@h:1"), "Redis URL"),
            (
                RedisConfig::new("redis://h").with_claim_timeout(Duration::ZERO),
                "claim_timeout",
            ),
            (
                RedisConfig::new("redis://h").with_connect_timeout(Duration::ZERO),
                "connect_timeout",
            ),
            (
                RedisConfig::new("redis://h").with_tls_root_cert(b"pem".to_vec()),
                "rediss://",
            ),
        ];
        for (config, names) in bad {
            let e = RedisStore::new(config).unwrap_err().to_string();
            assert!(e.contains(names), "{e}");
            assert!(!e.contains("pw@"), "{e}");
        }
    }

    #[test]
    fn making_a_store_needs_no_runtime_and_does_not_connect() {
        // Nothing listens on port 1; nothing is attempted either.
        let s = RedisStore::new(RedisConfig::new("redis://127.0.0.1:1/0")).unwrap();
        assert!(!s.is_connected());
        assert_eq!(s.stats(), ClaimStats::default());
        assert_eq!(
            s.key(&Checksum([0xab; 16])),
            format!("webhook.cache.{}", "ab".repeat(16))
        );
    }

    #[test]
    fn tls_urls_are_accepted() {
        let s = RedisStore::new(RedisConfig::new("rediss://:pw@example.com:6380/2")).unwrap();
        assert!(!s.is_connected());
    }

    #[test]
    fn a_store_on_a_shared_connection_shows_its_settings_and_keeps_the_shorter_limit() {
        let redis = Redis::new(
            Settings::new("redis://:pw@127.0.0.1:1/3")
                .with_command_timeout(Duration::from_millis(300)),
        )
        .unwrap();
        let config = RedisConfig::new("redis://ignored")
            .with_claim_timeout(Duration::from_secs(5))
            .with_failure_policy(FailurePolicy::FailClosed);
        let s = RedisStore::on_connection(redis.clone(), config).unwrap();
        assert_eq!(s.config().url, "redis://:pw@127.0.0.1:1/3");
        assert_eq!(s.config().claim_timeout, Duration::from_millis(300));
        assert_eq!(s.config().failure_policy, FailurePolicy::FailClosed);
        assert!(!format!("{s:?}").contains("pw@"));
        let zero = RedisConfig::new("redis://h").with_claim_timeout(Duration::ZERO);
        let e = RedisStore::on_connection(redis, zero)
            .unwrap_err()
            .to_string();
        assert!(e.contains("claim_timeout") && !e.contains("pw@"), "{e}");
    }
}
