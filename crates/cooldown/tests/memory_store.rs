//! The shared behavioural suite against `MemoryStore`, and what only an in-memory store can show.

mod suite;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hookshot_cooldown::{Checksum, Claim, CooldownStore, MemoryStore};
use suite::Backend;

/// One store; its "nodes" are handles to it (two tasks of one gateway process).
struct Memory(Arc<MemoryStore>);

impl Memory {
    fn new() -> Memory {
        Memory(Arc::new(MemoryStore::new()))
    }
}

#[async_trait]
impl Backend for Memory {
    fn node(&self) -> Arc<dyn CooldownStore> {
        self.0.clone()
    }

    async fn remaining(&self, checksum: &Checksum) -> Option<Duration> {
        self.0.remaining(checksum)
    }
}

behaviour_tests!(Memory::new());

#[test]
fn many_threads_many_checksums_one_winner_each() {
    let store = MemoryStore::new();
    let checksums: Vec<Checksum> = (0..2000).map(|_| suite::unique("threads")).collect();
    let won: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let (store, checksums) = (&store, &checksums);
                s.spawn(move || {
                    // Each thread walks the checksums from a different start.
                    (0..checksums.len())
                        .map(|i| &checksums[(i + t * 500) % checksums.len()])
                        .filter(|c| store.claim_sync(c, Duration::from_secs(60)) == Claim::Won)
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(won, 2000);
    assert_eq!(store.entries(), 2000);
}

#[test]
fn after_a_burst_memory_returns_to_the_live_entries() {
    let store = MemoryStore::new();
    let empty = store.memory_bytes();
    for _ in 0..50_000 {
        store.claim_sync(&suite::unique("burst"), Duration::from_secs(1));
    }
    std::thread::sleep(Duration::from_millis(1100));
    let one = suite::unique("steady");
    store.claim_sync(&one, Duration::from_secs(60));
    store.purge_expired();
    assert_eq!(store.entries(), 1);
    // Every shard is back to its smallest table.
    let smallest_tables = 64 * 16 * hookshot_cooldown::memory::SLOT_BYTES;
    assert!(
        store.memory_bytes() <= empty + smallest_tables,
        "{} bytes for one entry",
        store.memory_bytes()
    );
}
