//! The preference center's links (`/p/{token}`): a token names the identifier the link was
//! sent to, the customer who held it then, and when it expires, signed with the server's key:
//!
//! `{identifier}.{customer}.{expiry hour}.{mac}`: the expiry in whole hours since the epoch,
//! the MAC the first 12 bytes (24 hex digits) of HMAC-SHA256 over a purpose-prefixed message,
//! so a value made for another purpose (an unsubscribe link, a chat token) never verifies as
//! this. Short enough for an SMS. Checked in constant time; bounded before any work; nothing
//! here panics on any input.
//!
//! The token itself says nothing of other customers and cannot be turned into another one; the
//! page refuses it once the customer was merged away or the identifier removed
//! (`service::preferences::open`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const PURPOSE: &[u8] = b"convergence-preferences-v1";
const MAC_BYTES: usize = 12;
/// The longest token read; longer input is refused unread.
const MAX_TOKEN: usize = 80;
const HOUR_MS: i64 = 3_600_000;
/// How long a link works: 30 days.
pub const TTL_MS: i64 = 30 * 24 * HOUR_MS;

/// What a genuine token says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claims {
    pub identifier_id: i64,
    pub customer_id: i64,
    /// When it stops working (unix ms, a whole hour).
    pub expires_at: i64,
}

/// Why a token is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not the shape of a token (cut short, mistyped).
    Garbled,
    /// The shape is right but we did not sign it.
    Forged,
    /// Ours, but too old: what it names, so a fresh link can be offered by the same channel.
    Expired(Claims),
}

fn mac(key: &[u8], identifier: &str, customer: &str, hour: &str) -> HmacSha256 {
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(PURPOSE);
    for p in [identifier, customer, hour] {
        m.update(b"\n");
        m.update(p.as_bytes());
    }
    m
}

/// The token for `identifier_id` of `customer_id`, valid from `now` for [`TTL_MS`] (rounded
/// up to the hour).
pub fn sign(key: &[u8], identifier_id: i64, customer_id: i64, now: i64) -> String {
    let hour = (now + TTL_MS).div_euclid(HOUR_MS) + 1;
    sign_until_hour(key, identifier_id, customer_id, hour)
}

fn sign_until_hour(key: &[u8], identifier_id: i64, customer_id: i64, hour: i64) -> String {
    let (i, c, h) = (
        identifier_id.to_string(),
        customer_id.to_string(),
        hour.to_string(),
    );
    let tag = mac(key, &i, &c, &h).finalize().into_bytes();
    format!("{i}.{c}.{h}.{}", hex::encode(&tag[..MAC_BYTES]))
}

/// What `token` names, when we signed it and it has not expired at `now`.
pub fn verify(key: &[u8], token: &str, now: i64) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN || !token.is_ascii() {
        return Err(TokenError::Garbled);
    }
    let mut parts = token.split('.');
    let (Some(i), Some(c), Some(h), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(TokenError::Garbled);
    };
    let number = |s: &str| {
        s.parse::<i64>()
            .ok()
            .filter(|n| *n > 0 && n.to_string() == s)
    };
    let (Some(identifier_id), Some(customer_id), Some(hour)) = (number(i), number(c), number(h))
    else {
        return Err(TokenError::Garbled);
    };
    if tag.len() != MAC_BYTES * 2 || !tag.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(TokenError::Garbled);
    }
    let tag = hex::decode(tag).map_err(|_| TokenError::Garbled)?;
    mac(key, i, c, h)
        .verify_truncated_left(&tag)
        .map_err(|_| TokenError::Forged)?;
    let claims = Claims {
        identifier_id,
        customer_id,
        expires_at: hour.saturating_mul(HOUR_MS),
    };
    if now >= claims.expires_at {
        return Err(TokenError::Expired(claims));
    }
    Ok(claims)
}

/// The page's address for `identifier_id` of `customer_id` under `public_url`.
pub fn link(
    public_url: &str,
    key: &[u8],
    identifier_id: i64,
    customer_id: i64,
    now: i64,
) -> String {
    format!(
        "{}/p/{}",
        public_url.trim_end_matches('/'),
        sign(key, identifier_id, customer_id, now)
    )
}

/// Makes links: what the services and senders are given (the key stays here).
#[derive(Clone)]
pub struct Linker {
    pub public_url: String,
    pub key: Vec<u8>,
}

impl Linker {
    pub fn link(&self, identifier_id: i64, customer_id: i64, now: i64) -> String {
        link(&self.public_url, &self.key, identifier_id, customer_id, now)
    }
}

impl std::fmt::Debug for Linker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &[u8] = b"test key, thirty-two bytes long!";
    const NOW: i64 = 1_796_000_000_000;

    #[test]
    fn a_token_names_its_identifier_and_customer_until_it_expires() {
        let t = sign(KEY, 42, 7, NOW);
        let c = verify(KEY, &t, NOW).unwrap();
        assert_eq!((c.identifier_id, c.customer_id), (42, 7));
        assert!(c.expires_at >= NOW + TTL_MS && c.expires_at < NOW + TTL_MS + 2 * HOUR_MS);
        assert!(verify(KEY, &t, NOW + TTL_MS - 1).is_ok());
        assert_eq!(verify(KEY, &t, c.expires_at), Err(TokenError::Expired(c)));
        assert!(t.len() < 50, "short enough for a text message: {t}");
    }

    #[test]
    fn another_key_or_any_changed_part_is_refused() {
        let t = sign(KEY, 42, 7, NOW);
        assert_eq!(verify(b"another key", &t, NOW), Err(TokenError::Forged));
        let parts: Vec<&str> = t.split('.').collect();
        // Another identifier, customer or a later expiry with the same MAC.
        for (i, v) in [(0, "43"), (1, "8"), (2, "999999999")] {
            let mut p = parts.clone();
            p[i] = v;
            assert_eq!(
                verify(KEY, &p.join("."), NOW),
                Err(TokenError::Forged),
                "{i}"
            );
        }
        // A MAC made for the unsubscribe purpose never verifies here.
        assert_eq!(
            verify(KEY, "42.7.1.00000000000000000000000", NOW),
            Err(TokenError::Garbled)
        );
    }

    #[test]
    fn garbled_tokens_are_refused_unread() {
        let t = sign(KEY, 42, 7, NOW);
        for bad in [
            "",
            "1.2.3",
            &t[..t.len() - 1],
            &format!("{t}."),
            &t.to_uppercase(),
            "042.7.1.000000000000000000000000",
            "-1.7.1.000000000000000000000000",
            &"9".repeat(200),
            "4é.7.1.000000000000000000000000",
        ] {
            assert_eq!(verify(KEY, bad, NOW), Err(TokenError::Garbled), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn any_input_is_answered_without_panic(s in ".{0,120}") {
            let _ = verify(KEY, &s, NOW);
        }

        #[test]
        fn every_signed_token_verifies(i in 1i64..i64::MAX / 2, c in 1i64..i64::MAX / 2) {
            let t = sign(KEY, i, c, NOW);
            let got = verify(KEY, &t, NOW).unwrap();
            prop_assert_eq!((got.identifier_id, got.customer_id), (i, c));
        }
    }
}
