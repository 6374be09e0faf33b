//! `hookshot check` refuses a duration beyond its maximum with the file, API, event and field,
//! rather than passing it for the gateway to overflow a clock on at run time.

mod common;

use common::{TempDir, api};
use serde_json::json;

#[test]
fn a_request_timeout_of_ten_to_the_nineteen_is_refused_by_check() {
    let dir = TempDir::new("check-durations");
    let events = json!({"AuthFailure": [{"handler_name": "eh_web_hook_handler", "handler_meta": {
        "method": "POST", "target_path": "http://127.0.0.1:9/hook",
        "request_timeout": 10_000_000_000_000_000_000u64
    }}]});
    dir.write_api(
        "orders",
        &api("orders", "/orders/", "http://127.0.0.1:9/", events),
    );
    let settings = json!({"app_path": "apps", "secret": "a-long-enough-admin-secret",
                          "hookshot": {"shutdown_grace_secs": 18_446_744_073_709_551_615u64}});
    let out = common::check(&dir, &settings);
    let stderr = out.stderr;
    assert_eq!(out.code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "orders.json, API \"orders\", event \"AuthFailure\", handler #0, field \
             `handler_meta.request_timeout`: found 10000000000000000000 seconds; expected at most \
             3600 seconds (1 hour)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "hookshot.conf, field `hookshot.shutdown_grace_secs`: found 18446744073709551615 \
             seconds; expected at most 3600 seconds (1 hour)"
        ),
        "{stderr}"
    );
}
