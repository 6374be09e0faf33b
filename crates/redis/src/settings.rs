//! `Settings`: which Redis to reach and the one set of time limits every command obeys.

use std::fmt;
use std::time::Duration;

/// Where the connection goes and how long it may take. Build it with [`Settings::new`] and the
/// `with_` methods; [`Redis::new`](crate::Redis::new) checks it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// The server: `redis://[[user]:password@]host[:port][/db]`, or `rediss://...` for TLS
    /// (certificates checked against the system's roots; `rediss://host/#insecure` skips the check).
    /// Default `redis://127.0.0.1:6379/0`. It holds the password: it is only ever shown through
    /// [`Settings::redacted_url`].
    pub url: String,
    /// How long one connection attempt (TCP, TLS, authentication, database selection) may take.
    /// Attempts run in the background; commands do not wait for them beyond their own limit.
    /// Default 2 s.
    pub connect_timeout: Duration,
    /// How long one command may take, waiting for a connection included, unless its caller gives
    /// it a shorter limit. Default 2 s.
    pub command_timeout: Duration,
    /// For `rediss://` only: the certificate authorities (PEM) to trust instead of the system's
    /// roots, for a server whose certificate an internal CA issued. Default none.
    pub tls_root_cert: Option<Vec<u8>>,
}

impl Settings {
    /// The defaults with the server at `url`.
    pub fn new(url: impl Into<String>) -> Settings {
        Settings {
            url: url.into(),
            ..Settings::default()
        }
    }

    /// With another connection attempt time limit.
    pub fn with_connect_timeout(mut self, limit: Duration) -> Settings {
        self.connect_timeout = limit;
        self
    }

    /// With another command time limit.
    pub fn with_command_timeout(mut self, limit: Duration) -> Settings {
        self.command_timeout = limit;
        self
    }

    /// Trusting the certificate authorities in `pem` (instead of the system's roots) for `rediss://`.
    pub fn with_tls_root_cert(mut self, pem: impl Into<Vec<u8>>) -> Settings {
        self.tls_root_cert = Some(pem.into());
        self
    }

    /// The URL with its password replaced by `***`, for logs and errors.
    pub fn redacted_url(&self) -> String {
        redact(&self.url)
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            url: "redis://127.0.0.1:6379/0".into(),
            connect_timeout: Duration::from_secs(2),
            command_timeout: Duration::from_secs(2),
            tls_root_cert: None,
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("url", &self.redacted_url())
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field(
                "tls_root_cert",
                &self
                    .tls_root_cert
                    .as_ref()
                    .map(|pem| format!("{} bytes", pem.len())),
            )
            .finish()
    }
}

/// `scheme://user:***@host...`: the password (whatever follows the first ':' of the user-info)
/// hidden.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_sets_each_field() {
        let s = Settings::new("redis://h:1/2")
            .with_connect_timeout(Duration::from_millis(6))
            .with_command_timeout(Duration::from_millis(5))
            .with_tls_root_cert(b"pem".to_vec());
        assert_eq!(s.url, "redis://h:1/2");
        assert_eq!(s.connect_timeout, Duration::from_millis(6));
        assert_eq!(s.command_timeout, Duration::from_millis(5));
        assert_eq!(s.tls_root_cert.as_deref(), Some(&b"pem"[..]));
    }

    #[test]
    fn passwords_never_show() {
        let cases = [
            ("redis://:s3cret@h:6379/1", "redis://:***@h:6379/1"),
            ("rediss://user:s3cret@h/0", "rediss://user:***@h/0"),
            ("redis://user@h", "redis://user@h"),
            ("redis://h:6379", "redis://h:6379"),
            ("redis://:p@ss@h/", "redis://:***@h/"),
            ("not a url", "not a url"),
        ];
        for (url, want) in cases {
            assert_eq!(redact(url), want, "{url}");
        }
        let shown = format!("{:?}", Settings::new("redis://:s3cret@h"));
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
