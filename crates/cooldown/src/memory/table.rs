//! The table stage of [`MemoryStore`](super::MemoryStore): one shard's open-addressing hash
//! table of 24-byte slots, with its claim, lookup, sweep of expired entries and rebuilds.

/// The smallest table a shard allocates, in slots (a power of two).
const MIN_SLOTS: usize = 16;
/// Every this many claims of a shard, one sweeps its table.
pub const SWEEP_EVERY: u32 = 16;
/// Slots one sweep inspects for expired entries.
pub const SWEEP_SLOTS: usize = 64;

/// The bytes one slot takes.
pub const SLOT_BYTES: usize = std::mem::size_of::<Slot>();

#[derive(Clone, Copy)]
pub(super) struct Slot {
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
pub(super) struct Hasher {
    k0: u64,
    k1: u64,
}

impl Hasher {
    pub(super) fn random() -> Hasher {
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

    pub(super) fn hash(self, key: &[u8; 16]) -> u64 {
        let (lo, hi) = key.split_at(8);
        let a = u64::from_le_bytes(lo.try_into().unwrap_or_default()) ^ self.k0;
        let b = u64::from_le_bytes(hi.try_into().unwrap_or_default()) ^ self.k1;
        let m = u128::from(a).wrapping_mul(u128::from(b));
        (m as u64) ^ ((m >> 64) as u64)
    }
}

pub(super) struct Table {
    pub(super) slots: Vec<Slot>,
    /// Occupied slots, expired ones not yet removed included.
    pub(super) len: usize,
    /// The next slot the sweep inspects.
    cursor: usize,
    /// Claims until the next sweep.
    until_sweep: u32,
    pub(super) won: u64,
    pub(super) held: u64,
}

impl Table {
    pub(super) const fn new() -> Table {
        Table {
            slots: Vec::new(),
            len: 0,
            cursor: 0,
            until_sweep: SWEEP_EVERY,
            won: 0,
            held: 0,
        }
    }

    pub(super) fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Claims `key` until `expires`; true when this caller won. Sweeps every [`SWEEP_EVERY`]th
    /// call.
    pub(super) fn claim(
        &mut self,
        hasher: Hasher,
        key: &[u8; 16],
        hash: u64,
        now: u64,
        expires: u64,
    ) -> bool {
        let won = self.probe_and_claim(hasher, key, hash, now, expires);
        self.until_sweep -= 1;
        if self.until_sweep == 0 {
            self.until_sweep = SWEEP_EVERY;
            self.sweep(hasher, now, SWEEP_SLOTS);
        }
        won
    }

    pub(super) fn probe_and_claim(
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
    pub(super) fn find(&self, key: &[u8; 16], hash: u64) -> Option<u64> {
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
    pub(super) fn rebuild(&mut self, hasher: Hasher, now: u64, extra: usize) -> usize {
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
    pub(super) fn sweep(&mut self, hasher: Hasher, now: u64, mut budget: usize) {
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
    pub(super) fn remove_at(&mut self, hasher: Hasher, mut i: usize) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Checksum;
    use crate::memory::tests::checksum;

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
}
