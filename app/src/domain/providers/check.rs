//! Checking and normalising what an admin types into a provider account's form, field by
//! field ([`FieldSpec::check`]). Pure, so the browser could use it too.

use super::FieldKind::*;
use super::FieldSpec;

/// The longest value any field takes (Meta tokens run to a few hundred characters).
pub const MAX_VALUE_LEN: usize = 4096;

impl FieldSpec {
    /// Whether a blank value is replaced by a random token when the account is saved: the
    /// phrase the provider echoes back (Meta's verify token, Telegram's webhook secret).
    pub fn generated(&self) -> bool {
        matches!(
            self.key,
            "verify_token" | "secret_token" | "identity_secret"
        )
    }

    /// The form a value must have, for the browser's own check next to the field (an HTML
    /// `pattern`, implicitly anchored) and the words saying it; the server checks the same.
    pub fn pattern(&self) -> Option<(&'static str, &'static str)> {
        match (self.kind, self.key) {
            (_, "account_sid") => Some((
                "\\s*AC[0-9A-Fa-f]{32}\\s*",
                "AC followed by 32 hexadecimal digits (0-9, a-f)",
            )),
            (_, "messaging_service_sid") => Some((
                "\\s*MG[0-9A-Fa-f]{32}\\s*",
                "MG followed by 32 hexadecimal digits (0-9, a-f)",
            )),
            (_, "phone_number_id" | "page_id") => Some((
                "\\s*[0-9]{1,30}\\s*",
                "the digits of the id, as the provider's console shows it",
            )),
            (_, "bot_username") => Some((
                "\\s*@?[A-Za-z][A-Za-z0-9_]{3,31}\\s*",
                "5 to 32 of the characters A-Z, a-z, 0-9 and _, starting with a letter",
            )),
            (Region, _) => Some(("\\s*[A-Za-z]{2}\\s*", "two letters, such as US, GB or DE")),
            _ => None,
        }
    }

    /// Checks a value typed into this field and returns it as it is stored: trimmed, regions
    /// upper-case, phone numbers in E.164, URLs without a trailing `/`. A blank value stays
    /// blank (whether it may be is the caller's business). Refusals say what to fix.
    pub fn check(&self, raw: &str) -> Result<String, String> {
        let label = self.label;
        let v = raw.trim();
        if self.kind == Multiline {
            if v.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
            {
                return Err(format!("{label}: remove the control characters."));
            }
        } else if v.contains(['\r', '\n']) {
            return Err(format!("{label} cannot contain line breaks."));
        } else if v.chars().any(char::is_control) {
            return Err(format!("{label}: remove the control characters."));
        }
        if v.is_empty() {
            return Ok(String::new());
        }
        if v.chars().count() > MAX_VALUE_LEN {
            return Err(format!(
                "{label} is too long: at most {MAX_VALUE_LEN} characters."
            ));
        }
        match self.kind {
            Multiline => Ok(v.replace("\r\n", "\n").replace('\r', "\n")),
            Url => check_url(v)
                .map(|u| u.trim_end_matches('/').to_string())
                .ok_or_else(|| {
                    format!(
                        "{label}: {v:?} is not a web address. Write it as https://host/path, without spaces."
                    )
                }),
            Region if v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()) => {
                Ok(v.to_ascii_uppercase())
            }
            Region => Err(format!(
                "{label}: {v:?} is not a region. Use two letters, such as US, GB or DE."
            )),
            Phone => crate::domain::identifier::normalize_phone(v).map_err(|_| {
                format!(
                    "{label}: {v:?} is not a phone number. Write it with its country code, e.g. +15550100000."
                )
            }),
            Secret if self.key == "secret_token" => {
                let ok = v.len() <= 256
                    && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if ok {
                    Ok(v.to_string())
                } else {
                    Err(format!(
                        "{label}: use 1 to 256 of the characters A-Z, a-z, 0-9, _ and - (no spaces)."
                    ))
                }
            }
            Text if self.key == "bot_username" => {
                let name = v.trim_start_matches('@');
                let ok = (5..=32).contains(&name.len())
                    && name.starts_with(|c: char| c.is_ascii_alphabetic())
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if ok {
                    Ok(name.to_string())
                } else {
                    Err(format!("{label}: {v:?} is not a bot username. Use {}.", self.pattern().map_or("", |p| p.1)))
                }
            }
            Text if matches!(self.key, "account_sid" | "messaging_service_sid") => {
                let prefix = if self.key == "account_sid" { "AC" } else { "MG" };
                let ok = v.len() == 34
                    && v.starts_with(prefix)
                    && v[2..].bytes().all(|b| b.is_ascii_hexdigit());
                if ok {
                    Ok(v.to_string())
                } else {
                    Err(format!(
                        "{label}: {v:?} is not a {} SID. It is {prefix} followed by 32 hexadecimal digits (0-9, a-f); copy it from the Twilio console.",
                        if prefix == "AC" { "Twilio account" } else { "messaging service" }
                    ))
                }
            }
            Text if matches!(self.key, "phone_number_id" | "page_id") => {
                if v.len() <= 30 && v.bytes().all(|b| b.is_ascii_digit()) {
                    Ok(v.to_string())
                } else {
                    Err(format!(
                        "{label}: {v:?} is not an id. It is a number, as the provider's console shows it."
                    ))
                }
            }
            Choice(words) => words
                .iter()
                .find(|w| w.eq_ignore_ascii_case(v))
                .map(|w| w.to_string())
                .ok_or_else(|| format!("{label}: choose one of {}.", words.join(", "))),
            Text | Secret => Ok(v.to_string()),
        }
    }
}

/// `v` if it is an http(s) URL with a host and no spaces or control characters.
fn check_url(v: &str) -> Option<&str> {
    let lower = v.get(..8).unwrap_or(v).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &v[8..]
    } else if lower.starts_with("http://") {
        &v[7..]
    } else {
        return None;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let clean = !v.chars().any(|c| c.is_whitespace() || c.is_control());
    (clean && !host.is_empty() && !host.starts_with(':') && !host.contains('@')).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::super::{TELEGRAM, TWILIO, WHATSAPP};
    use super::*;

    #[test]
    fn field_values_are_checked_and_normalised() {
        let field = |key| TWILIO.field(key).unwrap();
        assert_eq!(
            field("phone_number").check(" +1 (555) 010-0000 ").unwrap(),
            "+15550100000"
        );
        assert_eq!(field("default_region").check("gb").unwrap(), "GB");
        assert_eq!(
            field("api_base").check("http://127.0.0.1:9/x/").unwrap(),
            "http://127.0.0.1:9/x"
        );
        assert_eq!(field("account_sid").check("  ").unwrap(), "");
        assert_eq!(
            field("help_reply").check("Line one\r\nLine two").unwrap(),
            "Line one\nLine two"
        );
        for (key, bad, words) in [
            ("phone_number", "555-0100", "not a phone number"),
            ("phone_number", "+1 555 CALL NOW", "not a phone number"),
            ("default_region", "USA", "two letters"),
            ("default_region", "1A", "two letters"),
            ("api_base", "ftp://api.twilio.com", "not a web address"),
            ("api_base", "https://", "not a web address"),
            ("api_base", "https://api twilio.com", "not a web address"),
            ("api_base", "api.twilio.com", "not a web address"),
            ("account_sid", "AC1\nX-Evil: 1", "line breaks"),
            ("account_sid", "AC123", "32 hexadecimal digits"),
            (
                "account_sid",
                "ACzz23456789abcdef0123456789abcdef",
                "32 hexadecimal digits",
            ),
            (
                "account_sid",
                "MG0123456789abcdef0123456789abcdef",
                "not a Twilio account SID",
            ),
            (
                "messaging_service_sid",
                "AC0123456789abcdef0123456789abcdef",
                "MG followed",
            ),
            ("auth_token", "tok\u{7}en", "control characters"),
        ] {
            let e = field(key).check(bad).expect_err(bad);
            assert!(e.contains(words), "{key} {bad:?}: {e}");
            assert!(e.starts_with(field(key).label), "names the field: {e}");
        }
        assert_eq!(
            field("account_sid")
                .check(" AC0123456789abcdef0123456789ABCDEF ")
                .unwrap(),
            "AC0123456789abcdef0123456789ABCDEF"
        );
        let page = super::super::MESSENGER.field("page_id").unwrap();
        assert_eq!(page.check("104502931234567").unwrap(), "104502931234567");
        assert!(page.check("1/../x").unwrap_err().contains("not an id"));
        let bot = TELEGRAM.field("bot_username").unwrap();
        for bad in ["ab", "9lives_bot", "has space", "a-b-c-d", &"a".repeat(33)] {
            assert!(
                bot.check(bad).unwrap_err().contains("not a bot username"),
                "{bad}"
            );
        }
        let secret = TELEGRAM.field("secret_token").unwrap();
        assert_eq!(secret.check("abc_DEF-123").unwrap(), "abc_DEF-123");
        assert!(secret.check(&"a".repeat(256)).is_ok());
        for bad in ["has space", "dot.ted", "ünï", &"a".repeat(257)] {
            assert!(secret.check(bad).unwrap_err().contains("1 to 256"), "{bad}");
        }
        assert_eq!(
            TELEGRAM
                .field("bot_username")
                .unwrap()
                .check("@acme_bot")
                .unwrap(),
            "acme_bot"
        );
        assert!(field("account_sid")
            .check(&"x".repeat(MAX_VALUE_LEN + 1))
            .unwrap_err()
            .contains("too long"));
        assert!(secret.generated() && WHATSAPP.field("verify_token").unwrap().generated());
        assert!(!field("auth_token").generated());
    }

    /// What the browser checks (the pattern) and what the server checks agree.
    #[test]
    fn patterns_match_what_the_server_accepts() {
        let samples: &[(&str, &str, bool)] = &[
            ("account_sid", "AC0123456789abcdef0123456789abcdef", true),
            ("account_sid", "AC0123", false),
            (
                "messaging_service_sid",
                "MG0123456789abcdef0123456789abcdef",
                true,
            ),
            ("default_region", "gb", true),
            ("default_region", "GBR", false),
        ];
        for (key, v, ok) in samples {
            let f = TWILIO.field(key).unwrap();
            assert!(f.pattern().is_some(), "{key} has a pattern");
            assert_eq!(f.check(v).is_ok(), *ok, "{key} {v}");
        }
        assert!(TWILIO.field("auth_token").unwrap().pattern().is_none());
        assert!(TWILIO.field("phone_number").unwrap().pattern().is_none());
    }
}
