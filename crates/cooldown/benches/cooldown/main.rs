//! Benchmarks of the cool-down stores, each figure beside a baseline measured in the same run.
//!
//! - `MemoryStore` claims per second from 2 threads (through the `CooldownStore` trait), with
//!   distinct checksums (every claim stores a new entry; 60 s windows, so the store grows to
//!   millions of entries, and 20 ms windows, a steady state where entries expire as fast as they
//!   come) and with repeated ones (held), beside a `std::sync::Mutex<HashMap>` doing the same
//!   inserts and lookups from the same 2 threads.
//! - `Checksum::of_request` (streamed) beside MD5 over the same request bytes assembled first.
//! - Bytes per live entry at 1 million entries: the resident memory a child process gains, beside
//!   a `HashMap<[u8; 16], u64>` holding the same entries (also in a child process); and the bytes
//!   the store accounts for itself.
//! - `RedisStore` claims per second with 64 in flight (distinct checksums: each claim stores a new
//!   key), beside plain `SET key 1` commands on distinct keys that the bench issues itself on a
//!   multiplexed connection from the same client type with the same timeouts, 64 in flight; and
//!   beside the claim's own `SET key 1 NX EX 10` issued the same way, which separates what the
//!   store costs on the client from what `NX EX` costs the server. Rounds alternate and each
//!   ratio is the median of the ratios within a round.
//!
//! Run with `cargo xtask bench` (it starts a throwaway Redis and sets `REDIS_URL`), or with
//! `REDIS_URL=redis://127.0.0.1:6379 cargo bench -p hookshot-cooldown --all-features`.
//!
//! Each figure has its file: `memory` (claims per second), `checksum`, `entry` (bytes per live
//! entry) and `redis_store` (claims per second); this file runs the parts asked for and writes the
//! table.

mod checksum;
mod entry;
mod memory;
mod redis_store;

use std::time::{Duration, Instant};

use hookshot_cooldown::Checksum;
use hookshot_testkit::bench::Table;

use checksum::checksum;
use entry::{child, memory_per_entry};
use memory::memory_claims;
use redis_store::redis_claims;

const THREADS: usize = 2;
const ROUND: Duration = Duration::from_secs(1);
const ROUNDS: usize = 3;
/// Short Redis rounds, many of them: the three sides of a round then see the same machine.
const REDIS_ROUNDS: usize = 15;
const REDIS_ROUND: Duration = Duration::from_millis(300);
const ENTRIES: usize = 1_000_000;
const IN_FLIGHT: usize = 64;
const CHILD: &str = "HOOKSHOT_COOLDOWN_BENCH_CHILD";

fn main() {
    if let Ok(what) = std::env::var(CHILD) {
        child(&what);
        return;
    }
    let started = Instant::now();
    let mut table = Table::new("hookshot-cooldown");
    // HOOKSHOT_BENCH_ONLY=memory|checksum|entry|redis runs one part.
    let only = std::env::var("HOOKSHOT_BENCH_ONLY").ok();
    let part = |name: &str| only.as_deref().is_none_or(|o| o == name);
    if part("memory") {
        memory_claims(&mut table);
    }
    if part("checksum") {
        checksum(&mut table);
    }
    if part("entry") {
        memory_per_entry(&mut table);
    }
    if !part("redis") {
        print!("{}", table.render());
        return;
    }
    match std::env::var("REDIS_URL") {
        Ok(url) => redis_claims(&mut table, &url),
        Err(_) => {
            table.row(
                "RedisStore claims, 64 in flight",
                "skipped: REDIS_URL not set",
                "-",
                "-",
                "run through cargo xtask bench",
            );
        }
    }
    print!("{}", table.render());
    println!("(whole run {:.1} s)", started.elapsed().as_secs_f64());
}

/// A distinct pseudo-random checksum per `n` (splitmix64), cheap to make.
pub(crate) fn checksum_of(n: u64) -> Checksum {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&mix(n).to_le_bytes());
    b[8..].copy_from_slice(&mix(n ^ 0x5555_5555_5555_5555).to_le_bytes());
    Checksum(b)
}
