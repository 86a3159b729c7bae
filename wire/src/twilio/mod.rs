//! Twilio's wire format: `application/x-www-form-urlencoded` bodies ([`form`]), the
//! `X-Twilio-Signature` scheme ([`signature`]) and the shape of its SIDs ([`is_sid`]).

pub mod form;
pub mod signature;

/// Whether `s` is a Twilio SID with one of `prefixes`: two letters and 32 hexadecimal digits.
pub fn is_sid(s: &str, prefixes: &[&str]) -> bool {
    s.len() == 34
        && prefixes.iter().any(|p| s.starts_with(p))
        && s.as_bytes()[2..].iter().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_are_checked() {
        assert!(is_sid("SM0123456789abcdef0123456789abcdef", &["SM", "MM"]));
        assert!(is_sid("MM0123456789ABCDEF0123456789abcdef", &["SM", "MM"]));
        assert!(!is_sid("SM0123456789abcdef0123456789abcdeg", &["SM"]));
        assert!(!is_sid("XX0123456789abcdef0123456789abcdef", &["SM"]));
        assert!(!is_sid("SM0123", &["SM"]));
        assert!(!is_sid("SMé123456789abcdef0123456789abcde", &["SM"]));
    }
}
