//! Handler configuration, read from the JSON Tyk users already keep.
//!
//! Two forms are read into the same types:
//! - classic `event_handlers: {"events": {"AuthFailure": [{"handler_name", "handler_meta"}]}}`,
//!   in API definitions and in the gateway configuration;
//! - OAS `x-tyk-api-gateway.server.eventHandlers: [{"enabled", "trigger", "type", "url", ...}]`.
//!
//! Unknown fields are ignored (real Tyk files carry many); wrong types, bad methods, URLs and headers
//! are refused with an error naming the file, API, event, handler and field. Disabled handlers are skipped.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::error::{ConfigError, ConfigErrors, Location, describe};
use crate::event_type::EventType;

/// The HTTP methods a webhook may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`: sent without a body.
    Get,
    /// `PUT`.
    Put,
    /// `POST`.
    Post,
    /// `PATCH`.
    Patch,
    /// `DELETE`: sent without a body.
    Delete,
}

impl Method {
    /// The methods accepted in configuration.
    pub const ALL: [Method; 5] = [
        Method::Get,
        Method::Put,
        Method::Post,
        Method::Patch,
        Method::Delete,
    ];

    /// The method's name in upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Whether a request of this method carries the rendered body.
    /// The seed document: "Request types that do not support an encoded BODY will not have
    /// the event metadata encoded as part of the request" — GET and DELETE carry none.
    pub fn sends_body(self) -> bool {
        !matches!(self, Method::Get | Method::Delete)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Method {
    type Err = ();

    /// Any case: `post`, `Post` and `POST` are the same method.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
            .ok_or(())
    }
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
    pub fn parse(raw: &str) -> Result<TargetUrl, String> {
        if !raw.contains("://") {
            return Err("it is not absolute (no http:// or https://)".into());
        }
        let uri: http::Uri = raw
            .parse()
            .map_err(|e| format!("it does not parse as a URL ({e})"))?;
        match uri.scheme_str() {
            Some("http") | Some("https") => {}
            Some(other) => return Err(format!("its scheme is {other:?}")),
            None => return Err("it is not absolute (no http:// or https://)".into()),
        }
        match uri.host() {
            Some(h) if !h.is_empty() => {}
            _ => return Err("it has no host".into()),
        }
        Ok(TargetUrl {
            raw: raw.to_owned(),
            uri,
        })
    }

    /// The URL as logs, metrics and errors show it: `scheme://host[:port]`, without user-info,
    /// path or query (the port only when the URL names one; IPv6 hosts in brackets).
    pub fn redacted(&self) -> String {
        let scheme = self.uri.scheme_str().unwrap_or("http");
        let host = self.uri.host().unwrap_or_default();
        match self.uri.port_u16() {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        }
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

/// The longest cool-down (`event_timeout`, OAS `cooldownPeriod`) a handler may ask for: 30 days,
/// in seconds.
pub const MAX_EVENT_TIMEOUT_SECS: u64 = 30 * 24 * 3600;
/// The longest `request_timeout` a handler may ask for: 1 hour, in seconds.
pub const MAX_REQUEST_TIMEOUT_SECS: u64 = 3600;
/// The longest retry backoff (`retry.initial_backoff_ms`, `retry.max_backoff_ms`): 1 hour, in
/// milliseconds.
pub const MAX_BACKOFF_MS: u64 = 3_600_000;

/// Opt-in retries of a failed delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1: no retry, as Tyk).
    pub max_attempts: u32,
    /// The backoff ceiling before the second attempt, in milliseconds; it doubles each retry.
    pub initial_backoff_ms: u64,
    /// The largest backoff, in milliseconds; also the cap on an honoured `Retry-After`.
    pub max_backoff_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 1,
            initial_backoff_ms: 500,
            max_backoff_ms: 30_000,
        }
    }
}

/// A webhook handler (`eh_web_hook_handler`, or an OAS handler of type `webhook`).
///
/// Its `Debug` shows the target redacted, the `header_map` names without their values (they
/// often carry credentials) and whether a signing secret is set, never the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// `id`: an optional identifier, used in logs and metrics.
    pub id: Option<String>,
    /// `name`: an optional human name, used in logs.
    pub name: Option<String>,
    /// `method`: the HTTP method.
    pub method: Method,
    /// `target_path`: where the request goes.
    pub target_path: TargetUrl,
    /// `template_path`: the body template; `None` means the default template.
    pub template_path: Option<String>,
    /// `header_map`: headers added to the request; they override the defaults.
    pub header_map: BTreeMap<String, String>,
    /// `event_timeout`: the cool-down in seconds; 0 (or absent) means no cool-down.
    pub event_timeout: u64,
    /// `request_timeout`: the total time one attempt may take, in seconds (`None`: the transport's default).
    pub request_timeout: Option<u64>,
    /// `retry`: opt-in retries.
    pub retry: RetryPolicy,
    /// `signing_secret`: a Standard Webhooks secret (`whsec_<base64>`); when set, requests are signed.
    pub signing_secret: Option<String>,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("method", &self.method)
            .field("target_path", &self.target_path)
            .field("template_path", &self.template_path)
            .field("header_map", &self.header_map.keys().collect::<Vec<_>>())
            .field("event_timeout", &self.event_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field(
                "signing_secret",
                &self.signing_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl WebhookConfig {
    /// A handler name for logs and metrics: the `id`, else the `name`, else
    /// `METHOD scheme://host[:port]` ([`TargetUrl::redacted`]: never user-info, path or query).
    pub fn label(&self) -> String {
        self.id
            .clone()
            .or_else(|| self.name.clone())
            .unwrap_or_else(|| format!("{} {}", self.method, self.target_path.redacted()))
    }
}

/// A log handler (`eh_log_handler`): writes `<prefix>:<EventType>` to the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogConfig {
    /// `prefix`: put before the event name.
    pub prefix: String,
}

/// One configured handler.
#[allow(
    clippy::large_enum_variant,
    reason = "built once at start-up; a few per API"
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandlerConfig {
    /// Sends a webhook.
    Webhook(WebhookConfig),
    /// Writes a log line.
    Log(LogConfig),
}

/// The handlers of one API (or the global ones), by event, disabled ones left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventHandlers {
    /// Enabled handlers for each event, in the order configured.
    pub events: BTreeMap<EventType, Vec<HandlerConfig>>,
    /// How many handlers were skipped because they were disabled.
    pub disabled: usize,
}

impl EventHandlers {
    /// The handlers for `event_type` (none when nothing is configured for it).
    pub fn for_event(&self, event_type: &EventType) -> &[HandlerConfig] {
        self.events.get(event_type).map_or(&[], Vec::as_slice)
    }

    /// Whether no handler is configured.
    pub fn is_empty(&self) -> bool {
        self.events.values().all(Vec::is_empty)
    }

    /// Every handler with its event.
    pub fn iter(&self) -> impl Iterator<Item = (&EventType, &HandlerConfig)> {
        self.events
            .iter()
            .flat_map(|(e, hs)| hs.iter().map(move |h| (e, h)))
    }

    /// Reads the handlers of a whole definition document: the classic `event_handlers` block,
    /// the OAS `x-tyk-api-gateway.server.eventHandlers` list, or both. `at` names the file and API.
    pub fn from_definition(doc: &Value, at: &Location) -> Result<EventHandlers, ConfigErrors> {
        let mut out = EventHandlers::default();
        let mut errors = ConfigErrors::default();
        if let Some(block) = doc.get("event_handlers") {
            out.merge(errors.take(parse_classic(block, at)));
        }
        let oas = doc
            .get("x-tyk-api-gateway")
            .and_then(|x| x.get("server"))
            .and_then(|s| s.get("eventHandlers"));
        if let Some(list) = oas {
            out.merge(errors.take(parse_oas(list, at)));
        }
        errors.into_result(out)
    }

    /// Adds the handlers of `other` after these.
    pub fn merge(&mut self, other: EventHandlers) {
        for (event, handlers) in other.events {
            self.events.entry(event).or_default().extend(handlers);
        }
        self.disabled += other.disabled;
    }
}

/// Parses JSON text; a syntax error names the file, line and column.
pub fn parse_json(text: &str, file: &str) -> Result<Value, ConfigError> {
    serde_json::from_str(text).map_err(|e| {
        let what = e.to_string();
        let what = what
            .rsplit_once(" at line ")
            .map_or(what.as_str(), |(w, _)| w);
        ConfigError::new(
            Location::file(format!("{file}:{}:{}", e.line(), e.column())),
            format!("malformed JSON ({what})"),
            "expected a valid JSON document (check for a missing brace, bracket or comma near that line)",
        )
    })
}

/// Reads a classic `event_handlers` block: `{"events": {"<Event>": [{handler_name, handler_meta}]}}`.
pub fn parse_classic(block: &Value, at: &Location) -> Result<EventHandlers, ConfigErrors> {
    let mut errors = ConfigErrors::default();
    let mut out = EventHandlers::default();
    let Some(block) = object(block, at.clone().field("event_handlers"), &mut errors) else {
        return Err(errors);
    };
    let Some(events) = block.get("events") else {
        return Ok(out);
    };
    let Some(events) = object(
        events,
        at.clone().field("event_handlers.events"),
        &mut errors,
    ) else {
        return Err(errors);
    };
    for (name, list) in events {
        let Some(event_type) = event_name(name, at.clone().event(name), &mut errors) else {
            continue;
        };
        let ev_at = at.clone().event(name);
        let Some(list) = list.as_array() else {
            errors.push(ConfigError::new(
                ev_at.field(format!("event_handlers.events.{name}")),
                format!("found {}", describe(list)),
                "expected a list of handlers: [{\"handler_name\": ..., \"handler_meta\": {...}}]",
            ));
            continue;
        };
        for (i, entry) in list.iter().enumerate() {
            let h_at = ev_at.clone().handler(i);
            if let Some(handler) = classic_handler(entry, &h_at, &mut errors) {
                match handler {
                    Some(h) => out.events.entry(event_type.clone()).or_default().push(h),
                    None => out.disabled += 1,
                }
            }
        }
    }
    errors.into_result(out)
}

/// Reads an OAS `eventHandlers` list: `[{"enabled", "trigger", "type", "url", "method", ...}]`.
pub fn parse_oas(list: &Value, at: &Location) -> Result<EventHandlers, ConfigErrors> {
    const PATH: &str = "x-tyk-api-gateway.server.eventHandlers";
    let mut errors = ConfigErrors::default();
    let mut out = EventHandlers::default();
    let Some(list) = list.as_array() else {
        errors.push(ConfigError::new(
            at.clone().field(PATH),
            format!("found {}", describe(list)),
            "expected a list of event handlers",
        ));
        return Err(errors);
    };
    for (i, entry) in list.iter().enumerate() {
        let mut h_at = at.clone().handler(i);
        let Some(obj) = object(
            entry,
            h_at.clone().field(format!("{PATH}[{i}]")),
            &mut errors,
        ) else {
            continue;
        };
        let mut r = Reader {
            obj,
            at: h_at.clone(),
            prefix: format!("{PATH}[{i}]."),
            errors: &mut errors,
        };
        let trigger = r.required_str("trigger", "an event name such as \"AuthFailure\"");
        if let Some(t) = &trigger {
            h_at = h_at.event(t.as_str());
            r.at = h_at.clone();
        }
        // Tyk reads a missing `enabled` as false.
        let enabled = r.bool("enabled").unwrap_or(false);
        let kind = r.required_str("type", "one of \"webhook\", \"log\"");
        let Some(trigger) = trigger else { continue };
        let Some(event_type) = event_name(
            &trigger,
            h_at.clone().field(format!("{PATH}[{i}].trigger")),
            &mut errors,
        ) else {
            continue;
        };
        if !enabled {
            out.disabled += 1;
            continue;
        }
        let mut r = Reader {
            obj,
            at: h_at.clone(),
            prefix: format!("{PATH}[{i}]."),
            errors: &mut errors,
        };
        let handler = match kind.as_deref() {
            Some("webhook") => oas_webhook(&mut r).map(HandlerConfig::Webhook),
            Some("log") => {
                let prefix = r
                    .str("logPrefix")
                    .or_else(|| r.str("prefix"))
                    .unwrap_or_default();
                Some(HandlerConfig::Log(LogConfig { prefix }))
            }
            Some(other) => {
                r.errors.push(ConfigError::new(
                    h_at.clone().field(format!("{PATH}[{i}].type")),
                    format!("found {other:?}"),
                    "expected \"webhook\" or \"log\" (custom JavaScript and plugin handlers are not supported)",
                ));
                None
            }
            None => None,
        };
        if let Some(h) = handler {
            out.events.entry(event_type).or_default().push(h);
        }
    }
    errors.into_result(out)
}

/// One classic handler entry: `Some(Some(h))` enabled, `Some(None)` disabled, `None` refused.
fn classic_handler(
    entry: &Value,
    at: &Location,
    errors: &mut ConfigErrors,
) -> Option<Option<HandlerConfig>> {
    let obj = object(entry, at.clone(), errors)?;
    let mut r = Reader {
        obj,
        at: at.clone(),
        prefix: String::new(),
        errors,
    };
    let name = r.required_str(
        "handler_name",
        "\"eh_web_hook_handler\" or \"eh_log_handler\"",
    )?;
    let meta_at = at.clone().field("handler_meta");
    let empty = Map::new();
    let meta = match obj.get("handler_meta") {
        None | Some(Value::Null) => &empty,
        Some(v) => object(v, meta_at, errors)?,
    };
    let mut r = Reader {
        obj: meta,
        at: at.clone(),
        prefix: "handler_meta.".into(),
        errors,
    };
    match name.as_str() {
        "eh_web_hook_handler" => {
            if r.bool("disabled").unwrap_or(false) {
                return Some(None);
            }
            classic_webhook(&mut r).map(|w| Some(HandlerConfig::Webhook(w)))
        }
        "eh_log_handler" => {
            if r.bool("disabled").unwrap_or(false) {
                return Some(None);
            }
            let prefix = r.str("prefix").unwrap_or_default();
            Some(Some(HandlerConfig::Log(LogConfig { prefix })))
        }
        other => {
            let why = match other {
                "eh_dynamic_handler" => " (JavaScript event handlers are not supported)",
                "cp_dynamic_handler" => " (plugin event handlers are not supported)",
                _ => "",
            };
            errors.push(ConfigError::new(
                at.clone().field("handler_name"),
                format!("found {other:?}{why}"),
                "expected \"eh_web_hook_handler\" or \"eh_log_handler\"",
            ));
            None
        }
    }
}

/// Where each webhook field is in one of the two forms.
struct WebhookFields {
    url: &'static str,
    template: &'static str,
    headers: &'static str,
    /// Classic `header_map` is an object; OAS `headers` a list of `{name, value}`.
    headers_as_list: bool,
    cooldown: &'static str,
    /// Classic `event_timeout` is seconds; OAS `cooldownPeriod` a duration string.
    cooldown_as_duration: bool,
}

const CLASSIC: WebhookFields = WebhookFields {
    url: "target_path",
    template: "template_path",
    headers: "header_map",
    headers_as_list: false,
    cooldown: "event_timeout",
    cooldown_as_duration: false,
};

const OAS: WebhookFields = WebhookFields {
    url: "url",
    template: "bodyTemplate",
    headers: "headers",
    headers_as_list: true,
    cooldown: "cooldownPeriod",
    cooldown_as_duration: true,
};

fn classic_webhook(r: &mut Reader<'_, '_>) -> Option<WebhookConfig> {
    webhook(r, &CLASSIC)
}

fn oas_webhook(r: &mut Reader<'_, '_>) -> Option<WebhookConfig> {
    webhook(r, &OAS)
}

/// Reads every field (so every mistake is reported), then builds the handler if none was wrong.
fn webhook(r: &mut Reader<'_, '_>, f: &WebhookFields) -> Option<WebhookConfig> {
    let method = r.method("method");
    let target_path = r.url(f.url);
    let template_path = r.non_empty_str(f.template);
    let header_map = if f.headers_as_list {
        r.header_map_list(f.headers)
    } else {
        r.header_map_object(f.headers)
    };
    let event_timeout = if f.cooldown_as_duration {
        r.duration(f.cooldown)
    } else {
        r.seconds(f.cooldown)
    };
    let event_timeout = r.at_most(
        f.cooldown,
        event_timeout,
        MAX_EVENT_TIMEOUT_SECS,
        "seconds",
        "30 days",
    );
    let extras = r.extras();
    let id = r.str("id");
    let name = r.str("name");
    Some(WebhookConfig {
        id,
        name,
        method: method?,
        target_path: target_path?,
        template_path,
        header_map: header_map?,
        event_timeout: event_timeout.unwrap_or(0),
        request_timeout: extras.request_timeout,
        retry: extras.retry?,
        signing_secret: extras.signing_secret?,
    })
}

/// Hookshot's own handler fields, the same in both forms.
struct Extras {
    request_timeout: Option<u64>,
    retry: Option<RetryPolicy>,
    signing_secret: Option<Option<String>>,
}

/// An event name: Tyk's, or a custom one unless it looks like a misspelt Tyk name.
fn event_name(name: &str, at: Location, errors: &mut ConfigErrors) -> Option<EventType> {
    let t = EventType::from_name(name);
    if t.is_builtin() {
        return Some(t);
    }
    let near = EventType::ALL
        .iter()
        .find(|b| edit_distance(&b.as_str().to_ascii_lowercase(), &name.to_ascii_lowercase()) <= 2);
    if name.is_empty() || near.is_some() {
        let hint = near.map_or(String::new(), |b| {
            format!(" (did you mean {b:?}?)", b = b.as_str())
        });
        errors.push(ConfigError::new(
            at,
            format!("found the unknown event {name:?}{hint}"),
            format!(
                "expected one of Tyk's events ({}) or a custom event name not close to one",
                EventType::ALL.map(|e| e.as_str().to_owned()).join(", ")
            ),
        ));
        return None;
    }
    Some(t)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn object<'v>(
    v: &'v Value,
    at: Location,
    errors: &mut ConfigErrors,
) -> Option<&'v Map<String, Value>> {
    match v.as_object() {
        Some(o) => Some(o),
        None => {
            errors.push(ConfigError::new(
                at,
                format!("found {}", describe(v)),
                "expected an object",
            ));
            None
        }
    }
}

/// Reads typed fields from one JSON object, recording every error with its location.
struct Reader<'v, 'e> {
    obj: &'v Map<String, Value>,
    at: Location,
    prefix: String,
    errors: &'e mut ConfigErrors,
}

impl<'v> Reader<'v, '_> {
    fn loc(&self, key: &str) -> Location {
        self.at.clone().field(format!("{}{key}", self.prefix))
    }

    fn fail(&mut self, key: &str, found: String, expected: impl Into<String>) {
        let at = self.loc(key);
        self.errors.push(ConfigError::new(at, found, expected));
    }

    fn get(&self, key: &str) -> Option<&'v Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    fn str(&mut self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            other => {
                let found = format!("found {}", describe(other));
                self.fail(key, found, "expected a string");
                None
            }
        }
    }

    fn required_str(&mut self, key: &str, what: &str) -> Option<String> {
        if self.get(key).is_none() {
            self.fail(key, "it is missing".into(), format!("expected {what}"));
            return None;
        }
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            other => {
                let found = format!("found {}", describe(other));
                self.fail(key, found, format!("expected a string: {what}"));
                None
            }
        }
    }

    fn non_empty_str(&mut self, key: &str) -> Option<String> {
        self.str(key).filter(|s| !s.trim().is_empty())
    }

    fn bool(&mut self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(b) => Some(*b),
            other => {
                let found = format!("found {}", describe(other));
                self.fail(key, found, "expected true or false");
                None
            }
        }
    }

    fn method(&mut self, key: &str) -> Option<Method> {
        const EXPECTED: &str = "expected one of GET, PUT, POST, PATCH, DELETE (any case)";
        let Some(v) = self.get(key) else {
            self.fail(key, "it is missing".into(), EXPECTED);
            return None;
        };
        let found = match v {
            Value::String(s) => match s.trim().parse::<Method>() {
                Ok(m) => return Some(m),
                Err(()) => format!("found {s:?}"),
            },
            other => format!("found {}", describe(other)),
        };
        self.fail(key, found, EXPECTED);
        None
    }

    fn url(&mut self, key: &str) -> Option<TargetUrl> {
        const EXPECTED: &str = "expected an absolute http or https URL with a host, such as \"https://hooks.example.com/tyk\"";
        let Some(v) = self.get(key) else {
            self.fail(key, "it is missing".into(), EXPECTED);
            return None;
        };
        let found = match v {
            Value::String(s) => match TargetUrl::parse(s.trim()) {
                Ok(u) => match u.user_info() {
                    None => return Some(u),
                    Some(info) => {
                        self.fail(key, user_info_found(&u, info), USER_INFO_EXPECTED);
                        return None;
                    }
                },
                Err(why) => format!("found {s:?}, but {why}"),
            },
            other => format!("found {}", describe(other)),
        };
        self.fail(key, found, EXPECTED);
        None
    }

    /// A whole number of seconds, zero or more.
    fn seconds(&mut self, key: &str) -> Option<u64> {
        let v = self.get(key)?;
        if let Some(n) = v.as_u64() {
            return Some(n);
        }
        let found = format!("found {}", describe(v));
        self.fail(
            key,
            found,
            "expected a whole number of seconds, 0 or more (0: no cool-down)",
        );
        None
    }

    /// A duration string `^(\d+h)?(\d+m)?(\d+s)?$`, as seconds.
    fn duration(&mut self, key: &str) -> Option<u64> {
        let v = self.get(key)?;
        if let Some(secs) = v.as_str().and_then(parse_duration) {
            return Some(secs);
        }
        let found = format!("found {}", describe(v));
        self.fail(
            key,
            found,
            "expected a duration of hours, minutes and seconds such as \"20s\", \"5m\" or \"1h30m20s\"",
        );
        None
    }

    fn header(&mut self, key: &str, name: &str, value: &str) -> bool {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            self.fail(
                key,
                format!("found the header name {name:?}"),
                "expected a header name made of letters, digits and !#$%&'*+-.^_`|~ (an HTTP token)",
            );
            return false;
        }
        if let Some(bad) = value.chars().find(|c| matches!(c, '\r' | '\n' | '\0')) {
            self.fail(
                key,
                format!("found the value {value:?} for header {name:?}, which holds {bad:?}"),
                "expected a header value without CR, LF or NUL",
            );
            return false;
        }
        if http::HeaderValue::from_str(value).is_err() {
            self.fail(
                key,
                format!(
                    "found the value {value:?} for header {name:?}, which holds a control character"
                ),
                "expected a header value of visible characters, spaces and tabs",
            );
            return false;
        }
        true
    }

    /// Classic `header_map`: `{"Name": "value"}`.
    fn header_map_object(&mut self, key: &str) -> Option<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        let Some(v) = self.get(key) else {
            return Some(out);
        };
        let Some(obj) = v.as_object() else {
            let found = format!("found {}", describe(v));
            self.fail(
                key,
                found,
                "expected an object of header names to string values",
            );
            return None;
        };
        let mut ok = true;
        for (name, value) in obj {
            let field = format!("{key}.{name}");
            match value {
                Value::String(s) => {
                    if self.header(&field, name, s) {
                        out.insert(name.clone(), s.clone());
                    } else {
                        ok = false;
                    }
                }
                other => {
                    let found = format!("found {}", describe(other));
                    self.fail(&field, found, "expected a string header value");
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// OAS `headers`: `[{"name": "...", "value": "..."}]`.
    fn header_map_list(&mut self, key: &str) -> Option<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        let Some(v) = self.get(key) else {
            return Some(out);
        };
        let Some(list) = v.as_array() else {
            let found = format!("found {}", describe(v));
            self.fail(
                key,
                found,
                "expected a list of {\"name\": ..., \"value\": ...}",
            );
            return None;
        };
        let mut ok = true;
        for (i, h) in list.iter().enumerate() {
            let field = format!("{key}[{i}]");
            let pair = h
                .as_object()
                .and_then(|o| Some((o.get("name")?.as_str()?, o.get("value")?.as_str()?)));
            match pair {
                Some((name, value)) => {
                    if self.header(&field, name, value) {
                        out.insert(name.to_owned(), value.to_owned());
                    } else {
                        ok = false;
                    }
                }
                None => {
                    let found = format!("found {}", h);
                    self.fail(
                        &field,
                        found,
                        "expected {\"name\": \"<string>\", \"value\": \"<string>\"}",
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn positive_int(&mut self, key: &str, what: &str) -> Option<Option<u64>> {
        let Some(v) = self.get(key) else {
            return Some(None);
        };
        match v.as_u64() {
            Some(n) if n > 0 => Some(Some(n)),
            _ => {
                let found = format!("found {}", describe(v));
                self.fail(key, found, format!("expected {what}"));
                None
            }
        }
    }

    /// `value` (read from `key`) when it is at most `max`; otherwise an error naming the maximum.
    fn at_most(
        &mut self,
        key: &str,
        value: Option<u64>,
        max: u64,
        unit: &str,
        span: &str,
    ) -> Option<u64> {
        match value {
            Some(n) if n > max => {
                self.fail(
                    key,
                    format!("found {n} {unit}"),
                    format!("expected at most {max} {unit} ({span})"),
                );
                None
            }
            other => other,
        }
    }

    fn extras(&mut self) -> Extras {
        let request_timeout = self
            .positive_int("request_timeout", "a whole number of seconds, 1 or more")
            .flatten();
        let request_timeout = self.at_most(
            "request_timeout",
            request_timeout,
            MAX_REQUEST_TIMEOUT_SECS,
            "seconds",
            "1 hour",
        );
        let retry = self.retry("retry");
        let signing_secret = self.signing_secret("signing_secret");
        Extras {
            request_timeout,
            retry,
            signing_secret,
        }
    }

    fn retry(&mut self, key: &str) -> Option<RetryPolicy> {
        let mut policy = RetryPolicy::default();
        let Some(v) = self.get(key) else {
            return Some(policy);
        };
        let Some(obj) = v.as_object() else {
            let found = format!("found {}", describe(v));
            self.fail(
                key,
                found,
                "expected {\"max_attempts\": 3, \"initial_backoff_ms\": 500, \"max_backoff_ms\": 30000}",
            );
            return None;
        };
        let mut r = Reader {
            obj,
            at: self.at.clone(),
            prefix: format!("{}{key}.", self.prefix),
            errors: self.errors,
        };
        let attempts = r.positive_int("max_attempts", "a whole number of attempts from 1 to 20");
        let initial = r.positive_int(
            "initial_backoff_ms",
            "a whole number of milliseconds, 1 or more",
        );
        let max = r.positive_int(
            "max_backoff_ms",
            "a whole number of milliseconds, 1 or more",
        );
        let (attempts, initial, max) = (attempts?, initial?, max?);
        let ms = "milliseconds";
        let initial_ok = r.at_most("initial_backoff_ms", initial, MAX_BACKOFF_MS, ms, "1 hour");
        let max_ok = r.at_most("max_backoff_ms", max, MAX_BACKOFF_MS, ms, "1 hour");
        if initial_ok != initial || max_ok != max {
            return None;
        }
        if let Some(n) = attempts {
            if n > 20 {
                r.fail(
                    "max_attempts",
                    format!("found the number {n}"),
                    "expected a whole number of attempts from 1 to 20",
                );
                return None;
            }
            policy.max_attempts = n as u32;
        }
        if let Some(ms) = initial {
            policy.initial_backoff_ms = ms;
        }
        if let Some(ms) = max {
            policy.max_backoff_ms = ms;
        }
        if policy.max_backoff_ms < policy.initial_backoff_ms {
            r.fail(
                "max_backoff_ms",
                format!(
                    "found {} (below initial_backoff_ms {})",
                    policy.max_backoff_ms, policy.initial_backoff_ms
                ),
                "expected max_backoff_ms at least initial_backoff_ms",
            );
            return None;
        }
        Some(policy)
    }

    fn signing_secret(&mut self, key: &str) -> Option<Option<String>> {
        let Some(v) = self.get(key) else {
            return Some(None);
        };
        let ok = v.as_str().filter(|s| is_signing_secret(s));
        match ok {
            Some(s) => Some(Some(s.to_owned())),
            None => {
                let found = match v {
                    Value::String(s) => format!(
                        "found a string of {} characters that is not whsec_<base64>",
                        s.len()
                    ),
                    other => format!("found {}", describe(other)),
                };
                self.fail(
                    key,
                    found,
                    "expected a Standard Webhooks secret: \"whsec_\" followed by the base64 of 24 to 64 random bytes",
                );
                None
            }
        }
    }
}

const USER_INFO_EXPECTED: &str = "expected the URL without user-info; credentials in a URL are \
     not sent, so put them in `header_map`, e.g. \"Authorization\": \"Basic <base64 of user:password>\"";

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

/// Whether `s` is `whsec_` and the standard base64 of 24 to 64 bytes.
fn is_signing_secret(s: &str) -> bool {
    let Some(b64) = s.strip_prefix("whsec_") else {
        return false;
    };
    let body = b64.trim_end_matches('=');
    let pad = b64.len() - body.len();
    let alphabet_ok = body
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    if !alphabet_ok || pad > 2 || b64.len() % 4 != 0 {
        return false;
    }
    let bytes = b64.len() / 4 * 3 - pad;
    (24..=64).contains(&bytes)
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
