//! Upstreams and webhook receivers are reached through one TLS configuration: an upstream whose
//! certificate comes from the CA of `hookshot.extra_ca_file` is trusted, as a receiver is.

mod common;

use common::{Gateway, TempDir, api};
use hookshot_testkit::receiver::{Receiver, TestCa};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_upstream_signed_by_the_extra_ca_is_reachable() {
    let ca = TestCa::new();
    let ca_file = ca.write_ca_file();
    let upstream = Receiver::start_tls(&ca).await;
    let dir = TempDir::new("upstream-tls");
    let mut def = api("orders", "/orders/", &upstream.url("/base/"), json!({}));
    def["use_keyless"] = json!(true);
    dir.write_api("orders", &def);
    let gw = Gateway::start(
        &dir,
        json!({"hookshot": {"shutdown_grace_secs": 5,
                            "extra_ca_file": ca_file.path().to_str().unwrap()}}),
    )
    .await;
    let a = gw.get("/orders/x?y=1", &[]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let got = upstream.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/base/x?y=1");

    // Without the CA the same upstream is not trusted.
    let dir = TempDir::new("upstream-tls-untrusted");
    dir.write_api("orders", &def);
    let gw = Gateway::start(&dir, json!({})).await;
    assert_eq!(gw.get("/orders/x", &[]).await.status, 502);
    assert_eq!(upstream.requests().len(), 1);
}
