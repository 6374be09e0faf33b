//! A key's session object (Tyk's term): who it belongs to, when it expires, its limits and the
//! APIs it may call. Unknown fields are kept as they came, so a Tyk session round-trips.

use std::collections::BTreeMap;
use std::time::Duration;

use hookshot_config::{ConfigError, Location};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::store::{MAX_PERIOD_SECS, rate_window};

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
    /// Requests allowed per `per` seconds, up to [`MAX_RATE`](crate::store::MAX_RATE); 0 or -1 means no rate limit.
    pub rate: f64,
    /// The rate window, in seconds, up to [`MAX_PERIOD_SECS`]; 0 or -1 means no rate limit.
    pub per: f64,
    /// Requests allowed per quota period; -1 (or 0) means unlimited.
    pub quota_max: i64,
    /// The quota period, in seconds, up to [`MAX_PERIOD_SECS`]; 0 or -1: the quota never renews.
    pub quota_renewal_rate: i64,
    /// The APIs the key may call, by `api_id`; empty means every API (as in Tyk).
    pub access_rights: BTreeMap<String, AccessDefinition>,
    /// Every other field, kept unchanged.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A session's limits as the gateway applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `limit` requests per rolling `window`; `None`: no rate limit.
    pub rate: Option<(u64, Duration)>,
    /// `max` requests per `renewal_secs` seconds (0: never renews); `None`: no quota.
    pub quota: Option<(i64, i64)>,
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
                hookshot_config::describe(&doc)
            ));
        };
        let mut errors = hookshot_config::ConfigErrors::default();
        let at = |f: &str| hookshot_config::Location::default().field(f);
        hookshot_config::check_fields::<Session>(obj, "", &["access_rights"], &at, &mut errors);
        match obj.get("access_rights") {
            None | Some(Value::Null) => {}
            Some(Value::Object(rights)) => {
                for (api, right) in rights {
                    match right.as_object() {
                        Some(inner) => hookshot_config::check_fields::<AccessDefinition>(
                            inner,
                            &format!("access_rights.{api}."),
                            &[],
                            &at,
                            &mut errors,
                        ),
                        None => errors.push(hookshot_config::ConfigError::new(
                            at(&format!("access_rights.{api}")),
                            format!("found {}", hookshot_config::describe(right)),
                            "expected an object {\"api_id\", \"api_name\", \"versions\"}",
                        )),
                    }
                }
            }
            Some(other) => errors.push(hookshot_config::ConfigError::new(
                at("access_rights"),
                format!("found {}", hookshot_config::describe(other)),
                "expected an object of API ids",
            )),
        }
        if let Some(e) = errors.iter().next() {
            return Err(format!("{}: {}; {}", e.location, e.found, e.expected));
        }
        let session: Session =
            serde_json::from_value(doc).map_err(|e| format!("the session does not parse ({e})"))?;
        session.limits().map_err(|e| e.to_string())?;
        Ok(session)
    }

    /// The rate and quota the gateway applies for this session, or the first field holding a
    /// value it cannot apply (see [`rate_window`]; `quota_max` below -1, `quota_renewal_rate`
    /// below -1 or above [`MAX_PERIOD_SECS`]). The keys API refuses such a session; one already
    /// stored (by hand, or by another gateway) is answered as a configuration error.
    pub fn limits(&self) -> Result<Limits, ConfigError> {
        let rate = rate_window(self.rate, self.per)?;
        let at = |f: &str| Location::default().field(f);
        if self.quota_max < -1 {
            return Err(ConfigError::new(
                at("quota_max"),
                format!("found the number {}", self.quota_max),
                "expected requests per quota period, 0 or more, or -1 for no quota",
            ));
        }
        if !(-1..=MAX_PERIOD_SECS).contains(&self.quota_renewal_rate) {
            return Err(ConfigError::new(
                at("quota_renewal_rate"),
                format!("found the number {}", self.quota_renewal_rate),
                format!(
                    "expected a quota period in seconds from 0 to {MAX_PERIOD_SECS} (ten years), \
                     or 0 or -1 for a quota that never renews"
                ),
            ));
        }
        let quota =
            (self.quota_max > 0).then_some((self.quota_max, self.quota_renewal_rate.max(0)));
        Ok(Limits { rate, quota })
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
    fn absurd_limits_are_refused_naming_field_value_and_what_is_accepted() {
        let cases: [(&[u8], &str); 6] = [
            (
                br#"{"rate": 1, "per": 1e20}"#,
                "field `per`: found the number 1e20; expected a window in seconds from 0 to 315360000 (ten years), or 0 or -1 for no rate limit",
            ),
            (
                br#"{"rate": -3, "per": 1}"#,
                "field `rate`: found the number -3.0",
            ),
            (br#"{"rate": 1e300, "per": 1}"#, "field `rate`"),
            (
                br#"{"quota_max": -2}"#,
                "field `quota_max`: found the number -2; expected",
            ),
            (
                br#"{"quota_max": 10, "quota_renewal_rate": 9223372036854775807}"#,
                "field `quota_renewal_rate`: found the number 9223372036854775807; expected a quota period in seconds from 0 to 315360000",
            ),
            (
                br#"{"quota_renewal_rate": -5}"#,
                "field `quota_renewal_rate`",
            ),
        ];
        for (body, want) in cases {
            let err = Session::from_body(body).unwrap_err();
            assert!(err.contains(want), "{err} does not contain {want}");
        }
        // Tyk's -1 for "no limit" and ordinary values pass.
        let s = Session::from_body(
            br#"{"rate": -1, "per": -1, "quota_max": -1, "quota_renewal_rate": -1}"#,
        )
        .unwrap();
        assert_eq!(
            s.limits().unwrap(),
            Limits {
                rate: None,
                quota: None
            }
        );
        let s = Session::from_body(
            br#"{"rate": 10, "per": 60, "quota_max": 5, "quota_renewal_rate": 3600}"#,
        )
        .unwrap();
        assert_eq!(
            s.limits().unwrap(),
            Limits {
                rate: Some((10, Duration::from_secs(60))),
                quota: Some((5, 3600))
            }
        );
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
