//! The storage calls of one request share one deadline, and a store that stops answering costs
//! requests that deadline only until the circuit opens; then they are answered 503 at once until
//! the store answers again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hookshot_event::Event;
use hookshot_gateway::app::{Body, Gateway, GatewayParts, full};
use hookshot_gateway::session::{Session, hash_key};
use hookshot_gateway::store::{KeyStore, LimitStore, MemoryStorage, QuotaState, StoreError};
use hookshot_webhook::EventSink;
use http::Request;
use tokio::time::Instant;

const DEADLINE: Duration = Duration::from_millis(500);

struct NoEvents;

impl EventSink for NoEvents {
    fn fire(&self, _event: Event) {}
}

/// A memory store whose every call takes `delay`.
struct SlowStore {
    inner: MemoryStorage,
    delay: Duration,
}

#[async_trait]
impl KeyStore for SlowStore {
    async fn get(&self, key_hash: &str) -> Result<Option<Session>, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.get(key_hash).await
    }
    async fn put(&self, key_hash: &str, session: &Session) -> Result<(), StoreError> {
        self.inner.put(key_hash, session).await
    }
    async fn create(&self, key_hash: &str, session: &Session) -> Result<bool, StoreError> {
        self.inner.create(key_hash, session).await
    }
    async fn delete(&self, key_hash: &str) -> Result<bool, StoreError> {
        self.inner.delete(key_hash).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
}

#[async_trait]
impl LimitStore for SlowStore {
    async fn rate_hit(
        &self,
        key_hash: &str,
        limit: u64,
        window: Duration,
    ) -> Result<bool, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.rate_hit(key_hash, limit, window).await
    }
    async fn quota_hit(
        &self,
        key_hash: &str,
        max: i64,
        renewal_secs: i64,
    ) -> Result<QuotaState, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.quota_hit(key_hash, max, renewal_secs).await
    }
    async fn reset_quota(&self, key_hash: &str) -> Result<(), StoreError> {
        self.inner.reset_quota(key_hash).await
    }
}

fn session() -> Session {
    Session {
        org_id: "acme".into(),
        rate: 1000.0,
        per: 60.0,
        quota_max: 1000,
        quota_renewal_rate: 3600,
        ..Session::default()
    }
}

fn gateway<S: KeyStore + LimitStore + 'static>(
    store: Arc<S>,
    upstream: &str,
    deadline: Duration,
) -> Gateway {
    let def = format!(
        r#"{{"api_id": "orders", "name": "Orders", "use_keyless": false,
            "auth": {{"auth_header_name": "Authorization"}},
            "proxy": {{"listen_path": "/orders/", "target_url": "{upstream}", "strip_listen_path": true}}}}"#
    );
    let loaded = hookshot_gateway::api::load_sources(&[("orders.json".into(), def)]).unwrap();
    Gateway::new(GatewayParts {
        secret: String::new(),
        apis: loaded.apis,
        keys: store.clone(),
        limits: store,
        sink: Arc::new(NoEvents),
        upstream_timeout: None,
        storage_name: "test".into(),
        send_keys_in_clear: false,
    })
    .with_storage_deadline(deadline)
}

async fn get(gw: &Gateway, key: &str) -> (u16, Duration) {
    let req: Request<Body> = Request::get("/orders/x")
        .header("authorization", key)
        .body(full(""))
        .unwrap();
    let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let start = Instant::now();
    let status = gw.handle(req, peer).await.status().as_u16();
    (status, start.elapsed())
}

#[tokio::test(start_paused = true)]
async fn the_key_rate_and_quota_calls_share_one_deadline() {
    // Each call alone is within the deadline; the three together are not.
    let store = Arc::new(SlowStore {
        inner: MemoryStorage::new(),
        delay: Duration::from_millis(300),
    });
    store.inner.put(&hash_key("k"), &session()).await.unwrap();
    let gw = gateway(store, "http://127.0.0.1:1/", DEADLINE);
    assert_eq!(get(&gw, "k").await, (503, DEADLINE));
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn a_hung_redis_costs_the_deadline_then_nothing_until_it_answers_again() {
    use hookshot_gateway::store::{CIRCUIT_OPEN_FOR, CIRCUIT_THRESHOLD};
    let upstream = hookshot_testkit::receiver::Receiver::start().await;
    let redis = hookshot_testkit::redis::RedisServer::start();
    let store = Arc::new(
        hookshot_gateway::store::RedisStorage::open(&hookshot_gateway::config::StorageConfig {
            kind: hookshot_gateway::config::StorageType::Redis,
            host: "127.0.0.1".into(),
            port: redis.port(),
            // Longer than the deadline: a request must not wait for Redis' own timeout.
            timeout_secs: 10,
            ..Default::default()
        })
        .unwrap(),
    );
    store.put(&hash_key("k"), &session()).await.unwrap();
    // Long enough for a loaded machine once the clock runs again; the paused part costs nothing.
    let deadline = Duration::from_secs(3);
    let gw = gateway(store, &upstream.url("/"), deadline);
    assert_eq!(get(&gw, "k").await.0, 200);

    // Redis hangs: connected, never answering. Each request costs the deadline (not a Redis
    // command timeout per call) until the circuit opens; then none waits.
    redis.pause();
    tokio::time::pause();
    for _ in 0..CIRCUIT_THRESHOLD {
        let (status, took) = get(&gw, "k").await;
        assert_eq!(status, 503);
        // The paused clock started between milliseconds; timers fire on the next one.
        assert!(
            took >= deadline && took <= deadline + Duration::from_millis(1),
            "{took:?}"
        );
    }
    for _ in 0..3 {
        assert_eq!(get(&gw, "k").await, (503, Duration::ZERO));
    }

    // Redis is back; once the circuit's while is over, one request tries it and closes it.
    redis.resume();
    tokio::time::advance(CIRCUIT_OPEN_FOR).await;
    tokio::time::resume();
    assert_eq!(get(&gw, "k").await.0, 200);
    assert_eq!(get(&gw, "k").await.0, 200);
}
