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
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::RedisStore;

use std::time::Duration;

use async_trait::async_trait;

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

/// The rolling window for a session's `rate` per `per` seconds: the whole number of requests and
/// the window they are counted in (a rate below 1 widens the window: 0.5 per 1 s is 1 per 2 s).
/// `None` when the session has no rate limit (`rate` or `per` 0 or less).
pub fn rate_window(rate: f64, per: f64) -> Option<(u64, Duration)> {
    if !(rate > 0.0 && per > 0.0 && rate.is_finite() && per.is_finite()) {
        return None;
    }
    if rate < 1.0 {
        return Some((1, Duration::from_secs_f64(per / rate)));
    }
    Some((rate.floor() as u64, Duration::from_secs_f64(per)))
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
        assert_eq!(rate_window(0.0, 1.0), None);
        assert_eq!(rate_window(5.0, 0.0), None);
        assert_eq!(rate_window(10.5, 60.0), Some((10, Duration::from_secs(60))));
        assert_eq!(rate_window(0.5, 1.0), Some((1, Duration::from_secs(2))));
    }
}
