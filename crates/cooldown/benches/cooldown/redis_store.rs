//! `RedisStore` claims per second with IN_FLIGHT in flight, beside plain `SET` and the claim's
//! own `SET NX EX` issued by the bench itself.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hookshot_cooldown::{Claim, CooldownStore, RedisConfig, RedisStore};
use hookshot_testkit::bench::{Table, median_f64, per_sec, verdict};

use crate::{IN_FLIGHT, REDIS_ROUND, REDIS_ROUNDS, checksum_of};

pub(crate) fn redis_claims(table: &mut Table, url: &str) {
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
