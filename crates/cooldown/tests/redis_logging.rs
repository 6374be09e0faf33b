//! The Redis store's logging: one warning per interval while Redis cannot be asked, one line when
//! it answers again, never a password. Alone in its test binary, so that no other test's threads
//! share the tracing callsites it watches.
#![cfg(feature = "redis")]

use std::time::{Duration, Instant};

use hookshot_cooldown::{Checksum, Claim, CooldownStore, RedisConfig, RedisStore};
use hookshot_testkit::redis::RedisServer;

const MINUTE: Duration = Duration::from_secs(60);

fn unique(n: u64) -> Checksum {
    let url = hookshot_core::TargetUrl::parse("http://hooks.example.com/logging").unwrap();
    let body = format!("{{\"pid\":{},\"n\":{n}}}", std::process::id());
    hookshot_cooldown::request_checksum("POST", &url, body.as_bytes())
}

/// Claims until Redis (not the policy) answers, for at most 10 s.
async fn until_answered(store: &RedisStore, c: &Checksum) -> Claim {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let claim = store.claim(c, MINUTE).await;
        if !matches!(claim, Claim::Unavailable { .. }) {
            return claim;
        }
        assert!(Instant::now() < deadline, "no recovery within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn failures_are_logged_without_flooding_and_recovery_once() {
    let captured = hookshot_testkit::logs::capture(tracing::Level::INFO);

    let mut server = RedisServer::start_with_args(&["--requirepass", "s3cret"]);
    server.stop();
    let store = RedisStore::new(
        RedisConfig::new(format!("redis://:s3cret@127.0.0.1:{}/0", server.port()))
            .with_claim_timeout(Duration::from_millis(100)),
    )
    .unwrap();
    for n in 0..20 {
        let claim = store.claim(&unique(n), MINUTE).await;
        assert_eq!(claim, Claim::Unavailable { send: true });
    }
    server.start_again();
    let c = unique(1000);
    assert_eq!(until_answered(&store, &c).await, Claim::Won);

    let lines = captured.lines();
    let warnings: Vec<_> = lines.iter().filter(|l| l.contains("WARN")).collect();
    let recoveries: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("Redis answers again"))
        .collect();
    assert_eq!(warnings.len(), 1, "{lines:#?}");
    assert!(warnings[0].contains("fail-open"), "{}", warnings[0]);
    assert!(warnings[0].contains("not connected"), "{}", warnings[0]);
    assert_eq!(recoveries.len(), 1, "{lines:#?}");
    assert!(
        lines.iter().all(|l| !l.contains("s3cret")),
        "a log line shows the password: {lines:#?}"
    );
}
