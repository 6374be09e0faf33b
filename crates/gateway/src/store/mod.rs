//! Where keys (sessions), rate counters and quota counters live: in this process, or in Redis so
//! that several gateway processes are one gateway.
//!
//! Rate limiting is a rolling window (a log of the accepted requests of the last `per` seconds, as
//! Tyk's default limiter): a request is accepted while fewer than `rate` were accepted in the
//! window before it; refused requests are not counted. A quota is a counter that starts at the
//! first request of a period and expires `quota_renewal_rate` seconds later.

mod circuit;
mod memory;
#[cfg(feature = "redis")]
mod redis;

pub use circuit::{CIRCUIT_OPEN_FOR, CIRCUIT_THRESHOLD, Circuit};
pub use memory::MemoryStorage;
#[cfg(feature = "redis")]
pub use redis::{RedisStorage, connect, connection_settings};

use std::time::Duration;

use async_trait::async_trait;
use hookshot_config::{ConfigError, Location};

use crate::session::Session;

/// A storage failure (Redis unreachable, timed out, or answering nonsense).
#[derive(Debug, Clone, thiserror::Error)]
#[error("storage unavailable: {0}")]
pub struct StoreError(pub String);

/// The sessions of keys, by the SHA-256 hex of the key.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// The session of the key whose hash is `key_hash`.
    async fn get(&self, key_hash: &str) -> Result<Option<Session>, StoreError>;
    /// Stores `session` for `key_hash`, replacing any.
    async fn put(&self, key_hash: &str, session: &Session) -> Result<(), StoreError>;
    /// Stores `session` only if `key_hash` has none; whether it did.
    async fn create(&self, key_hash: &str, session: &Session) -> Result<bool, StoreError>;
    /// Removes the session and the key's counters; whether there was one.
    async fn delete(&self, key_hash: &str) -> Result<bool, StoreError>;
    /// Whether the store answers (for `/hello`).
    async fn ping(&self) -> Result<(), StoreError>;
}

/// What a quota check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaState {
    /// Whether this request is within the quota.
    pub allowed: bool,
    /// Requests left in the period after this one.
    pub remaining: i64,
    /// When the period renews, in unix seconds (0: never).
    pub resets_at: i64,
}

/// Rate and quota counters, by key hash.
#[async_trait]
pub trait LimitStore: Send + Sync {
    /// Records a request against a rolling window of `limit` requests per `window`;
    /// whether it is allowed (refused requests are not recorded).
    async fn rate_hit(
        &self,
        key_hash: &str,
        limit: u64,
        window: Duration,
    ) -> Result<bool, StoreError>;
    /// Counts a request against a quota of `max` per `renewal_secs` (0 or less: never renews).
    async fn quota_hit(
        &self,
        key_hash: &str,
        max: i64,
        renewal_secs: i64,
    ) -> Result<QuotaState, StoreError>;
    /// Starts the key's quota period afresh.
    async fn reset_quota(&self, key_hash: &str) -> Result<(), StoreError>;
}

/// A store of both kinds.
pub trait Storage: KeyStore + LimitStore {}
impl<T: KeyStore + LimitStore> Storage for T {}

/// The most requests a session's `rate` may allow per window (the memory store keeps one entry
/// per accepted request of a window).
pub const MAX_RATE: f64 = 1_000_000.0;
/// The longest rate window and quota period, in seconds: ten years.
pub const MAX_PERIOD_SECS: i64 = 315_360_000;

/// The rolling window for a session's `rate` per `per` seconds: the whole number of requests and
/// the window they are counted in (a rate below 1 widens the window: 0.5 per 1 s is 1 per 2 s).
/// `None` when the session has no rate limit (`rate` or `per` 0, or Tyk's -1).
///
/// Refused, naming the field: a value that is not finite, negative other than -1, a `rate` above
/// [`MAX_RATE`], or a window (`per`, or `per / rate` for a rate below 1) above
/// [`MAX_PERIOD_SECS`].
pub fn rate_window(rate: f64, per: f64) -> Result<Option<(u64, Duration)>, ConfigError> {
    let bad = |field: &str, value: f64, expected: String| {
        ConfigError::new(
            Location::default().field(field),
            format!("found the number {value:?}"),
            expected,
        )
    };
    if !(rate.is_finite() && (rate == -1.0 || (0.0..=MAX_RATE).contains(&rate))) {
        return Err(bad(
            "rate",
            rate,
            format!(
                "expected requests per window from 0 to {MAX_RATE}, or 0 or -1 for no rate limit"
            ),
        ));
    }
    let max_period = MAX_PERIOD_SECS as f64;
    if !(per.is_finite() && (per == -1.0 || (0.0..=max_period).contains(&per))) {
        return Err(bad(
            "per",
            per,
            format!(
                "expected a window in seconds from 0 to {MAX_PERIOD_SECS} (ten years), or 0 or -1 \
                 for no rate limit"
            ),
        ));
    }
    if rate <= 0.0 || per <= 0.0 {
        return Ok(None);
    }
    if rate < 1.0 {
        let window = per / rate;
        if window > max_period {
            return Err(bad(
                "rate",
                rate,
                format!(
                    "expected a rate of at least {} with `per` {per}: a rate below 1 widens the \
                     window to per / rate seconds, at most {MAX_PERIOD_SECS} (ten years)",
                    per / max_period
                ),
            ));
        }
        return Ok(Some((1, Duration::from_secs_f64(window))));
    }
    Ok(Some((rate.floor() as u64, Duration::from_secs_f64(per))))
}

pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_windows() {
        let w = |rate, per| rate_window(rate, per).unwrap();
        assert_eq!(w(0.0, 1.0), None);
        assert_eq!(w(5.0, 0.0), None);
        assert_eq!(w(-1.0, -1.0), None);
        assert_eq!(w(10.5, 60.0), Some((10, Duration::from_secs(60))));
        assert_eq!(w(0.5, 1.0), Some((1, Duration::from_secs(2))));
        assert_eq!(
            w(MAX_RATE, MAX_PERIOD_SECS as f64),
            Some((1_000_000, Duration::from_secs(315_360_000)))
        );
    }

    #[test]
    fn absurd_rates_and_windows_are_refused_naming_the_field() {
        let cases = [
            (
                1.0,
                1e20,
                "field `per`: found the number 1e20; expected a window in seconds from 0 to 315360000",
            ),
            (1.0, f64::INFINITY, "field `per`: found the number inf"),
            (1.0, f64::NAN, "field `per`: found the number NaN"),
            (1.0, -2.0, "field `per`: found the number -2.0"),
            (1.0, 315_360_001.0, "field `per`"),
            (f64::NAN, 1.0, "field `rate`: found the number NaN"),
            (
                -0.5,
                1.0,
                "field `rate`: found the number -0.5; expected requests per window from 0 to 1000000",
            ),
            (1e7, 1.0, "field `rate`: found the number 10000000.0"),
            (1e-300, 1.0, "field `rate`: found the number 1e-300"),
            (0.5, 315_360_000.0, "a rate below 1 widens the window"),
        ];
        for (rate, per, want) in cases {
            let e = rate_window(rate, per).unwrap_err().to_string();
            assert!(
                e.contains(want),
                "rate {rate} per {per}: {e} does not contain {want}"
            );
        }
    }
}
