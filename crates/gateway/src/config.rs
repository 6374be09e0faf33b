//! The gateway configuration as the gateway reads it: the file (or the bundled example), the
//! environment overrides, and the Redis URL its `storage` names. The format itself, `tyk.conf`
//! and Hookshot's own section, is [`hookshot_config::gateway`]'s, re-exported here.

use std::path::{Path, PathBuf};

use hookshot_config::{ConfigError, ConfigErrors, Location};

pub use hookshot_config::gateway::*;

/// The bundled example configuration, run by `hookshot` without `--conf`.
pub const EXAMPLE_CONF: &str = include_str!("../examples-conf/hookshot.conf");
/// The bundled example API definition (`apps/orders.json` of the example).
pub const EXAMPLE_API: &str = include_str!("../examples-conf/apps/orders.json");
/// The name the bundled example configuration is reported under.
pub const EXAMPLE_CONF_NAME: &str = "<bundled example>/hookshot.conf";
/// The name the bundled example API definition is reported under.
pub const EXAMPLE_API_NAME: &str = "<bundled example>/apps/orders.json";

/// What this binary was built with, which a configuration may ask for.
pub const FEATURES: Features = Features {
    redis: cfg!(feature = "redis"),
};

/// The `redis://` URL for `storage`. The user name and password are percent-encoded, so any
/// password (`/`, `#`, `?`, `%`, `@` included) reaches Redis unchanged, and an IPv6 host is
/// bracketed. The URL holds the password: never log it (log [`StorageConfig`]'s `Debug`, which
/// hides it).
pub fn redis_url(storage: &StorageConfig) -> String {
    let user = percent_encode(&storage.username);
    let auth = match (storage.username.is_empty(), storage.password.is_empty()) {
        (true, true) => String::new(),
        (true, false) => format!(":{}@", percent_encode(&storage.password)),
        (false, true) => format!("{user}@"),
        (false, false) => format!("{user}:{}@", percent_encode(&storage.password)),
    };
    format!(
        "redis://{auth}{}/{}",
        host_port(&storage.host, storage.port),
        storage.database
    )
}

/// `host:port`, with an IPv6 address between brackets (`[::1]:6379`).
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Every byte but RFC 3986's unreserved characters as `%XX`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if crate::path::is_unreserved(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reads the configuration file at `path`, applying the environment overrides.
pub fn load(path: &Path) -> Result<LoadedConfig, ConfigErrors> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            Location::file(&name),
            format!("the file cannot be read ({e})"),
            "expected a readable JSON file",
        )
    })?;
    let base = path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        })
        .unwrap_or_else(|| PathBuf::from("."));
    let mut loaded = parse(&text, &name, Some(base))?;
    apply_env(&mut loaded.config, |k| std::env::var(k).ok());
    check_admin_secret(&loaded.config, &name)?;
    Ok(loaded)
}

/// The bundled example configuration, with the environment overrides.
pub fn example() -> LoadedConfig {
    let mut loaded = parse(EXAMPLE_CONF, EXAMPLE_CONF_NAME, None)
        .expect("the bundled example configuration is valid");
    apply_env(&mut loaded.config, |k| std::env::var(k).ok());
    loaded
}

/// Parses a configuration document named `name` for this binary, reporting every wrong field.
pub fn parse(
    text: &str,
    name: &str,
    base_dir: Option<PathBuf>,
) -> Result<LoadedConfig, ConfigErrors> {
    hookshot_config::gateway::parse(text, name, base_dir, FEATURES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_url_carries_credentials_and_database() {
        let s = StorageConfig {
            username: "u".into(),
            password: "p".into(),
            database: 3,
            ..StorageConfig::default()
        };
        assert_eq!(redis_url(&s), "redis://u:p@127.0.0.1:6379/3");
    }

    #[test]
    fn redis_url_encodes_any_password_and_brackets_ipv6() {
        let s = StorageConfig {
            username: "ü@x".into(),
            password: "a/b#c?d%e".into(),
            host: "::1".into(),
            ..StorageConfig::default()
        };
        assert_eq!(
            redis_url(&s),
            "redis://%C3%BC%40x:a%2Fb%23c%3Fd%25e@[::1]:6379/0"
        );
        #[cfg(feature = "redis")]
        {
            let info =
                redis::IntoConnectionInfo::into_connection_info(redis_url(&s).as_str()).unwrap();
            assert_eq!(info.redis_settings().password(), Some("a/b#c?d%e"));
            assert_eq!(info.redis_settings().username(), Some("ü@x"));
        }
        let shown = format!(
            "{:?}",
            GatewayConfig {
                storage: s,
                ..GatewayConfig::default()
            }
        );
        assert!(!shown.contains("a/b#c"), "{shown}");
    }

    #[test]
    fn the_bundled_example_loads() {
        let loaded = parse(EXAMPLE_CONF, EXAMPLE_CONF_NAME, None).unwrap();
        assert!(!loaded.global_handlers.is_empty());
        assert!(!loaded.config.secret.is_empty());
        check_admin_secret(&loaded.config, EXAMPLE_CONF_NAME).unwrap();
        assert!(admin_listener_is_loopback(&loaded.config));
        assert!(loaded.config.secret.chars().count() >= MIN_SECRET_CHARS);
    }
}
