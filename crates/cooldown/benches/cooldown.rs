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

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use hookshot_cooldown::{Checksum, Claim, CooldownStore, MemoryStore, RedisConfig, RedisStore};
use hookshot_core::TargetUrl;
use hookshot_testkit::bench::{Table, median_f64, per_sec, verdict};
use md5::{Digest, Md5};

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
fn checksum_of(n: u64) -> Checksum {
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

fn memory_claims(table: &mut Table) {
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

fn checksum(table: &mut Table) {
    let url = TargetUrl::parse("https://hooks.example.com/tyk/events?source=gateway").unwrap();
    let body = format!(
        "{{\"event\": \"AuthFailure\", \"message\": \"Auth Failure\", \"path\": \"/orders/\", \
         \"origin\": \"203.0.113.7\", \"key\": \"{}\", \"timestamp\": \"2026-11-28 18:36:24.182420098 +0000 UTC\"}}",
        "k".repeat(120)
    );
    let wire = format!(
        "POST /tyk/events?source=gateway HTTP/1.1\r\nHost: hooks.example.com\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(
        hookshot_cooldown::request_checksum("POST", &url, body.as_bytes()).0,
        <[u8; 16]>::from(Md5::digest(wire.as_bytes())),
        "the streamed checksum must hash the same bytes"
    );
    let n = 200_000;
    let mut ours = Vec::new();
    let mut base = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(hookshot_cooldown::request_checksum(
                "POST",
                std::hint::black_box(&url),
                std::hint::black_box(body.as_bytes()),
            ));
        }
        ours.push(n as f64 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(Md5::digest(std::hint::black_box(wire.as_bytes())));
        }
        base.push(n as f64 / t.elapsed().as_secs_f64());
    }
    let (ours, base) = (median_f64(ours), median_f64(base));
    table.row(
        format!("Checksum::of_request, {}-byte body, 1 thread", body.len()),
        per_sec(ours),
        format!("{} MD5 of the same bytes preassembled", per_sec(base)),
        format!("{:.2}x", ours / base),
        "-",
    );
}

/// Resident memory of this process in bytes (Linux).
fn rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// In a child process: fills one structure with ENTRIES entries, prints the resident memory
/// gained and the bytes the structure accounts for.
fn child(what: &str) {
    let before = rss().unwrap_or(0);
    let accounted;
    match what {
        "store" => {
            let store = MemoryStore::new();
            for i in 0..ENTRIES as u64 {
                store.claim_sync(&checksum_of(i), Duration::from_secs(600));
            }
            assert_eq!(store.entries(), ENTRIES);
            accounted = store.memory_bytes();
            let after = rss().unwrap_or(0);
            println!("{} {accounted}", after.saturating_sub(before));
            std::hint::black_box(&store);
        }
        _ => {
            let mut map: HashMap<[u8; 16], u64> = HashMap::new();
            for i in 0..ENTRIES as u64 {
                map.insert(checksum_of(i).0, i);
            }
            accounted = map.capacity() * (16 + 8 + 1);
            let after = rss().unwrap_or(0);
            println!("{} {accounted}", after.saturating_sub(before));
            std::hint::black_box(&map);
        }
    }
}

fn measure_in_child(what: &str) -> Option<(usize, usize)> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe)
        .env(CHILD, what)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace().map(|w| w.parse::<usize>());
    Some((it.next()?.ok()?, it.next()?.ok()?))
}

fn memory_per_entry(table: &mut Table) {
    let (Some((store_rss, store_accounted)), Some((map_rss, _))) =
        (measure_in_child("store"), measure_in_child("hashmap"))
    else {
        table.row(
            "MemoryStore bytes per live entry",
            "not measured",
            "-",
            "-",
            "-",
        );
        return;
    };
    let per = |b: usize| b as f64 / ENTRIES as f64;
    table.row(
        "MemoryStore bytes per live entry at 1 M (resident memory gained)",
        format!("{:.1} B", per(store_rss)),
        format!("{:.1} B HashMap<[u8;16],u64>", per(map_rss)),
        format!("{:.2}x", per(store_rss) / per(map_rss)),
        verdict(
            "documented 32-64 B",
            (32.0..=64.0).contains(&per(store_rss)),
        ),
    );
    table.row(
        "MemoryStore bytes per live entry at 1 M (as accounted: slots allocated)",
        format!("{:.1} B", per(store_accounted)),
        "-",
        "-",
        verdict(
            "documented 32-64 B",
            (32.0..=64.0).contains(&per(store_accounted)),
        ),
    );
}

fn redis_claims(table: &mut Table, url: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let config = RedisConfig::new(url);
        // The bench's own connection: same client type, same timeouts as the store's.
        let client = redis::Client::open(url).expect("REDIS_URL");
        let settings = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.claim_timeout));
        let raw = client
            .get_multiplexed_async_connection_with_config(&settings)
            .await
            .expect("connecting to REDIS_URL");
        let store = Arc::new(RedisStore::new(config).expect("store"));
        // Connect the store before measuring.
        let warm = checksum_of(u64::MAX);
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(
            store.claim(&warm, Duration::from_secs(1)).await,
            Claim::Unavailable { .. }
        ) {
            assert!(Instant::now() < deadline, "the store did not connect");
        }
        let prefix = format!("hookshot-bench.{}.", std::process::id());
        let (mut claims, mut plain, mut nx) = (Vec::new(), Vec::new(), Vec::new());
        let (mut vs_plain, mut vs_nx) = (Vec::new(), Vec::new());
        let mut unavailable = 0;
        let mut plain_keys = 0;
        // Rounds alternate, and each ratio is taken within a round, so that load from elsewhere
        // on the machine weighs on both sides alike.
        for round in 0..REDIS_ROUNDS as u64 {
            let (mut p, mut x, mut o) = (0.0, 0.0, 0.0);
            // The order rotates, so that no side always runs on the larger keyspace.
            for phase in 0..3 {
                match (phase + round) % 3 {
                    0 => {
                        // Plain SET of distinct keys (the claims store distinct keys too).
                        let (conn, keys) = (raw.clone(), format!("{prefix}set.{round}."));
                        let (rate, n) = in_flight(move |i| {
                            let mut c = conn.clone();
                            let key = format!("{keys}{i}");
                            async move {
                                let () = redis::cmd("SET")
                                    .arg(key)
                                    .arg(1)
                                    .query_async(&mut c)
                                    .await
                                    .expect("SET");
                            }
                        })
                        .await;
                        p = rate;
                        plain_keys = plain_keys.max(n);
                    }
                    1 => {
                        // The claim's own command, issued raw: what the store adds on the client.
                        let (conn, keys) = (raw.clone(), format!("{prefix}nx.{round}."));
                        x = in_flight(move |i| {
                            let mut c = conn.clone();
                            let key = format!("{keys}{i}");
                            async move {
                                let _: redis::Value = redis::cmd("SET")
                                    .arg(key)
                                    .arg(1)
                                    .arg("NX")
                                    .arg("EX")
                                    .arg(10)
                                    .query_async(&mut c)
                                    .await
                                    .expect("SET NX EX");
                            }
                        })
                        .await
                        .0;
                    }
                    _ => {
                        let before = store.stats().unavailable;
                        let claimer = store.clone();
                        o = in_flight(move |i| {
                            let store = claimer.clone();
                            let c = checksum_of(round << 40 | i);
                            async move {
                                std::hint::black_box(
                                    store.claim(&c, Duration::from_secs(10)).await,
                                );
                            }
                        })
                        .await
                        .0;
                        unavailable += store.stats().unavailable - before;
                    }
                }
            }
            claims.push(o);
            plain.push(p);
            nx.push(x);
            vs_plain.push(o / p);
            vs_nx.push(o / x);
        }
        // Remove the plain SET keys (the others expire by themselves).
        let mut c = raw.clone();
        for round in 0..REDIS_ROUNDS {
            for start in (0..plain_keys).step_by(1000) {
                let mut del = redis::cmd("UNLINK");
                for i in start..(start + 1000).min(plain_keys) {
                    del.arg(format!("{prefix}set.{round}.{i}"));
                }
                let _: Result<i64, _> = del.query_async(&mut c).await;
            }
        }
        let name = format!(
            "RedisStore claims (SET NX EX), 64 in flight, distinct checksums{}",
            if unavailable > 0 {
                format!(" ({unavailable} unavailable)")
            } else {
                String::new()
            }
        );
        let (ours, vs_plain, vs_nx) = (median_f64(claims), median_f64(vs_plain), median_f64(vs_nx));
        table.row(
            name.clone(),
            per_sec(ours),
            format!("{} plain SET, same settings", per_sec(median_f64(plain))),
            format!("{vs_plain:.2}x"),
            verdict(">= 0.8x plain SET", vs_plain >= 0.8),
        );
        table.row(
            name,
            per_sec(ours),
            format!("{} the same SET NX EX issued raw", per_sec(median_f64(nx))),
            format!("{vs_nx:.2}x"),
            "- (client-side cost of the store)",
        );
    });
}

/// Runs `op(i)` for REDIS_ROUND with IN_FLIGHT operations at a time; returns operations per second and
/// how many ran.
async fn in_flight<F, Fut>(op: F) -> (f64, u64)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static + Clone,
    Fut: Future<Output = ()> + Send + 'static,
{
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + REDIS_ROUND;
    let tasks: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let (next, op) = (next.clone(), op.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    op(next.fetch_add(1, Ordering::Relaxed)).await;
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("bench task");
    }
    (total as f64 / start.elapsed().as_secs_f64(), total)
}
