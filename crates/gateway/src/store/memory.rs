//! Keys and counters in this process: one gateway node, nothing to run beside it.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{KeyStore, LimitStore, QuotaState, StoreError, now_unix};
use crate::session::Session;

/// Keys, rate windows and quotas in memory.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    sessions: Mutex<HashMap<String, Session>>,
    rates: Mutex<HashMap<String, VecDeque<Instant>>>,
    quotas: Mutex<HashMap<String, (i64, i64)>>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> MemoryStorage {
        MemoryStorage::default()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[async_trait]
impl KeyStore for MemoryStorage {
    async fn get(&self, key_hash: &str) -> Result<Option<Session>, StoreError> {
        Ok(lock(&self.sessions).get(key_hash).cloned())
    }

    async fn put(&self, key_hash: &str, session: &Session) -> Result<(), StoreError> {
        lock(&self.sessions).insert(key_hash.to_owned(), session.clone());
        Ok(())
    }

    async fn create(&self, key_hash: &str, session: &Session) -> Result<bool, StoreError> {
        let mut sessions = lock(&self.sessions);
        if sessions.contains_key(key_hash) {
            return Ok(false);
        }
        sessions.insert(key_hash.to_owned(), session.clone());
        Ok(true)
    }

    async fn delete(&self, key_hash: &str) -> Result<bool, StoreError> {
        lock(&self.rates).remove(key_hash);
        lock(&self.quotas).remove(key_hash);
        Ok(lock(&self.sessions).remove(key_hash).is_some())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[async_trait]
impl LimitStore for MemoryStorage {
    async fn rate_hit(
        &self,
        key_hash: &str,
        limit: u64,
        window: Duration,
    ) -> Result<bool, StoreError> {
        let now = Instant::now();
        let mut rates = lock(&self.rates);
        let log = match rates.get_mut(key_hash) {
            Some(log) => log,
            None => rates.entry(key_hash.to_owned()).or_default(),
        };
        while log
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            log.pop_front();
        }
        if log.len() as u64 >= limit {
            return Ok(false);
        }
        log.push_back(now);
        Ok(true)
    }

    async fn quota_hit(
        &self,
        key_hash: &str,
        max: i64,
        renewal_secs: i64,
    ) -> Result<QuotaState, StoreError> {
        let now = now_unix();
        let mut quotas = lock(&self.quotas);
        let entry = match quotas.get_mut(key_hash) {
            Some(entry) => entry,
            None => quotas.entry(key_hash.to_owned()).or_insert((0, 0)),
        };
        if entry.1 > 0 && entry.1 <= now {
            *entry = (0, 0);
        }
        if entry.0 == 0 && renewal_secs > 0 {
            entry.1 = now.saturating_add(renewal_secs);
        }
        entry.0 = entry.0.saturating_add(1);
        Ok(QuotaState {
            allowed: entry.0 <= max,
            remaining: max.saturating_sub(entry.0).max(0),
            resets_at: entry.1,
        })
    }

    async fn reset_quota(&self, key_hash: &str) -> Result<(), StoreError> {
        lock(&self.quotas).remove(key_hash);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rolling_window_counts_accepted_requests_only() {
        let s = MemoryStorage::new();
        let w = Duration::from_secs(60);
        assert!(s.rate_hit("k", 2, w).await.unwrap());
        assert!(s.rate_hit("k", 2, w).await.unwrap());
        assert!(!s.rate_hit("k", 2, w).await.unwrap());
        assert!(s.rate_hit("other", 2, w).await.unwrap());
        // A zero-length window forgets at once.
        assert!(s.rate_hit("z", 1, Duration::ZERO).await.unwrap());
        assert!(s.rate_hit("z", 1, Duration::ZERO).await.unwrap());
    }

    #[tokio::test]
    async fn quota_counts_down_and_resets() {
        let s = MemoryStorage::new();
        let a = s.quota_hit("k", 2, 3600).await.unwrap();
        assert!(a.allowed && a.remaining == 1 && a.resets_at > now_unix());
        let b = s.quota_hit("k", 2, 3600).await.unwrap();
        assert!(b.allowed && b.remaining == 0 && b.resets_at == a.resets_at);
        let c = s.quota_hit("k", 2, 3600).await.unwrap();
        assert!(!c.allowed && c.remaining == 0);
        s.reset_quota("k").await.unwrap();
        assert!(s.quota_hit("k", 2, 3600).await.unwrap().allowed);
    }

    #[tokio::test]
    async fn extreme_limits_do_not_panic() {
        let s = MemoryStorage::new();
        let q = s.quota_hit("k", i64::MIN, i64::MAX).await.unwrap();
        assert!(!q.allowed && q.remaining == 0 && q.resets_at == i64::MAX);
        assert!(s.quota_hit("m", i64::MAX, 1).await.unwrap().allowed);
        assert!(s.rate_hit("r", u64::MAX, Duration::MAX).await.unwrap());
        assert!(!s.rate_hit("z", 0, Duration::MAX).await.unwrap());
    }

    #[tokio::test]
    async fn create_refuses_an_existing_key_and_delete_reports() {
        let s = MemoryStorage::new();
        let session = Session::default();
        assert!(s.create("h", &session).await.unwrap());
        assert!(!s.create("h", &session).await.unwrap());
        assert!(s.delete("h").await.unwrap());
        assert!(!s.delete("h").await.unwrap());
        assert_eq!(s.get("h").await.unwrap(), None);
    }
}
