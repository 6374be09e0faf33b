//! One connection against a real Redis: commands and scripts from many clones on one connection,
//! each command held to its own limit, failing at once while Redis cannot be reached, and never
//! a password in an error.

use std::time::{Duration, Instant};

use hookshot_redis::{Error, Redis, Script, Settings, cmd};
use hookshot_testkit::redis::RedisServer;

fn unique(name: &str) -> String {
    format!("hookshot-redis-test.{}.{name}", std::process::id())
}

#[tokio::test]
async fn commands_and_scripts_from_many_clones_share_one_connection() {
    let redis = Redis::new(Settings::new(hookshot_testkit::redis_url())).unwrap();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let redis = redis.clone();
        tasks.push(tokio::spawn(async move {
            let key = unique(&format!("n{i}"));
            let mut set = cmd("SET");
            set.arg(&key).arg(i).arg("EX").arg(60);
            redis.query::<()>(set).await.unwrap();
            let mut get = cmd("GET");
            get.arg(&key);
            redis.query::<Option<i64>>(get).await.unwrap()
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap(), Some(i as i64));
    }
    assert_eq!(redis.connections(), 1);
    assert!(redis.is_connected());

    // A script the server has never seen: EVALSHA is refused, EVAL runs it; then EVALSHA does.
    let script = Script::new(&format!(
        "-- {}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])",
        unique("script")
    ));
    let key = unique("counter");
    for want in [5, 10] {
        let n: i64 = redis.invoke(&script.call().key(&key).arg(5)).await.unwrap();
        assert_eq!(n, want);
    }
    let mut del = cmd("DEL");
    del.arg(&key);
    redis.query::<()>(del).await.unwrap();

    // A server error is the command's, and leaves the connection alone.
    let mut wrong = cmd("INCR");
    wrong.arg(unique("n1"));
    let mut set = cmd("SET");
    set.arg(unique("n1")).arg("not a number");
    redis.query::<()>(set).await.unwrap();
    let e = redis.query::<i64>(wrong).await.unwrap_err();
    assert!(matches!(e, Error::Redis(_)), "{e}");
    redis.ping().await.unwrap();
    assert_eq!(redis.connections(), 1);
}

#[tokio::test]
async fn each_command_keeps_its_own_limit() {
    let server = RedisServer::start();
    let redis =
        Redis::new(Settings::new(server.url()).with_command_timeout(Duration::from_secs(30)))
            .unwrap();
    redis.ping().await.unwrap();
    server.pause();
    let (short, long) = (Duration::from_millis(200), Duration::from_millis(1500));
    let started = Instant::now();
    let a = redis.value_within(cmd("PING"), short);
    let b = redis.value_within(cmd("PING"), long);
    let (a, b) = tokio::join!(
        async {
            let r = a.await;
            (r, started.elapsed())
        },
        async {
            let r = b.await;
            (r, started.elapsed())
        }
    );
    server.resume();
    assert!(
        matches!(a.0, Err(Error::NoAnswer(l)) if l == short),
        "{:?}",
        a.0
    );
    assert!(
        matches!(b.0, Err(Error::NoAnswer(l)) if l == long),
        "{:?}",
        b.0
    );
    assert!(
        a.1 >= short && a.1 < long,
        "the short command took {:?}",
        a.1
    );
    assert!(b.1 >= long, "the long command gave up after {:?}", b.1);
}

#[tokio::test]
async fn an_unreachable_redis_fails_at_once_after_a_failed_attempt_and_recovers() {
    let mut server = RedisServer::start_with_args(&["--requirepass", "s3cret"]);
    let url = format!("redis://:s3cret@127.0.0.1:{}/0", server.port());
    server.stop();
    let limit = Duration::from_secs(5);
    let redis = Redis::new(Settings::new(&url).with_command_timeout(limit)).unwrap();
    let e = redis.ping().await.unwrap_err();
    assert!(e.is_not_connected(), "{e}");
    assert!(e.to_string().contains("the last attempt failed"), "{e}");
    // Redis is known to be down: the next command does not wait for its limit.
    let started = Instant::now();
    let e = redis.ping().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(!e.to_string().contains("s3cret"), "{e}");
    assert!(redis.connect_failures() >= 1);

    server.start_again();
    let deadline = Instant::now() + Duration::from_secs(10);
    while redis.ping().await.is_err() {
        assert!(Instant::now() < deadline, "no recovery within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A wrong password: refused, and the error does not show it.
    let wrong = Redis::new(Settings::new(format!(
        "redis://:wr0ng@127.0.0.1:{}/0",
        server.port()
    )))
    .unwrap();
    let e = wrong.ping().await.unwrap_err().to_string();
    assert!(!e.contains("wr0ng") && !e.contains("s3cret"), "{e}");
    assert!(!format!("{wrong:?}").contains("wr0ng"));
}
