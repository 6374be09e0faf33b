//! The gateway configuration's messages, each with its file, field, value and what is accepted.

use super::*;

const ALL: Features = Features { redis: true };

fn messages(text: &str) -> Vec<String> {
    match parse(text, "gw.conf", None, ALL) {
        Ok(_) => vec![],
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn defaults_apply_and_unknown_fields_are_ignored() {
    let loaded = parse(
        r#"{"enable_analytics": true, "app_path": "apps/"}"#,
        "gw.conf",
        None,
        ALL,
    )
    .unwrap();
    assert_eq!(loaded.config.listen_port, 8080);
    assert_eq!(loaded.config.storage.kind, StorageType::Memory);
    assert_eq!(loaded.config.app_path, "apps/");
    assert!(loaded.global_handlers.is_empty());
}

#[test]
fn every_wrong_field_is_reported_with_path_value_and_accepted() {
    let errors = messages(
        r#"{"listen_port": "eight", "secret": 5,
            "storage": {"type": "mongo", "port": 70000},
            "hookshot": {"log_format": "xml", "concurrency": -1}}"#,
    );
    let want = [
        "gw.conf, field `listen_port`: found the string \"eight\"; expected a whole number from 0 to 65535",
        "gw.conf, field `secret`: found the number 5; expected a string",
        "gw.conf, field `storage.type`: found the string \"mongo\"; expected one of `memory` or `redis`",
        "gw.conf, field `storage.port`: found the number 70000; expected a whole number from 0 to 65535",
        "gw.conf, field `hookshot.log_format`: found the string \"xml\"; expected one of `text` or `json`",
        "gw.conf, field `hookshot.concurrency`: found the number -1; expected a whole number, 0 or more",
    ];
    for w in want {
        assert!(
            errors.iter().any(|e| e == w),
            "missing {w:?} in {errors:#?}"
        );
    }
    assert_eq!(errors.len(), want.len(), "{errors:#?}");
}

#[test]
fn zero_concurrency_is_refused() {
    let errors = messages(r#"{"hookshot": {"concurrency": 0}}"#);
    assert_eq!(
        errors,
        [
            "gw.conf, field `hookshot.concurrency`: found the number 0; expected a whole number, 1 or more"
        ]
    );
}

#[test]
fn a_tls_listener_is_refused_rather_than_served_as_plain_http() {
    assert!(messages(r#"{"http_server_options": {"use_ssl": false, "xff_depth": 1}}"#).is_empty());
    assert_eq!(
        messages(r#"{"http_server_options": {"use_ssl": true}, "listen_port": "x"}"#),
        [
            "gw.conf, field `listen_port`: found the string \"x\"; expected a whole number from 0 to 65535",
            "gw.conf, field `http_server_options.use_ssl`: found true, but Hookshot serves plain \
             HTTP only and does not terminate TLS; expected false or no use_ssl, with TLS \
             terminated in front of Hookshot (a load balancer or a TLS proxy forwarding to its \
             listen_port)",
        ]
    );
    assert_eq!(
        messages(r#"{"http_server_options": {"use_ssl": "yes"}}"#),
        [
            "gw.conf, field `http_server_options.use_ssl`: found the string \"yes\"; expected true or false"
        ]
    );
}

#[test]
fn every_duration_has_a_ceiling() {
    assert!(
        messages(
            r#"{"proxy_default_timeout": 3600, "storage": {"timeout_secs": 60, "request_deadline_ms": 60000},
                "hookshot": {"shutdown_grace_secs": 3600, "connect_timeout_secs": 300, "request_timeout_secs": 3600}}"#
        )
        .is_empty()
    );
    let errors = messages(
        r#"{"proxy_default_timeout": 3601,
            "storage": {"timeout_secs": 61, "request_deadline_ms": 0},
            "hookshot": {"shutdown_grace_secs": 18446744073709551615, "connect_timeout_secs": 301,
                         "request_timeout_secs": 10000000000000000000}}"#,
    );
    assert_eq!(
        errors,
        [
            "gw.conf, field `proxy_default_timeout`: found 3601 seconds; expected at most 3600 seconds (1 hour)",
            "gw.conf, field `hookshot.shutdown_grace_secs`: found 18446744073709551615 seconds; expected at most 3600 seconds (1 hour)",
            "gw.conf, field `hookshot.connect_timeout_secs`: found 301 seconds; expected at most 300 seconds (5 minutes)",
            "gw.conf, field `hookshot.request_timeout_secs`: found 10000000000000000000 seconds; expected at most 3600 seconds (1 hour)",
            "gw.conf, field `storage.timeout_secs`: found 61 seconds; expected at most 60 seconds (1 minute)",
            "gw.conf, field `storage.request_deadline_ms`: found the number 0; expected a whole number of milliseconds from 1 to 60000",
        ]
    );
}

#[test]
fn webhook_memory_bounds_have_floors() {
    let loaded = parse(
        r#"{"hookshot": {"queue_capacity": 50}}"#,
        "gw.conf",
        None,
        ALL,
    )
    .unwrap();
    assert_eq!(loaded.config.hookshot.max_waiting_retries, None);
    assert_eq!(loaded.config.hookshot.max_queued_bytes, 64 * 1024 * 1024);
    assert!(
        messages(r#"{"hookshot": {"max_waiting_retries": 1, "max_queued_bytes": 1048576}}"#)
            .is_empty()
    );
    assert_eq!(
        messages(r#"{"hookshot": {"max_waiting_retries": 0, "max_queued_bytes": 1000}}"#),
        [
            "gw.conf, field `hookshot.max_waiting_retries`: found the number 0; expected a whole number, 1 or more (or no field: as many as queue_capacity)",
            "gw.conf, field `hookshot.max_queued_bytes`: found the number 1000; expected a number of bytes, at least 1048576 (1 MiB)",
        ]
    );
    assert_eq!(
        messages(r#"{"hookshot": {"max_waiting_retries": -1}}"#),
        [
            "gw.conf, field `hookshot.max_waiting_retries`: found the number -1; expected a whole number, 0 or more"
        ]
    );
}

#[test]
fn concurrency_has_a_ceiling() {
    assert!(messages(r#"{"hookshot": {"concurrency": 10000}}"#).is_empty());
    let errors = messages(r#"{"hookshot": {"concurrency": 10001}}"#);
    assert_eq!(
        errors,
        [
            "gw.conf, field `hookshot.concurrency`: found the number 10001; expected at most 10000 webhook requests in flight"
        ]
    );
}

#[test]
fn listener_limits_are_checked_against_their_bounds() {
    assert!(
        messages(
            r#"{"listen_port": 8080, "control_api_port": 8081,
                "http_server_options": {"read_timeout": 3600, "write_timeout": 5},
                "hookshot": {"idle_timeout_secs": 1, "http2_keep_alive_interval_secs": 0,
                             "max_connections": 1, "max_header_bytes": 8192}}"#
        )
        .is_empty()
    );
    let errors = messages(
        r#"{"listen_port": 8080, "control_api_port": 8080,
            "http_server_options": {"read_timeout": 3601},
            "hookshot": {"idle_timeout_secs": 0, "http2_keep_alive_interval_secs": 10000000000000000000,
                         "http2_keep_alive_timeout_secs": 0,
                         "max_connections": 0, "max_header_bytes": 8191}}"#,
    );
    assert_eq!(
        errors,
        [
            "gw.conf, field `control_api_port`: found the number 8080, which is listen_port \
             too; expected a port other than listen_port, or 0 to serve the control API on \
             listen_port",
            "gw.conf, field `http_server_options.read_timeout`: found the number 3601; \
             expected a number of seconds from 0 (0: the default) to 3600",
            "gw.conf, field `hookshot.idle_timeout_secs`: found the number 0; expected a \
             number of seconds from 1 to 3600",
            "gw.conf, field `hookshot.http2_keep_alive_interval_secs`: found the number \
             10000000000000000000; expected a number of seconds from 0 (0: no pings) to 3600",
            "gw.conf, field `hookshot.http2_keep_alive_timeout_secs`: found the number 0; \
             expected a number of seconds from 1 to 3600",
            "gw.conf, field `hookshot.max_connections`: found the number 0; expected a \
             number of connections from 1 to 1000000",
            "gw.conf, field `hookshot.max_header_bytes`: found the number 8191; expected a \
             number of bytes from 8192 to 1048576",
        ]
    );
    assert_eq!(
        messages(r#"{"http_server_options": {"read_timeout": "soon", "use_ssl": "no"}}"#),
        [
            "gw.conf, field `http_server_options.read_timeout`: found the string \"soon\"; \
             expected a whole number, 0 or more",
            "gw.conf, field `http_server_options.use_ssl`: found the string \"no\"; \
             expected true or false",
        ]
    );
}

#[test]
fn environment_overrides_secret_and_password() {
    let mut config = GatewayConfig::default();
    apply_env(&mut config, |k| match k {
        "TYK_GW_SECRET" => Some("tyk".into()),
        "HOOKSHOT_REDIS_PASSWORD" => Some("pw".into()),
        "TYK_GW_STORAGE_PASSWORD" => Some("ignored".into()),
        _ => None,
    });
    assert_eq!(config.secret, "tyk");
    assert_eq!(config.storage.password, "pw");
    apply_env(&mut config, |k| {
        (k == "HOOKSHOT_SECRET").then(|| "mine".to_owned())
    });
    assert_eq!(config.secret, "mine");
}

#[test]
fn a_short_secret_is_refused_unless_the_listener_is_loopback() {
    let conf = |address: &str, secret: &str| GatewayConfig {
        listen_address: address.into(),
        secret: secret.into(),
        ..GatewayConfig::default()
    };
    for address in [
        "127.0.0.1",
        "127.1.2.3",
        "::1",
        "[::1]",
        "localhost",
        "LOCALHOST",
    ] {
        assert!(admin_listener_is_loopback(&conf(address, "")), "{address}");
        check_admin_secret(&conf(address, "short"), "gw.conf").unwrap();
    }
    for address in ["", "0.0.0.0", "::", "10.0.0.1", "example.com"] {
        assert!(!admin_listener_is_loopback(&conf(address, "")), "{address}");
        check_admin_secret(&conf(address, ""), "gw.conf").unwrap();
        check_admin_secret(&conf(address, "sixteen-chars-ok"), "gw.conf").unwrap();
    }
    let errors = check_admin_secret(&conf("0.0.0.0", "e2e-secret"), "gw.conf").unwrap_err();
    let message = errors.to_string();
    assert_eq!(
        message,
        "gw.conf, field `secret`: found a secret of 10 characters (from the file, or \
         HOOKSHOT_SECRET / TYK_GW_SECRET), and the admin API listens on listen_address \
         \"0.0.0.0\", which is not loopback-only; expected a secret of at least 16 characters, \
         an empty secret (the admin API refuses every call), or a loopback listen_address \
         (127.0.0.1, ::1 or localhost)"
    );
    assert!(!message.contains("e2e-secret"));
    // Counted in characters, not bytes.
    assert!(check_admin_secret(&conf("", "ééééééééé"), "gw.conf").is_err());
}

#[test]
fn redis_storage_is_refused_by_a_build_without_it() {
    let text = r#"{"storage": {"type": "redis"}}"#;
    assert!(parse(text, "gw.conf", None, ALL).is_ok());
    let errors: Vec<String> = parse(text, "gw.conf", None, Features::default())
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        [
            "gw.conf, field `storage.type`: found \"redis\", but this binary was built without the `redis` feature; expected \"memory\", or a build with `--features redis`"
        ]
    );
}
