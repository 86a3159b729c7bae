//! Two-factor sign-in: time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps,
//! six digits, one step of clock drift either way), the set-up's `otpauth://` link and QR code,
//! and one-time recovery codes (kept as SHA-256 hashes).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const STEP_SECONDS: i64 = 30;
const DIGITS: u32 = 6;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for b in bytes {
        buf = (buf << 8) | *b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Base32 (any case, spaces and padding ignored); None on a character outside the alphabet.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = ALPHABET
            .iter()
            .position(|a| *a as char == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

/// A new shared secret: 20 random bytes (160 bits, RFC 4226's recommendation), in base32.
pub fn new_secret() -> String {
    let bytes: [u8; 20] = rand::random();
    base32_encode(&bytes)
}

/// The time step of unix milliseconds `ms`.
pub fn step_of(ms: i64) -> i64 {
    ms.div_euclid(1000) / STEP_SECONDS
}

/// The code for `step` (RFC 4226 dynamic truncation), as `digits` digits.
fn code_at(key: &[u8], step: i64, digits: u32) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(&(step as u64).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[h.len() - 1] & 0x0f) as usize;
    let bin = ((h[offset] as u32 & 0x7f) << 24)
        | ((h[offset + 1] as u32) << 16)
        | ((h[offset + 2] as u32) << 8)
        | h[offset + 3] as u32;
    format!(
        "{:0width$}",
        bin % 10u32.pow(digits),
        width = digits as usize
    )
}

/// The six-digit code an authenticator app shows at `ms` for `secret` (base32).
pub fn code_for(secret: &str, ms: i64) -> Option<String> {
    Some(code_at(&base32_decode(secret)?, step_of(ms), DIGITS))
}

use crate::domain::text::same_secret as same;

/// Checks a typed code against `secret` at `now_ms`, one step either side, and only for steps
/// after `last_step` (a code is good once). Answers the step it matched.
pub fn verify(secret: &str, code: &str, now_ms: i64, last_step: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let key = base32_decode(secret)?;
    let now = step_of(now_ms);
    let mut found = None;
    for step in [now - 1, now, now + 1] {
        // Every candidate is computed and compared: the time says nothing of which matched.
        if same(&code_at(&key, step, DIGITS), &code) && step > last_step && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The link an authenticator app reads from the QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &str) -> String {
    let e = crate::domain::text::url_encode;
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        e(issuer),
        e(account),
        e(issuer)
    )
}

/// The QR code of `text` as an SVG document (our own markup, no user HTML in it).
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;

/// New recovery codes, `xxxx-xxxx-xx` from 32 letters and digits without look-alikes (50 bits).
pub fn new_recovery_codes() -> Vec<String> {
    const CHARS: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz023456789";
    (0..RECOVERY_CODES)
        .map(|_| {
            let bytes: [u8; 10] = rand::random();
            let s: String = bytes
                .iter()
                .map(|b| CHARS[(*b & 31) as usize] as char)
                .collect();
            format!("{}-{}-{}", &s[..4], &s[4..8], &s[8..])
        })
        .collect()
}

/// New recovery codes and their hashes, as stored.
pub fn new_recovery_codes_hashed() -> (Vec<String>, Vec<String>) {
    let codes = new_recovery_codes();
    let hashes = codes.iter().map(|c| hash_recovery_code(c)).collect();
    (codes, hashes)
}

/// A recovery code as stored: SHA-256 of its letters and digits, lowercase (dashes, spaces and
/// case as typed do not matter).
pub fn hash_recovery_code(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex::encode(Sha256::digest(norm.as_bytes()))
}

/// Whether a typed second factor looks like a recovery code rather than a six-digit code.
pub fn looks_like_recovery_code(code: &str) -> bool {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).count() == 10
        && code.chars().any(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B (SHA-1), the last six of its eight digits.
    #[test]
    fn codes_match_the_rfc_vectors() {
        let key = b"12345678901234567890";
        for (t, eight) in [
            (59i64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(code_at(key, t / 30, 8), eight, "t={t}");
            assert_eq!(code_at(key, t / 30, 6), &eight[2..], "t={t}");
        }
    }

    #[test]
    fn verify_allows_one_step_of_drift_and_each_step_once() {
        let secret = base32_encode(b"12345678901234567890");
        let now = 1_234_567_890_000;
        // 005924 is the code of t=1234567890.
        let step = verify(&secret, "005924", now, 0).expect("the current code");
        assert_eq!(step, 1_234_567_890 / 30);
        assert_eq!(
            verify(&secret, "005 924", now + 30_000, 0),
            Some(step),
            "a step late"
        );
        assert_eq!(
            verify(&secret, "005924", now + 90_000, 0),
            None,
            "three steps late"
        );
        assert_eq!(
            verify(&secret, "005924", now, step),
            None,
            "used once already"
        );
        assert_eq!(verify(&secret, "005925", now, 0), None);
        assert_eq!(verify(&secret, "00592", now, 0), None);
        assert_eq!(verify(&secret, "abcdef", now, 0), None);
        assert_eq!(verify("not base32!", "005924", now, 0), None);
    }

    #[test]
    fn base32_round_trips() {
        for bytes in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar"] {
            assert_eq!(base32_decode(&base32_encode(bytes)).unwrap(), bytes);
        }
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("mzxw 6ytb oi======").unwrap(), b"foobar");
        assert_eq!(new_secret().len(), 32);
    }

    #[test]
    fn recovery_codes_are_distinct_and_hashed_loosely() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let set: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(set.len(), RECOVERY_CODES);
        let c = &codes[0];
        assert!(looks_like_recovery_code(c), "{c}");
        assert!(!looks_like_recovery_code("123456"));
        assert_eq!(
            hash_recovery_code(c),
            hash_recovery_code(&c.to_uppercase().replace('-', " "))
        );
        assert_ne!(hash_recovery_code(c), hash_recovery_code(&codes[1]));
    }

    #[test]
    fn the_setup_link_and_qr_code() {
        let uri = otpauth_uri("Convergence", "ana@example.com", "MZXW6YTBOI");
        assert!(uri.starts_with(
            "otpauth://totp/Convergence:ana%40example.com?secret=MZXW6YTBOI&issuer=Convergence"
        ));
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.contains("<svg") && !svg.contains("<script"));
    }
}
