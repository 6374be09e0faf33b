//! Tyk's gateway API on the real binary: the keys API with its events and every refusal, hot
//! reload adding and removing an API, and a clean stop on SIGTERM.

mod common;

use std::time::Duration;

use common::{Gateway, SECRET, TempDir, api, hook};
use hookshot_testkit::receiver::Receiver;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_api_creates_reads_changes_deletes_and_fires_token_events() {
    let hooks = Receiver::start().await;
    let dir = TempDir::new("keys");
    let conf = json!({"event_handlers": {"events": {
        "TokenCreated": hook("POST", &hooks.url("/created"), 0),
        "TokenUpdated": hook("POST", &hooks.url("/updated"), 0),
        "TokenDeleted": hook("POST", &hooks.url("/deleted"), 0),
    }}});
    let gw = Gateway::start(&dir, conf).await;
    let session = json!({"org_id": "acme", "rate": 5, "per": 1, "quota_max": -1, "alias": "kept",
        "access_rights": {"orders": {"api_id": "orders", "api_name": "Orders", "versions": ["Default"]}}});
    let a = gw.admin("POST", "/tyk/keys/create", &session).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let created = a.json();
    assert_eq!(created["status"], "ok");
    assert_eq!(created["action"], "added");
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("acme") && key.len() > 20, "{key}");
    let got = gw
        .admin("GET", &format!("/tyk/keys/{key}"), &serde_json::Value::Null)
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["alias"], "kept");
    assert_eq!(got.json()["access_rights"]["orders"]["api_name"], "Orders");
    // A key of the caller's choosing, then changed and deleted.
    let a = gw
        .admin("POST", "/tyk/keys/my-own-key", &json!({"org_id": "acme"}))
        .await;
    assert_eq!(
        (a.status, a.json()["action"].clone()),
        (200, json!("added"))
    );
    assert_eq!(a.json()["key"], "my-own-key");
    let a = gw
        .admin(
            "PUT",
            "/tyk/keys/my-own-key",
            &json!({"org_id": "acme", "rate": 1, "per": 1}),
        )
        .await;
    assert_eq!(
        (a.status, a.json()["action"].clone()),
        (200, json!("modified"))
    );
    assert_eq!(
        gw.admin("GET", "/tyk/keys/my-own-key", &serde_json::Value::Null)
            .await
            .json()["rate"],
        1.0
    );
    let a = gw
        .admin("DELETE", "/tyk/keys/my-own-key", &serde_json::Value::Null)
        .await;
    assert_eq!(
        (a.status, a.json()["action"].clone()),
        (200, json!("deleted"))
    );
    assert_eq!(
        gw.admin("GET", "/tyk/keys/my-own-key", &serde_json::Value::Null)
            .await
            .status,
        404
    );
    let got = hooks.wait_for(4, WAIT).await;
    let mut paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/created", "/created", "/deleted", "/updated"]);
    // Events carry the key's SHA-256, never the key.
    for r in &got {
        let body = r.body_text();
        assert!(
            !body.contains("my-own-key") && !body.contains(&key),
            "{body}"
        );
        assert!(body.contains("acme"), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_api_refusals() {
    let dir = TempDir::new("refusals");
    let gw = Gateway::start(&dir, json!({})).await;
    let forbidden = json!({"status": "error", "message": "Attempted administrative access with invalid or missing key!"});
    for headers in [vec![], vec![("x-tyk-authorization", "wrong")]] {
        let a = gw.send("POST", "/tyk/keys/create", &headers, b"{}").await;
        assert_eq!((a.status, a.json()), (403, forbidden.clone()));
        let a = gw.send("GET", "/tyk/reload", &headers, b"").await;
        assert_eq!(a.status, 403);
    }
    let auth = [("x-tyk-authorization", SECRET)];
    let a = gw
        .send("POST", "/tyk/keys/create", &auth, b"{not json")
        .await;
    assert_eq!(a.status, 400);
    assert!(
        a.json()["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{}",
        a.body
    );
    let a = gw
        .send("POST", "/tyk/keys/create", &auth, br#"{"rate": "fast"}"#)
        .await;
    assert_eq!(a.status, 400);
    let message = a.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("field `rate`") && message.contains("\"fast\""),
        "{message}"
    );
    let a = gw
        .send(
            "POST",
            "/tyk/keys/create",
            &auth,
            br#"{"access_rights": {"x": {"versions": "v1"}}}"#,
        )
        .await;
    assert!(
        a.json()["message"]
            .as_str()
            .unwrap()
            .contains("access_rights.x.versions"),
        "{}",
        a.body
    );
    for method in ["GET", "PUT", "DELETE"] {
        let a = gw
            .send(
                method,
                "/tyk/keys/unknown",
                &auth,
                if method == "PUT" { b"{}" } else { b"" },
            )
            .await;
        assert_eq!(a.status, 404, "{method}");
        assert_eq!(a.json()["message"], "Key not found");
    }
    gw.admin("POST", "/tyk/keys/taken", &json!({})).await;
    let a = gw.admin("POST", "/tyk/keys/taken", &json!({})).await;
    assert_eq!(a.status, 409);
    let a = gw.send("PATCH", "/tyk/keys/taken", &auth, b"{}").await;
    assert_eq!(a.status, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_adds_and_removes_apis_and_keeps_the_old_set_when_the_new_one_is_wrong() {
    let upstream = Receiver::start().await;
    let dir = TempDir::new("reload");
    let keyless = |id: &str, lp: &str| {
        let mut a = api(id, lp, &upstream.url("/"), json!({}));
        a["use_keyless"] = json!(true);
        a
    };
    dir.write_api("a", &keyless("a", "/a/"));
    let gw = Gateway::start(&dir, json!({})).await;
    assert_eq!(gw.get("/a/x", &[]).await.status, 200);
    assert_eq!(gw.get("/b/x", &[]).await.status, 404);
    dir.write_api("b", &keyless("b", "/b/"));
    let a = gw
        .admin("GET", "/tyk/reload", &serde_json::Value::Null)
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(gw.get("/b/x", &[]).await.status, 200);
    dir.remove_api("a");
    assert_eq!(
        gw.admin("POST", "/tyk/reload", &serde_json::Value::Null)
            .await
            .status,
        200
    );
    assert_eq!(gw.get("/a/x", &[]).await.status, 404);
    // A broken new set is refused, naming the mistakes; the old set stays.
    dir.write_api(
        "c",
        &json!({"api_id": "b", "proxy": {"listen_path": "/c/", "target_url": "http://x/"}}),
    );
    let a = gw
        .admin("GET", "/tyk/reload", &serde_json::Value::Null)
        .await;
    assert_eq!(a.status, 400);
    assert!(
        a.body.contains("already the id of the API in"),
        "{}",
        a.body
    );
    assert_eq!(gw.get("/b/x", &[]).await.status, 200);
    // SIGHUP reloads too.
    dir.remove_api("c");
    dir.write_api("d", &keyless("d", "/d/"));
    let pid = gw.child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut status = 0;
    for _ in 0..100 {
        status = gw.get("/d/x", &[]).await.status;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200);
    let metrics = gw.get("/metrics", &[]).await.body;
    assert!(
        metrics.contains("hookshot_reloads_total{result=\"refused\"} 1"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_gateway() {
    let dir = TempDir::new("term");
    let mut gw = Gateway::start(&dir, json!({})).await;
    let pid = gw.child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(Duration::from_secs(30), gw.child.wait())
        .await
        .expect("the gateway did not stop within 30 s")
        .unwrap();
    assert!(status.success(), "{status:?}");
}
