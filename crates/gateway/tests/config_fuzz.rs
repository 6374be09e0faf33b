//! Whatever they are fed, the configuration readers answer `Ok` or errors, never a panic: the
//! gateway configuration (`config::parse`), an API definition (`api::parse`) and the event
//! handlers of either (`EventHandlers::from_definition`). Each gets arbitrary text, arbitrary
//! JSON, and JSON shaped like its own documents (Tyk's field names at the right depth, with values
//! of every kind) so that the cases get past the JSON parser and the top-level checks.

use hookshot_config::{EventHandlers, Location};
use hookshot_gateway::{api, config};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const CASES: u32 = 10_000;

/// Field names of the gateway configuration, API definitions and handlers, and some that are not.
const KEYS: &[&str] = &[
    "listen_address",
    "listen_port",
    "secret",
    "template_path",
    "app_path",
    "storage",
    "type",
    "host",
    "port",
    "username",
    "password",
    "database",
    "key_prefix",
    "timeout_secs",
    "request_deadline_ms",
    "proxy_default_timeout",
    "hookshot",
    "queue_capacity",
    "concurrency",
    "shutdown_grace_secs",
    "connect_timeout_secs",
    "request_timeout_secs",
    "extra_ca_file",
    "fail_open",
    "log_format",
    "http_server_options",
    "use_ssl",
    "event_handlers",
    "events",
    "AuthFailure",
    "KeyExpired",
    "QuotaExceeded",
    "TokenCreated",
    "MyCustomEvent",
    "handler_name",
    "handler_meta",
    "method",
    "target_path",
    "header_map",
    "event_timeout",
    "request_timeout",
    "retry",
    "max_attempts",
    "initial_backoff_ms",
    "max_backoff_ms",
    "signing_secret",
    "disabled",
    "id",
    "name",
    "prefix",
    "api_id",
    "org_id",
    "active",
    "use_keyless",
    "auth",
    "auth_header_name",
    "proxy",
    "listen_path",
    "target_url",
    "strip_listen_path",
    "x-tyk-api-gateway",
    "server",
    "eventHandlers",
    "enabled",
    "trigger",
    "url",
    "bodyTemplate",
    "headers",
    "value",
    "cooldownPeriod",
    "",
    "ünïcode",
];

/// Strings that mean something somewhere in those documents.
const WORDS: &[&str] = &[
    "",
    "redis",
    "memory",
    "json",
    "text",
    "eh_web_hook_handler",
    "eh_log_handler",
    "eh_dynamic_handler",
    "webhook",
    "custom",
    "AuthFailure",
    "AuthFailur",
    "QuotaExceeded",
    "POST",
    "GET",
    "FETCH",
    "http://127.0.0.1:9/hook",
    "https://user:pass@example.com/x?token=1",
    "hooks.example.com/x",
    "http://[::1]:99999/",
    "/",
    "/orders/",
    "//",
    "templates/default_webhook.json",
    "../../etc/passwd",
    "1h30m20s",
    "99999999999999999999h",
    "721h",
    "10 minutes",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "whsec_",
    "Authorization",
    "X Bad",
    "a\r\nb",
    "\u{0}",
    "::1",
    "a/b#c?d%e",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        4 => prop_oneof![
            Just(0u64),
            Just(1),
            Just(20),
            Just(21),
            Just(3600),
            Just(3601),
            Just(65535),
            Just(65536),
            Just(10_000_000_000_000_000_000),
            Just(u64::MAX),
        ]
        .prop_map(Value::from),
        1 => any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::from)),
        3 => prop::sample::select(WORDS).prop_map(Value::from),
        1 => ".{0,12}".prop_map(Value::from),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(KEYS).prop_map(str::to_owned),
        1 => "[a-z_]{0,8}",
    ]
}

/// Any JSON value, with the documents' field names for keys.
fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// An object of some of `keys`, each with a value of any kind (mostly leaves).
fn fields(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    over(json!({}), keys)
}

/// `base` with some of `keys` set (or replaced) to values of any kind (mostly leaves): a valid
/// document with a few fields wrong reaches further than one wrong everywhere.
fn over(base: Value, keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let v = prop_oneof![4 => leaf(), 1 => value()];
    prop::collection::vec((prop::sample::select(keys), v), 0..4).prop_map(move |kv| {
        let mut doc = base.clone();
        for (k, v) in kv {
            doc[k] = v;
        }
        doc
    })
}

/// Mostly a name the reader accepts, sometimes any word.
fn name(good: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    prop_oneof![4 => prop::sample::select(good), 1 => prop::sample::select(WORDS)]
}

const HANDLER_META: &[&str] = &[
    "method",
    "target_path",
    "template_path",
    "header_map",
    "event_timeout",
    "request_timeout",
    "retry",
    "signing_secret",
    "disabled",
    "id",
    "name",
    "prefix",
];

const RETRY: &[&str] = &["max_attempts", "initial_backoff_ms", "max_backoff_ms"];

const OAS_HANDLER: &[&str] = &[
    "enabled",
    "trigger",
    "type",
    "url",
    "method",
    "bodyTemplate",
    "headers",
    "cooldownPeriod",
    "request_timeout",
    "retry",
    "signing_secret",
    "id",
    "name",
];

/// Handlers in Tyk's classic form, or the OAS form, with their fields at the right depth.
fn handlers() -> impl Strategy<Value = Value> {
    let base = json!({"method": "POST", "target_path": "http://127.0.0.1:9/hook"});
    let meta = (over(base, HANDLER_META), fields(RETRY), any::<bool>()).prop_map(
        |(mut meta, retry, with_retry)| {
            if with_retry {
                meta["retry"] = retry;
            }
            meta
        },
    );
    let classic_handler = (name(&["eh_web_hook_handler", "eh_log_handler"]), meta)
        .prop_map(|(name, meta)| json!({"handler_name": name, "handler_meta": meta}));
    let classic = (
        name(&[
            "AuthFailure",
            "QuotaExceeded",
            "TokenCreated",
            "MyCustomEvent",
        ]),
        prop::collection::vec(classic_handler, 0..3),
    )
        .prop_map(|(event, list)| json!({"event_handlers": {"events": {event: list}}}));
    let base = json!({"enabled": true, "type": "webhook", "trigger": "AuthFailure",
                      "url": "http://127.0.0.1:9/hook", "method": "POST"});
    let oas = prop::collection::vec(over(base, OAS_HANDLER), 0..3)
        .prop_map(|list| json!({"x-tyk-api-gateway": {"server": {"eventHandlers": list}}}));
    prop_oneof![classic, oas]
}

const GATEWAY: &[&str] = &[
    "listen_address",
    "listen_port",
    "control_api_port",
    "control_api_hostname",
    "secret",
    "template_path",
    "app_path",
    "proxy_default_timeout",
    "http_server_options",
];
const STORAGE: &[&str] = &[
    "type",
    "host",
    "port",
    "username",
    "password",
    "database",
    "key_prefix",
    "timeout_secs",
    "request_deadline_ms",
];
const HOOKSHOT: &[&str] = &[
    "queue_capacity",
    "max_waiting_retries",
    "max_queued_bytes",
    "send_keys_in_clear",
    "idle_timeout_secs",
    "http2_keep_alive_interval_secs",
    "http2_keep_alive_timeout_secs",
    "max_connections",
    "max_header_bytes",
    "concurrency",
    "shutdown_grace_secs",
    "connect_timeout_secs",
    "request_timeout_secs",
    "extra_ca_file",
    "fail_open",
    "log_format",
];

/// A gateway configuration: its top-level fields, sections and global handlers.
fn gateway_conf() -> impl Strategy<Value = Value> {
    (
        fields(GATEWAY),
        fields(STORAGE),
        fields(HOOKSHOT),
        fields(&["use_ssl", "read_timeout"]),
        handlers(),
    )
        .prop_map(|(mut top, storage, hookshot, server, handlers)| {
            top["storage"] = storage;
            top["hookshot"] = hookshot;
            top["http_server_options"] = server;
            if let Some(events) = handlers.get("event_handlers") {
                top["event_handlers"] = events.clone();
            }
            top
        })
}

const API: &[&str] = &["api_id", "org_id", "name", "active", "use_keyless"];
const PROXY: &[&str] = &["listen_path", "target_url", "strip_listen_path"];

/// An API definition: its fields, `auth`, `proxy` and handlers in either form.
fn api_def() -> impl Strategy<Value = Value> {
    (
        fields(API),
        fields(PROXY),
        fields(&["auth_header_name"]),
        handlers(),
    )
        .prop_map(|(mut def, proxy, auth, handlers)| {
            def["proxy"] = proxy;
            def["auth"] = auth;
            if let (Some(d), Some(h)) = (def.as_object_mut(), handlers.as_object()) {
                d.extend(h.clone());
            }
            def
        })
}

/// Text for a reader: arbitrary, mangled JSON, or a JSON document.
fn text(doc: impl Strategy<Value = Value>) -> impl Strategy<Value = String> {
    prop_oneof![
        1 => ".{0,64}",
        1 => prop::collection::vec(any::<u8>(), 0..64)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        1 => (value(), any::<prop::sample::Index>()).prop_map(|(v, cut)| {
            // A document cut short at a character boundary.
            let s = v.to_string();
            let mut at = cut.index(s.len() + 1);
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            s[..at].to_owned()
        }),
        2 => value().prop_map(|v| v.to_string()),
        6 => doc.prop_map(|v| v.to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_gateway_configuration_reader_never_panics(t in text(gateway_conf())) {
        let _ = config::parse(&t, "gw.conf", None);
    }

    #[test]
    fn the_api_definition_reader_never_panics(t in text(api_def())) {
        let _ = api::parse(&t, "apps/x.json");
    }

    #[test]
    fn the_handler_reader_never_panics(doc in prop_oneof![1 => value(), 4 => handlers()]) {
        let _ = EventHandlers::from_definition(&doc, &Location::file("apps/x.json").api("x"));
    }
}
