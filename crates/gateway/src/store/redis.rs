//! Keys and counters in Redis: several gateway processes on one Redis are one gateway.
//!
//! Sessions are JSON under `<prefix>apikey-<sha256 of the key>`; the rolling rate window is a
//! sorted set `<prefix>rate-<hash>` and the quota a counter `<prefix>quota-<hash>`, each updated by
//! one Lua script so that concurrent gateways count exactly. Every command goes through the
//! process's one [`Redis`] connection, which the cool-down store shares.

use std::time::Duration;

use async_trait::async_trait;
use hookshot_redis::{Redis, Script, Settings, cmd};

use super::{KeyStore, LimitStore, QuotaState, StoreError, now_millis, now_unix};
use crate::config::StorageConfig;
use crate::session::Session;

const RATE_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 1
";

const QUOTA_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
local renewal = tonumber(ARGV[1])
if renewal > 0 then
  local ttl = redis.call('TTL', KEYS[1])
  if ttl < 0 then
    redis.call('EXPIRE', KEYS[1], renewal)
    ttl = renewal
  end
  return {n, ttl}
end
return {n, -1}
";

/// The gateway's storage in Redis: key sessions, rate windows and quotas.
#[derive(Clone)]
pub struct RedisStorage {
    redis: Redis,
    prefix: String,
    rate: Script,
    quota: Script,
}

impl std::fmt::Debug for RedisStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStorage")
            .field("redis", &self.redis)
            .field("prefix", &self.prefix)
            .finish()
    }
}

fn err(e: hookshot_redis::Error) -> StoreError {
    StoreError(e.to_string())
}

/// The connection settings `storage` names: its URL, and `timeout_secs` (at least 1 s) both for
/// a connection attempt and for any one command.
pub fn connection_settings(storage: &StorageConfig) -> Settings {
    let timeout = Duration::from_secs(storage.timeout_secs.max(1));
    Settings::new(crate::config::redis_url(storage))
        .with_connect_timeout(timeout)
        .with_command_timeout(timeout)
}

/// The one connection to the Redis `storage` names, for keys, limits and cool-downs; made on
/// first use and re-made after an outage, so a gateway starts (and recovers) while Redis is down.
///
/// # Errors
/// The settings are refused (the message names the URL without its password).
pub fn connect(storage: &StorageConfig) -> Result<Redis, StoreError> {
    Redis::new(connection_settings(storage)).map_err(err)
}

impl RedisStorage {
    /// Storage on a connection of its own to the Redis `storage` names; the connection is made on
    /// first use and re-made after an outage, so a gateway starts (and recovers) while Redis is
    /// down.
    ///
    /// # Errors
    /// The settings are refused (the message names the URL without its password).
    pub fn open(storage: &StorageConfig) -> Result<RedisStorage, StoreError> {
        Ok(RedisStorage::on_connection(
            connect(storage)?,
            &storage.key_prefix,
        ))
    }

    /// Storage on `redis`, a connection shared with the rest of the process, its keys under
    /// `prefix`.
    pub fn on_connection(redis: Redis, prefix: &str) -> RedisStorage {
        RedisStorage {
            redis,
            prefix: prefix.to_owned(),
            rate: Script::new(RATE_SCRIPT),
            quota: Script::new(QUOTA_SCRIPT),
        }
    }

    /// The connection the storage goes through.
    pub fn connection(&self) -> &Redis {
        &self.redis
    }

    fn key(&self, kind: &str, key_hash: &str) -> String {
        format!("{}{kind}-{key_hash}", self.prefix)
    }
}

#[async_trait]
impl KeyStore for RedisStorage {
    async fn get(&self, key_hash: &str) -> Result<Option<Session>, StoreError> {
        let mut get = cmd("GET");
        get.arg(self.key("apikey", key_hash));
        let raw: Option<String> = self.redis.query(get).await.map_err(err)?;
        match raw {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| StoreError(format!("a stored session does not parse ({e})"))),
        }
    }

    async fn put(&self, key_hash: &str, session: &Session) -> Result<(), StoreError> {
        let text = serde_json::to_string(session).map_err(|e| StoreError(e.to_string()))?;
        let mut set = cmd("SET");
        set.arg(self.key("apikey", key_hash)).arg(text);
        self.redis.query::<()>(set).await.map_err(err)
    }

    async fn create(&self, key_hash: &str, session: &Session) -> Result<bool, StoreError> {
        let text = serde_json::to_string(session).map_err(|e| StoreError(e.to_string()))?;
        let mut set = cmd("SET");
        set.arg(self.key("apikey", key_hash)).arg(text).arg("NX");
        let set: Option<String> = self.redis.query(set).await.map_err(err)?;
        Ok(set.is_some())
    }

    async fn delete(&self, key_hash: &str) -> Result<bool, StoreError> {
        let mut del = cmd("DEL");
        del.arg(self.key("apikey", key_hash));
        let removed: i64 = self.redis.query(del).await.map_err(err)?;
        let mut del = cmd("DEL");
        del.arg(self.key("rate", key_hash))
            .arg(self.key("quota", key_hash));
        self.redis.query::<()>(del).await.map_err(err)?;
        Ok(removed > 0)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.redis.ping().await.map_err(err)
    }
}

#[async_trait]
impl LimitStore for RedisStorage {
    async fn rate_hit(
        &self,
        key_hash: &str,
        limit: u64,
        window: Duration,
    ) -> Result<bool, StoreError> {
        let now = now_millis();
        let member = format!("{now}-{:016x}", rand::random::<u64>());
        let call = self
            .rate
            .call()
            .key(self.key("rate", key_hash))
            .arg(now)
            .arg(u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1))
            .arg(limit)
            .arg(member);
        let allowed: i64 = self.redis.invoke(&call).await.map_err(err)?;
        Ok(allowed == 1)
    }

    async fn quota_hit(
        &self,
        key_hash: &str,
        max: i64,
        renewal_secs: i64,
    ) -> Result<QuotaState, StoreError> {
        let call = self
            .quota
            .call()
            .key(self.key("quota", key_hash))
            .arg(renewal_secs);
        let (used, ttl): (i64, i64) = self.redis.invoke(&call).await.map_err(err)?;
        Ok(QuotaState {
            allowed: used <= max,
            remaining: max.saturating_sub(used).max(0),
            resets_at: if ttl >= 0 {
                now_unix().saturating_add(ttl)
            } else {
                0
            },
        })
    }

    async fn reset_quota(&self, key_hash: &str) -> Result<(), StoreError> {
        let mut del = cmd("DEL");
        del.arg(self.key("quota", key_hash));
        self.redis.query::<()>(del).await.map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(prefix: &str) -> RedisStorage {
        let url = hookshot_testkit::redis_url();
        let (host, port) = host_port(&url);
        RedisStorage::open(&StorageConfig {
            kind: crate::config::StorageType::Redis,
            host,
            port,
            key_prefix: format!("{prefix}-{:x}:", rand::random::<u32>()),
            ..StorageConfig::default()
        })
        .unwrap()
    }

    fn host_port(url: &str) -> (String, u16) {
        let rest = url.trim_start_matches("redis://");
        let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
        let hostport = rest.split('/').next().unwrap_or(rest);
        let (h, p) = hostport.rsplit_once(':').unwrap_or((hostport, "6379"));
        (h.to_owned(), p.parse().unwrap_or(6379))
    }

    #[tokio::test]
    async fn sessions_and_limits_on_redis() {
        let s = store("store-test");
        let session = Session {
            org_id: "acme".into(),
            rate: 2.0,
            per: 60.0,
            ..Session::default()
        };
        assert!(s.create("h", &session).await.unwrap());
        assert!(!s.create("h", &session).await.unwrap());
        assert_eq!(s.get("h").await.unwrap(), Some(session.clone()));
        let w = Duration::from_secs(60);
        assert!(s.rate_hit("h", 2, w).await.unwrap());
        assert!(s.rate_hit("h", 2, w).await.unwrap());
        assert!(!s.rate_hit("h", 2, w).await.unwrap());
        let q = s.quota_hit("h", 1, 3600).await.unwrap();
        assert!(q.allowed && q.remaining == 0 && q.resets_at > now_unix());
        assert!(!s.quota_hit("h", 1, 3600).await.unwrap().allowed);
        s.reset_quota("h").await.unwrap();
        assert!(s.quota_hit("h", 1, 3600).await.unwrap().allowed);
        assert!(s.delete("h").await.unwrap());
        assert_eq!(s.get("h").await.unwrap(), None);
        s.ping().await.unwrap();
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_an_error_not_a_hang() {
        let s = RedisStorage::open(&StorageConfig {
            kind: crate::config::StorageType::Redis,
            host: "127.0.0.1".into(),
            port: 1,
            timeout_secs: 1,
            ..StorageConfig::default()
        })
        .unwrap();
        let started = std::time::Instant::now();
        assert!(s.get("h").await.is_err());
        assert!(started.elapsed() < Duration::from_secs(30));
    }
}
