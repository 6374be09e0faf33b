//! The request path in-process: the bundled example's APIs on memory storage, answered by
//! `Gateway::handle` without a socket, and the events it fires kept by a recording sink, so what
//! a request fires is asserted at once, with no receiver and no waiting.

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine as _;
use hookshot_event::{Event, EventType};
use hookshot_gateway::app::{Body, Gateway, GatewayParts, full};
use hookshot_gateway::{config, server, store::MemoryStorage};
use hookshot_testkit::events::RecordingSink;
use http::{Request, StatusCode};

const CLIENT: &str = "203.0.113.7:5000";

fn gateway(send_keys_in_clear: bool) -> (Gateway, Arc<RecordingSink>) {
    let loaded = config::example();
    let storage = Arc::new(MemoryStorage::new());
    let events = Arc::new(RecordingSink::new());
    let gateway = Gateway::new(GatewayParts {
        secret: String::new(),
        apis: server::load_apis(&loaded).expect("the bundled example's APIs load"),
        keys: storage.clone(),
        limits: storage,
        sink: events.clone(),
        upstream_timeout: None,
        storage_name: "memory".into(),
        send_keys_in_clear,
    });
    (gateway, events)
}

fn get(path: &str, key: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path).header("X-Trace", "kept");
    if let Some(key) = key {
        request = request.header("Authorization", key);
    }
    request.body(full("")).unwrap()
}

async fn answer(gateway: &Gateway, request: Request<Body>) -> StatusCode {
    let peer: SocketAddr = CLIENT.parse().unwrap();
    gateway.handle(request, peer).await.status()
}

fn meta(event: &Event) -> serde_json::Value {
    event.meta.to_json()
}

#[tokio::test]
async fn an_unknown_key_is_refused_and_fires_one_auth_failure_without_the_key() {
    let (gateway, events) = gateway(false);
    let key = "k-0123456789abcdef";
    assert_eq!(
        answer(&gateway, get("/orders/42?page=2", Some(key))).await,
        StatusCode::FORBIDDEN
    );
    let fired = events.events();
    assert_eq!(fired.len(), 1, "{fired:?}");
    let event = &fired[0];
    assert_eq!(event.event_type, EventType::AuthFailure);
    assert_eq!(event.api.as_ref().map(|a| a.id.as_str()), Some("orders"));
    let meta = meta(event);
    assert_eq!(meta["Key"], "****cdef");
    assert_eq!(meta["Path"], "/orders/42");
    assert_eq!(meta["Origin"], "203.0.113.7");
    let head = base64::engine::general_purpose::STANDARD
        .decode(meta["OriginatingRequest"].as_str().unwrap())
        .unwrap();
    let head = String::from_utf8(head).unwrap();
    assert!(
        head.starts_with("GET /orders/42?page=2 HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase().contains("x-trace: kept"),
        "{head}"
    );
    assert!(!head.contains(key), "the key reached the event: {head}");
}

#[tokio::test]
async fn keys_go_in_clear_only_when_asked() {
    let (gateway, events) = gateway(true);
    answer(&gateway, get("/orders/", Some("k-0123456789abcdef"))).await;
    assert_eq!(meta(&events.events()[0])["Key"], "k-0123456789abcdef");
}

#[tokio::test]
async fn a_missing_key_and_the_health_check_fire_no_event() {
    let (gateway, events) = gateway(false);
    assert_eq!(
        answer(&gateway, get("/orders/", None)).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(answer(&gateway, get("/hello", None)).await, StatusCode::OK);
    // As Tyk: a request without a key is refused before any key is looked up or reported.
    assert!(events.events().is_empty(), "{:?}", events.events());
}
