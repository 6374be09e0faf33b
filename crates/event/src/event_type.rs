//! The names of the events a gateway fires, spelled exactly as Tyk spells them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kind of an event.
///
/// Every Tyk event has a variant whose [`as_str`](Self::as_str) is Tyk's exact string
/// (note `RatelimitExceeded`, with a lower-case `l`); any other name is a [`Custom`](Self::Custom) event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// A request presented a key that does not exist.
    AuthFailure,
    /// A key is past its expiry or inactive.
    KeyExpired,
    /// A key exceeded its rate limit.
    RatelimitExceeded,
    /// A key exceeded its quota.
    QuotaExceeded,
    /// An organisation exceeded its quota.
    OrgQuotaExceeded,
    /// An organisation exceeded its rate limit.
    OrgRateLimitExceeded,
    /// A request asked for a disallowed version or path.
    VersionFailure,
    /// A circuit breaker changed state (fired before `BreakerTripped` or `BreakerReset`).
    BreakerTriggered,
    /// A circuit breaker opened.
    BreakerTripped,
    /// A circuit breaker closed.
    BreakerReset,
    /// An uptime check failed.
    HostDown,
    /// An uptime check recovered.
    HostUp,
    /// The key API created a key.
    TokenCreated,
    /// The key API changed a key.
    TokenUpdated,
    /// The key API deleted a key.
    TokenDeleted,
    /// A usage monitor threshold was crossed.
    TriggerExceeded,
    /// Upstream OAuth failed.
    UpstreamOAuthError,
    /// A certificate is close to its expiry.
    CertificateExpiringSoon,
    /// A certificate has expired.
    CertificateExpired,
    /// An event of a name Tyk does not define.
    Custom(String),
}

/// Which shape of metadata an event type carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaFamily {
    /// `Path`, `Origin`, `Key`: auth, expiry, rate and quota events.
    KeyFailure,
    /// `Path`, `Origin`, `Key`, `Reason`.
    VersionFailure,
    /// `Path`, `APIID`, `CircuitEvent`.
    CircuitBreaker,
    /// `HostInfo`.
    HostStatus,
    /// `Org`, `Key`.
    Token,
    /// `OrgID`, `Key`, `TriggerLimit`, `UsagePercentage`.
    Trigger,
    /// `APIID`.
    UpstreamOAuth,
    /// `CertID`, `CertName`, expiry fields, `APIID`, `CertRole`.
    Certificate,
    /// Free-form fields.
    Custom,
}

impl EventType {
    /// Every event type Tyk defines, in the order of Tyk's documentation.
    pub const ALL: [EventType; 19] = [
        EventType::AuthFailure,
        EventType::KeyExpired,
        EventType::RatelimitExceeded,
        EventType::QuotaExceeded,
        EventType::OrgQuotaExceeded,
        EventType::OrgRateLimitExceeded,
        EventType::VersionFailure,
        EventType::BreakerTriggered,
        EventType::BreakerTripped,
        EventType::BreakerReset,
        EventType::HostDown,
        EventType::HostUp,
        EventType::TokenCreated,
        EventType::TokenUpdated,
        EventType::TokenDeleted,
        EventType::TriggerExceeded,
        EventType::UpstreamOAuthError,
        EventType::CertificateExpiringSoon,
        EventType::CertificateExpired,
    ];

    /// The event's name exactly as Tyk writes it.
    pub fn as_str(&self) -> &str {
        match self {
            EventType::AuthFailure => "AuthFailure",
            EventType::KeyExpired => "KeyExpired",
            EventType::RatelimitExceeded => "RatelimitExceeded",
            EventType::QuotaExceeded => "QuotaExceeded",
            EventType::OrgQuotaExceeded => "OrgQuotaExceeded",
            EventType::OrgRateLimitExceeded => "OrgRateLimitExceeded",
            EventType::VersionFailure => "VersionFailure",
            EventType::BreakerTriggered => "BreakerTriggered",
            EventType::BreakerTripped => "BreakerTripped",
            EventType::BreakerReset => "BreakerReset",
            EventType::HostDown => "HostDown",
            EventType::HostUp => "HostUp",
            EventType::TokenCreated => "TokenCreated",
            EventType::TokenUpdated => "TokenUpdated",
            EventType::TokenDeleted => "TokenDeleted",
            EventType::TriggerExceeded => "TriggerExceeded",
            EventType::UpstreamOAuthError => "UpstreamOAuthError",
            EventType::CertificateExpiringSoon => "CertificateExpiringSoon",
            EventType::CertificateExpired => "CertificateExpired",
            EventType::Custom(name) => name,
        }
    }

    /// Parses a name; Tyk's names (and `RateLimitExceeded` as an alias) give their variant,
    /// anything else a [`Custom`](Self::Custom) event. Never fails.
    pub fn from_name(name: &str) -> EventType {
        if name == "RateLimitExceeded" {
            return EventType::RatelimitExceeded;
        }
        EventType::ALL
            .iter()
            .find(|t| t.as_str() == name)
            .cloned()
            .unwrap_or_else(|| EventType::Custom(name.to_owned()))
    }

    /// Whether this is one of Tyk's own events rather than a custom one.
    pub fn is_builtin(&self) -> bool {
        !matches!(self, EventType::Custom(_))
    }

    /// Whether Tyk fires this event from the key API rather than from an API's traffic:
    /// such events go to the global handlers of the gateway configuration.
    pub fn is_system(&self) -> bool {
        matches!(
            self,
            EventType::TokenCreated | EventType::TokenUpdated | EventType::TokenDeleted
        )
    }

    /// The shape of metadata this event carries.
    pub fn family(&self) -> MetaFamily {
        match self {
            EventType::AuthFailure
            | EventType::KeyExpired
            | EventType::RatelimitExceeded
            | EventType::QuotaExceeded
            | EventType::OrgQuotaExceeded
            | EventType::OrgRateLimitExceeded => MetaFamily::KeyFailure,
            EventType::VersionFailure => MetaFamily::VersionFailure,
            EventType::BreakerTriggered | EventType::BreakerTripped | EventType::BreakerReset => {
                MetaFamily::CircuitBreaker
            }
            EventType::HostDown | EventType::HostUp => MetaFamily::HostStatus,
            EventType::TokenCreated | EventType::TokenUpdated | EventType::TokenDeleted => {
                MetaFamily::Token
            }
            EventType::TriggerExceeded => MetaFamily::Trigger,
            EventType::UpstreamOAuthError => MetaFamily::UpstreamOAuth,
            EventType::CertificateExpiringSoon | EventType::CertificateExpired => {
                MetaFamily::Certificate
            }
            EventType::Custom(_) => MetaFamily::Custom,
        }
    }

    /// The `Message` Tyk sets for this event, where it sets a fixed one.
    pub fn default_message(&self) -> &'static str {
        match self {
            EventType::AuthFailure => "Auth Failure",
            EventType::KeyExpired => "Attempted access from expired key.",
            EventType::RatelimitExceeded => "Rate Limit Exceeded",
            EventType::QuotaExceeded => "Key Quota Limit Exceeded",
            EventType::OrgQuotaExceeded => "Organisation quota has been exceeded",
            EventType::OrgRateLimitExceeded => "Organisation rate limit has been exceeded",
            EventType::VersionFailure => "Attempted access to disallowed version / path.",
            EventType::BreakerTriggered => "Breaker Triggered",
            EventType::BreakerTripped => "Breaker Tripped",
            EventType::BreakerReset => "Breaker Reset",
            EventType::HostDown => "Uptime test failed",
            EventType::HostUp => "Uptime test succeeded",
            EventType::TokenCreated => "Key generated.",
            EventType::TokenUpdated => "Key modified.",
            EventType::TokenDeleted => "Key deleted.",
            EventType::TriggerExceeded => "Usage trigger exceeded",
            EventType::UpstreamOAuthError => "Upstream OAuth error",
            EventType::CertificateExpiringSoon => "Certificate is expiring soon",
            EventType::CertificateExpired => "Certificate has expired",
            EventType::Custom(_) => "",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(EventType::from_name(s))
    }
}

impl From<&str> for EventType {
    fn from(s: &str) -> Self {
        EventType::from_name(s)
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Ok(EventType::from_name(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_exactly() {
        for t in EventType::ALL {
            assert_eq!(EventType::from_name(t.as_str()), t);
            assert!(t.is_builtin());
        }
        assert_eq!(EventType::RatelimitExceeded.as_str(), "RatelimitExceeded");
    }

    #[test]
    fn rate_limit_alias_is_accepted_on_input() {
        assert_eq!(
            EventType::from_name("RateLimitExceeded"),
            EventType::RatelimitExceeded
        );
        assert_eq!(
            EventType::from_name("RateLimitExceeded").to_string(),
            "RatelimitExceeded"
        );
    }

    #[test]
    fn unknown_names_are_custom_events() {
        let t = EventType::from_name("PaymentDeclined");
        assert_eq!(t, EventType::Custom("PaymentDeclined".into()));
        assert_eq!(t.as_str(), "PaymentDeclined");
        assert_eq!(t.family(), MetaFamily::Custom);
        assert!(!t.is_builtin());
    }

    #[test]
    fn serde_uses_tyk_strings() {
        let json = serde_json::to_string(&EventType::RatelimitExceeded).unwrap();
        assert_eq!(json, "\"RatelimitExceeded\"");
        let t: EventType = serde_json::from_str("\"RateLimitExceeded\"").unwrap();
        assert_eq!(t, EventType::RatelimitExceeded);
    }

    #[test]
    fn system_events_are_the_token_events() {
        let system: Vec<_> = EventType::ALL.iter().filter(|t| t.is_system()).collect();
        assert_eq!(
            system,
            [
                &EventType::TokenCreated,
                &EventType::TokenUpdated,
                &EventType::TokenDeleted
            ]
        );
    }
}
