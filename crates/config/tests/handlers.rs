//! Handler configuration as Tyk users write it: classic API definitions, the seed document's
//! example, the OAS form, and a table of mistakes with the exact message each gets.

use std::time::Duration;

use hookshot_config::{
    EventHandlers, HandlerConfig, Location, LogConfig, RetryPolicy, WebhookConfig, parse_json,
};
use hookshot_core::TargetUrl;
use hookshot_event::EventType;
use http::Method;
use serde_json::json;

fn load(name: &str) -> EventHandlers {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = parse_json(&text, name).unwrap();
    EventHandlers::from_definition(&doc, &Location::file(name)).unwrap()
}

fn webhook(h: &HandlerConfig) -> &WebhookConfig {
    match h {
        HandlerConfig::Webhook(w) => w,
        other => panic!("expected a webhook, got {other:?}"),
    }
}

#[test]
fn classic_api_definition() {
    let handlers = load("classic_api.json");
    let auth = handlers.for_event(&EventType::AuthFailure);
    assert_eq!(auth.len(), 2);
    let w = webhook(&auth[0]);
    assert_eq!(w.id(), Some("ops-auth"));
    assert_eq!(w.name(), Some("Ops channel"));
    assert_eq!(w.method(), Method::POST);
    assert_eq!(
        w.url().as_str(),
        "https://hooks.example.com:8443/tyk?source=orders"
    );
    assert_eq!(w.url().host_header(), "hooks.example.com:8443");
    for (url, request_target) in [
        ("http://h.example?a=b", "/?a=b"),
        ("http://h.example", "/"),
        ("http://h.example/", "/"),
        ("https://h.example:8443/p/q?x=1&y=2", "/p/q?x=1&y=2"),
    ] {
        assert_eq!(
            hookshot_core::TargetUrl::parse(url)
                .unwrap()
                .path_and_query(),
            request_target,
            "{url}"
        );
    }
    assert_eq!(w.url().path_and_query(), "/tyk?source=orders");
    assert_eq!(w.template(), Some("templates/default_webhook.json"));
    assert_eq!(w.headers()["X-Tyk-Test-Header"], "Tyk v1.BANANA");
    assert_eq!(w.headers()["Authorization"], "Bearer abc");
    assert_eq!(w.cooldown(), Duration::from_secs(10));
    assert_eq!(*w.retry(), RetryPolicy::default());
    assert_eq!(w.signing_key(), None);
    assert_eq!(
        auth[1],
        HandlerConfig::Log(LogConfig {
            prefix: "orders-auth".into()
        })
    );

    // `RateLimitExceeded` is read as Tyk's `RatelimitExceeded`.
    let rate = handlers.for_event(&EventType::RatelimitExceeded);
    let w = webhook(&rate[0]);
    assert_eq!(w.method(), Method::DELETE);
    assert!(!w.sends_body());
    assert_eq!(
        w.cooldown(),
        Duration::ZERO,
        "absent event_timeout means no cool-down"
    );
    assert_eq!(w.request_timeout(), Some(Duration::from_secs(5)));
    assert_eq!(
        *w.retry(),
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_millis(5000)
        }
    );
    assert_eq!(
        w.signing_key(),
        Some(&"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap())
    );

    // A disabled handler is skipped, even with fields that would be wrong.
    assert!(handlers.for_event(&EventType::KeyExpired).is_empty());
    assert_eq!(handlers.disabled, 1);
}

#[test]
fn seed_document_example_once_its_brace_is_fixed() {
    // As printed in the seed document, with the closing brace it lacks.
    let text = r#"{"event_handlers": {"events": {"AuthFailure": [
    {
        "handler_name":"eh_web_hook_handler",
        "handler_meta": {
            "method": "POST",
            "target_path": "http://posttestserver.com/post.php?dir=tyk-event-test",
            "template_path": "templates/default_webhook.json",
            "header_map": {"X-Tyk-Test-Header": "Tyk v1.BANANA"},
            "event_timeout": 10
        }
    }
    ]}}}"#;
    let doc = parse_json(text, "seed.json").unwrap();
    let handlers = EventHandlers::from_definition(&doc, &Location::file("seed.json")).unwrap();
    let w = webhook(&handlers.for_event(&EventType::AuthFailure)[0]);
    assert_eq!(w.method(), Method::POST);
    assert_eq!(w.url().host_header(), "posttestserver.com");
    assert_eq!(w.url().path_and_query(), "/post.php?dir=tyk-event-test");
    assert_eq!(w.cooldown(), Duration::from_secs(10));
}

#[test]
fn seed_document_example_as_printed_is_malformed_json_with_line_and_column() {
    let text = "{\n    \"handler_name\":\"eh_web_hook_handler\",\n    \"handler_meta\": {\n        \"method\": \"POST\",\n        \"event_timeout\": 10\n}\n";
    let err = parse_json(text, "seed.json").unwrap_err().to_string();
    assert_eq!(
        err,
        "seed.json:7:0: malformed JSON (EOF while parsing an object); expected a valid JSON document (check for a missing brace, bracket or comma near that line)"
    );
}

#[test]
fn oas_event_handlers() {
    let handlers = load("oas_api.json");
    let w = webhook(&handlers.for_event(&EventType::QuotaExceeded)[0]);
    assert_eq!(w.id(), Some("quota-hook"));
    assert_eq!(w.name(), Some("Quota alerts"));
    assert_eq!(w.method(), Method::PUT);
    assert_eq!(w.url().as_str(), "https://hooks.example.com/quota");
    assert_eq!(w.cooldown(), Duration::from_secs(5420));
    assert_eq!(w.template(), Some("templates/quota.json"));
    assert_eq!(w.headers()["X-Source"], "hookshot");
    assert_eq!(
        handlers.for_event(&EventType::HostDown),
        [HandlerConfig::Log(LogConfig {
            prefix: "uptime".into()
        })]
    );
    // `enabled: false` and a missing `enabled` (false in Tyk) are both skipped.
    assert!(handlers.for_event(&EventType::AuthFailure).is_empty());
    assert!(handlers.for_event(&EventType::KeyExpired).is_empty());
    assert_eq!(handlers.disabled, 2);
}

#[test]
fn unknown_fields_are_ignored_everywhere() {
    let doc = json!({
        "whatever": 1,
        "event_handlers": {"extra": [], "events": {"HostUp": [
            {"handler_name": "eh_log_handler", "handler_meta": {"prefix": "p", "colour": "blue"}, "note": "x"}
        ]}}
    });
    let h = EventHandlers::from_definition(&doc, &Location::default()).unwrap();
    assert_eq!(h.for_event(&EventType::HostUp).len(), 1);
}

#[test]
fn custom_event_names_are_accepted() {
    let doc = json!({"event_handlers": {"events": {"PaymentDeclined": [
        {"handler_name": "eh_log_handler", "handler_meta": {"prefix": "pay"}}
    ]}}});
    let h = EventHandlers::from_definition(&doc, &Location::default()).unwrap();
    assert_eq!(
        h.for_event(&EventType::Custom("PaymentDeclined".into()))
            .len(),
        1
    );
}

/// One classic webhook entry with `meta` under `AuthFailure` in API `billing` of `apps/billing.json`.
fn classic(meta: serde_json::Value) -> serde_json::Value {
    json!({"event_handlers": {"events": {"AuthFailure": [
        {"handler_name": "eh_web_hook_handler", "handler_meta": meta}
    ]}}})
}

fn errors_of(doc: serde_json::Value) -> Vec<String> {
    let at = Location::file("apps/billing.json").api("billing");
    match EventHandlers::from_definition(&doc, &at) {
        Ok(h) => panic!("accepted: {h:?}"),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

const AT: &str = "apps/billing.json, API \"billing\", event \"AuthFailure\", handler #0";
const URL: &str =
    "expected an absolute http or https URL with a host, such as \"https://hooks.example.com/tyk\"";
const USER_INFO: &str = "expected the URL without user-info; credentials in a URL are not sent, so put them in `header_map`, e.g. \"Authorization\": \"Basic <base64 of user:password>\"";
const METHODS: &str = "expected one of GET, PUT, POST, PATCH, DELETE (any case)";

#[test]
fn bad_inputs_get_exact_messages() {
    let ok_url = "https://hooks.example.com/x";
    let cases: Vec<(&str, serde_json::Value, String)> = vec![
        (
            "unknown method",
            classic(json!({"method": "FETCH", "target_path": ok_url})),
            format!("{AT}, field `handler_meta.method`: found \"FETCH\"; {METHODS}"),
        ),
        (
            "method of the wrong JSON type",
            classic(json!({"method": 123, "target_path": ok_url})),
            format!("{AT}, field `handler_meta.method`: found the number 123; {METHODS}"),
        ),
        (
            "missing method",
            classic(json!({"target_path": ok_url})),
            format!("{AT}, field `handler_meta.method`: it is missing; {METHODS}"),
        ),
        (
            "relative URL",
            classic(json!({"method": "POST", "target_path": "/hooks"})),
            format!("{AT}, field `handler_meta.target_path`: found \"/hooks\", but it is not absolute (no http:// or https://); {URL}"),
        ),
        (
            "URL with another scheme",
            classic(json!({"method": "POST", "target_path": "ftp://files.example.com/x"})),
            format!("{AT}, field `handler_meta.target_path`: found \"ftp://files.example.com/x\", but its scheme is \"ftp\"; {URL}"),
        ),
        (
            "URL that does not parse",
            classic(json!({"method": "POST", "target_path": "http://exa mple.com/"})),
            format!("{AT}, field `handler_meta.target_path`: found \"http://exa mple.com/\", but it does not parse as a URL (invalid uri character); {URL}"),
        ),
        (
            "URL with a user and password",
            classic(json!({"method": "POST", "target_path": "https://alice:s3cret@hooks.example.com:8443/in?token=t0k"})),
            format!("{AT}, field `handler_meta.target_path`: found \"https://alice:****@hooks.example.com:8443/…\", which holds user-info; {USER_INFO}"),
        ),
        (
            "URL with a token as its user",
            classic(json!({"method": "POST", "target_path": "https://ghp_t0ken@hooks.example.com"})),
            format!("{AT}, field `handler_meta.target_path`: found \"https://****@hooks.example.com\", which holds user-info; {USER_INFO}"),
        ),
        (
            "OAS URL with user-info",
            json!({"x-tyk-api-gateway": {"server": {"eventHandlers": [
                {"enabled": true, "trigger": "AuthFailure", "type": "webhook", "url": "http://bob:pw@[::1]:9/x", "method": "POST"}
            ]}}}),
            format!("{AT}, field `x-tyk-api-gateway.server.eventHandlers[0].url`: found \"http://bob:****@[::1]:9/…\", which holds user-info; {USER_INFO}"),
        ),
        (
            "missing URL",
            classic(json!({"method": "POST"})),
            format!("{AT}, field `handler_meta.target_path`: it is missing; {URL}"),
        ),
        (
            "header name that is not a token",
            classic(json!({"method": "POST", "target_path": ok_url, "header_map": {"X Bad": "v"}})),
            format!("{AT}, field `handler_meta.header_map.X Bad`: found the header name \"X Bad\"; expected a header name made of letters, digits and !#$%&'*+-.^_`|~ (an HTTP token)"),
        ),
        (
            "header value with CR LF",
            classic(json!({"method": "POST", "target_path": ok_url, "header_map": {"X-Ok": "a\r\nInjected: yes"}})),
            format!("{AT}, field `handler_meta.header_map.X-Ok`: found the value \"a\\r\\nInjected: yes\" for header \"X-Ok\", which holds '\\r'; expected a header value without CR, LF or NUL"),
        ),
        (
            "header value with NUL",
            classic(json!({"method": "POST", "target_path": ok_url, "header_map": {"X-Ok": "a\u{0}b"}})),
            format!("{AT}, field `handler_meta.header_map.X-Ok`: found the value \"a\\0b\" for header \"X-Ok\", which holds '\\0'; expected a header value without CR, LF or NUL"),
        ),
        (
            "header value of the wrong type",
            classic(json!({"method": "POST", "target_path": ok_url, "header_map": {"X-Count": 3}})),
            format!("{AT}, field `handler_meta.header_map.X-Count`: found the number 3; expected a string header value"),
        ),
        (
            "negative event_timeout",
            classic(json!({"method": "POST", "target_path": ok_url, "event_timeout": -5})),
            format!("{AT}, field `handler_meta.event_timeout`: found the number -5; expected a whole number of seconds, 0 or more (0: no cool-down)"),
        ),
        (
            "fractional event_timeout",
            classic(json!({"method": "POST", "target_path": ok_url, "event_timeout": 2.5})),
            format!("{AT}, field `handler_meta.event_timeout`: found the number 2.5; expected a whole number of seconds, 0 or more (0: no cool-down)"),
        ),
        (
            "event_timeout as a string",
            classic(json!({"method": "POST", "target_path": ok_url, "event_timeout": "10"})),
            format!("{AT}, field `handler_meta.event_timeout`: found the string \"10\"; expected a whole number of seconds, 0 or more (0: no cool-down)"),
        ),
        (
            "event_timeout beyond 30 days",
            classic(json!({"method": "POST", "target_path": ok_url, "event_timeout": 2_592_001})),
            format!("{AT}, field `handler_meta.event_timeout`: found 2592001 seconds; expected at most 2592000 seconds (30 days)"),
        ),
        (
            "request_timeout near u64::MAX",
            classic(json!({"method": "POST", "target_path": ok_url, "request_timeout": 10_000_000_000_000_000_000u64})),
            format!("{AT}, field `handler_meta.request_timeout`: found 10000000000000000000 seconds; expected at most 3600 seconds (1 hour)"),
        ),
        (
            "retry backoff beyond an hour",
            classic(json!({"method": "POST", "target_path": ok_url, "retry": {"max_backoff_ms": 3_600_001}})),
            format!("{AT}, field `handler_meta.retry.max_backoff_ms`: found 3600001 milliseconds; expected at most 3600000 milliseconds (1 hour)"),
        ),
        (
            "OAS cooldown beyond 30 days",
            json!({"x-tyk-api-gateway": {"server": {"eventHandlers": [
                {"enabled": true, "trigger": "AuthFailure", "type": "webhook", "url": ok_url, "method": "POST", "cooldownPeriod": "721h"}
            ]}}}),
            format!("{AT}, field `x-tyk-api-gateway.server.eventHandlers[0].cooldownPeriod`: found 2595600 seconds; expected at most 2592000 seconds (30 days)"),
        ),
        (
            "disabled of the wrong type",
            classic(json!({"method": "POST", "target_path": ok_url, "disabled": "yes"})),
            format!("{AT}, field `handler_meta.disabled`: found the string \"yes\"; expected true or false"),
        ),
        (
            "JavaScript handler",
            json!({"event_handlers": {"events": {"AuthFailure": [{"handler_name": "eh_dynamic_handler", "handler_meta": {}}]}}}),
            format!("{AT}, field `handler_name`: found \"eh_dynamic_handler\" (JavaScript event handlers are not supported); expected \"eh_web_hook_handler\" or \"eh_log_handler\""),
        ),
        (
            "missing handler_name",
            json!({"event_handlers": {"events": {"AuthFailure": [{"handler_meta": {}}]}}}),
            format!("{AT}, field `handler_name`: it is missing; expected \"eh_web_hook_handler\" or \"eh_log_handler\""),
        ),
        (
            "handler_meta that is not an object",
            json!({"event_handlers": {"events": {"AuthFailure": [{"handler_name": "eh_web_hook_handler", "handler_meta": "POST"}]}}}),
            format!("{AT}, field `handler_meta`: found the string \"POST\"; expected an object"),
        ),
        (
            "handler list that is not a list",
            json!({"event_handlers": {"events": {"AuthFailure": {"handler_name": "eh_log_handler"}}}}),
            "apps/billing.json, API \"billing\", event \"AuthFailure\", field `event_handlers.events.AuthFailure`: found an object; expected a list of handlers: [{\"handler_name\": ..., \"handler_meta\": {...}}]".to_owned(),
        ),
        (
            "misspelt event name",
            json!({"event_handlers": {"events": {"AuthFailur": []}}}),
            format!("apps/billing.json, API \"billing\", event \"AuthFailur\": found the unknown event \"AuthFailur\" (did you mean \"AuthFailure\"?); expected one of Tyk's events ({}) or a custom event name not close to one", EventType::ALL.map(|e| e.as_str().to_owned()).join(", ")),
        ),
        (
            "retry with zero attempts",
            classic(json!({"method": "POST", "target_path": ok_url, "retry": {"max_attempts": 0}})),
            format!("{AT}, field `handler_meta.retry.max_attempts`: found the number 0; expected a whole number of attempts from 1 to 20"),
        ),
        (
            "retry backoff cap below its start",
            classic(json!({"method": "POST", "target_path": ok_url, "retry": {"initial_backoff_ms": 1000, "max_backoff_ms": 10}})),
            format!("{AT}, field `handler_meta.retry.max_backoff_ms`: found 10 (below initial_backoff_ms 1000); expected max_backoff_ms at least initial_backoff_ms"),
        ),
        (
            "signing secret without whsec_",
            classic(json!({"method": "POST", "target_path": ok_url, "signing_secret": "hunter2"})),
            format!("{AT}, field `handler_meta.signing_secret`: found a string of 7 characters that is not whsec_<base64>; expected a Standard Webhooks secret: \"whsec_\" followed by the base64 of 24 to 64 random bytes"),
        ),
        (
            "OAS cooldown that is not a duration",
            json!({"x-tyk-api-gateway": {"server": {"eventHandlers": [
                {"enabled": true, "trigger": "AuthFailure", "type": "webhook", "url": ok_url, "method": "POST", "cooldownPeriod": "10 minutes"}
            ]}}}),
            format!("{AT}, field `x-tyk-api-gateway.server.eventHandlers[0].cooldownPeriod`: found the string \"10 minutes\"; expected a duration of hours, minutes and seconds such as \"20s\", \"5m\" or \"1h30m20s\""),
        ),
        (
            "OAS custom handler type",
            json!({"x-tyk-api-gateway": {"server": {"eventHandlers": [
                {"enabled": true, "trigger": "AuthFailure", "type": "custom"}
            ]}}}),
            format!("{AT}, field `x-tyk-api-gateway.server.eventHandlers[0].type`: found \"custom\"; expected \"webhook\" or \"log\" (custom JavaScript and plugin handlers are not supported)"),
        ),
        (
            "OAS header entry without a value",
            json!({"x-tyk-api-gateway": {"server": {"eventHandlers": [
                {"enabled": true, "trigger": "AuthFailure", "type": "webhook", "url": ok_url, "method": "POST", "headers": [{"name": "X-A"}]}
            ]}}}),
            format!("{AT}, field `x-tyk-api-gateway.server.eventHandlers[0].headers[0]`: found {{\"name\":\"X-A\"}}; expected {{\"name\": \"<string>\", \"value\": \"<string>\"}}"),
        ),
    ];
    assert!(cases.len() >= 15);
    for (what, doc, expected) in cases {
        let errors = errors_of(doc);
        assert_eq!(errors, [expected], "case: {what}");
    }
}

#[test]
fn urls_are_shown_without_user_info_path_or_query() {
    for (url, shown) in [
        (
            "https://hooks.slack.com/services/T000/B000/XXXXSECRET",
            "https://hooks.slack.com",
        ),
        (
            "http://hooks.example.com:8080/in?token=s3cret",
            "http://hooks.example.com:8080",
        ),
        (
            "https://u:p@hooks.example.com/x",
            "https://hooks.example.com",
        ),
        ("http://[::1]:9/x?y", "http://[::1]:9"),
        ("http://h.example?token=s3cret", "http://h.example"),
    ] {
        let u = TargetUrl::parse(url).unwrap();
        assert_eq!(u.redacted(), shown, "{url}");
        assert_eq!(u.to_string(), shown, "{url}");
        assert_eq!(format!("{u:?}"), format!("TargetUrl({shown:?})"), "{url}");
        assert_eq!(u.as_str(), url, "the URL itself is kept whole for sending");
    }
    let w = WebhookConfig::builder(
        Method::POST,
        TargetUrl::parse("https://discord.com/api/webhooks/1/s3cret?wait=true").unwrap(),
    )
    .build()
    .unwrap();
    assert_eq!(w.label(), "POST https://discord.com");
    assert!(!format!("{w:?}").contains("s3cret"), "{w:?}");
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let errors = errors_of(json!({"event_handlers": {"events": {
        "AuthFailure": [{"handler_name": "eh_web_hook_handler", "handler_meta": {"method": "FETCH", "target_path": "nope", "event_timeout": -1}}],
        "KeyExpired": [{"handler_name": "eh_dynamic_handler"}]
    }}}));
    assert_eq!(errors.len(), 4, "{errors:#?}");
}

#[test]
fn durations() {
    use hookshot_config::parse_duration;
    for (s, secs) in [
        ("20s", Some(20)),
        ("5m", Some(300)),
        ("1h30m20s", Some(5420)),
        ("2h", Some(7200)),
        ("1h5s", Some(3605)),
        ("", None),
        ("10", None),
        ("1s2m", None),
        ("1d", None),
        ("-5s", None),
    ] {
        assert_eq!(parse_duration(s), secs, "{s:?}");
    }
}

#[test]
fn a_handler_debug_shows_no_header_value_no_secret_and_no_url_path() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let doc = classic(json!({
        "method": "POST",
        "target_path": "https://hooks.slack.com/services/T000/B000/XXXXSECRETPATH?token=qtok",
        "header_map": {"Authorization": "Bearer header-credential"},
        "signing_secret": secret,
    }));
    let handlers = EventHandlers::from_definition(&doc, &Location::file("api.json")).unwrap();
    let shown = format!("{:?}", handlers.for_event(&EventType::AuthFailure));
    for hidden in ["header-credential", secret, "XXXXSECRETPATH", "qtok"] {
        assert!(!shown.contains(hidden), "{hidden} in {shown}");
    }
    // Header names are shown as HTTP/2 writes them, in lower case.
    assert!(shown.contains("\"authorization\""), "{shown}");
    assert!(shown.contains("https://hooks.slack.com"), "{shown}");
}
