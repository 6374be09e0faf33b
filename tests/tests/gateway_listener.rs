//! The listeners of the real `hookshot` binary against hostile requests: paths that climb out of
//! their API with dot-segments (plain or percent-encoded), and the control API on a port of its own.

mod common;

use std::time::Duration;

use common::{Gateway, TempDir, api, hook};
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
