//! The website chat's signed values, each bound to one chat channel:
//!
//! - **Visitor tokens** (`v1.<channel>.<visitor>.<expires>.<mac>`): what the widget keeps in the
//!   site's page to find its conversation again after a reload. Short-lived and refreshed by
//!   the server; a token names one visitor of one channel, so the website's embed code (which
//!   only names the channel) never reads another visitor's conversation.
//! - **Continue links** (`k1.<channel>.<customer>.<expires>.<mac>`): an agent's "continue in
//!   chat" link, which opens the chat already attached to that customer.
//! - **Identity hashes**: a site that signs its user in proves it with
//!   `hex(HMAC-SHA256(channel secret, user id))`, as peers' widgets do.
//!
//! Every MAC is HMAC-SHA256 over a purpose-prefixed message (so a value made for one purpose
//! never verifies as another), compared in constant time (`Mac::verify_slice`). Inputs are
//! bounded before any work; nothing here panics on any input.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The longest token considered; longer input is refused unread.
const MAX_TOKEN: usize = 200;
/// Visitor ids: 16 to 64 characters of `[a-z0-9]` (the server makes 26).
const VISITOR_MIN: usize = 16;
const VISITOR_MAX: usize = 64;
/// MACs in tokens: the first 16 bytes, as 32 lowercase hex digits.
const TOKEN_MAC_BYTES: usize = 16;
/// A site's user id in `identify()`: at most this many bytes.
pub const MAX_USER_ID: usize = 256;

/// Why a token was refused. Shown to nobody in detail (the widget starts a fresh session);
/// logged with the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not one of ours")]
    Malformed,
    #[error("the token was made for another chat")]
    OtherChannel,
    #[error("the token's signature does not match")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
}

fn mac(key: &[u8], purpose: &str, parts: &[&str]) -> HmacSha256 {
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(purpose.as_bytes());
    for p in parts {
        m.update(b"\n");
        m.update(p.as_bytes());
    }
    m
}

fn signed(key: &[u8], prefix: &str, channel: i64, subject: &str, expires: i64) -> String {
    let (c, e) = (channel.to_string(), expires.to_string());
    let tag = mac(key, prefix, &[&c, subject, &e]).finalize().into_bytes();
    format!(
        "{prefix}.{c}.{subject}.{e}.{}",
        hex::encode(&tag[..TOKEN_MAC_BYTES])
    )
}

/// Checks `token` made with `prefix` for `channel` at `now`; returns its subject.
fn check<'t>(
    key: &[u8],
    prefix: &str,
    token: &'t str,
    channel: i64,
    now: i64,
    subject_ok: impl Fn(&str) -> bool,
) -> Result<(&'t str, i64), TokenError> {
    if token.len() > MAX_TOKEN {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(p), Some(c), Some(subject), Some(e), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(TokenError::Malformed);
    };
    let canonical_int = |s: &str| {
        s.parse::<i64>()
            .ok()
            .filter(|n| *n >= 0 && n.to_string() == s)
    };
    let (Some(c_num), Some(expires)) = (canonical_int(c), canonical_int(e)) else {
        return Err(TokenError::Malformed);
    };
    if p != prefix || !subject_ok(subject) {
        return Err(TokenError::Malformed);
    }
    let tag = hex::decode(tag)
        .ok()
        .filter(|t| t.len() == TOKEN_MAC_BYTES && tag.bytes().all(|b| !b.is_ascii_uppercase()))
        .ok_or(TokenError::Malformed)?;
    mac(key, prefix, &[c, subject, e])
        .verify_truncated_left(&tag)
        .map_err(|_| TokenError::BadSignature)?;
    // Only a genuine token says which channel it was for.
    if c_num != channel {
        return Err(TokenError::OtherChannel);
    }
    if now >= expires {
        return Err(TokenError::Expired);
    }
    Ok((subject, expires))
}

fn visitor_ok(v: &str) -> bool {
    (VISITOR_MIN..=VISITOR_MAX).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A fresh visitor id: 26 characters of `[a-z0-9]` from the OS's random source (~134 bits).
pub fn new_visitor_id() -> String {
    use rand::Rng;
    const ABC: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    (0..26)
        .map(|_| ABC[rng.gen_range(0..ABC.len())] as char)
        .collect()
}

/// The visitor token for `visitor` on chat channel `channel`, valid until `expires` (unix ms).
pub fn visitor_token(key: &[u8], channel: i64, visitor: &str, expires: i64) -> String {
    debug_assert!(visitor_ok(visitor), "visitor ids come from new_visitor_id");
    signed(key, "v1", channel, visitor, expires)
}

/// The visitor a token names, when it was made by us for `channel` and has not expired.
pub fn verify_visitor<'t>(
    key: &[u8],
    token: &'t str,
    channel: i64,
    now: i64,
) -> Result<&'t str, TokenError> {
    check(key, "v1", token, channel, now, visitor_ok).map(|(v, _)| v)
}

/// [`verify_visitor`], with when the token expires (unix ms).
pub fn verify_visitor_until<'t>(
    key: &[u8],
    token: &'t str,
    channel: i64,
    now: i64,
) -> Result<(&'t str, i64), TokenError> {
    check(key, "v1", token, channel, now, visitor_ok)
}

/// The "continue in chat" link token for `customer` on `channel`, valid until `expires`.
pub fn continue_token(key: &[u8], channel: i64, customer: i64, expires: i64) -> String {
    signed(key, "k1", channel, &customer.to_string(), expires)
}

/// The customer a continue link names, when genuine, for `channel`, and not expired.
pub fn verify_continue(key: &[u8], token: &str, channel: i64, now: i64) -> Result<i64, TokenError> {
    let is_id = |s: &str| {
        s.parse::<i64>()
            .ok()
            .is_some_and(|n| n > 0 && n.to_string() == s)
    };
    check(key, "k1", token, channel, now, is_id)
        .map(|(s, _)| s.parse().expect("checked to be an id"))
}

/// What a site computes for its signed-in user: `hex(HMAC-SHA256(secret, user_id))`.
pub fn identity_hash(secret: &[u8], user_id: &str) -> String {
    let mut m = <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(user_id.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// Whether `hash` (hex, either case) is the identity hash of `user_id` under the channel's
/// `secret`; compared in constant time. An empty or oversized id never verifies.
pub fn verify_identity(secret: &[u8], user_id: &str, hash: &str) -> bool {
    if user_id.is_empty() || user_id.len() > MAX_USER_ID || hash.len() != 64 {
        return false;
    }
    let Ok(tag) = hex::decode(hash) else {
        return false;
    };
    let mut m = <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(user_id.as_bytes());
    m.verify_slice(&tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &[u8] = b"server-secret-key-for-the-tests-0123456789";
    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn a_visitor_token_names_its_visitor_until_it_expires() {
        let v = new_visitor_id();
        assert_eq!(v.len(), 26);
        assert_ne!(v, new_visitor_id());
        let t = visitor_token(KEY, 7, &v, NOW + 60_000);
        assert_eq!(verify_visitor(KEY, &t, 7, NOW), Ok(v.as_str()));
        assert_eq!(
            verify_visitor(KEY, &t, 7, NOW + 60_000),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify_visitor(KEY, &t, 8, NOW),
            Err(TokenError::OtherChannel)
        );
        assert_eq!(
            verify_visitor(b"another-key", &t, 7, NOW),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn a_changed_token_is_refused() {
        let v = "abcdefghijklmnopqrstuvwxyz";
        let t = visitor_token(KEY, 7, v, NOW + 60_000);
        let forged = [
            t.replacen("v1.7.", "v1.8.", 1),
            t.replacen(v, "zbcdefghijklmnopqrstuvwxyz", 1),
            t.replacen(
                &(NOW + 60_000).to_string(),
                &(NOW + 9_999_999).to_string(),
                1,
            ),
            t.replacen("v1.", "k1.", 1),
            t.replacen("v1.7.", "v1.07.", 1),
            t.to_uppercase(),
            format!("{t}."),
            format!("{t}0"),
            t[..t.len() - 1].to_string(),
            String::new(),
            "v1.7".into(),
            "x".repeat(MAX_TOKEN + 1),
        ];
        for f in &forged {
            assert!(verify_visitor(KEY, f, 7, NOW).is_err(), "{f}");
        }
    }

    #[test]
    fn a_token_for_one_purpose_never_serves_another() {
        let k = continue_token(KEY, 7, 42, NOW + 60_000);
        assert_eq!(verify_continue(KEY, &k, 7, NOW), Ok(42));
        assert!(verify_visitor(KEY, &k, 7, NOW).is_err());
        let v = visitor_token(KEY, 7, "0123456789012345", NOW + 60_000);
        assert_eq!(verify_visitor(KEY, &v, 7, NOW), Ok("0123456789012345"));
        assert!(verify_continue(KEY, &v, 7, NOW).is_err());
        assert_eq!(
            verify_continue(KEY, &k, 7, NOW + 60_000),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn identity_hashes_are_checked_exactly() {
        let secret = b"channel-secret";
        let h = identity_hash(secret, "user-42");
        assert_eq!(h.len(), 64);
        assert!(verify_identity(secret, "user-42", &h));
        assert!(verify_identity(secret, "user-42", &h.to_uppercase()));
        assert!(!verify_identity(secret, "user-43", &h));
        assert!(!verify_identity(b"other-secret", "user-42", &h));
        assert!(!verify_identity(secret, "user-42", &h[..63]));
        assert!(!verify_identity(
            secret,
            "user-42",
            &format!("{}g", &h[..63])
        ));
        assert!(!verify_identity(secret, "", &identity_hash(secret, "")));
        let long = "x".repeat(MAX_USER_ID + 1);
        assert!(!verify_identity(
            secret,
            &long,
            &identity_hash(secret, &long)
        ));
    }

    #[test]
    fn identity_hash_matches_rfc_4231_test_case_2() {
        // Key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            identity_hash(b"Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    proptest! {
        /// Whatever arrives, verifying never panics and never accepts what we did not sign.
        #[test]
        fn arbitrary_input_never_verifies(s in "\\PC{0,220}") {
            prop_assert!(verify_visitor(KEY, &s, 7, NOW).is_err());
            prop_assert!(verify_continue(KEY, &s, 7, NOW).is_err());
            prop_assert!(!verify_identity(KEY, &s, &s));
        }

        #[test]
        fn every_issued_token_verifies(channel in 1i64..1_000_000, customer in 1i64..i64::MAX, ttl in 1i64..86_400_000) {
            let v = new_visitor_id();
            let t = visitor_token(KEY, channel, &v, NOW + ttl);
            prop_assert_eq!(verify_visitor(KEY, &t, channel, NOW), Ok(v.as_str()));
            let k = continue_token(KEY, channel, customer, NOW + ttl);
            prop_assert_eq!(verify_continue(KEY, &k, channel, NOW), Ok(customer));
        }
    }
}
