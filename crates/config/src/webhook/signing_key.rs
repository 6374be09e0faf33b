//! The Standard Webhooks signing secret, `whsec_<base64>`, parsed once into its bytes.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The fewest bytes a signing key may have.
pub const MIN_SIGNING_KEY_BYTES: usize = 24;
/// The most bytes a signing key may have.
pub const MAX_SIGNING_KEY_BYTES: usize = 64;

/// A Standard Webhooks secret: `whsec_` followed by the standard base64 of 24 to 64 random
/// bytes, held as those bytes. Its `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    bytes: Vec<u8>,
}

/// Why a text is not a [`SigningKey`]; it never repeats the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningKeyError {
    /// The text does not start with `whsec_`.
    #[error("the secret does not start with whsec_")]
    NoPrefix,
    /// What follows `whsec_` is not standard, padded base64.
    #[error("the secret is not base64 after whsec_")]
    NotBase64,
    /// The key is too short or too long.
    #[error("the secret is {0} bytes, not {MIN_SIGNING_KEY_BYTES} to {MAX_SIGNING_KEY_BYTES}")]
    Length(usize),
}

impl SigningKey {
    /// Parses `whsec_<base64>`.
    pub fn parse(secret: &str) -> Result<SigningKey, SigningKeyError> {
        let b64 = secret
            .strip_prefix("whsec_")
            .ok_or(SigningKeyError::NoPrefix)?;
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| SigningKeyError::NotBase64)?;
        if !(MIN_SIGNING_KEY_BYTES..=MAX_SIGNING_KEY_BYTES).contains(&bytes.len()) {
            return Err(SigningKeyError::Length(bytes.len()));
        }
        Ok(SigningKey { bytes })
    }

    /// The key's bytes, for the HMAC.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// [`SigningKey::parse`].
impl FromStr for SigningKey {
    type Err = SigningKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SigningKey::parse(s)
    }
}

/// Shows that there is a key, never the key.
impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks specification's example.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn parses_the_specification_example_into_its_bytes() {
        let key = SigningKey::parse(SECRET).unwrap();
        assert_eq!(key.as_bytes().len(), 24);
        assert_eq!(key, SECRET.parse().unwrap());
    }

    #[test]
    fn its_debug_hides_the_secret() {
        let key = SigningKey::parse(SECRET).unwrap();
        let shown = format!("{key:?}");
        assert_eq!(shown, "SigningKey([redacted])");
        assert!(!shown.contains("MfKQ"));
    }

    #[test]
    fn empty_and_invalid_secrets_are_refused() {
        for (secret, why) in [
            ("", SigningKeyError::NoPrefix),
            ("whsec_", SigningKeyError::Length(0)),
            ("hunter2", SigningKeyError::NoPrefix),
            (
                "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                SigningKeyError::NoPrefix,
            ),
            ("whsec_not base64!", SigningKeyError::NotBase64),
            (
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
                SigningKeyError::NotBase64,
            ),
            ("whsec_AAAA", SigningKeyError::Length(3)),
        ] {
            assert_eq!(SigningKey::parse(secret), Err(why), "{secret:?}");
        }
        let too_long = format!("whsec_{}", STANDARD.encode([7u8; 65]));
        assert_eq!(
            SigningKey::parse(&too_long),
            Err(SigningKeyError::Length(65))
        );
    }
}
