//! API definitions: Tyk's classic format, unknown fields ignored.
//!
//! Used fields: `api_id`, `name`, `org_id`, `active` (an inactive API is not served; a missing
//! `active` counts as `true`), `use_keyless`, `auth.auth_header_name` (default `Authorization`),
//! `proxy.listen_path`, `proxy.target_url`, `proxy.strip_listen_path`, and the handlers: classic
//! `event_handlers` and OAS `x-tyk-api-gateway.server.eventHandlers`.
//!
//! Stages: [`ApiDefinition`] and its sections are the wire form (serde); [`parse`] checks a
//! document field by field against it, then reads the values into an [`ApiConfig`].

use hookshot_core::TargetUrl;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ConfigError, ConfigErrors, Location, describe, parse_json};
use crate::fields::check_fields;
use crate::handlers::EventHandlers;

/// The fields of a classic API definition the gateway reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApiDefinition {
    /// The API's id, unique in the gateway.
    pub api_id: String,
    /// A human name, reported in events (`API.Name`).
    pub name: String,
    /// The organisation, reported in events (`API.OrgID`).
    pub org_id: String,
    /// Whether the API is served (Tyk reads a missing `active` as false; Hookshot as true).
    pub active: bool,
    /// Whether requests pass without a key.
    pub use_keyless: bool,
    /// Where the key is presented.
    pub auth: AuthConfig,
    /// Where requests come in and where they go.
    pub proxy: ProxyConfig,
}

impl Default for ApiDefinition {
    fn default() -> Self {
        ApiDefinition {
            api_id: String::new(),
            name: String::new(),
            org_id: String::new(),
            active: true,
            use_keyless: false,
            auth: AuthConfig::default(),
            proxy: ProxyConfig::default(),
        }
    }
}

/// `auth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    /// The request header holding the key (any case); `Authorization` by default.
    pub auth_header_name: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            auth_header_name: "Authorization".into(),
        }
    }
}

/// `proxy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProxyConfig {
    /// The path prefix this API is served under (the longest matching prefix wins).
    pub listen_path: String,
    /// The upstream URL requests are sent to.
    pub target_url: String,
    /// Whether the listen path is removed before the request goes upstream.
    pub strip_listen_path: bool,
}

/// One API definition, checked: its fields, parsed target, key header and handlers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// The definition's fields.
    pub definition: ApiDefinition,
    /// `proxy.target_url`, checked.
    pub target: TargetUrl,
    /// The API's handlers, from its `event_handlers` (or OAS `eventHandlers`).
    pub handlers: EventHandlers,
    /// The file it came from.
    pub file: String,
    /// The header holding the key (`auth.auth_header_name`), lower-cased.
    pub auth_header: http::HeaderName,
}

/// Parses one API definition named `name`, reporting every mistake in it.
pub fn parse(text: &str, name: &str) -> Result<ApiConfig, ConfigErrors> {
    let doc = parse_json(text, name)?;
    let Some(obj) = doc.as_object() else {
        return Err(ConfigError::new(
            Location::file(name),
            format!("found {}", describe(&doc)),
            "expected a JSON object (a Tyk classic API definition)",
        )
        .into());
    };
    let api_id = obj
        .get("api_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let base = if api_id.is_empty() {
        Location::file(name)
    } else {
        Location::file(name).api(api_id)
    };
    let at = |field: &str| base.clone().field(field);
    let mut errors = ConfigErrors::default();
    check_fields::<ApiDefinition>(obj, "", &["auth", "proxy"], &at, &mut errors);
    for section in ["auth", "proxy"] {
        match obj.get(section) {
            None | Some(Value::Null) => {}
            Some(Value::Object(inner)) if section == "auth" => {
                check_fields::<AuthConfig>(inner, "auth.", &[], &at, &mut errors)
            }
            Some(Value::Object(inner)) => {
                check_fields::<ProxyConfig>(inner, "proxy.", &[], &at, &mut errors)
            }
            Some(other) => errors.push(ConfigError::new(
                at(section),
                format!("found {}", describe(other)),
                "expected a JSON object",
            )),
        }
    }
    let handlers = errors.take(EventHandlers::from_definition(&doc, &base));
    if !errors.is_empty() {
        return Err(errors);
    }
    let definition: ApiDefinition = serde_json::from_value(doc).map_err(|e| {
        ConfigError::new(
            base.clone(),
            e.to_string(),
            "expected a Tyk classic API definition",
        )
    })?;
    if definition.api_id.is_empty() {
        errors.push(ConfigError::new(
            at("api_id"),
            "found nothing",
            "expected the API's id, a non-empty string",
        ));
    }
    let lp = &definition.proxy.listen_path;
    if !lp.starts_with('/') {
        errors.push(ConfigError::new(
            at("proxy.listen_path"),
            format!("found {lp:?}"),
            "expected a path starting with `/`, such as \"/orders/\"",
        ));
    }
    let target = match TargetUrl::parse(&definition.proxy.target_url) {
        Ok(t) => Some(t),
        Err(why) => {
            errors.push(ConfigError::new(
                at("proxy.target_url"),
                format!("found {:?}, but {why}", definition.proxy.target_url),
                "expected an absolute http:// or https:// URL of the upstream",
            ));
            None
        }
    };
    let auth_header =
        match http::HeaderName::from_bytes(definition.auth.auth_header_name.trim().as_bytes()) {
            Ok(h) => Some(h),
            Err(_) => {
                errors.push(ConfigError::new(
                    at("auth.auth_header_name"),
                    format!("found {:?}", definition.auth.auth_header_name),
                    "expected an HTTP header name, such as \"Authorization\"",
                ));
                None
            }
        };
    match (errors.is_empty(), target, auth_header) {
        (true, Some(target), Some(auth_header)) => Ok(ApiConfig {
            definition,
            target,
            handlers,
            file: name.to_owned(),
            auth_header,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistakes_are_all_reported() {
        let text = r#"{"api_id": "billing", "use_keyless": "yes", "auth": {"auth_header_name": 7},
            "proxy": {"listen_path": "billing", "target_url": 5}}"#;
        let errors: Vec<String> = parse(text, "billing.json")
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            [
                "billing.json, API \"billing\", field `use_keyless`: found the string \"yes\"; expected `true` or `false`",
                "billing.json, API \"billing\", field `auth.auth_header_name`: found the number 7; expected a string",
                "billing.json, API \"billing\", field `proxy.target_url`: found the number 5; expected a string",
            ]
        );
        let errors: Vec<String> = parse(
            r#"{"proxy": {"listen_path": "x", "target_url": "up"}}"#,
            "x.json",
        )
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(errors.len(), 3, "{errors:#?}");
    }
}
