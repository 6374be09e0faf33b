//! The webhook engine against real parts, suppressing repeats: the cool-down on the in-memory
//! store and on the Redis the test command started.

mod common;

use std::sync::Arc;
use std::time::Duration;

use hookshot_cooldown::{RedisConfig, RedisStore};
use hookshot_testkit::receiver::Receiver;
use hookshot_webhook::{CooldownStore, Outcome};
use http::Method;

use common::*;

async fn cooldown_suppresses_identical_events_only(store: Arc<dyn CooldownStore>) {
    let rx = Receiver::start().await;
    let c = builder(&rx.url("/cool"), Method::POST)
        .cooldown(Duration::from_secs(60))
        .build()
        .unwrap();
    let h = handler(c, store);
    assert!(h.handle(&auth_failure("same")).await.is_delivered());
    assert_eq!(h.handle(&auth_failure("same")).await, Outcome::Suppressed);
    assert_eq!(h.handle(&auth_failure("same")).await, Outcome::Suppressed);
    assert!(h.handle(&auth_failure("other")).await.is_delivered());
    let reqs = rx.wait_for(2, WAIT).await;
    assert_eq!(reqs.len(), 2);
}

#[tokio::test]
async fn cooldown_with_the_memory_store() {
    cooldown_suppresses_identical_events_only(memory()).await;
}

#[tokio::test]
async fn cooldown_with_the_redis_store() {
    let prefix = format!("webhook-test-{}.", std::process::id());
    let store =
        RedisStore::new(RedisConfig::new(hookshot_testkit::redis_url()).with_key_prefix(prefix))
            .unwrap();
    cooldown_suppresses_identical_events_only(Arc::new(store)).await;
}
