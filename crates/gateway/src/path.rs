//! Request paths as the gateway routes them and sends them upstream: percent-escapes of
//! unreserved characters decoded and dot-segments resolved (RFC 3986 §6.2.2 and §5.2.4), so that
//! `/public/../private/x` and `/public/%2e%2e/private/x` are seen as what they are.
//!
//! What is refused (the gateway answers 400 and fires no event):
//! - a path that does not start with `/`;
//! - a backslash, raw or encoded (`%5C`), and an encoded slash (`%2F`): upstreams disagree on
//!   whether they separate segments, so a segment holding one cannot be routed safely;
//! - a `%` not followed by two hexadecimal digits;
//! - a `..` that would climb above the root.
//!
//! [`Gateway::handle`](crate::app::Gateway::handle) also refuses a path whose dot-segments move it
//! out of what its written form addresses: the written form (escapes of unreserved characters
//! decoded, dot-segments kept) and the resolved form must route to the same API (or to the same
//! gateway endpoint). `/public/../private/x` is written under `/public/` but resolves to
//! `/private/x`, so it is refused; `/public/a/../b` stays under `/public/` and goes upstream as
//! `/public/b`.

use std::borrow::Cow;

/// Why a request path is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path does not start with `/`.
    #[error("the request path must start with /")]
    NotAbsolute,
    /// A raw or encoded (`%5C`) backslash.
    #[error("the request path holds a backslash")]
    Backslash,
    /// An encoded slash (`%2F`) inside a segment.
    #[error("the request path holds an encoded slash (%2F) in a segment")]
    EncodedSlash,
    /// A `%` not followed by two hexadecimal digits.
    #[error("the request path holds an invalid percent-escape")]
    BadEscape,
    /// A `..` segment that climbs above the root, or out of the API the path is written under.
    #[error("the request path climbs out of its API with dot-segments")]
    Climbs,
}

/// A request path, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalised<'a> {
    /// The path as written, with escapes of unreserved characters decoded (and the hexadecimal
    /// digits of the other escapes upper-cased), dot-segments kept: what the client addressed.
    pub written: Cow<'a, str>,
    /// The same with its dot-segments resolved: what is routed and sent upstream.
    pub resolved: Cow<'a, str>,
}

impl Normalised<'_> {
    /// Whether resolving dot-segments changed the path.
    pub fn had_dot_segments(&self) -> bool {
        self.written != self.resolved
    }
}

/// Normalises `path` (the path of a request target, without its query).
pub fn normalise(path: &str) -> Result<Normalised<'_>, PathError> {
    if !path.starts_with('/') {
        return Err(PathError::NotAbsolute);
    }
    let written = decode_unreserved(path)?;
    let resolved = match &written {
        Cow::Borrowed(p) => resolve_dot_segments(p)?,
        Cow::Owned(p) => Cow::Owned(resolve_dot_segments(p)?.into_owned()),
    };
    Ok(Normalised { written, resolved })
}

/// Whether `b` is an unreserved character of RFC 3986 (ALPHA, DIGIT, `-`, `.`, `_`, `~`).
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A query parameter's value as a form decodes it: every `%XX` escape decoded and `+` read as a
/// space; bytes that are not UTF-8 become U+FFFD.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let digit = |at: usize| bytes.get(at).copied().and_then(hex);
        match (bytes[i], digit(i + 1), digit(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h << 4) | l);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes the escapes of unreserved characters, upper-cases the hexadecimal digits of the
/// others, and refuses backslashes, encoded slashes and malformed escapes.
fn decode_unreserved(path: &str) -> Result<Cow<'_, str>, PathError> {
    let bytes = path.as_bytes();
    if bytes.contains(&b'\\') {
        return Err(PathError::Backslash);
    }
    let Some(first) = bytes.iter().position(|&b| b == b'%') else {
        return Ok(Cow::Borrowed(path));
    };
    let mut out = String::with_capacity(path.len());
    out.push_str(&path[..first]);
    let mut i = first;
    let mut copied = first;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            i += 1;
            continue;
        }
        // Everything before `i` not yet copied is copied whole; `%` is ASCII, so `i` is a char
        // boundary.
        out.push_str(&path[copied..i]);
        let (Some(hi), Some(lo)) = (
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) else {
            return Err(PathError::BadEscape);
        };
        let value = hi * 16 + lo;
        match value {
            b'/' => return Err(PathError::EncodedSlash),
            b'\\' => return Err(PathError::Backslash),
            v if is_unreserved(v) => out.push(char::from(v)),
            _ => {
                out.push('%');
                out.push(char::from(bytes[i + 1].to_ascii_uppercase()));
                out.push(char::from(bytes[i + 2].to_ascii_uppercase()));
            }
        }
        i += 3;
        copied = i;
    }
    out.push_str(&path[copied..]);
    Ok(Cow::Owned(out))
}

fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|s| s == "." || s == "..")
}

/// RFC 3986 §5.2.4 for a path starting with `/`, except that a `..` above the root is refused
/// rather than dropped.
fn resolve_dot_segments(path: &str) -> Result<Cow<'_, str>, PathError> {
    if !has_dot_segment(path) {
        return Ok(Cow::Borrowed(path));
    }
    let segments: Vec<&str> = path[1..].split('/').collect();
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {}
            ".." => {
                if out.pop().is_none() {
                    return Err(PathError::Climbs);
                }
            }
            s => {
                out.push(s);
                continue;
            }
        }
        // A path ending in `.` or `..` names a folder: `/a/b/..` is `/a/`.
        if last {
            out.push("");
        }
    }
    let mut resolved = String::with_capacity(path.len());
    for s in &out {
        resolved.push('/');
        resolved.push_str(s);
    }
    if resolved.is_empty() {
        resolved.push('/');
    }
    Ok(Cow::Owned(resolved))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn resolved(path: &str) -> Result<String, PathError> {
        normalise(path).map(|n| n.resolved.into_owned())
    }

    #[test]
    fn dot_segments_are_resolved_as_rfc_3986_says() {
        let cases = [
            ("/", "/"),
            ("/a/b/c", "/a/b/c"),
            ("/a/./b", "/a/b"),
            ("/a/b/.", "/a/b/"),
            ("/a/b/..", "/a/"),
            ("/a/b/../c", "/a/c"),
            ("/a/..", "/"),
            ("/a/./..", "/"),
            ("/a//..", "/a/"),
            ("/a/b/../../c/", "/c/"),
            ("/./a", "/a"),
            ("/a/...", "/a/..."),
            ("/a/.b/..c", "/a/.b/..c"),
            ("/a//b", "/a//b"),
        ];
        for (path, want) in cases {
            assert_eq!(resolved(path).as_deref(), Ok(want), "{path}");
        }
    }

    #[test]
    fn unreserved_escapes_are_decoded_and_others_kept_upper_cased() {
        let cases = [
            ("/%2e%2e", Err(PathError::Climbs)),
            ("/a/%2e%2e/b", Ok("/b")),
            ("/a/%2E%2E/b", Ok("/b")),
            ("/a/.%2e/b", Ok("/b")),
            ("/a/%2e./b", Ok("/b")),
            ("/a/%2e/b", Ok("/a/b")),
            ("/%7Euser/%41%62%2D%5f", Ok("/~user/Ab-_")),
            ("/a%20b/%3a%c3%a9", Ok("/a%20b/%3A%C3%A9")),
            ("/%252e%252e/x", Ok("/%252e%252e/x")),
            ("/café/x", Ok("/café/x")),
        ];
        for (path, want) in cases {
            assert_eq!(resolved(path), want.map(str::to_owned), "{path}");
        }
    }

    #[test]
    fn slashes_backslashes_and_bad_escapes_are_refused() {
        let cases = [
            ("/a%2fb", PathError::EncodedSlash),
            ("/a%2F..%2Fb", PathError::EncodedSlash),
            ("/a%5cb", PathError::Backslash),
            ("/a%5C..", PathError::Backslash),
            ("/a\\..\\b", PathError::Backslash),
            ("/a%", PathError::BadEscape),
            ("/a%2", PathError::BadEscape),
            ("/a%zz", PathError::BadEscape),
            ("/a%%41", PathError::BadEscape),
            ("/..", PathError::Climbs),
            ("/a/../..", PathError::Climbs),
            ("/a/../../b", PathError::Climbs),
            ("*", PathError::NotAbsolute),
            ("", PathError::NotAbsolute),
            ("a/b", PathError::NotAbsolute),
        ];
        for (path, want) in cases {
            assert_eq!(resolved(path), Err(want), "{path}");
        }
    }

    #[test]
    fn the_written_form_keeps_its_dot_segments() {
        let n = normalise("/public/%2e%2e/private/x").unwrap();
        assert_eq!(n.written, "/public/../private/x");
        assert_eq!(n.resolved, "/private/x");
        assert!(n.had_dot_segments());
        let n = normalise("/public/x").unwrap();
        assert!(matches!(n.written, Cow::Borrowed(_)));
        assert!(matches!(n.resolved, Cow::Borrowed(_)));
        assert!(!n.had_dot_segments());
    }

    fn check_output(input: &str) -> Result<(), TestCaseError> {
        if let Ok(n) = normalise(input) {
            let out = n.resolved.as_ref();
            prop_assert!(out.starts_with('/'), "{out:?} from {input:?}");
            prop_assert!(
                !out.split('/').any(|s| s == "." || s == ".."),
                "{out:?} from {input:?} has a dot-segment"
            );
            prop_assert!(!out.contains('\\'));
            let again = normalise(out).map(|n| n.resolved.into_owned());
            prop_assert_eq!(again.as_deref(), Ok(out), "not idempotent for {:?}", input);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        #[test]
        fn arbitrary_strings_never_panic_and_resolve_fully(input in any::<String>()) {
            check_output(&input)?;
            check_output(&format!("/{input}"))?;
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_resolve_fully(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let input = String::from_utf8_lossy(&bytes);
            check_output(&input)?;
        }

        #[test]
        fn paths_made_of_dots_and_escapes_resolve_fully(
            segments in proptest::collection::vec(
                prop_oneof![
                    Just("."), Just(".."), Just("%2e"), Just("%2E%2e"), Just(".%2e"), Just("a"),
                    Just(""), Just("%41"), Just("%2f"), Just("%25"), Just("~"), Just("%"),
                ],
                0..12,
            )
        ) {
            check_output(&format!("/{}", segments.join("/")))?;
        }
    }
}
