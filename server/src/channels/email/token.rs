//! Reply addresses that name their conversation, signed so they cannot be forged:
//! `support+c42-<mac>@example.com`.
//!
//! The MAC is the first 8 bytes of HMAC-SHA256(key, `convergence-reply:<id>`), written as 13
//! lowercase base32 characters (RFC 4648 alphabet, no padding). Mail systems may change the
//! case of a local part, so [`verify`] accepts any case; the domain is not checked (a message may
//! reach us through an alias or a forwarder).

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// RFC 5321's limit on the local part.
const MAX_LOCAL: usize = 64;
const MAC_BYTES: usize = 8;
const MAC_CHARS: usize = 13;
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

fn mac_for(conversation_id: i64, key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"convergence-reply:");
    mac.update(conversation_id.to_string().as_bytes());
    mac
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes exactly [`MAC_CHARS`] lowercase base32 characters into [`MAC_BYTES`] bytes; the
/// padding bit must be zero so that every MAC has exactly one spelling.
fn unbase32(s: &[u8]) -> Option<[u8; MAC_BYTES]> {
    if s.len() != MAC_CHARS {
        return None;
    }
    let mut acc: u128 = 0;
    for &c in s {
        let v = ALPHABET.iter().position(|&a| a == c)? as u128;
        acc = (acc << 5) | v;
    }
    // 13 * 5 = 65 bits: 64 bits of MAC and one zero bit.
    if acc & 1 != 0 {
        return None;
    }
    Some(((acc >> 1) as u64).to_be_bytes())
}

/// The reply address for `conversation_id` on the mailbox `from` (`local@domain`). An existing
/// `+tag` on `from` is replaced. When the tagged local part would exceed 64 characters, or
/// `from` is not an address, `from` is returned unchanged (replies then thread by their
/// `In-Reply-To` header only).
pub fn reply_address(from: &str, conversation_id: i64, key: &[u8]) -> String {
    let from = from.trim();
    let Some((local, domain)) = from.rsplit_once('@') else {
        return from.to_string();
    };
    let base = local.split('+').next().unwrap_or(local);
    if base.is_empty() || domain.is_empty() {
        return from.to_string();
    }
    let tag = mac_for(conversation_id, key).finalize().into_bytes();
    let token = format!("c{conversation_id}-{}", base32(&tag[..MAC_BYTES]));
    if base.chars().count() + 1 + token.len() > MAX_LOCAL {
        return from.to_string();
    }
    format!("{base}+{token}@{domain}")
}

/// The conversation named by a valid token in `address`, if any (constant-time check).
pub fn verify(address: &str, key: &[u8]) -> Option<i64> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let local = address.rsplit_once('@').map_or(address, |(l, _)| l);
    if local.len() > 256 {
        return None;
    }
    let local = local.to_ascii_lowercase();
    // The token is the whole of some `+` segment: `c<digits>-<13 base32>`.
    local.split('+').skip(1).find_map(|seg| {
        let rest = seg.strip_prefix('c')?;
        let (digits, mac) = rest.split_once('-')?;
        if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let id: i64 = digits.parse().ok()?;
        // Only the canonical spelling of the id is accepted (no leading zeros).
        if id.to_string() != digits {
            return None;
        }
        let tag = unbase32(mac.as_bytes())?;
        mac_for(id, key).verify_truncated_left(&tag).ok()?;
        Some(id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &[u8] = b"test key, thirty-two bytes long!";

    #[test]
    fn round_trip() {
        let a = reply_address("support@example.com", 42, KEY);
        assert!(a.starts_with("support+c42-"), "{a}");
        assert!(a.ends_with("@example.com"));
        let local = a.split('@').next().unwrap();
        assert_eq!(local.len(), "support+c42-".len() + 13);
        assert_eq!(verify(&a, KEY), Some(42));
        assert_eq!(verify(&format!("<{a}>"), KEY), Some(42));
        // Another domain (alias, forwarder) is fine.
        let other = a.replace("@example.com", "@mail.example.org");
        assert_eq!(verify(&other, KEY), Some(42));
        assert_eq!(
            verify(&reply_address("a@b", i64::MAX, KEY), KEY),
            Some(i64::MAX)
        );
        assert_eq!(verify(&reply_address("a@b", 0, KEY), KEY), Some(0));
    }

    #[test]
    fn existing_tag_is_replaced() {
        let a = reply_address("help+sales@example.com", 7, KEY);
        assert!(a.starts_with("help+c7-"), "{a}");
        assert_eq!(verify(&a, KEY), Some(7));
    }

    #[test]
    fn uppercase_is_accepted() {
        let a = reply_address("support@example.com", 1234, KEY).to_uppercase();
        assert_eq!(verify(&a, KEY), Some(1234));
    }

    #[test]
    fn tampering_is_refused() {
        let a = reply_address("support@example.com", 42, KEY);
        assert_eq!(verify(&a.replace("+c42-", "+c43-"), KEY), None);
        assert_eq!(verify(&a.replace("+c42-", "+c042-"), KEY), None);
        let (local, domain) = a.split_once('@').unwrap();
        let mut chars: Vec<char> = local.chars().collect();
        let last = chars.len() - 1;
        chars[last] = if chars[last] == 'a' { 'b' } else { 'a' };
        let flipped: String = chars.into_iter().collect();
        assert_eq!(verify(&format!("{flipped}@{domain}"), KEY), None);
        assert_eq!(verify(&a, b"another key"), None);
        assert_eq!(verify("support+c42-aaaaaaaaaaaaa@example.com", KEY), None);
        assert_eq!(verify("support@example.com", KEY), None);
        // A truncated or extended MAC is refused.
        assert_eq!(
            verify(&format!("{}@{domain}", &local[..local.len() - 1]), KEY),
            None
        );
        assert_eq!(verify(&format!("{local}a@{domain}"), KEY), None);
    }

    #[test]
    fn long_local_parts_stay_within_64() {
        let long = format!("{}@example.com", "x".repeat(50));
        assert_eq!(reply_address(&long, 99, KEY), long);
        let ok = format!("{}@example.com", "x".repeat(20));
        let a = reply_address(&ok, 99, KEY);
        assert!(a.split('@').next().unwrap().len() <= 64);
        assert_eq!(verify(&a, KEY), Some(99));
        assert_eq!(reply_address("not an address", 1, KEY), "not an address");
    }

    #[test]
    fn base32_round_trips() {
        for bytes in [[0u8; 8], [255u8; 8], [1, 2, 3, 4, 5, 6, 7, 8]] {
            let s = base32(&bytes);
            assert_eq!(s.len(), 13);
            assert_eq!(unbase32(s.as_bytes()), Some(bytes));
        }
        assert_eq!(unbase32(b"aaaaaaaaaaaab"), None, "padding bit set");
    }

    proptest! {
        #[test]
        fn garbage_never_panics(s in "\\PC{0,200}", id in any::<i64>()) {
            let _ = verify(&s, KEY);
            let a = reply_address(&s, id, KEY);
            prop_assert!(!a.contains('\n') || s.contains('\n'));
        }

        #[test]
        fn tokens_round_trip(local in "[a-z0-9._-]{1,29}", domain in "[a-z0-9.-]{1,30}", id in 0i64..i64::MAX) {
            let a = reply_address(&format!("{local}@{domain}"), id, KEY);
            prop_assert_eq!(verify(&a, KEY), Some(id));
            prop_assert!(a.split('@').next().unwrap().len() <= 64);
        }

        #[test]
        fn structured_garbage_is_refused(id in any::<i64>(), mac in "[a-z2-7]{13}") {
            let a = format!("support+c{id}-{mac}@example.com");
            // A random MAC is accepted with probability 2^-64.
            prop_assert_eq!(verify(&a, KEY), None);
        }
    }
}
