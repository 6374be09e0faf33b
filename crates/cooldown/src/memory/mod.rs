//! `MemoryStore`: the embedded cool-down store of a single gateway process.
//!
//! Layout: 64 shards, each a mutex around an open-addressing hash table (linear probing) of
//! 24-byte slots, a 16-byte checksum and an 8-byte expiry in milliseconds since the store was made
//! (0 marks an empty slot). A checksum picks its shard and home slot from a keyed hash of its bytes
//! (a random key per store, so that crafted checksums cannot pile into one shard).
//!
//! Expiry is lazy with bounded work: an expired entry is overwritten when its checksum is claimed
//! again, and every [`SWEEP_EVERY`]th claim of a shard also inspects the next [`SWEEP_SLOTS`]
//! slots of its table (a cursor that walks the table: 4 slots per claim on average, read in one
//! contiguous run rather than scattered) and removes the expired entries it finds (backward-shift
//! deletion, no tombstones).
//!
//! Memory follows the live entries. A table that reaches 3/4 full is rebuilt with only its live
//! entries, at the power-of-two size that leaves it at most half full; at the end of each sweep
//! pass a table less than 1/4 full is rebuilt smaller. So after each rebuild or sweep pass a table
//! is 1/4 to 3/4 full, and 3/8 to 3/4 while the store only grows: 32 to 64 bytes per stored entry
//! in growth (about 50 measured at 1 million), at most 96 otherwise, plus 8 KiB per store. Rebuilds are amortized over
//! the claims that filled or swept the table, as in any growing hash table. A store that receives
//! no claims does no work; [`MemoryStore::purge_expired`] reclaims everything at once when a
//! caller wants it (for example from a timer).

mod table;

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::{Checksum, Claim, ClaimStats, CooldownStore};

use table::{Hasher, Table};
pub use table::{SLOT_BYTES, SWEEP_EVERY, SWEEP_SLOTS};

/// Shards per store (a power of two).
const SHARDS: usize = 64;

/// One shard on its own cache lines, so that two threads on two shards do not share a line.
#[repr(align(128))]
struct Shard(Mutex<Table>);

/// The in-memory cool-down store: exact, atomic claims within one process.
///
/// Cheap to share (`Arc<MemoryStore>` or `Arc<dyn CooldownStore>`); needs no runtime. Each live
/// entry costs 32 to 64 bytes (see the module documentation); expired entries are reclaimed as
/// claims go on, with bounded work per claim.
pub struct MemoryStore {
    shards: Box<[Shard]>,
    hasher: Hasher,
    epoch: Instant,
}

impl MemoryStore {
    /// An empty store; it allocates its tables as checksums arrive.
    pub fn new() -> MemoryStore {
        MemoryStore {
            shards: (0..SHARDS)
                .map(|_| Shard(Mutex::new(Table::new())))
                .collect(),
            hasher: Hasher::random(),
            epoch: Instant::now(),
        }
    }

    /// The same claim as [`CooldownStore::claim`], without async: for callers outside a runtime.
    pub fn claim_sync(&self, checksum: &Checksum, window: Duration) -> Claim {
        let key = &checksum.0;
        let hash = self.hasher.hash(key);
        let mut table = self.shard(hash);
        if window.is_zero() {
            table.won += 1;
            return Claim::Won;
        }
        let now = self.now();
        let expires = now.saturating_add(millis_rounded_up(window));
        let won = table.claim(self.hasher, key, hash, now, expires);
        if won {
            table.won += 1;
            Claim::Won
        } else {
            table.held += 1;
            Claim::Held
        }
    }

    /// The time left on the claim of `checksum`, or `None` when it is not held.
    pub fn remaining(&self, checksum: &Checksum) -> Option<Duration> {
        let key = &checksum.0;
        let hash = self.hasher.hash(key);
        let table = self.shard(hash);
        let expires = table.find(key, hash)?;
        let now = self.now();
        (expires > now).then(|| Duration::from_millis(expires - now))
    }

    /// Stored entries, expired ones not yet reclaimed included.
    pub fn entries(&self) -> usize {
        self.shards.iter().map(|s| lock(&s.0).len).sum()
    }

    /// Removes every expired entry now and shrinks tables that became mostly empty; returns how
    /// many entries it removed. Claims do this a little at a time; call it to reclaim everything
    /// after a burst when few claims follow. Takes each shard's lock in turn.
    pub fn purge_expired(&self) -> usize {
        let now = self.now();
        self.shards
            .iter()
            .map(|s| {
                let mut t = lock(&s.0);
                if t.slots.is_empty() {
                    0
                } else {
                    t.rebuild(self.hasher, now, 0)
                }
            })
            .sum()
    }

    /// The bytes the store holds: its shards and their tables (slots allocated, used or not).
    pub fn memory_bytes(&self) -> usize {
        let tables: usize = self
            .shards
            .iter()
            .map(|s| lock(&s.0).slots.capacity() * SLOT_BYTES)
            .sum();
        std::mem::size_of::<MemoryStore>() + SHARDS * std::mem::size_of::<Shard>() + tables
    }

    /// Claims won and held since the store was made (a memory store is never unavailable).
    pub fn stats(&self) -> ClaimStats {
        let mut stats = ClaimStats::default();
        for s in self.shards.iter() {
            let t = lock(&s.0);
            stats.won += t.won;
            stats.held += t.held;
        }
        stats
    }

    fn shard(&self, hash: u64) -> MutexGuard<'_, Table> {
        // The top bits pick the shard; tables use the low bits.
        lock(&self.shards[(hash >> (64 - SHARDS.trailing_zeros())) as usize].0)
    }

    /// Milliseconds since the epoch, plus one (0 marks empty slots).
    fn now(&self) -> u64 {
        // Seconds and milliseconds apart: no 128-bit division on the claim path.
        let since = self.epoch.elapsed();
        since
            .as_secs()
            .saturating_mul(1000)
            .saturating_add(u64::from(since.subsec_millis()) + 1)
    }
}

fn lock(m: &Mutex<Table>) -> MutexGuard<'_, Table> {
    // A panic while holding a shard cannot leave a slot half written (slots are plain copies).
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A window in whole milliseconds, rounded up (at least 1 for a non-zero window).
fn millis_rounded_up(window: Duration) -> u64 {
    u64::try_from(window.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

impl Default for MemoryStore {
    fn default() -> MemoryStore {
        MemoryStore::new()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.entries())
            .field("memory_bytes", &self.memory_bytes())
            .finish()
    }
}

#[async_trait]
impl CooldownStore for MemoryStore {
    async fn claim(&self, checksum: &Checksum, window: Duration) -> Claim {
        self.claim_sync(checksum, window)
    }

    fn stats(&self) -> ClaimStats {
        MemoryStore::stats(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A distinct checksum for each `n` (the shard tables' tests use it too).
    pub(super) fn checksum(n: u64) -> Checksum {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&n.to_le_bytes());
        b[8..].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
        Checksum(b)
    }

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn first_claim_wins_then_held() {
        let s = MemoryStore::new();
        assert_eq!(s.claim_sync(&checksum(1), MIN), Claim::Won);
        assert_eq!(s.claim_sync(&checksum(1), MIN), Claim::Held);
        assert_eq!(s.claim_sync(&checksum(2), MIN), Claim::Won);
        let st = s.stats();
        assert_eq!((st.won, st.held), (2, 1));
        assert_eq!(s.entries(), 2);
    }

    #[test]
    fn zero_window_always_wins_and_stores_nothing() {
        let s = MemoryStore::new();
        for _ in 0..3 {
            assert_eq!(s.claim_sync(&checksum(1), Duration::ZERO), Claim::Won);
        }
        assert_eq!(s.entries(), 0);
        assert_eq!(s.memory_bytes(), MemoryStore::new().memory_bytes());
    }

    #[test]
    fn sub_millisecond_windows_round_up() {
        assert_eq!(millis_rounded_up(Duration::from_nanos(1)), 1);
        assert_eq!(millis_rounded_up(Duration::from_micros(1500)), 2);
        assert_eq!(millis_rounded_up(Duration::from_secs(2)), 2000);
        assert_eq!(millis_rounded_up(Duration::MAX), u64::MAX);
    }

    #[test]
    fn purge_expired_frees_everything_expired() {
        let s = MemoryStore::new();
        for i in 0..10_000 {
            s.claim_sync(&checksum(i), Duration::from_millis(1));
        }
        let before = s.memory_bytes();
        std::thread::sleep(Duration::from_millis(5));
        let stored = s.entries();
        // Claims already swept some; the purge removes the rest.
        assert_eq!(s.purge_expired(), stored);
        assert_eq!(s.entries(), 0);
        assert!(s.memory_bytes() < before);
    }

    #[test]
    fn concurrent_identical_claims_have_one_winner() {
        let s = std::sync::Arc::new(MemoryStore::new());
        let winners: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let s = &s;
                    scope.spawn(move || {
                        (0..1000)
                            .filter(|i| s.claim_sync(&checksum(*i), MIN) == Claim::Won)
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        // Each of the 1000 checksums was won exactly once across the 8 threads.
        assert_eq!(winners, 1000);
        assert_eq!(s.stats().held, 7000);
    }
}
