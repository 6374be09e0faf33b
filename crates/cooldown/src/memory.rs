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

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::{Checksum, Claim, ClaimStats, CooldownStore};

/// Shards per store (a power of two).
const SHARDS: usize = 64;
/// The smallest table a shard allocates, in slots (a power of two).
const MIN_SLOTS: usize = 16;
/// Every this many claims of a shard, one sweeps its table.
pub const SWEEP_EVERY: u32 = 16;
/// Slots one sweep inspects for expired entries.
pub const SWEEP_SLOTS: usize = 64;

/// The bytes one slot takes.
pub const SLOT_BYTES: usize = std::mem::size_of::<Slot>();

#[derive(Clone, Copy)]
struct Slot {
    key: [u8; 16],
    /// Milliseconds since the store's epoch, plus one; 0 marks an empty slot.
    expires: u64,
}

const EMPTY: Slot = Slot {
    key: [0; 16],
    expires: 0,
};

/// A keyed hash of a checksum: a folded 64x64-bit multiply of its two halves, each mixed with a
/// per-store random key. The checksum is already an MD5; the key keeps the slot and shard of a
/// checksum unpredictable to whoever chooses the requests.
#[derive(Clone, Copy)]
struct Hasher {
    k0: u64,
    k1: u64,
}

impl Hasher {
    fn random() -> Hasher {
        use std::hash::{BuildHasher, Hasher as _};
        let state = std::collections::hash_map::RandomState::new();
        let mut h0 = state.build_hasher();
        h0.write_u64(0x9e37_79b9_7f4a_7c15);
        let mut h1 = state.build_hasher();
        h1.write_u64(0x2545_f491_4f6c_dd1d);
        Hasher {
            k0: h0.finish(),
            k1: h1.finish(),
        }
    }

    fn hash(self, key: &[u8; 16]) -> u64 {
        let (lo, hi) = key.split_at(8);
        let a = u64::from_le_bytes(lo.try_into().unwrap_or_default()) ^ self.k0;
        let b = u64::from_le_bytes(hi.try_into().unwrap_or_default()) ^ self.k1;
        let m = u128::from(a).wrapping_mul(u128::from(b));
        (m as u64) ^ ((m >> 64) as u64)
    }
}

struct Table {
    slots: Vec<Slot>,
    /// Occupied slots, expired ones not yet removed included.
    len: usize,
    /// The next slot the sweep inspects.
    cursor: usize,
    /// Claims until the next sweep.
    until_sweep: u32,
    won: u64,
    held: u64,
}

impl Table {
    const fn new() -> Table {
        Table {
            slots: Vec::new(),
            len: 0,
            cursor: 0,
            until_sweep: SWEEP_EVERY,
            won: 0,
            held: 0,
        }
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Claims `key` until `expires`; true when this caller won. Sweeps every [`SWEEP_EVERY`]th
    /// call.
    fn claim(&mut self, hasher: Hasher, key: &[u8; 16], hash: u64, now: u64, expires: u64) -> bool {
        let won = self.probe_and_claim(hasher, key, hash, now, expires);
        self.until_sweep -= 1;
        if self.until_sweep == 0 {
            self.until_sweep = SWEEP_EVERY;
            self.sweep(hasher, now, SWEEP_SLOTS);
        }
        won
    }

    fn probe_and_claim(
        &mut self,
        hasher: Hasher,
        key: &[u8; 16],
        hash: u64,
        now: u64,
        expires: u64,
    ) -> bool {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.rebuild(hasher, now, 1);
        }
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            let slot = &mut self.slots[i];
            if slot.expires == 0 {
                *slot = Slot { key: *key, expires };
                self.len += 1;
                return true;
            }
            if slot.key == *key {
                if slot.expires > now {
                    return false;
                }
                slot.expires = expires;
                return true;
            }
            i = (i + 1) & mask;
        }
    }

    /// The expiry of `key`, when stored (expired or not).
    fn find(&self, key: &[u8; 16], hash: u64) -> Option<u64> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            let slot = &self.slots[i];
            if slot.expires == 0 {
                return None;
            }
            if slot.key == *key {
                return Some(slot.expires);
            }
            i = (i + 1) & mask;
        }
    }

    /// Rebuilds the table with its live entries only, at the smallest size that leaves room for
    /// `extra` more at a load of at most one half.
    fn rebuild(&mut self, hasher: Hasher, now: u64, extra: usize) -> usize {
        let live = self.slots.iter().filter(|s| s.expires > now).count();
        let size = ((live + extra) * 2).next_power_of_two().max(MIN_SLOTS);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; size]);
        let removed = self.len - live;
        self.len = live;
        self.cursor = 0;
        let mask = size - 1;
        for slot in old.into_iter().filter(|s| s.expires > now) {
            let mut i = hasher.hash(&slot.key) as usize & mask;
            while self.slots[i].expires != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot;
        }
        removed
    }

    /// Inspects up to `budget` slots at the cursor, removing expired entries.
    fn sweep(&mut self, hasher: Hasher, now: u64, mut budget: usize) {
        if self.len == 0 {
            return;
        }
        let mask = self.mask();
        while budget > 0 {
            budget -= 1;
            let i = self.cursor;
            let expires = self.slots[i].expires;
            if expires != 0 && expires <= now {
                // The slot may now hold a shifted entry: look at it again next.
                self.remove_at(hasher, i);
                continue;
            }
            self.cursor = (i + 1) & mask;
            if self.cursor == 0 {
                // A full pass ended: give memory back when the table is mostly empty.
                if self.slots.len() > MIN_SLOTS && self.len * 4 < self.slots.len() {
                    self.rebuild(hasher, now, 0);
                }
                return;
            }
        }
    }

    /// Empties slot `i`, shifting later entries of the probe run back (no tombstones).
    fn remove_at(&mut self, hasher: Hasher, mut i: usize) {
        let mask = self.mask();
        self.len -= 1;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            if self.slots[j].expires == 0 {
                break;
            }
            let home = hasher.hash(&self.slots[j].key) as usize & mask;
            // The entry at j may stay when its home lies cyclically in (i, j].
            let stays = if i <= j {
                i < home && home <= j
            } else {
                i < home || home <= j
            };
            if !stays {
                self.slots[i] = self.slots[j];
                i = j;
            }
        }
        self.slots[i] = EMPTY;
    }
}

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

    fn checksum(n: u64) -> Checksum {
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

    /// Drives a table directly with a fake clock.
    fn table_with(n: u64, now: u64, expires: u64, h: Hasher) -> Table {
        let mut t = Table::new();
        for i in 0..n {
            let c = checksum(i);
            assert!(t.claim(h, &c.0, h.hash(&c.0), now, expires));
        }
        t
    }

    fn holds(t: &Table, h: Hasher, c: &Checksum, now: u64) -> bool {
        t.find(&c.0, h.hash(&c.0)).is_some_and(|e| e > now)
    }

    #[test]
    fn sweeping_removes_expired_and_keeps_every_live_entry_findable() {
        let h = Hasher::random();
        // 500 entries expiring at 10, then 500 living until 1000.
        let mut t = table_with(500, 1, 10, h);
        for i in 500..1000 {
            let c = checksum(i);
            assert!(t.claim(h, &c.0, h.hash(&c.0), 1, 1000));
        }
        assert_eq!(t.len, 1000);
        // At time 20, sweep the whole table a slot at a time.
        for _ in 0..t.slots.len() * 2 {
            t.sweep(h, 20, 1);
        }
        assert_eq!(t.len, 500);
        for i in 500..1000 {
            assert!(holds(&t, h, &checksum(i), 20), "entry {i} lost");
        }
        for i in 0..500 {
            assert!(!holds(&t, h, &checksum(i), 20));
        }
    }

    #[test]
    fn expired_entry_is_won_again() {
        let h = Hasher::random();
        let mut t = table_with(1, 1, 10, h);
        let c = checksum(0);
        assert!(!t.claim(h, &c.0, h.hash(&c.0), 9, 100));
        assert!(t.claim(h, &c.0, h.hash(&c.0), 10, 100));
        assert_eq!(t.len, 1);
    }

    #[test]
    fn memory_follows_live_entries_not_history() {
        let h = Hasher::random();
        // Many generations of short-lived entries: each claim also sweeps.
        let mut t = Table::new();
        let mut now = 1;
        let mut peak = 0;
        for generation in 0..200u64 {
            for i in 0..1000 {
                let c = checksum(generation * 1000 + i);
                t.claim(h, &c.0, h.hash(&c.0), now, now + 5);
            }
            now += 10;
            peak = peak.max(t.slots.len());
        }
        // 1000 live entries at a time: the table never grows past a few thousand slots.
        assert!(
            peak <= 8192,
            "table grew to {peak} slots for 1000 live entries"
        );
        // Once claims stop arriving for new checksums, sweeping returns the memory.
        let c = checksum(u64::MAX);
        for _ in 0..100_000 {
            t.claim(h, &c.0, h.hash(&c.0), now, now + 1_000_000);
        }
        assert_eq!(t.len, 1);
        assert_eq!(t.slots.len(), MIN_SLOTS);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// The table answers every claim as a plain map of checksum to expiry would, through
        /// growth, sweeps, backward-shift deletions and shrinking, and never holds more slots than
        /// its bounds allow after a rebuild.
        #[test]
        fn table_agrees_with_a_plain_map(
            ops in proptest::collection::vec((0u64..300, 1u64..40, 0u64..4), 1..3000)
        ) {
            let h = Hasher::random();
            let mut t = Table::new();
            let mut model: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
            let mut now = 1;
            for (key, window, advance) in ops {
                now += advance;
                let c = checksum(key);
                let expected = model.get(&key).is_none_or(|&e| e <= now);
                let won = t.claim(h, &c.0, h.hash(&c.0), now, now + window);
                proptest::prop_assert_eq!(won, expected, "key {} at {}", key, now);
                if won {
                    model.insert(key, now + window);
                }
                proptest::prop_assert!(t.len <= t.slots.len() * 3 / 4 + 1);
                let live = model.values().filter(|&&e| e > now).count();
                proptest::prop_assert!(t.len >= live, "{} stored, {} live", t.len, live);
            }
            let stored = t.len;
            let removed = t.rebuild(h, now, 0);
            let live = model.values().filter(|&&e| e > now).count();
            proptest::prop_assert_eq!(stored - removed, live);
            proptest::prop_assert!(t.slots.len() <= (2 * live).next_power_of_two().max(MIN_SLOTS));
        }
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
