//! The cool-down seam: a store that claims a request's checksum for a window.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;

/// Tyk's key prefix: a checksum is stored under `webhook.cache.<32 lower-case hex digits>`.
pub const TYK_KEY_PREFIX: &str = "webhook.cache.";

/// The MD5 of a webhook request in the byte format Tyk uses (`hookshot-cooldown` computes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Checksum(pub [u8; 16]);

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Checksum {
    /// The 32 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        let hex = self.hex_bytes();
        // The digits are ASCII.
        String::from_utf8_lossy(&hex).into_owned()
    }

    /// The 32 lower-case hex digits as bytes, without allocating.
    pub fn hex_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, b) in self.0.iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 0x0f)];
        }
        out
    }

    /// The store key: `prefix` followed by the 32 lower-case hex digits
    /// (`webhook.cache.<hex>` with [`TYK_KEY_PREFIX`]).
    pub fn key(&self, prefix: &str) -> String {
        let mut key = String::with_capacity(prefix.len() + 32);
        key.push_str(prefix);
        key.push_str(&self.to_hex());
        key
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.hex_bytes();
        f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
    }
}

/// A string that is not 32 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a checksum: expected 32 hex digits, found {0:?}")]
pub struct ParseChecksumError(pub String);

impl FromStr for Checksum {
    type Err = ParseChecksumError;

    /// Parses 32 hex digits, either case.
    fn from_str(s: &str) -> Result<Checksum, ParseChecksumError> {
        let bytes = s.as_bytes();
        if bytes.len() != 32 {
            return Err(ParseChecksumError(s.to_owned()));
        }
        let mut out = [0u8; 16];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            match (hex_value(pair[0]), hex_value(pair[1])) {
                (Some(hi), Some(lo)) => out[i] = hi << 4 | lo,
                _ => return Err(ParseChecksumError(s.to_owned())),
            }
        }
        Ok(Checksum(out))
    }
}

/// The value of one hex digit, either case.
pub(crate) fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// What a claim decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This caller holds the checksum for the window: send.
    Won,
    /// Another caller holds it: suppress.
    Held,
    /// The store could not be asked; `send` is the store's policy (fail-open sends).
    Unavailable {
        /// Whether the caller should send anyway.
        send: bool,
    },
}

impl Claim {
    /// Whether the request should be sent.
    pub fn should_send(self) -> bool {
        matches!(self, Claim::Won | Claim::Unavailable { send: true })
    }
}

/// What a store has answered since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClaimStats {
    /// Claims answered [`Claim::Won`] (zero-window claims included).
    pub won: u64,
    /// Claims answered [`Claim::Held`].
    pub held: u64,
    /// Claims answered [`Claim::Unavailable`].
    pub unavailable: u64,
    /// Failed exchanges with the backing server: connection attempts that failed, commands that
    /// failed or were not answered within the claim's time limit.
    pub errors: u64,
}

impl ClaimStats {
    /// Counts from a store of another crate (the struct is `#[non_exhaustive]`, so it is not
    /// built with a literal outside this crate).
    pub fn new(won: u64, held: u64, unavailable: u64, errors: u64) -> ClaimStats {
        ClaimStats {
            won,
            held,
            unavailable,
            errors,
        }
    }
}

/// A store of claimed checksums, each held for a window.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait CooldownStore: Send + Sync {
    /// Atomically claims `checksum` for `window`: of any number of identical claims within the
    /// window, across tasks and across processes sharing the store, exactly one gets [`Claim::Won`].
    /// A zero window always wins and stores nothing.
    async fn claim(&self, checksum: &Checksum, window: Duration) -> Claim;

    /// What the store has answered so far; stores that do not count return zeros.
    fn stats(&self) -> ClaimStats {
        ClaimStats::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_key_and_parse() {
        let c = Checksum([
            0x62, 0xa6, 0xb4, 0xfa, 0x9b, 0x45, 0xcd, 0x37, 0x2b, 0x87, 0x17, 0x64, 0x29, 0x6f,
            0xb3, 0xa5,
        ]);
        assert_eq!(c.to_hex(), "62a6b4fa9b45cd372b871764296fb3a5");
        assert_eq!(c.to_string(), c.to_hex());
        assert_eq!(
            c.key(TYK_KEY_PREFIX),
            "webhook.cache.62a6b4fa9b45cd372b871764296fb3a5"
        );
        assert_eq!(
            "62A6B4FA9B45CD372B871764296FB3A5".parse::<Checksum>(),
            Ok(c)
        );
        assert!("62a6".parse::<Checksum>().is_err());
        assert!(
            "zz a6b4fa9b45cd372b871764296fb3a5"
                .parse::<Checksum>()
                .is_err()
        );
    }

    #[test]
    fn only_a_won_or_fail_open_claim_sends() {
        assert!(Claim::Won.should_send());
        assert!(Claim::Unavailable { send: true }.should_send());
        assert!(!Claim::Held.should_send());
        assert!(!Claim::Unavailable { send: false }.should_send());
    }
}
