//! `MemoryStore` claims per second from THREADS threads, beside a `Mutex<HashMap>` doing the
//! same inserts and lookups.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use hookshot_cooldown::{Claim, CooldownStore, MemoryStore};
use hookshot_testkit::bench::{Table, median_f64, per_sec, verdict};

use crate::{ROUND, ROUNDS, THREADS, checksum_of};

/// The output of a future that is ready at once (a memory store's claim).
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a memory store claim was not ready at once"),
    }
}

/// Runs `op(thread, i)` on THREADS threads for ROUND; returns operations per second.
fn rate(op: &(dyn Fn(usize, u64) + Sync)) -> f64 {
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let barrier = Barrier::new(THREADS + 1);
    let elapsed = std::thread::scope(|s| {
        for t in 0..THREADS {
            let (stop, done, barrier) = (&stop, &done, &barrier);
            s.spawn(move || {
                barrier.wait();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..1024 {
                        op(t, i);
                        i += 1;
                    }
                }
                done.fetch_add(i, Ordering::Relaxed);
            });
        }
        barrier.wait();
        let start = Instant::now();
        std::thread::sleep(ROUND);
        stop.store(true, Ordering::Relaxed);
        start
    });
    // The threads stop within one batch of the flag; count their time until joined.
    done.load(Ordering::Relaxed) as f64 / elapsed.elapsed().as_secs_f64()
}

/// The baseline: distinct inserts into one `Mutex<HashMap>` from the same threads.
fn plain_map_insert_rate() -> f64 {
    let map: Mutex<HashMap<[u8; 16], u64>> = Mutex::new(HashMap::new());
    rate(&|t, i| {
        let c = checksum_of(i << 1 | t as u64);
        let fresh = map.lock().unwrap().insert(c.0, i).is_none();
        std::hint::black_box(fresh);
    })
}

pub(crate) fn memory_claims(table: &mut Table) {
    let minute = Duration::from_secs(60);
    // Distinct checksums: every claim wins and stores an entry (a new store per round).
    let mut ours = Vec::new();
    let mut base = Vec::new();
    for _ in 0..ROUNDS {
        let store: Arc<dyn CooldownStore> = Arc::new(MemoryStore::new());
        ours.push(rate(&|t, i| {
            let c = checksum_of(i << 1 | t as u64);
            let won = ready(store.claim(&c, minute)) == Claim::Won;
            std::hint::black_box(won);
        }));
        drop(store);
        base.push(plain_map_insert_rate());
    }
    let (ours, base) = (median_f64(ours), median_f64(base));
    table.row(
        "MemoryStore claims, 2 threads, distinct checksums (all won, stored)",
        per_sec(ours),
        format!("{} Mutex<HashMap> insert", per_sec(base)),
        format!("{:.2}x", ours / base),
        verdict(">= 2 M/s", ours >= 2e6),
    );

    // Distinct checksums with 20 ms windows: a steady state where entries expire and are
    // reclaimed as fast as they come (tens of thousands live), as in a gateway whose events
    // differ by their timestamps.
    let mut ours = Vec::new();
    let mut base = Vec::new();
    let mut live = 0;
    for _ in 0..ROUNDS {
        let store = Arc::new(MemoryStore::new());
        let dyn_store: Arc<dyn CooldownStore> = store.clone();
        ours.push(rate(&|t, i| {
            let c = checksum_of(i << 1 | t as u64);
            let won = ready(dyn_store.claim(&c, Duration::from_millis(20))) == Claim::Won;
            std::hint::black_box(won);
        }));
        live = live.max(store.entries());
        base.push(plain_map_insert_rate());
    }
    let (ours, base) = (median_f64(ours), median_f64(base));
    table.row(
        format!("MemoryStore claims, 2 threads, distinct checksums, 20 ms windows ({live} stored at the end)"),
        per_sec(ours),
        format!("{} Mutex<HashMap> insert", per_sec(base)),
        format!("{:.2}x", ours / base),
        verdict(">= 2 M/s", ours >= 2e6),
    );

    // Repeated checksums: 4096 per thread, held after the first round of claims.
    let mut ours = Vec::new();
    let mut base = Vec::new();
    for _ in 0..ROUNDS {
        let store: Arc<dyn CooldownStore> = Arc::new(MemoryStore::new());
        ours.push(rate(&|t, i| {
            let c = checksum_of((i & 4095) << 1 | t as u64);
            let won = ready(store.claim(&c, minute)) == Claim::Won;
            std::hint::black_box(won);
        }));
        let map: Mutex<HashMap<[u8; 16], u64>> = Mutex::new(HashMap::new());
        base.push(rate(&|t, i| {
            let c = checksum_of((i & 4095) << 1 | t as u64);
            let mut m = map.lock().unwrap();
            let held = m.get(&c.0).is_some() || m.insert(c.0, i).is_some();
            std::hint::black_box(held);
        }));
    }
    let (ours, base) = (median_f64(ours), median_f64(base));
    table.row(
        "MemoryStore claims, 2 threads, repeated checksums (held)",
        per_sec(ours),
        format!("{} Mutex<HashMap> get-or-insert", per_sec(base)),
        format!("{:.2}x", ours / base),
        verdict(">= 2 M/s", ours >= 2e6),
    );
}
