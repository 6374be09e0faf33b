//! The shared behavioural suite against `RedisStore` on the Redis the test command started, and
//! Redis-only behaviour: Tyk's key, password and database, outages, a frozen server.
#![cfg(feature = "redis")]

mod suite;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hookshot_cooldown::{Checksum, Claim, CooldownStore, FailurePolicy, RedisConfig, RedisStore};
use hookshot_testkit::redis::RedisServer;
use suite::Backend;

/// A generous claim limit for the behavioural suite, which is not about time limits.
const SUITE_LIMIT: Duration = Duration::from_secs(5);
const MINUTE: Duration = Duration::from_secs(60);

/// Stores on one Redis server; each node has its own connection.
struct Redis {
    url: String,
}

impl Redis {
    fn shared() -> Redis {
        Redis {
            url: hookshot_testkit::redis_url(),
        }
    }
}

async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("a raw connection to the test Redis")
}

/// The TTL of `key` in milliseconds (`None` when absent) after checking that its value is `1`.
async fn stored(url: &str, key: &str) -> Option<Duration> {
    let mut c = raw(url).await;
    let value: Option<String> = redis::cmd("GET")
        .arg(key)
        .query_async(&mut c)
        .await
        .unwrap();
    let pttl: i64 = redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut c)
        .await
        .unwrap();
    match value {
        None => None,
        Some(v) => {
            assert_eq!(v, "1", "{key} holds {v:?}, not Tyk's 1");
            assert!(pttl > 0, "{key} has no expiry (PTTL {pttl})");
            Some(Duration::from_millis(pttl as u64))
        }
    }
}

#[async_trait]
impl Backend for Redis {
    fn node(&self) -> Arc<dyn CooldownStore> {
        let config = RedisConfig::new(&self.url).with_claim_timeout(SUITE_LIMIT);
        Arc::new(RedisStore::new(config).expect("store"))
    }

    async fn remaining(&self, checksum: &Checksum) -> Option<Duration> {
        stored(&self.url, &checksum.key("webhook.cache.")).await
    }
}

behaviour_tests!(Redis::shared());

#[tokio::test]
async fn key_is_tyks_with_value_1_and_the_window_as_ttl() {
    let url = hookshot_testkit::redis_url();
    let store = RedisStore::new(RedisConfig::new(&url).with_claim_timeout(SUITE_LIMIT)).unwrap();
    let c = suite::unique("tyk-key");
    assert_eq!(store.claim(&c, Duration::from_secs(42)).await, Claim::Won);
    let key = format!("webhook.cache.{}", c.to_hex());
    assert_eq!(store.key(&c), key);
    let mut raw = raw(&url).await;
    let ttl: i64 = redis::cmd("TTL")
        .arg(&key)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!((30..=42).contains(&ttl), "TTL {ttl}");
    let value: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(value, "1");
    // A sub-second window is stored for a whole second.
    let short = suite::unique("short");
    assert_eq!(
        store.claim(&short, Duration::from_millis(10)).await,
        Claim::Won
    );
    let ttl: i64 = redis::cmd("TTL")
        .arg(store.key(&short))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!((0..=1).contains(&ttl), "TTL {ttl}");
}

#[tokio::test]
async fn a_key_tyk_wrote_holds_the_claim_and_tyk_sees_ours() {
    let url = hookshot_testkit::redis_url();
    let store = RedisStore::new(RedisConfig::new(&url).with_claim_timeout(SUITE_LIMIT)).unwrap();
    let mut raw = raw(&url).await;
    // Tyk writes SET webhook.cache.<md5> 1 EX <event_timeout> after its send.
    let by_tyk = suite::unique("tyk-wrote");
    let () = redis::cmd("SET")
        .arg(format!("webhook.cache.{by_tyk}"))
        .arg("1")
        .arg("EX")
        .arg(60)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(store.claim(&by_tyk, MINUTE).await, Claim::Held);
    // Tyk checks with GET before sending: it finds our claim.
    let by_us = suite::unique("we-wrote");
    assert_eq!(store.claim(&by_us, MINUTE).await, Claim::Won);
    let seen: Option<String> = redis::cmd("GET")
        .arg(format!("webhook.cache.{by_us}"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(seen.as_deref(), Some("1"));
}

#[tokio::test]
async fn key_prefix_is_configurable() {
    let url = hookshot_testkit::redis_url();
    let prefix = format!("hookshot-test.{}.", std::process::id());
    let store = RedisStore::new(
        RedisConfig::new(&url)
            .with_key_prefix(&prefix)
            .with_claim_timeout(SUITE_LIMIT),
    )
    .unwrap();
    let c = suite::unique("prefix");
    assert_eq!(store.claim(&c, MINUTE).await, Claim::Won);
    assert!(stored(&url, &format!("{prefix}{c}")).await.is_some());
    assert!(stored(&url, &format!("webhook.cache.{c}")).await.is_none());
}

#[tokio::test]
async fn password_and_database_come_from_the_url() {
    let server = RedisServer::start_with_args(&["--requirepass", "s3cret"]);
    let port = server.port();
    let url = format!("redis://:s3cret@127.0.0.1:{port}/3");
    let store = RedisStore::new(RedisConfig::new(&url).with_claim_timeout(SUITE_LIMIT)).unwrap();
    let c = suite::unique("db3");
    assert_eq!(store.claim(&c, MINUTE).await, Claim::Won);
    assert_eq!(store.claim(&c, MINUTE).await, Claim::Held);
    // The key is in database 3, not 0.
    assert!(stored(&url, &store.key(&c)).await.is_some());
    let db0 = format!("redis://:s3cret@127.0.0.1:{port}/0");
    assert!(stored(&db0, &store.key(&c)).await.is_none());

    // A wrong password: claims are answered by the policy within the limit, and counted.
    let wrong = RedisStore::new(
        RedisConfig::new(format!("redis://:wrong@127.0.0.1:{port}/3"))
            .with_claim_timeout(Duration::from_millis(200)),
    )
    .unwrap();
    let started = Instant::now();
    assert_eq!(
        wrong.claim(&c, MINUTE).await,
        Claim::Unavailable { send: true }
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(wrong.stats().unavailable, 1);
}

/// Claims until one is answered by Redis (not by the policy), for at most 10 s.
async fn until_answered(store: &RedisStore, c: &Checksum) -> Claim {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let claim = store.claim(c, MINUTE).await;
        if !matches!(claim, Claim::Unavailable { .. }) {
            return claim;
        }
        assert!(
            Instant::now() < deadline,
            "the store did not recover within 10 s: {:?}",
            store.stats()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Claims during an outage return within the limit, with the policy's answer, and are counted;
/// when Redis is back the same store works again.
async fn outage(policy: FailurePolicy) {
    let mut server = RedisServer::start();
    let limit = Duration::from_millis(200);
    let store = RedisStore::new(
        RedisConfig::new(server.url())
            .with_claim_timeout(limit)
            .with_connect_timeout(Duration::from_millis(500))
            .with_failure_policy(policy),
    )
    .unwrap();
    let before = suite::unique("before-outage");
    assert_eq!(until_answered(&store, &before).await, Claim::Won);
    assert!(store.is_connected());

    server.stop();
    for _ in 0..5 {
        let started = Instant::now();
        let claim = store.claim(&suite::unique("during-outage"), MINUTE).await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
        assert_eq!(
            claim,
            Claim::Unavailable {
                send: policy.sends()
            }
        );
    }
    let stats = store.stats();
    assert_eq!(stats.unavailable, 5, "{stats:?}");
    assert!(stats.errors >= 1, "{stats:?}");

    server.start_again();
    let after = suite::unique("after-outage");
    assert_eq!(until_answered(&store, &after).await, Claim::Won);
    assert_eq!(store.claim(&after, MINUTE).await, Claim::Held);
    assert!(store.is_connected());
}

#[tokio::test]
async fn outage_fail_open_sends_and_recovers() {
    outage(FailurePolicy::FailOpen).await;
}

#[tokio::test]
async fn outage_fail_closed_suppresses_and_recovers() {
    outage(FailurePolicy::FailClosed).await;
}

#[tokio::test]
async fn a_store_made_while_redis_is_down_works_once_it_is_up() {
    let mut server = RedisServer::start();
    server.stop();
    let store = RedisStore::new(
        RedisConfig::new(server.url()).with_claim_timeout(Duration::from_millis(200)),
    )
    .unwrap();
    let c = suite::unique("down-at-start");
    let started = Instant::now();
    assert_eq!(
        store.claim(&c, MINUTE).await,
        Claim::Unavailable { send: true }
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    server.start_again();
    assert_eq!(until_answered(&store, &c).await, Claim::Won);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_server_does_not_hang_claims() {
    let server = RedisServer::start();
    let store = RedisStore::new(
        RedisConfig::new(server.url())
            .with_claim_timeout(Duration::from_millis(200))
            .with_connect_timeout(Duration::from_millis(500))
            .with_failure_policy(FailurePolicy::FailClosed),
    )
    .unwrap();
    let c = suite::unique("frozen");
    assert_eq!(until_answered(&store, &c).await, Claim::Won);
    assert_eq!(store.connections(), 1);

    // The connection stays open but nothing answers: each claim gives up at its limit, and after a
    // few the store drops the connection and tries new ones (which hang too).
    server.pause();
    for _ in 0..6 {
        let started = Instant::now();
        let claim = store.claim(&suite::unique("while-frozen"), MINUTE).await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
        assert_eq!(claim, Claim::Unavailable { send: false });
    }
    // Three unanswered claims in a row dropped the connection that stopped answering (new
    // connection attempts hang in the handshake, or succeed and stop answering in turn).
    assert!(
        !store.is_connected() || store.connections() >= 2,
        "connected {} times, connected now: {}",
        store.connections(),
        store.is_connected()
    );
    server.resume();
    assert_eq!(until_answered(&store, &c).await, Claim::Held);
    assert!(store.connections() >= 2);
}

/// A CA and a server certificate for 127.0.0.1, as PEM files in a fresh folder.
struct TlsFiles {
    dir: std::path::PathBuf,
    ca_pem: String,
}

impl TlsFiles {
    fn new() -> TlsFiles {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::default();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "Hookshot cool-down test CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let mut server = rcgen::CertificateParams::default();
        server.subject_alt_names = vec![rcgen::SanType::IpAddress(
            std::net::Ipv4Addr::LOCALHOST.into(),
        )];
        let cert = server.signed_by(&key, &ca_cert, &ca_key).unwrap();
        let dir = std::env::temp_dir().join(format!(
            "hookshot-cooldown-tls-{}-{}",
            std::process::id(),
            suite::unique("tls")
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
        std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
        TlsFiles {
            dir,
            ca_pem: ca_cert.pem(),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for TlsFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn rediss_urls_connect_over_tls() {
    let files = TlsFiles::new();
    let tls_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
        .to_string();
    let _server = RedisServer::start_with_args(&[
        "--tls-port",
        &tls_port,
        "--tls-cert-file",
        &files.path("cert.pem"),
        "--tls-key-file",
        &files.path("key.pem"),
        "--tls-ca-cert-file",
        &files.path("ca.pem"),
        "--tls-auth-clients",
        "no",
    ]);
    let url = format!("rediss://127.0.0.1:{tls_port}/0");
    let store = RedisStore::new(
        RedisConfig::new(&url)
            .with_tls_root_cert(files.ca_pem.clone())
            .with_claim_timeout(SUITE_LIMIT),
    )
    .unwrap();
    let c = suite::unique("tls");
    assert_eq!(store.claim(&c, MINUTE).await, Claim::Won);
    assert_eq!(store.claim(&c, MINUTE).await, Claim::Held);

    // Without the CA the server's certificate is not trusted: the policy answers, in time.
    let untrusting = RedisStore::new(
        RedisConfig::new(&url)
            .with_claim_timeout(Duration::from_millis(300))
            .with_failure_policy(FailurePolicy::FailClosed),
    )
    .unwrap();
    let started = Instant::now();
    assert_eq!(
        untrusting.claim(&c, MINUTE).await,
        Claim::Unavailable { send: false }
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}
