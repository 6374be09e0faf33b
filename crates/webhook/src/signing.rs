//! Standard Webhooks signatures: `webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use http::header::{HeaderName, HeaderValue};
use sha2::Sha256;

/// Signs requests with one secret.
#[derive(Clone)]
pub(crate) struct Signer {
    key: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(<secret>)")
    }
}

impl Signer {
    /// A signer for a `whsec_<base64>` secret.
    pub(crate) fn new(secret: &str) -> Result<Signer, String> {
        let b64 = secret
            .strip_prefix("whsec_")
            .ok_or_else(|| "the secret does not start with whsec_".to_owned())?;
        let key = STANDARD
            .decode(b64)
            .map_err(|e| format!("the secret is not base64 after whsec_ ({e})"))?;
        Ok(Signer { key })
    }

    /// The `v1,<base64>` signature of `id.timestamp.body`.
    pub(crate) fn signature(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    /// Sets the three Standard Webhooks headers.
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
