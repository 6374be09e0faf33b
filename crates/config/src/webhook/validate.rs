//! The checks of a webhook's values, shared by the file reader and the builder, so that both
//! refuse the same values with the same words.

use hookshot_core::TargetUrl;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};

use crate::error::Problem;
use crate::webhook::{
    MAX_BACKOFF_MS, MAX_EVENT_TIMEOUT_SECS, MAX_REQUEST_TIMEOUT_SECS, MAX_RETRY_ATTEMPTS,
    RetryPolicy,
};

/// What a method is expected to be.
pub(crate) const METHOD_EXPECTED: &str = "expected one of GET, PUT, POST, PATCH, DELETE (any case)";
/// What a URL is expected to be.
pub(crate) const URL_EXPECTED: &str =
    "expected an absolute http or https URL with a host, such as \"https://hooks.example.com/tyk\"";
/// What a URL with user-info is told.
pub(crate) const USER_INFO_EXPECTED: &str = "expected the URL without user-info; credentials in a URL are \
     not sent, so put them in `header_map`, e.g. \"Authorization\": \"Basic <base64 of user:password>\"";
/// What a signing secret is expected to be.
pub(crate) const SECRET_EXPECTED: &str = "expected a Standard Webhooks secret: \"whsec_\" followed by the base64 of 24 to 64 random bytes";
/// What `retry.max_attempts` is expected to be.
pub(crate) const ATTEMPTS_EXPECTED: &str = "expected a whole number of attempts from 1 to 20";

/// The methods a webhook may use.
const METHODS: [Method; 5] = [
    Method::GET,
    Method::PUT,
    Method::POST,
    Method::PATCH,
    Method::DELETE,
];

/// A method named in configuration, in any case.
pub(crate) fn method_named(name: &str) -> Result<Method, Problem> {
    let trimmed = name.trim();
    METHODS
        .into_iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(trimmed))
        .ok_or_else(|| Problem::new(format!("found {name:?}"), METHOD_EXPECTED))
}

/// A method given to the builder: one of the five a webhook may use.
pub(crate) fn method(method: &Method) -> Result<(), Problem> {
    if METHODS.contains(method) {
        Ok(())
    } else {
        Err(Problem::new(
            format!("found {:?}", method.as_str()),
            METHOD_EXPECTED,
        ))
    }
}

/// A URL read from a file.
pub(crate) fn url_text(text: &str) -> Result<TargetUrl, Problem> {
    let url = TargetUrl::parse(text.trim())
        .map_err(|why| Problem::new(format!("found {text:?}, but {why}"), URL_EXPECTED))?;
    url_without_user_info(&url)?;
    Ok(url)
}

/// A URL without user-info: credentials in a URL are not sent.
pub(crate) fn url_without_user_info(url: &TargetUrl) -> Result<(), Problem> {
    match url.user_info() {
        None => Ok(()),
        Some(info) => Err(Problem::new(user_info_found(url, info), USER_INFO_EXPECTED)),
    }
}

/// What a URL with user-info is reported as: its scheme, user (when a password follows it; alone
/// it may be a token) and host, the password and the path and query left out.
fn user_info_found(url: &TargetUrl, info: &str) -> String {
    let user = match info.split_once(':') {
        Some((user, _)) if !user.is_empty() => format!("{user}:****"),
        _ => "****".to_owned(),
    };
    let origin = url.redacted();
    let (scheme, host) = origin.split_once("://").unwrap_or(("http", &origin));
    let rest = if url.path_and_query() == "/" {
        ""
    } else {
        "/…"
    };
    format!("found \"{scheme}://{user}@{host}{rest}\", which holds user-info")
}

/// One header: a token for a name, and a value without CR, LF, NUL or other control characters.
pub(crate) fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), Problem> {
    let Ok(header_name) = HeaderName::from_bytes(name.as_bytes()) else {
        return Err(Problem::new(
            format!("found the header name {name:?}"),
            "expected a header name made of letters, digits and !#$%&'*+-.^_`|~ (an HTTP token)",
        ));
    };
    if let Some(bad) = value.chars().find(|c| matches!(c, '\r' | '\n' | '\0')) {
        return Err(Problem::new(
            format!("found the value {value:?} for header {name:?}, which holds {bad:?}"),
            "expected a header value without CR, LF or NUL",
        ));
    }
    let Ok(header_value) = HeaderValue::from_str(value) else {
        return Err(Problem::new(
            format!(
                "found the value {value:?} for header {name:?}, which holds a control character"
            ),
            "expected a header value of visible characters, spaces and tabs",
        ));
    };
    Ok((header_name, header_value))
}

/// `value` when it is at most `max`; otherwise an error naming the maximum.
pub(crate) fn at_most(value: u64, max: u64, unit: &str, span: &str) -> Result<u64, Problem> {
    if value > max {
        Err(Problem::new(
            format!("found {value} {unit}"),
            format!("expected at most {max} {unit} ({span})"),
        ))
    } else {
        Ok(value)
    }
}

/// A cool-down of whole seconds, at most 30 days.
pub(crate) fn cooldown_secs(secs: u64) -> Result<Duration, Problem> {
    at_most(secs, MAX_EVENT_TIMEOUT_SECS, "seconds", "30 days").map(Duration::from_secs)
}

/// A request timeout of whole seconds, at most 1 hour (0 is refused by the reader earlier).
pub(crate) fn request_timeout_secs(secs: u64) -> Result<Duration, Problem> {
    at_most(secs, MAX_REQUEST_TIMEOUT_SECS, "seconds", "1 hour").map(Duration::from_secs)
}

/// A backoff of whole milliseconds, at most 1 hour.
pub(crate) fn backoff_ms(ms: u64) -> Result<Duration, Problem> {
    at_most(ms, MAX_BACKOFF_MS, "milliseconds", "1 hour").map(Duration::from_millis)
}

/// A number of attempts from 1 to 20.
pub(crate) fn attempts(n: u64) -> Result<u32, Problem> {
    match u32::try_from(n) {
        Ok(n) if (1..=MAX_RETRY_ATTEMPTS).contains(&n) => Ok(n),
        _ => Err(Problem::new(
            format!("found the number {n}"),
            ATTEMPTS_EXPECTED,
        )),
    }
}

/// The backoff cap is at least the first backoff.
pub(crate) fn backoff_order(policy: &RetryPolicy) -> Result<(), Problem> {
    if policy.max_backoff < policy.initial_backoff {
        return Err(Problem::new(
            format!(
                "found {} (below initial_backoff_ms {})",
                policy.max_backoff.as_millis(),
                policy.initial_backoff.as_millis()
            ),
            "expected max_backoff_ms at least initial_backoff_ms",
        ));
    }
    Ok(())
}

/// A duration given to the builder, at most `max`: the same words as the reader's, in `unit`s.
pub(crate) fn duration_at_most(
    value: Duration,
    max: Duration,
    unit: &str,
    span: &str,
) -> Result<Duration, Problem> {
    if value <= max {
        return Ok(value);
    }
    let (found, most) = if unit == "milliseconds" {
        (value.as_secs_f64() * 1000.0, max.as_millis() as f64)
    } else {
        (value.as_secs_f64(), max.as_secs() as f64)
    };
    Err(Problem::new(
        format!("found {found} {unit}"),
        format!("expected at most {most} {unit} ({span})"),
    ))
}

/// A policy given to the builder: the reader's checks, on durations.
pub(crate) fn retry_policy(policy: &RetryPolicy) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Err(p) = attempts(u64::from(policy.max_attempts)) {
        problems.push(p);
    }
    let most = Duration::from_millis(MAX_BACKOFF_MS);
    for backoff in [policy.initial_backoff, policy.max_backoff] {
        if backoff.is_zero() {
            problems.push(Problem::new(
                "found 0 milliseconds",
                "expected a whole number of milliseconds, 1 or more",
            ));
        } else if let Err(p) = duration_at_most(backoff, most, "milliseconds", "1 hour") {
            problems.push(p);
        }
    }
    if problems.is_empty()
        && let Err(p) = backoff_order(policy)
    {
        problems.push(p);
    }
    problems
}

/// Parses `^(\d+h)?(\d+m)?(\d+s)?$` into seconds; the empty string is not a duration.
pub fn parse_duration(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut rest = s;
    for (unit, mult) in [('h', 3600u64), ('m', 60), ('s', 1)] {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || rest.as_bytes().get(digits) != Some(&(unit as u8)) {
            continue;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        total = total.checked_add(n.checked_mul(mult)?)?;
        rest = &rest[digits + 1..];
    }
    rest.is_empty().then_some(total)
}
