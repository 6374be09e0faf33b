//! `hookshot listen --port N --secret whsec_...` on the real binary: each request it receives is
//! printed (method, path, headers, the JSON body pretty-printed) with whether its Standard Webhooks
//! signature verifies; requests are signed here with the `standardwebhooks` crate.

mod common;

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};

/// The Standard Webhooks specification's example secret.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The lines the receiver prints for one request, up to its `----` separator.
async fn next_request(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    let mut text = String::new();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line == "----" {
                return;
            }
            text.push_str(&line);
            text.push('\n');
        }
        panic!("hookshot listen exited");
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .unwrap_or_else(|_| panic!("no request printed within 20 s; so far: {text}"));
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_prints_requests_and_verifies_their_signatures() {
    let mut child = None;
    let mut found = None;
    // The port is found free and then handed over; another process could take it meanwhile, so
    // try a few.
    for _ in 0..5 {
        let port = free_port();
        let mut c = Command::new(hookshot_testkit::hookshot_bin())
            .args(["listen", "--port", &port.to_string(), "--secret", SECRET])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(c.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("hookshot listen did not start within 60 s")
            .unwrap();
        if let Some(line) = first {
            assert_eq!(
                line,
                format!("hookshot listen: receiving on http://127.0.0.1:{port}")
            );
            found = Some((port, lines));
            child = Some(c);
            break;
        }
    }
    let (port, mut lines) = found.expect("hookshot listen could not take a free port");
    let addr = format!("127.0.0.1:{port}");

    let body = br#"{"event":"AuthFailure","key":"abc","path":"/orders/x","tags":[1,2]}"#;
    let id = "msg_e2e_listen_1";
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let signature = standardwebhooks::Webhook::new(SECRET)
        .unwrap()
        .sign(id, ts, body)
        .unwrap();
    let ts = ts.to_string();
    let headers = [
        ("Content-Type", "application/json"),
        ("X-E2E", "listen"),
        ("webhook-id", id),
        ("webhook-timestamp", ts.as_str()),
        ("webhook-signature", signature.as_str()),
    ];

    let a = common::request(&addr, "POST", "/hookshot?x=1", &headers, body).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json(), serde_json::json!({"ok": true}));
    let printed = next_request(&mut lines).await;
    assert!(printed.starts_with("POST /hookshot?x=1\n"), "{printed}");
    for want in [
        "content-type: application/json\n",
        "x-e2e: listen\n",
        &format!("webhook-id: {id}\n"),
        &format!("webhook-timestamp: {ts}\n"),
        &format!("webhook-signature: {signature}\n"),
        "{\n  \"event\": \"AuthFailure\",\n  \"key\": \"abc\",\n  \"path\": \"/orders/x\",\n  \"tags\": [\n    1,\n    2\n  ]\n}\n",
        "signature: verified\n",
    ] {
        assert!(printed.contains(want), "{want:?} not in:\n{printed}");
    }

    // The same signature over a body changed on the way.
    let tampered = br#"{"event":"AuthFailure","key":"xyz","path":"/orders/x","tags":[1,2]}"#;
    common::request(&addr, "POST", "/hookshot", &headers, tampered).await;
    let printed = next_request(&mut lines).await;
    assert!(printed.starts_with("POST /hookshot\n"), "{printed}");
    assert!(printed.contains("\"key\": \"xyz\""), "{printed}");
    assert!(
        printed.contains("signature: NOT verified (no v1 signature matches)\n"),
        "{printed}"
    );
    assert!(!printed.contains("signature: verified"), "{printed}");

    // No signature at all, and a body that is not JSON: printed as it came.
    common::request(
        &addr,
        "PUT",
        "/plain",
        &[("Content-Type", "text/plain")],
        b"just text",
    )
    .await;
    let printed = next_request(&mut lines).await;
    assert!(printed.starts_with("PUT /plain\n"), "{printed}");
    assert!(printed.contains("\njust text\n"), "{printed}");
    assert!(
        printed.contains("signature: NOT verified (webhook-id, webhook-timestamp or webhook-signature is missing)"),
        "{printed}"
    );

    drop(child);
}
