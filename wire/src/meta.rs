//! Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw
//! body)>`. Checking it (with the refusal in words) is the server's `channels::meta::signature`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header Meta signs every POST with.
pub const HEADER: &str = "x-hub-signature-256";

/// The hex HMAC-SHA256 of `body` with `secret`.
pub fn hex_hmac(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The header value Meta sends for `body`: `sha256=<hex>`.
pub fn header_value(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex_hmac(secret, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // HMAC-SHA256 test case 2 of RFC 4231.
        assert_eq!(
            hex_hmac("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
