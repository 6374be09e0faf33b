//! From the wire form to checked values: each field is read where it is, and every mistake is
//! recorded with its location (file, API, event, handler, field) instead of stopping the reading.

use hookshot_core::TargetUrl;
use std::collections::BTreeMap;
use std::time::Duration;

use http::{HeaderMap, Method};
use serde_json::Value;

use super::wire::{OasHeader, Retry, WebhookCommon};
use crate::error::{ConfigErrors, Location, Problem, describe};
use crate::lenient::Lenient;
use crate::webhook::validate::{self, METHOD_EXPECTED, SECRET_EXPECTED};
use crate::webhook::{RetryPolicy, SigningKey, WebhookConfig};

/// `found <the value described>`.
fn found(value: &Value) -> String {
    format!("found {}", describe(value))
}

/// A wire field that is absent, of its type, or something else.
type Field<T> = Option<Lenient<T>>;

/// Reads the fields of one object, recording every error at `at`, field `<prefix><key>`.
pub(crate) struct Reader<'e> {
    pub(crate) at: Location,
    pub(crate) prefix: String,
    pub(crate) errors: &'e mut ConfigErrors,
}

impl Reader<'_> {
    pub(crate) fn loc(&self, key: &str) -> Location {
        self.at.clone().field(format!("{}{key}", self.prefix))
    }

    pub(crate) fn fail(&mut self, key: &str, problem: Problem) {
        let at = self.loc(key);
        self.errors.push(problem.at(at));
    }

    /// An optional string.
    pub(crate) fn str(&mut self, key: &str, field: &Field<String>) -> Option<String> {
        match field.as_ref()? {
            Lenient::Typed(s) => Some(s.clone()),
            Lenient::Other(v) => {
                self.fail(key, Problem::new(found(v), "expected a string"));
                None
            }
        }
    }

    /// A string that must be there: `what` says what it names.
    pub(crate) fn required_str(
        &mut self,
        key: &str,
        field: &Field<String>,
        what: &str,
    ) -> Option<String> {
        match field {
            None => {
                self.fail(
                    key,
                    Problem::new("it is missing", format!("expected {what}")),
                );
                None
            }
            Some(Lenient::Typed(s)) => Some(s.clone()),
            Some(Lenient::Other(v)) => {
                let problem = Problem::new(found(v), format!("expected a string: {what}"));
                self.fail(key, problem);
                None
            }
        }
    }

    /// An optional string, blank counting as absent.
    fn non_empty_str(&mut self, key: &str, field: &Field<String>) -> Option<String> {
        self.str(key, field).filter(|s| !s.trim().is_empty())
    }

    /// An optional `true` or `false`.
    pub(crate) fn bool(&mut self, key: &str, field: &Field<bool>) -> Option<bool> {
        match field.as_ref()? {
            Lenient::Typed(b) => Some(*b),
            Lenient::Other(v) => {
                self.fail(key, Problem::new(found(v), "expected true or false"));
                None
            }
        }
    }

    fn method(&mut self, key: &str, field: &Field<String>) -> Option<Method> {
        let result = match field {
            None => Err(Problem::new("it is missing", METHOD_EXPECTED)),
            Some(Lenient::Typed(s)) => validate::method_named(s),
            Some(Lenient::Other(v)) => Err(Problem::new(found(v), METHOD_EXPECTED)),
        };
        result.map_err(|p| self.fail(key, p)).ok()
    }

    fn url(&mut self, key: &str, field: &Field<String>) -> Option<TargetUrl> {
        let result = match field {
            None => Err(Problem::new("it is missing", validate::URL_EXPECTED)),
            Some(Lenient::Typed(s)) => validate::url_text(s),
            Some(Lenient::Other(v)) => Err(Problem::new(found(v), validate::URL_EXPECTED)),
        };
        result.map_err(|p| self.fail(key, p)).ok()
    }

    /// Classic `event_timeout`: a whole number of seconds, zero or more.
    fn seconds(&mut self, key: &str, field: &Field<u64>) -> Option<u64> {
        match field.as_ref()? {
            Lenient::Typed(n) => Some(*n),
            Lenient::Other(v) => {
                let problem = Problem::new(
                    found(v),
                    "expected a whole number of seconds, 0 or more (0: no cool-down)",
                );
                self.fail(key, problem);
                None
            }
        }
    }

    /// OAS `cooldownPeriod`: a duration string `^(\d+h)?(\d+m)?(\d+s)?$`, as seconds.
    fn duration(&mut self, key: &str, field: &Field<String>) -> Option<u64> {
        let value = match field.as_ref()? {
            Lenient::Typed(s) => match validate::parse_duration(s) {
                Some(secs) => return Some(secs),
                None => Value::String(s.clone()),
            },
            Lenient::Other(v) => v.clone(),
        };
        let problem = Problem::new(
            found(&value),
            "expected a duration of hours, minutes and seconds such as \"20s\", \"5m\" or \"1h30m20s\"",
        );
        self.fail(key, problem);
        None
    }

    /// A header, or its error at `key`.
    fn header(&mut self, key: &str, name: &str, value: &str, into: &mut HeaderMap) -> bool {
        match validate::header(name, value) {
            Ok((name, value)) => {
                into.insert(name, value);
                true
            }
            Err(p) => {
                self.fail(key, p);
                false
            }
        }
    }

    /// Classic `header_map`: `{"Name": "value"}`.
    fn header_map_object(
        &mut self,
        key: &str,
        field: &Field<BTreeMap<String, Lenient<String>>>,
    ) -> Option<HeaderMap> {
        let mut out = HeaderMap::new();
        let map = match field {
            None => return Some(out),
            Some(Lenient::Typed(map)) => map,
            Some(Lenient::Other(v)) => {
                let problem = Problem::new(
                    found(v),
                    "expected an object of header names to string values",
                );
                self.fail(key, problem);
                return None;
            }
        };
        let mut ok = true;
        for (name, value) in map {
            let field = format!("{key}.{name}");
            match value {
                Lenient::Typed(s) => ok &= self.header(&field, name, s, &mut out),
                Lenient::Other(v) => {
                    self.fail(
                        &field,
                        Problem::new(found(v), "expected a string header value"),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// OAS `headers`: `[{"name": "...", "value": "..."}]`.
    fn header_map_list(
        &mut self,
        key: &str,
        field: &Field<Vec<Lenient<OasHeader>>>,
    ) -> Option<HeaderMap> {
        let mut out = HeaderMap::new();
        let list = match field {
            None => return Some(out),
            Some(Lenient::Typed(list)) => list,
            Some(Lenient::Other(v)) => {
                let problem = Problem::new(
                    found(v),
                    "expected a list of {\"name\": ..., \"value\": ...}",
                );
                self.fail(key, problem);
                return None;
            }
        };
        let mut ok = true;
        for (i, header) in list.iter().enumerate() {
            let field = format!("{key}[{i}]");
            match header {
                Lenient::Typed(h) => ok &= self.header(&field, &h.name, &h.value, &mut out),
                Lenient::Other(v) => {
                    let problem = Problem::new(
                        format!("found {v}"),
                        "expected {\"name\": \"<string>\", \"value\": \"<string>\"}",
                    );
                    self.fail(&field, problem);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// A whole number, 1 or more: `Some(None)` when absent, `None` when wrong.
    fn positive_int(&mut self, key: &str, field: &Field<u64>, what: &str) -> Option<Option<u64>> {
        match field {
            None => Some(None),
            Some(Lenient::Typed(n)) if *n > 0 => Some(Some(*n)),
            Some(other) => {
                let value = match other {
                    Lenient::Typed(n) => Value::from(*n),
                    Lenient::Other(v) => v.clone(),
                };
                self.fail(key, Problem::new(found(&value), format!("expected {what}")));
                None
            }
        }
    }

    /// `value` (read from `key`) when it is at most `max`; otherwise an error naming the maximum.
    fn checked<T>(
        &mut self,
        key: &str,
        value: Option<u64>,
        check: impl FnOnce(u64) -> Result<T, Problem>,
    ) -> Result<Option<T>, ()> {
        match value.map(check) {
            None => Ok(None),
            Some(Ok(t)) => Ok(Some(t)),
            Some(Err(p)) => {
                self.fail(key, p);
                Err(())
            }
        }
    }

    fn retry(&mut self, key: &str, field: &Field<Retry>) -> Option<RetryPolicy> {
        let mut policy = RetryPolicy::default();
        let retry = match field {
            None => return Some(policy),
            Some(Lenient::Typed(retry)) => retry,
            Some(Lenient::Other(v)) => {
                let problem = Problem::new(
                    found(v),
                    "expected {\"max_attempts\": 3, \"initial_backoff_ms\": 500, \"max_backoff_ms\": 30000}",
                );
                self.fail(key, problem);
                return None;
            }
        };
        let mut r = Reader {
            at: self.at.clone(),
            prefix: format!("{}{key}.", self.prefix),
            errors: self.errors,
        };
        let ms = "a whole number of milliseconds, 1 or more";
        let attempts = r.positive_int(
            "max_attempts",
            &retry.max_attempts,
            "a whole number of attempts from 1 to 20",
        );
        let initial = r.positive_int("initial_backoff_ms", &retry.initial_backoff_ms, ms);
        let max = r.positive_int("max_backoff_ms", &retry.max_backoff_ms, ms);
        let (attempts, initial, max) = (attempts?, initial?, max?);
        let initial = r.checked("initial_backoff_ms", initial, validate::backoff_ms);
        let max = r.checked("max_backoff_ms", max, validate::backoff_ms);
        let (initial, max) = (initial.ok()?, max.ok()?);
        if let Some(n) = r
            .checked("max_attempts", attempts, validate::attempts)
            .ok()?
        {
            policy.max_attempts = n;
        }
        if let Some(d) = initial {
            policy.initial_backoff = d;
        }
        if let Some(d) = max {
            policy.max_backoff = d;
        }
        if let Err(p) = validate::backoff_order(&policy) {
            r.fail("max_backoff_ms", p);
            return None;
        }
        Some(policy)
    }

    fn signing_key(&mut self, key: &str, field: &Field<String>) -> Option<Option<SigningKey>> {
        let found = match field {
            None => return Some(None),
            Some(Lenient::Typed(s)) => match SigningKey::parse(s) {
                Ok(k) => return Some(Some(k)),
                Err(_) => format!(
                    "found a string of {} characters that is not whsec_<base64>",
                    s.len()
                ),
            },
            Some(Lenient::Other(v)) => found(v),
        };
        self.fail(key, Problem::new(found, SECRET_EXPECTED));
        None
    }
}

/// Where the webhook fields are in one of the two forms, and what the file holds there.
pub(crate) struct WebhookWire<'w> {
    /// The URL: classic `target_path`, OAS `url`.
    pub(crate) url: (&'static str, &'w Field<String>),
    /// The template: classic `template_path`, OAS `bodyTemplate`.
    pub(crate) template: (&'static str, &'w Field<String>),
    /// The headers: classic `header_map`, OAS `headers`.
    pub(crate) headers: Headers<'w>,
    /// The cool-down: classic `event_timeout`, OAS `cooldownPeriod`.
    pub(crate) cooldown: Cooldown<'w>,
    /// The fields both forms share.
    pub(crate) common: &'w WebhookCommon,
}

/// The headers in one form.
pub(crate) enum Headers<'w> {
    /// Classic `header_map`: an object.
    Object(&'w Field<BTreeMap<String, Lenient<String>>>),
    /// OAS `headers`: a list of `{name, value}`.
    List(&'w Field<Vec<Lenient<OasHeader>>>),
}

/// The cool-down in one form.
pub(crate) enum Cooldown<'w> {
    /// Classic `event_timeout`: whole seconds.
    Seconds(&'w Field<u64>),
    /// OAS `cooldownPeriod`: a duration string.
    Duration(&'w Field<String>),
}

/// Reads every field (so every mistake is reported), then builds the handler if none was wrong.
pub(crate) fn webhook(r: &mut Reader<'_>, w: &WebhookWire<'_>) -> Option<WebhookConfig> {
    let c = w.common;
    let method = r.method("method", &c.method);
    let url = r.url(w.url.0, w.url.1);
    let template = r.non_empty_str(w.template.0, w.template.1);
    let headers = match w.headers {
        Headers::Object(field) => r.header_map_object("header_map", field),
        Headers::List(field) => r.header_map_list("headers", field),
    };
    let (cooldown_key, cooldown) = match w.cooldown {
        Cooldown::Seconds(field) => ("event_timeout", r.seconds("event_timeout", field)),
        Cooldown::Duration(field) => ("cooldownPeriod", r.duration("cooldownPeriod", field)),
    };
    let cooldown = r.checked(cooldown_key, cooldown, validate::cooldown_secs);
    let request_timeout = r
        .positive_int(
            "request_timeout",
            &c.request_timeout,
            "a whole number of seconds, 1 or more",
        )
        .flatten();
    let request_timeout = r.checked(
        "request_timeout",
        request_timeout,
        validate::request_timeout_secs,
    );
    let retry = r.retry("retry", &c.retry);
    let signing_key = r.signing_key("signing_secret", &c.signing_secret);
    let id = r.str("id", &c.id);
    let name = r.str("name", &c.name);
    Some(WebhookConfig {
        id,
        name,
        method: method?,
        url: url?,
        template,
        headers: headers?,
        cooldown: cooldown.ok()?.unwrap_or(Duration::ZERO),
        request_timeout: request_timeout.ok()?,
        retry: retry?,
        signing_key: signing_key?,
    })
}
