//! The URL a webhook is sent to, checked once when it is read.

use std::fmt;
use std::str::FromStr;

/// Why a text is not a [`TargetUrl`]; its `Display` completes "found \"...\", but ...".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetUrlError {
    /// No `scheme://`.
    #[error("it is not absolute (no http:// or https://)")]
    NotAbsolute,
    /// The text does not parse as a URI; the parser's words.
    #[error("it does not parse as a URL ({0})")]
    Unparsable(String),
    /// A scheme other than `http` or `https`.
    #[error("its scheme is {0:?}")]
    Scheme(String),
    /// No host after the scheme.
    #[error("it has no host")]
    NoHost,
}

/// An absolute `http` or `https` URL with a host, checked at load time.
///
/// Its `Display` and `Debug` show only [`TargetUrl::redacted`] (`scheme://host[:port]`): webhook
/// paths and queries are often bearer secrets (Slack, Discord, Teams, `?token=`), so the whole URL
/// is only had through [`TargetUrl::as_str`] and [`TargetUrl::uri`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TargetUrl {
    raw: String,
    uri: http::Uri,
}

impl TargetUrl {
    /// Parses and checks a URL; the error says what is wrong with it.
    pub fn parse(raw: &str) -> Result<TargetUrl, TargetUrlError> {
        if !raw.contains("://") {
            return Err(TargetUrlError::NotAbsolute);
        }
        let uri: http::Uri = raw
            .parse()
            .map_err(|e: http::uri::InvalidUri| TargetUrlError::Unparsable(e.to_string()))?;
        match uri.scheme_str() {
            Some("http") | Some("https") => {}
            Some(other) => return Err(TargetUrlError::Scheme(other.to_owned())),
            None => return Err(TargetUrlError::NotAbsolute),
        }
        match uri.host() {
            Some(h) if !h.is_empty() => {}
            _ => return Err(TargetUrlError::NoHost),
        }
        Ok(TargetUrl {
            raw: raw.to_owned(),
            uri,
        })
    }

    /// The URL as logs, metrics and errors show it: `scheme://host[:port]`, without user-info,
    /// path or query (the port only when the URL names one; IPv6 hosts in brackets).
    pub fn redacted(&self) -> String {
        crate::transport::redacted(&self.uri)
    }

    /// The user-info of the URL (`user:password` before `@`), when it has one.
    pub fn user_info(&self) -> Option<&str> {
        let authority = self.uri.authority()?.as_str();
        authority.rsplit_once('@').map(|(info, _)| info)
    }

    /// The URL as configured, secrets included: for sending, never for showing.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The parsed URL.
    pub fn uri(&self) -> &http::Uri {
        &self.uri
    }

    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.uri.scheme_str() == Some("https")
    }

    /// The host, without brackets for IPv6.
    pub fn host(&self) -> &str {
        let h = self.uri.host().unwrap_or_default();
        h.trim_start_matches('[').trim_end_matches(']')
    }

    /// The explicit port, if the URL has one.
    pub fn explicit_port(&self) -> Option<u16> {
        self.uri.port_u16()
    }

    /// The port to connect to: the explicit one, or 80 / 443 by scheme.
    pub fn port(&self) -> u16 {
        self.explicit_port()
            .unwrap_or(if self.is_https() { 443 } else { 80 })
    }

    /// The `Host` header as an HTTP client writes it: the host, with the port when the URL names one.
    pub fn host_header(&self) -> &str {
        self.uri.authority().map(|a| a.as_str()).map_or("", |a| {
            // Strip any user-info: it never goes into Host.
            a.rsplit_once('@').map_or(a, |(_, h)| h)
        })
    }

    /// The path and query as a request line carries them: `/` when the URL has no path, and a
    /// `/` before a query that follows the host directly (`http://h?a=b` gives `/?a=b`).
    pub fn path_and_query(&self) -> std::borrow::Cow<'_, str> {
        match self.uri.path_and_query().map(|p| p.as_str()) {
            None | Some("") => "/".into(),
            Some(p) if p.starts_with('?') => format!("/{p}").into(),
            Some(p) => p.into(),
        }
    }
}

/// Shows [`TargetUrl::redacted`].
impl fmt::Display for TargetUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Shows [`TargetUrl::redacted`].
impl fmt::Debug for TargetUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TargetUrl").field(&self.redacted()).finish()
    }
}

/// [`TargetUrl::parse`].
impl FromStr for TargetUrl {
    type Err = TargetUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TargetUrl::parse(s)
    }
}
