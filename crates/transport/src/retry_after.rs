//! Reading a `Retry-After` header: delta-seconds or an HTTP-date (RFC 9110, section 10.2.3).

use std::time::{Duration, SystemTime};

/// The wait a `Retry-After` value asks for, counted from `now`; `None` when it cannot be read.
///
/// A date in the past is a wait of zero; a number of seconds too large for a `u64` is the largest
/// wait there is.
pub(crate) fn parse(value: &http::HeaderValue, now: SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(text.parse().unwrap_or(u64::MAX)));
    }
    let when = httpdate::parse_http_date(text).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn table() {
        // 1994-11-06T08:49:37Z
        let now = at(784_111_777);
        let cases: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("120", Some(120)),
            (" 7 ", Some(7)),
            ("99999999999999999999999", Some(u64::MAX)),
            ("Sun, 06 Nov 1994 08:49:37 GMT", Some(0)),
            ("Sun, 06 Nov 1994 08:50:37 GMT", Some(60)),
            ("Sunday, 06-Nov-94 08:51:37 GMT", Some(120)),
            ("Sun Nov  6 08:52:37 1994", Some(180)),
            ("Sat, 05 Nov 1994 08:49:37 GMT", Some(0)),
            ("-5", None),
            ("1.5", None),
            ("soon", None),
            ("", None),
        ];
        for (text, want) in cases {
            let value = http::HeaderValue::from_str(text).unwrap();
            assert_eq!(
                parse(&value, now),
                want.map(Duration::from_secs),
                "Retry-After: {text:?}"
            );
        }
    }
}
