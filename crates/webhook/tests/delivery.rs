//! The webhook engine against real parts, delivering: the request a receiver gets (headers,
//! methods, bodies, content type) and its signature, checked by an independent implementation.

mod common;

use std::sync::Arc;

use hookshot_config::SigningKey;
use hookshot_template::Template;
use hookshot_testkit::receiver::Receiver;
use hookshot_webhook::{Instrumented, Outcome, USER_AGENT_VALUE, WebhookHandler};
use http::Method;

use common::*;

#[tokio::test]
async fn sends_header_map_and_defaults() {
    let rx = Receiver::start().await;
    let c = builder(&rx.url("/hooks?team=ops"), Method::POST)
        .header("X-Tyk-Test-Header", "Tyk v1.BANANA")
        .build()
        .unwrap();
    let outcome = handler(c, memory()).handle(&auth_failure("k1")).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 200,
            attempts: 1
        }
    );
    let req = &rx.wait_for(1, WAIT).await[0];
    assert_eq!(req.method, http::Method::POST);
    assert_eq!(req.path, "/hooks?team=ops");
    assert_eq!(req.header("user-agent"), Some(USER_AGENT_VALUE));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("x-tyk-test-header"), Some("Tyk v1.BANANA"));
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["event"], "AuthFailure");
    assert_eq!(body["key"], "k1");
}

#[tokio::test]
async fn get_and_delete_arrive_without_a_body() {
    let rx = Receiver::start().await;
    for method in [Method::GET, Method::DELETE] {
        let outcome = handler(config(&rx.url("/bodyless"), method.clone()), memory())
            .handle(&auth_failure("k"))
            .await;
        assert!(outcome.is_delivered(), "{method}: {outcome:?}");
    }
    let reqs = rx.wait_for(2, WAIT).await;
    assert_eq!(reqs[0].method, http::Method::GET);
    assert_eq!(reqs[1].method, http::Method::DELETE);
    for r in &reqs {
        assert!(r.body.is_empty(), "{} carried a body", r.method);
        assert_eq!(r.header("content-length").unwrap_or("0"), "0");
    }
}

#[tokio::test]
async fn signatures_verify_with_an_independent_implementation() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let rx = Receiver::start().await;
    let c = builder(&rx.url("/signed"), Method::POST)
        .signing_key(SigningKey::parse(secret).unwrap())
        .build()
        .unwrap();
    assert!(
        handler(c, memory())
            .handle(&auth_failure("k"))
            .await
            .is_delivered()
    );
    let req = &rx.wait_for(1, WAIT).await[0];
    let verifier = standardwebhooks::Webhook::new(secret).unwrap();
    verifier
        .verify(&req.body, &req.headers)
        .expect("the signature verifies");
    assert!(req.header("webhook-id").unwrap().starts_with("msg_"));
    // A changed body does not verify.
    let mut tampered = req.body.to_vec();
    tampered.push(b' ');
    assert!(verifier.verify(&tampered, &req.headers).is_err());
    // Nor does another secret.
    let other = standardwebhooks::Webhook::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
    assert!(other.verify(&req.body, &req.headers).is_err());
}

/// Writes `source` to a fresh file named `name` and loads it as a template.
fn template_file(name: &str, source: &str) -> hookshot_template::Result<Template> {
    let dir = std::env::temp_dir().join(format!(
        "hookshot-webhook-ct-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, source).unwrap();
    Template::from_file(&path)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[tokio::test]
async fn content_type_follows_the_template_unless_header_map_sets_one() {
    let rx = Receiver::start().await;
    let json_src = r#"{"event": "{{ Type }}"}"#;
    let cases: Vec<(&str, Template, Option<&str>, Option<&str>)> = vec![
        (
            "default template",
            Template::default_webhook(),
            None,
            Some("application/json"),
        ),
        (
            "default template, Content-Type in header_map",
            Template::default_webhook(),
            Some("text/plain; charset=utf-8"),
            Some("text/plain; charset=utf-8"),
        ),
        (
            "a .tmpl template",
            template_file("alert.tmpl", "{{ Type }} at {{ Meta.Path }}").unwrap(),
            None,
            None,
        ),
        (
            "a .json template",
            template_file("alert.json", json_src).unwrap(),
            None,
            Some("application/json"),
        ),
        (
            "a .json template with an XML Content-Type in header_map",
            template_file("alert.json", json_src).unwrap(),
            Some("application/xml"),
            Some("application/xml"),
        ),
    ];
    for (what, template, header, expected) in cases {
        let mut c = builder(&rx.url("/ct"), Method::POST);
        if let Some(h) = header {
            c = c.header("Content-Type", h);
        }
        let c = c.build().unwrap();
        let before = rx.request_count() as usize;
        let h = Instrumented::new(WebhookHandler::new(
            c,
            Arc::new(template),
            memory(),
            transport(),
        ));
        assert!(h.handle(&auth_failure("k")).await.is_delivered(), "{what}");
        let req = rx.wait_for(before + 1, WAIT).await.pop().unwrap();
        let got: Vec<_> = req.headers.get_all("content-type").iter().collect();
        match expected {
            Some(ct) => assert_eq!(got, [ct], "{what}"),
            None => assert!(got.is_empty(), "{what}: {got:?}"),
        }
    }
    // A custom template that does not exist never reaches a handler: the gateway refuses it when
    // it assembles the handlers (hookshot-gateway's
    // events::tests::a_missing_custom_template_is_refused_when_the_handlers_are_assembled).
}
