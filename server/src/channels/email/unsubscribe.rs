//! Email unsubscribe links (RFC 2369 `List-Unsubscribe`, RFC 8058 one-click): the token.
//!
//! Every outbound email carries `List-Unsubscribe: <{public}/unsubscribe/{token}>` and
//! `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (`smtp`). The token names the recipient
//! identifier and the purpose, signed with the server's secret key:
//! `{identifier id}.{m|s}.{32 hex}`, the hex being the first 16 bytes of
//! HMAC-SHA256(key, `convergence-unsubscribe:{id}:{purpose}`). The pages that take it are
//! `http::unsubscribe`.

use app::domain::consent::Purpose;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const MAC_BYTES: usize = 16;

/// Why a token is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not the shape of a token (cut short by a mail program, mistyped).
    Garbled,
    /// The shape is right but the signature is not ours.
    Forged,
}

fn letter(p: Purpose) -> &'static str {
    match p {
        Purpose::Marketing => "m",
        Purpose::Support => "s",
    }
}

fn mac_for(key: &[u8], identifier_id: i64, purpose: Purpose) -> HmacSha256 {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(
        format!(
            "convergence-unsubscribe:{identifier_id}:{}",
            purpose.as_str()
        )
        .as_bytes(),
    );
    mac
}

/// The token for `identifier_id` and `purpose`.
pub fn token(key: &[u8], identifier_id: i64, purpose: Purpose) -> String {
    let tag = mac_for(key, identifier_id, purpose).finalize().into_bytes();
    format!(
        "{identifier_id}.{}.{}",
        letter(purpose),
        hex::encode(&tag[..MAC_BYTES])
    )
}

/// The identifier and purpose a token names, checked in constant time.
pub fn verify(key: &[u8], token: &str) -> Result<(i64, Purpose), TokenError> {
    if token.len() > 64 {
        return Err(TokenError::Garbled);
    }
    let mut parts = token.split('.');
    let (Some(digits), Some(p), Some(mac), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Garbled);
    };
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TokenError::Garbled);
    }
    let id: i64 = digits.parse().map_err(|_| TokenError::Garbled)?;
    if id.to_string() != digits {
        return Err(TokenError::Garbled);
    }
    let purpose = match p {
        "m" => Purpose::Marketing,
        "s" => Purpose::Support,
        _ => return Err(TokenError::Garbled),
    };
    if mac.len() != MAC_BYTES * 2 || !mac.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(TokenError::Garbled);
    }
    let tag = hex::decode(mac).map_err(|_| TokenError::Garbled)?;
    mac_for(key, id, purpose)
        .verify_truncated_left(&tag)
        .map_err(|_| TokenError::Forged)?;
    Ok((id, purpose))
}

/// The marketing unsubscribe link for `identifier_id` under `public_url`.
pub fn link(public_url: &str, key: &[u8], identifier_id: i64) -> String {
    format!(
        "{}/unsubscribe/{}",
        public_url.trim_end_matches('/'),
        token(key, identifier_id, Purpose::Marketing)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &[u8] = b"test key, thirty-two bytes long!";

    #[test]
    fn tokens_round_trip() {
        for (id, p) in [
            (1, Purpose::Marketing),
            (42, Purpose::Support),
            (i64::MAX, Purpose::Marketing),
            (0, Purpose::Marketing),
        ] {
            let t = token(KEY, id, p);
            assert_eq!(verify(KEY, &t), Ok((id, p)), "{t}");
        }
        let l = link("https://inbox.example.com/", KEY, 7);
        assert!(
            l.starts_with("https://inbox.example.com/unsubscribe/7.m."),
            "{l}"
        );
    }

    #[test]
    fn forged_and_garbled_tokens_are_told_apart() {
        let t = token(KEY, 42, Purpose::Marketing);
        assert_eq!(verify(b"another key", &t), Err(TokenError::Forged));
        assert_eq!(
            verify(KEY, &t.replacen("42.", "43.", 1)),
            Err(TokenError::Forged)
        );
        assert_eq!(
            verify(KEY, &t.replacen(".m.", ".s.", 1)),
            Err(TokenError::Forged)
        );
        assert_eq!(
            verify(KEY, &t.replacen("42.", "042.", 1)),
            Err(TokenError::Garbled)
        );
        assert_eq!(verify(KEY, &t[..t.len() - 1]), Err(TokenError::Garbled));
        assert_eq!(verify(KEY, &format!("{t}0")), Err(TokenError::Garbled));
        assert_eq!(verify(KEY, &t.to_uppercase()), Err(TokenError::Garbled));
        for bad in ["", "42", "42.m", "x.m.00", "42.x.00", "42.m.zz", "-1.m.00"] {
            assert_eq!(verify(KEY, bad), Err(TokenError::Garbled), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn garbage_never_verifies(s in "\\PC{0,80}") {
            prop_assert!(verify(KEY, &s).is_err());
        }

        #[test]
        fn random_macs_are_forged(id in 0i64..i64::MAX, mac in "[0-9a-f]{32}") {
            prop_assert_eq!(verify(KEY, &format!("{id}.m.{mac}")), Err(TokenError::Forged));
        }
    }
}
