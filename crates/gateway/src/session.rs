//! A key's session object (Tyk's term): who it belongs to, when it expires, its limits and the
//! APIs it may call. Unknown fields are kept as they came, so a Tyk session round-trips.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// A key's session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Session {
    /// The organisation the key belongs to.
    pub org_id: String,
    /// When the key expires, in unix seconds; 0 (or less) never.
    pub expires: i64,
    /// Whether the key is switched off (treated as expired).
    pub is_inactive: bool,
    /// Requests allowed per `per` seconds; 0 means no rate limit.
    pub rate: f64,
    /// The rate window, in seconds.
    pub per: f64,
    /// Requests allowed per quota period; -1 (or 0) means unlimited.
    pub quota_max: i64,
    /// The quota period, in seconds; 0 (or less): the quota never renews.
    pub quota_renewal_rate: i64,
    /// The APIs the key may call, by `api_id`; empty means every API (as in Tyk).
    pub access_rights: BTreeMap<String, AccessDefinition>,
    /// Every other field, kept unchanged.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of `access_rights`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessDefinition {
    /// The API's id.
    pub api_id: String,
    /// The API's name.
    pub api_name: String,
    /// The versions allowed.
    pub versions: Vec<String>,
    /// Every other field, kept unchanged.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Session {
    /// Reads a session from a request body, naming the first wrong field.
    pub fn from_body(body: &[u8]) -> Result<Session, String> {
        let doc: Value = serde_json::from_slice(body)
            .map_err(|e| format!("the body is not valid JSON ({e})"))?;
        let Some(obj) = doc.as_object() else {
            return Err(format!(
                "the body is {}, expected a JSON object (a session)",
                hookshot_event::describe(&doc)
            ));
        };
        let mut errors = hookshot_event::ConfigErrors::default();
        let at = |f: &str| hookshot_event::Location::default().field(f);
        crate::fields::check_fields::<Session>(obj, "", &["access_rights"], &at, &mut errors);
        match obj.get("access_rights") {
            None | Some(Value::Null) => {}
            Some(Value::Object(rights)) => {
                for (api, right) in rights {
                    match right.as_object() {
                        Some(inner) => crate::fields::check_fields::<AccessDefinition>(
                            inner,
                            &format!("access_rights.{api}."),
                            &[],
                            &at,
                            &mut errors,
                        ),
                        None => errors.push(hookshot_event::ConfigError::new(
                            at(&format!("access_rights.{api}")),
                            format!("found {}", hookshot_event::describe(right)),
                            "expected an object {\"api_id\", \"api_name\", \"versions\"}",
                        )),
                    }
                }
            }
            Some(other) => errors.push(hookshot_event::ConfigError::new(
                at("access_rights"),
                format!("found {}", hookshot_event::describe(other)),
                "expected an object of API ids",
            )),
        }
        if let Some(e) = errors.iter().next() {
            return Err(format!("{}: {}; {}", e.location, e.found, e.expected));
        }
        serde_json::from_value(doc).map_err(|e| format!("the session does not parse ({e})"))
    }

    /// Whether the key has expired or is inactive at `now` (unix seconds).
    pub fn is_expired(&self, now: i64) -> bool {
        self.is_inactive || (self.expires > 0 && self.expires <= now)
    }

    /// Whether the key may call `api_id`.
    pub fn may_access(&self, api_id: &str) -> bool {
        self.access_rights.is_empty() || self.access_rights.contains_key(api_id)
    }
}

/// The SHA-256 of a key, in lower-case hex: how keys are stored and reported, never in the clear.
pub fn hash_key(key: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(key.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0x0f)] as char);
    }
    out
}

/// A new random key: 32 lower-case hex digits (128 bits), after the organisation id as Tyk does.
pub fn generate_key(org_id: &str) -> String {
    let bytes: [u8; 16] = rand::random();
    let mut out = String::from(org_id);
    for b in bytes {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_round_trip() {
        let body = br#"{"org_id": "acme", "rate": 10, "per": 1, "quota_max": -1, "alias": "bob",
            "access_rights": {"orders": {"api_id": "orders", "api_name": "Orders", "versions": ["Default"], "limit": null}}}"#;
        let s = Session::from_body(body).unwrap();
        assert_eq!(s.extra.get("alias"), Some(&Value::from("bob")));
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back["alias"], "bob");
        assert!(back["access_rights"]["orders"].get("limit").is_some());
    }

    #[test]
    fn wrong_types_name_the_field() {
        let cases: [(&[u8], &str); 5] = [
            (b"{", "not valid JSON"),
            (b"[]", "expected a JSON object"),
            (
                br#"{"rate": "fast"}"#,
                "field `rate`: found the string \"fast\"; expected a number",
            ),
            (
                br#"{"is_inactive": 1}"#,
                "field `is_inactive`: found the number 1; expected `true` or `false`",
            ),
            (
                br#"{"access_rights": {"orders": {"versions": "v1"}}}"#,
                "field `access_rights.orders.versions`: found the string \"v1\"; expected a sequence",
            ),
        ];
        for (body, want) in cases {
            let err = Session::from_body(body).unwrap_err();
            assert!(err.contains(want), "{err} does not contain {want}");
        }
    }

    #[test]
    fn expiry_and_access() {
        let mut s = Session::default();
        assert!(!s.is_expired(100));
        s.expires = 100;
        assert!(s.is_expired(100) && !s.is_expired(99));
        s.expires = 0;
        s.is_inactive = true;
        assert!(s.is_expired(0));
        assert!(s.may_access("any"));
        s.access_rights
            .insert("orders".into(), AccessDefinition::default());
        assert!(s.may_access("orders") && !s.may_access("billing"));
    }

    #[test]
    fn keys_hash_to_hex_and_generate_uniquely() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let (a, b) = (generate_key("org"), generate_key("org"));
        assert!(a.starts_with("org") && a.len() == 35 && a != b);
    }
}
