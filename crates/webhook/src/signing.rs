//! Standard Webhooks signatures: `webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use hookshot_config::SigningKey;
use http::header::{HeaderName, HeaderValue};
use sha2::Sha256;

/// Signs requests with one key.
#[derive(Clone)]
pub(crate) struct Signer {
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(<secret>)")
    }
}

impl Signer {
    /// A signer with `key`, parsed from its `whsec_<base64>` secret by `hookshot-config`.
    pub(crate) fn new(key: SigningKey) -> Signer {
        Signer { key }
    }

    /// The `v1,<base64>` signature of `id.timestamp.body`.
    pub(crate) fn signature(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.key.as_bytes()).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    /// The three Standard Webhooks headers for one attempt.
    pub(crate) fn headers(
        &self,
        id: &str,
        timestamp: u64,
        body: &[u8],
    ) -> [(HeaderName, HeaderValue); 3] {
        let signature = self.signature(id, timestamp, body);
        let value = |s: &str| {
            HeaderValue::from_str(s).expect("ids, digits and base64 are valid header values")
        };
        [
            (HeaderName::from_static("webhook-id"), value(id)),
            (
                HeaderName::from_static("webhook-timestamp"),
                value(&timestamp.to_string()),
            ),
            (
                HeaderName::from_static("webhook-signature"),
                value(&signature),
            ),
        ]
    }
}

/// A new message id: `msg_` and 32 random hex digits.
pub(crate) fn new_message_id() -> String {
    format!("msg_{:032x}", rand::random::<u128>())
}
