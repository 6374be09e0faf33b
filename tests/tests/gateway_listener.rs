//! The listeners of the real `hookshot` binary against hostile requests: paths that climb out of
//! their API with dot-segments (plain or percent-encoded), and the control API on a port of its own.

mod common;

use std::time::Duration;

use common::{Gateway, SECRET, TempDir, api, free_port, hook};
use hookshot_testkit::receiver::Receiver;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

/// A keyless API at `/public/` and a keyed one at `/private/`, both proxying to `upstream` under
/// `/up/`; an unknown key on `/private/` fires AuthFailure to `hooks`.
fn write_public_and_private(dir: &TempDir, upstream: &Receiver, hooks: &Receiver) {
    let mut public = api("public", "/public/", &upstream.url("/up/"), json!({}));
    public["use_keyless"] = json!(true);
    dir.write_api("public", &public);
    let events = json!({"AuthFailure": hook("POST", &hooks.url("/auth"), 0)});
    dir.write_api(
        "private",
        &api("private", "/private/", &upstream.url("/up/"), events),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segments_never_reach_an_upstream_nor_pass_a_keyed_api() {
    let upstream = Receiver::start().await;
    let hooks = Receiver::start().await;
    let dir = TempDir::new("paths");
    write_public_and_private(&dir, &upstream, &hooks);
    let gw = Gateway::start(&dir, json!({})).await;

    let climbing = [
        "/public/../private/x",
        "/public/%2e%2e/private/x",
        "/public/%2E%2E/private/x",
        "/public/.%2e/private/x",
        "/public/%2e./private/x",
        "/public/a/../../private/x",
        "/public/./../private/x",
        "/public/%2e%2e/private/x?q=1",
        "/public/..%2fprivate/x",
        "/public/..%2Fprivate/x",
        "/public/%2e%2e%2fprivate/x",
        "/public/..%5cprivate/x",
        "/public/..\\private\\x",
        "/public/%zz/x",
        "/%2e%2e/private/x",
        "/../private/x",
        "/tyk/../private/x",
    ];
    for path in climbing {
        for key in [None, Some("no-such-key")] {
            let headers: Vec<(&str, &str)> =
                key.map(|k| ("Authorization", k)).into_iter().collect();
            let a = gw.get(path, &headers).await;
            assert_eq!(a.status, 400, "{path} (key {key:?}): {a:?}");
            assert!(a.json()["error"].is_string(), "{path}: {}", a.body);
        }
    }
    // With an unknown key, a path that resolves from /private/ to /public/ is refused too, and
    // fires no AuthFailure.
    let a = gw
        .get(
            "/private/%2e%2e/public/x",
            &[("Authorization", "no-such-key")],
        )
        .await;
    assert_eq!(a.status, 400, "{a:?}");
    // A path that stays under its listen path is resolved, and the keyed API still asks for a key.
    let a = gw.get("/private/a/../x", &[]).await;
    assert_eq!(
        (a.status, a.json()),
        (401, json!({"error": "Authorization field missing"}))
    );
    let a = gw
        .get("/public/a/./b/../%63%7E/%2e?q=/../%2e%2e", &[])
        .await;
    assert_eq!(a.status, 200, "{a:?}");

    // The one request that reached the upstream came normalised, its query as sent.
    let got = upstream.wait_for(1, WAIT).await;
    let paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/up/a/c~/?q=/../%2e%2e"]);
    // The one AuthFailure is the one fired after all the refusals.
    let a = gw
        .get("/private/x", &[("Authorization", "no-such-key")])
        .await;
    assert_eq!(a.status, 403);
    let fired = hooks.wait_for(1, WAIT).await;
    assert_eq!(fired.len(), 1);
    assert!(fired[0].body_text().contains("/private/x"));
    assert_eq!(upstream.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_control_port_the_control_api_and_metrics_are_served_only_there() {
    let upstream = Receiver::start().await;
    let dir = TempDir::new("control");
    // A keyless API at the root, so that a path not served is proxied unless refused.
    let mut root = api("root", "/", &upstream.url("/"), json!({}));
    root["use_keyless"] = json!(true);
    dir.write_api("root", &root);
    let port = free_port();
    let mut gw = Gateway::start(&dir, json!({"control_api_port": port})).await;
    assert_eq!(gw.control_addr, format!("127.0.0.1:{port}"));
    assert_ne!(gw.control_addr, gw.addr);
    let not_found = json!({"error": "Not Found"});
    let auth = [("x-tyk-authorization", SECRET)];

    // On the public port: 404 for the control API and /metrics, even with the secret.
    for (method, path) in [
        ("POST", "/tyk/keys/create"),
        ("GET", "/tyk/keys/some-key"),
        ("GET", "/tyk/reload"),
        ("GET", "/tyk/"),
        ("GET", "/metrics"),
    ] {
        let a = gw.send(method, path, &auth, b"{}").await;
        assert_eq!(
            (a.status, a.json()),
            (404, not_found.clone()),
            "{method} {path}"
        );
    }
    assert_eq!(gw.get("/hello", &[]).await.status, 200);
    assert_eq!(gw.get("/anything", &[]).await.status, 200);

    // On the control port: the control API, /metrics and /hello, and no API.
    let key = gw.create_key(json!({"rate": 100, "per": 1})).await;
    let a = gw
        .admin("GET", &format!("/tyk/keys/{key}"), &serde_json::Value::Null)
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = gw.control("GET", "/metrics", &[]).await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains("hookshot_"), "{}", a.body);
    assert_eq!(gw.control("GET", "/hello", &[]).await.status, 200);
    let a = gw.control("GET", "/anything", &[]).await;
    assert_eq!((a.status, a.json()), (404, not_found.clone()));
    let a = gw.control("GET", "/tyk/keys/x", &[]).await;
    assert_eq!(a.status, 403, "the secret is still required: {}", a.body);

    // The upstream saw only the one proxied request.
    let got = upstream.wait_for(1, WAIT).await;
    let paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/anything"]);

    // SIGHUP reloads, and SIGTERM stops both listeners.
    let pid = gw.child.id().unwrap().to_string();
    for signal in ["-HUP", "-TERM"] {
        assert!(
            std::process::Command::new("kill")
                .args([signal, &pid])
                .status()
                .unwrap()
                .success()
        );
        if signal == "-HUP" {
            let mut reloaded = false;
            for _ in 0..100 {
                let metrics = gw.control("GET", "/metrics", &[]).await.body;
                if metrics.contains("hookshot_reloads_total{result=\"ok\"} 1") {
                    reloaded = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(reloaded, "SIGHUP did not reload");
        }
    }
    let status = tokio::time::timeout(Duration::from_secs(30), gw.child.wait())
        .await
        .expect("the gateway did not stop within 30 s")
        .unwrap();
    assert!(status.success(), "{status:?}");
    for addr in [&gw.addr, &gw.control_addr] {
        assert!(
            tokio::net::TcpStream::connect(addr.as_str()).await.is_err(),
            "{addr} still accepts"
        );
    }
}
