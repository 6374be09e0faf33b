//! Tyk's request checksum: the MD5 of the bytes Go's `http.Request.Write` produces.
//!
//! Tyk builds the outgoing webhook request with `http.NewRequest(method, target_path, body)` and
//! hashes what `Request.Write` writes for it. For that request Go writes:
//!
//! ```text
//! METHOD /path?query HTTP/1.1\r\n
//! Host: host[:port]\r\n
//! User-Agent: Go-http-client/1.1\r\n
//! Content-Length: N\r\n          (see below)
//! \r\n
//! <body>
//! ```
//!
//! Go's rules, reproduced here and checked against Go's own output in `tests/checksum_go.rs`
//! (vectors written by the Go program in `tests/go/`, `cargo xtask golden`):
//! - `Host` is the URL's host as written (case kept), with the port only when the URL has one
//!   (`:80` and `:443` are kept when written); user-info is dropped, an empty port (`host:`) is
//!   dropped, and an IPv6 zone (`[fe80::1%25en0]`) is dropped.
//! - The request target is the path (`/` when empty) and, when the URL has a `?`, the query as
//!   written. The path is written as written when it only holds characters Go leaves alone
//!   (letters, digits, `-._~!$&'()*+,;=:@[]/` and `%` escapes); otherwise Go decodes it and
//!   re-escapes every other byte as upper-case `%XX` (so `/a|b` becomes `/a%7Cb`, `/café` becomes
//!   `/caf%C3%A9`). The fragment is never written.
//! - `Content-Length` is written when the body is not empty, and for `POST`, `PUT` and `PATCH`
//!   also when it is (`Content-Length: 0`); `GET`, `DELETE` and `HEAD` with an empty body have none.
//! - `header_map` is not part of the request Tyk hashes.
//!
//! A path that Go cannot parse at all (a `%` not followed by two hex digits) makes Tyk drop the
//! webhook; here the checksum covers such a path as written.

use std::fmt;
use std::str::FromStr;

use hookshot_event::TargetUrl;
use md5::{Digest, Md5};

/// Tyk's key prefix: a checksum is stored under `webhook.cache.<32 lower-case hex digits>`.
pub const TYK_KEY_PREFIX: &str = "webhook.cache.";

/// The MD5 of a webhook request in the byte format Tyk uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Checksum(pub [u8; 16]);

const HEX: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

impl Checksum {
    /// The checksum Tyk computes for a webhook request: `method` as it goes on the request line
    /// (upper case, e.g. `http::Method::POST.as_str()`), the target URL, and
    /// the rendered body (also for `GET` and `DELETE`, which Hookshot sends without it).
    ///
    /// Streams the request bytes into MD5 without building the request text.
    pub fn of_request(method: &str, url: &TargetUrl, body: &[u8]) -> Checksum {
        let mut md5 = Md5::new();
        md5.update(method.as_bytes());
        md5.update(b" ");
        let uri = url.uri();
        write_go_path(&mut md5, uri.path());
        if let Some(query) = uri.query() {
            md5.update(b"?");
            md5.update(query.as_bytes());
        }
        md5.update(b" HTTP/1.1\r\nHost: ");
        write_go_host(&mut md5, url.host_header());
        md5.update(b"\r\nUser-Agent: Go-http-client/1.1\r\n");
        if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
            md5.update(b"Content-Length: ");
            let mut digits = [0u8; 20];
            md5.update(decimal(body.len(), &mut digits));
            md5.update(b"\r\n");
        }
        md5.update(b"\r\n");
        md5.update(body);
        Checksum(md5.finalize().into())
    }

    /// The 32 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        let hex = self.hex_bytes();
        // The digits are ASCII.
        String::from_utf8_lossy(&hex).into_owned()
    }

    /// The 32 lower-case hex digits as bytes, without allocating.
    pub fn hex_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, b) in self.0.iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 0x0f)];
        }
        out
    }

    /// The store key: `prefix` followed by the 32 lower-case hex digits
    /// (`webhook.cache.<hex>` with [`TYK_KEY_PREFIX`]).
    pub fn key(&self, prefix: &str) -> String {
        let mut key = String::with_capacity(prefix.len() + 32);
        key.push_str(prefix);
        key.push_str(&self.to_hex());
        key
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.hex_bytes();
        f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
    }
}

/// A string that is not 32 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a checksum: expected 32 hex digits, found {0:?}")]
pub struct ParseChecksumError(pub String);

impl FromStr for Checksum {
    type Err = ParseChecksumError;

    /// Parses 32 hex digits, either case.
    fn from_str(s: &str) -> Result<Checksum, ParseChecksumError> {
        let bytes = s.as_bytes();
        if bytes.len() != 32 {
            return Err(ParseChecksumError(s.to_owned()));
        }
        let mut out = [0u8; 16];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            match (hex_value(pair[0]), hex_value(pair[1])) {
                (Some(hi), Some(lo)) => out[i] = hi << 4 | lo,
                _ => return Err(ParseChecksumError(s.to_owned())),
            }
        }
        Ok(Checksum(out))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// `n` in decimal, written into the end of `buf`.
fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// The `Host` value Go writes: without an empty port (`removeEmptyPort`) and without an IPv6
/// zone (`removeZone`).
fn write_go_host(md5: &mut Md5, host: &str) {
    let mut host = host;
    // removeEmptyPort: a trailing ':' after the last ']'.
    if host.ends_with(':') && host.rfind(':') > host.rfind(']') {
        host = &host[..host.len() - 1];
    }
    // removeZone: "[fe80::1%25en0]:80" -> "[fe80::1]:80".
    if host.starts_with('[')
        && let Some(close) = host.rfind(']')
        && let Some(zone) = host[..close].rfind('%')
    {
        md5.update(&host.as_bytes()[..zone]);
        md5.update(&host.as_bytes()[close..]);
        return;
    }
    md5.update(host.as_bytes());
}

/// Bytes Go's `validEncoded(s, encodePath)` accepts as they are.
fn go_keeps_in_raw_path(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'-' | b'_'
                | b'.'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'['
                | b']'
                | b'%'
                | b'/'
        )
}

/// Bytes Go's `escape(s, encodePath)` leaves alone.
fn go_keeps_when_escaping(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'-' | b'_'
                | b'.'
                | b'~'
                | b'$'
                | b'&'
                | b'+'
                | b','
                | b'/'
                | b':'
                | b';'
                | b'='
                | b'@'
        )
}

/// The decoded bytes of a path, or `None` when a `%` is not followed by two hex digits.
fn percent_decoded(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let hi = raw.get(i + 1).copied().and_then(hex_value)?;
            let lo = raw.get(i + 2).copied().and_then(hex_value)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The path as Go's `URL.EscapedPath` writes it (see the module docs).
fn write_go_path(md5: &mut Md5, path: &str) {
    let raw = if path.is_empty() { "/" } else { path };
    let bytes = raw.as_bytes();
    if bytes.iter().all(|&c| go_keeps_in_raw_path(c)) {
        md5.update(bytes);
        return;
    }
    // Not validly encoded for Go: it writes escape(unescape(raw)). A path Go cannot unescape
    // never reaches Request.Write in Tyk; hash it as written.
    let Some(decoded) = percent_decoded(bytes) else {
        md5.update(bytes);
        return;
    };
    let mut run_start = 0;
    for (i, &c) in decoded.iter().enumerate() {
        if !go_keeps_when_escaping(c) {
            md5.update(&decoded[run_start..i]);
            md5.update([
                b'%',
                HEX_UPPER[usize::from(c >> 4)],
                HEX_UPPER[usize::from(c & 0x0f)],
            ]);
            run_start = i + 1;
        }
    }
    md5.update(&decoded[run_start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(method: &str, url: &str, body: &str) -> String {
        let url = TargetUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        Checksum::of_request(method, &url, body.as_bytes()).to_hex()
    }

    #[test]
    fn a_path_go_cannot_parse_is_hashed_as_written() {
        // Go refuses "%zz"; the checksum still exists and differs from a neighbour's.
        assert_ne!(
            sum("POST", "http://example.com/a%zzb", "{}"),
            sum("POST", "http://example.com/a%25zzb", "{}")
        );
    }

    #[test]
    fn header_map_is_not_an_input_and_every_input_counts() {
        let base = sum("POST", "http://example.com/p", "{}");
        assert_ne!(base, sum("PUT", "http://example.com/p", "{}"));
        assert_ne!(base, sum("POST", "http://example.com/q", "{}"));
        assert_ne!(base, sum("POST", "http://example.com/p", "{ }"));
        assert_ne!(base, sum("POST", "http://example.org/p", "{}"));
    }

    #[test]
    fn hex_key_and_parse() {
        let c = Checksum([
            0x62, 0xa6, 0xb4, 0xfa, 0x9b, 0x45, 0xcd, 0x37, 0x2b, 0x87, 0x17, 0x64, 0x29, 0x6f,
            0xb3, 0xa5,
        ]);
        assert_eq!(c.to_hex(), "62a6b4fa9b45cd372b871764296fb3a5");
        assert_eq!(c.to_string(), c.to_hex());
        assert_eq!(
            c.key(TYK_KEY_PREFIX),
            "webhook.cache.62a6b4fa9b45cd372b871764296fb3a5"
        );
        assert_eq!(
            "62A6B4FA9B45CD372B871764296FB3A5".parse::<Checksum>(),
            Ok(c)
        );
        assert!("62a6".parse::<Checksum>().is_err());
        assert!(
            "zz a6b4fa9b45cd372b871764296fb3a5"
                .parse::<Checksum>()
                .is_err()
        );
    }

    #[test]
    fn decimal_lengths() {
        let mut buf = [0u8; 20];
        assert_eq!(decimal(0, &mut buf), b"0");
        assert_eq!(decimal(198, &mut buf), b"198");
        assert_eq!(
            decimal(usize::MAX, &mut buf),
            usize::MAX.to_string().as_bytes()
        );
    }
}
