//! The behaviour every cool-down store must have, run against each store by its own test file.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hookshot_cooldown::{Checksum, Claim, CooldownStore};
use hookshot_core::TargetUrl;

/// A store under test: how to make "nodes" that share its state, and how to look inside it.
#[async_trait]
pub trait Backend: Send + Sync {
    /// A store instance; instances from one backend share their claims, as gateway nodes sharing
    /// one server do (each Redis instance has its own connection).
    fn node(&self) -> Arc<dyn CooldownStore>;

    /// The time left on the stored claim of `checksum`, `None` when nothing is stored. Redis
    /// backends also check that the value is Tyk's `1`.
    async fn remaining(&self, checksum: &Checksum) -> Option<Duration>;
}

/// A checksum no other test (in this run or an earlier one against the same server) uses.
pub fn unique(label: &str) -> Checksum {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let body = format!(
        "{{\"test\":\"{label}\",\"pid\":{},\"t\":{nanos},\"n\":{}}}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let url = TargetUrl::parse("http://hooks.example.com/cooldown-tests").unwrap();
    hookshot_cooldown::request_checksum("POST", &url, body.as_bytes())
}

const MINUTE: Duration = Duration::from_secs(60);

async fn claim_concurrently(
    stores: &[Arc<dyn CooldownStore>],
    c: Checksum,
    n: usize,
) -> Vec<Claim> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let store = stores[i % stores.len()].clone();
            tokio::spawn(async move { store.claim(&c, MINUTE).await })
        })
        .collect();
    let mut claims = Vec::with_capacity(n);
    for t in tasks {
        claims.push(t.await.expect("claim task"));
    }
    claims
}

fn count(claims: &[Claim], which: Claim) -> usize {
    claims.iter().filter(|c| **c == which).count()
}

/// 200 concurrent identical claims on one store: exactly one wins, the others are held.
pub async fn one_winner_among_200_concurrent_claims(b: &dyn Backend) {
    let store = b.node();
    let claims = claim_concurrently(std::slice::from_ref(&store), unique("200"), 200).await;
    assert_eq!(count(&claims, Claim::Won), 1, "{claims:?}");
    assert_eq!(count(&claims, Claim::Held), 199, "{claims:?}");
    let stats = store.stats();
    assert_eq!((stats.won, stats.held, stats.unavailable), (1, 199, 0));
}

/// The same across two nodes sharing the store's state.
pub async fn one_winner_across_two_nodes(b: &dyn Backend) {
    let nodes = [b.node(), b.node()];
    let claims = claim_concurrently(&nodes, unique("two-nodes"), 200).await;
    assert_eq!(count(&claims, Claim::Won), 1, "{claims:?}");
    assert_eq!(count(&claims, Claim::Held), 199, "{claims:?}");
}

/// A won claim is stored for its window; a held one does not extend it.
pub async fn claim_is_stored_for_its_window(b: &dyn Backend) {
    let store = b.node();
    let c = unique("ttl");
    assert_eq!(b.remaining(&c).await, None);
    assert_eq!(store.claim(&c, Duration::from_secs(30)).await, Claim::Won);
    let left = b.remaining(&c).await.expect("the claim is stored");
    assert!(left <= Duration::from_secs(30), "{left:?}");
    assert!(left > Duration::from_secs(20), "{left:?}");
    assert_eq!(store.claim(&c, Duration::from_secs(300)).await, Claim::Held);
    let left = b.remaining(&c).await.expect("still stored");
    assert!(
        left <= Duration::from_secs(30),
        "a held claim extended the window: {left:?}"
    );
}

/// Once the window has passed, the next claim wins (1 s windows).
pub async fn after_expiry_the_next_claim_wins(b: &dyn Backend) {
    let store = b.node();
    let c = unique("expiry");
    let second = Duration::from_secs(1);
    assert_eq!(store.claim(&c, second).await, Claim::Won);
    assert_eq!(store.claim(&c, second).await, Claim::Held);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match store.claim(&c, second).await {
            Claim::Won => break,
            Claim::Held => {}
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            Instant::now() < deadline,
            "a 1 s claim still held after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The new claim holds again.
    assert_eq!(store.claim(&c, second).await, Claim::Held);
}

/// A different checksum is claimed independently.
pub async fn different_checksums_are_independent(b: &dyn Backend) {
    let store = b.node();
    let (x, y) = (unique("x"), unique("y"));
    assert_eq!(store.claim(&x, MINUTE).await, Claim::Won);
    assert_eq!(store.claim(&y, MINUTE).await, Claim::Won);
    assert_eq!(store.claim(&x, MINUTE).await, Claim::Held);
    assert_eq!(store.claim(&y, MINUTE).await, Claim::Held);
}

/// A zero window is "no cool-down": every claim wins and nothing is stored.
pub async fn zero_window_always_wins_and_stores_nothing(b: &dyn Backend) {
    let store = b.node();
    let c = unique("zero");
    for _ in 0..5 {
        assert_eq!(store.claim(&c, Duration::ZERO).await, Claim::Won);
    }
    assert_eq!(b.remaining(&c).await, None);
    // Nothing stored: a real claim still wins.
    assert_eq!(store.claim(&c, MINUTE).await, Claim::Won);
}

/// A window under a second is still a cool-down: a second claim within it is held, and the claim
/// is stored for at most a second (Redis's `EX` counts whole seconds, so it rounds up to 1 s).
/// Once it has passed, a claim wins again.
///
/// The stores read the system's clock (the memory store `std::time::Instant`, Redis its own),
/// so this runs in real time; it polls every 20 ms, so it waits no longer than the stored claim lasts
/// and one poll more.
pub async fn sub_second_window_holds(b: &dyn Backend) {
    let store = b.node();
    let c = unique("sub-second");
    let window = Duration::from_millis(300);
    assert_eq!(store.claim(&c, window).await, Claim::Won);
    assert_eq!(store.claim(&c, window).await, Claim::Held);
    let left = b.remaining(&c).await.expect("the claim is stored");
    assert!(
        !left.is_zero() && left <= Duration::from_secs(1),
        "{left:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        match store.claim(&c, window).await {
            Claim::Won => break,
            Claim::Held => {}
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            Instant::now() < deadline,
            "a 300 ms claim still held after 10 s"
        );
    }
    assert_eq!(store.claim(&c, window).await, Claim::Held);
}

/// 300 concurrent claims of distinct checksums, a third of them held beforehand: every claim gets
/// the answer for its own checksum (claims sent together must not trade answers).
pub async fn concurrent_claims_each_get_their_own_answer(b: &dyn Backend) {
    let store = b.node();
    let checksums: Vec<Checksum> = (0..300).map(|_| unique("own-answer")).collect();
    for c in checksums.iter().step_by(3) {
        assert_eq!(store.claim(c, MINUTE).await, Claim::Won);
    }
    let tasks: Vec<_> = checksums
        .iter()
        .map(|c| {
            let (store, c) = (store.clone(), *c);
            tokio::spawn(async move { store.claim(&c, MINUTE).await })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        let want = if i % 3 == 0 { Claim::Held } else { Claim::Won };
        assert_eq!(t.await.expect("claim task"), want, "checksum {i}");
    }
}

/// Runs every test of the suite; each store's test file calls the tests one by one so that
/// failures name the test, and this keeps the list in one place.
#[macro_export]
macro_rules! behaviour_tests {
    ($backend:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn one_winner_among_200_concurrent_claims() {
            suite::one_winner_among_200_concurrent_claims(&$backend).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn one_winner_across_two_nodes() {
            suite::one_winner_across_two_nodes(&$backend).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn concurrent_claims_each_get_their_own_answer() {
            suite::concurrent_claims_each_get_their_own_answer(&$backend).await;
        }
        #[tokio::test]
        async fn claim_is_stored_for_its_window() {
            suite::claim_is_stored_for_its_window(&$backend).await;
        }
        #[tokio::test]
        async fn after_expiry_the_next_claim_wins() {
            suite::after_expiry_the_next_claim_wins(&$backend).await;
        }
        #[tokio::test]
        async fn different_checksums_are_independent() {
            suite::different_checksums_are_independent(&$backend).await;
        }
        #[tokio::test]
        async fn zero_window_always_wins_and_stores_nothing() {
            suite::zero_window_always_wins_and_stores_nothing(&$backend).await;
        }
        #[tokio::test]
        async fn sub_second_window_holds() {
            suite::sub_second_window_holds(&$backend).await;
        }
    };
}
