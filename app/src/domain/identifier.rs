//! Customer identifiers and their normalisation.
//!
//! An identifier is stored in normalised form so that the same address written two ways
//! resolves to one customer. Parsing happens at the edge: nothing un-normalised reaches storage.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentifierKind {
    Email,
    Phone,
    Whatsapp,
    Messenger,
    Instagram,
    Telegram,
    /// A website chat visitor (the id the server gave the widget).
    Chat,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("an identifier cannot be empty")]
    Empty,
    #[error("{0:?} is not an email address")]
    BadEmail(String),
    #[error("{0:?} is not a phone number in international form (+ and 8 to 15 digits)")]
    BadPhone(String),
    #[error("{0:?} is not a valid provider id")]
    BadProviderId(String),
    #[error("unknown identifier kind {0:?}")]
    UnknownKind(String),
}

impl IdentifierKind {
    pub const ALL: [IdentifierKind; 7] = [
        IdentifierKind::Email,
        IdentifierKind::Phone,
        IdentifierKind::Whatsapp,
        IdentifierKind::Messenger,
        IdentifierKind::Instagram,
        IdentifierKind::Telegram,
        IdentifierKind::Chat,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::Email => "email",
            IdentifierKind::Phone => "phone",
            IdentifierKind::Whatsapp => "whatsapp",
            IdentifierKind::Messenger => "messenger",
            IdentifierKind::Instagram => "instagram",
            IdentifierKind::Telegram => "telegram",
            IdentifierKind::Chat => "chat",
        }
    }

    pub fn parse(s: &str) -> Result<IdentifierKind, IdentifierError> {
        IdentifierKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| IdentifierError::UnknownKind(s.to_string()))
    }

    pub fn label(self) -> &'static str {
        match self {
            IdentifierKind::Email => "Email address",
            IdentifierKind::Phone => "Phone",
            IdentifierKind::Whatsapp => "WhatsApp number",
            IdentifierKind::Messenger => "Messenger PSID",
            IdentifierKind::Instagram => "Instagram id",
            IdentifierKind::Telegram => "Telegram id",
            IdentifierKind::Chat => "Chat visitor",
        }
    }

    /// Normalise a raw identifier of this kind to its stored form.
    pub fn normalize(self, raw: &str) -> Result<String, IdentifierError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(IdentifierError::Empty);
        }
        match self {
            IdentifierKind::Email => normalize_email(raw),
            IdentifierKind::Phone | IdentifierKind::Whatsapp => normalize_phone(raw),
            IdentifierKind::Messenger
            | IdentifierKind::Instagram
            | IdentifierKind::Telegram
            | IdentifierKind::Chat => normalize_provider_id(raw),
        }
    }
}

/// NFKC, lower case, NFKC again: lower-casing can leave a string that NFKC would still change,
/// and the stored form must be a fixed point. The Unicode tables stay on the server (every
/// identifier is stored through it); the browser only lower-cases for its shape check.
#[cfg(feature = "ssr")]
fn fold(raw: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    raw.nfkc()
        .collect::<String>()
        .to_lowercase()
        .nfkc()
        .collect()
}

#[cfg(not(feature = "ssr"))]
fn fold(raw: &str) -> String {
    raw.to_lowercase()
}

/// Normalises an email address: Unicode NFKC (so a composed "é" and "e" + combining accent,
/// or full-width letters, are one address), then lower case, then its shape is checked (one
/// `@`, non-empty parts, a dot in the domain, no whitespace or control characters).
/// `Name <addr>` forms are not accepted here.
pub fn normalize_email(raw: &str) -> Result<String, IdentifierError> {
    let bad = || IdentifierError::BadEmail(raw.to_string());
    if raw.len() > 254 || raw.chars().any(|c| c.is_control()) {
        return Err(bad());
    }
    let folded = fold(raw);
    let folded = folded.trim();
    if folded.len() > 254 || folded.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = folded.rsplit_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || local.contains('@')
        || domain.is_empty()
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
        || domain.contains(['<', '>', ',', ';', '"'])
        || local.contains(['<', '>', ',', ';'])
    {
        return Err(bad());
    }
    Ok(format!("{local}@{domain}"))
}

/// A customer name compared case- and space-insensitively: "Ada  LOVELACE" and "ada lovelace"
/// both give "adalovelace" (the same rule as the `customers_name_key` index).
pub fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
}

/// The local part of a normalised email address ("ada.lovelace" of "ada.lovelace@x.org").
pub fn email_local_part(email: &str) -> Option<&str> {
    email
        .rsplit_once('@')
        .map(|(l, _)| l)
        .filter(|l| !l.is_empty())
}

/// The last nine digits of a phone number: the national number without its country or trunk
/// prefix in most plans, so "+44 7700 900123" and "+49 7700 900123" typed for the same
/// person compare equal. `None` for fewer than nine digits.
pub fn phone_tail(phone: &str) -> Option<String> {
    let digits: Vec<char> = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    (digits.len() >= 9).then(|| digits[digits.len() - 9..].iter().collect())
}

/// E.164: `+` then 8 to 15 digits, first digit not 0. Spaces, dots, dashes and parentheses are
/// dropped; a leading `00` is read as `+`.
pub fn normalize_phone(raw: &str) -> Result<String, IdentifierError> {
    let bad = || IdentifierError::BadPhone(raw.to_string());
    let mut digits = String::with_capacity(16);
    let mut plus = false;
    for (i, c) in raw.chars().enumerate() {
        match c {
            '+' if i == 0 => plus = true,
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' | '\u{a0}' => {}
            _ => return Err(bad()),
        }
    }
    if !plus {
        if let Some(rest) = digits.strip_prefix("00") {
            digits = rest.to_string();
        } else {
            return Err(bad());
        }
    }
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err(bad());
    }
    Ok(format!("+{digits}"))
}

/// Provider ids (PSIDs, Instagram-scoped ids, Telegram chat ids) are kept as given, but must
/// be printable ASCII without spaces and of sane length.
pub fn normalize_provider_id(raw: &str) -> Result<String, IdentifierError> {
    if raw.len() > 128 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(IdentifierError::BadProviderId(raw.to_string()));
    }
    Ok(raw.to_string())
}

/// Longest label kept for an identifier, in characters.
pub const MAX_LABEL_CHARS: usize = 200;

/// How an identifier is written for people: `raw` trimmed, without control characters, at
/// most [`MAX_LABEL_CHARS`] characters.
pub fn clean_label(raw: &str) -> String {
    raw.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_LABEL_CHARS)
        .collect()
}

/// How an identifier is named in sentences: "phone number", "WhatsApp number".
pub fn kind_words(kind: IdentifierKind) -> &'static str {
    match kind {
        IdentifierKind::Email => "email address",
        IdentifierKind::Phone => "phone number",
        IdentifierKind::Whatsapp => "WhatsApp number",
        IdentifierKind::Messenger => "Messenger id",
        IdentifierKind::Instagram => "Instagram id",
        IdentifierKind::Telegram => "Telegram id",
        IdentifierKind::Chat => "chat visitor",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails_are_lowercased_and_trimmed() {
        assert_eq!(
            IdentifierKind::Email
                .normalize("  Ada.Lovelace@Example.COM ")
                .unwrap(),
            "ada.lovelace@example.com"
        );
    }

    #[test]
    fn emails_are_unicode_normalised() {
        // "é" composed, and "e" followed by a combining acute accent.
        let composed = IdentifierKind::Email
            .normalize("Ren\u{e9}@Example.com")
            .unwrap();
        let decomposed = IdentifierKind::Email
            .normalize("Rene\u{301}@Example.com")
            .unwrap();
        assert_eq!(composed, "ren\u{e9}@example.com");
        assert_eq!(decomposed, composed);
        // Full-width letters and the full-width at sign fold to ASCII.
        assert_eq!(
            IdentifierKind::Email
                .normalize("\u{ff21}da\u{ff20}example.com")
                .unwrap(),
            "ada@example.com"
        );
        // Upper-case non-ASCII letters are lowered.
        assert_eq!(
            IdentifierKind::Email
                .normalize("\u{c9}MILE@\u{c9}COLE.FR")
                .unwrap(),
            "\u{e9}mile@\u{e9}cole.fr"
        );
    }

    #[test]
    fn name_keys_and_patterns() {
        assert_eq!(name_key("  Ada   LOVELACE "), "adalovelace");
        assert_eq!(name_key("ada\tlovelace"), name_key("Ada Lovelace"));
        assert_eq!(email_local_part("ada.l@example.com"), Some("ada.l"));
        assert_eq!(email_local_part("nope"), None);
        assert_eq!(phone_tail("+447700900123").as_deref(), Some("700900123"));
        assert_eq!(phone_tail("+497700900123"), phone_tail("+447700900123"));
        assert_eq!(phone_tail("+1234"), None);
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@@example.com",
            "ada@.example.com",
            "ada@example..com",
            "a da@example.com",
            "ada@example.com\r\nBcc: x@y.z",
            "Ada <ada@example.com>",
        ] {
            assert!(
                IdentifierKind::Email.normalize(bad).is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn phones_normalise_to_e164() {
        for (raw, want) in [
            ("+1 (555) 010-2000", "+15550102000"),
            ("+44 20 7946 0958", "+442079460958"),
            ("0049 30 1234567", "+49301234567"),
            ("+55 11 9 8765-4321", "+5511987654321"),
        ] {
            assert_eq!(IdentifierKind::Phone.normalize(raw).unwrap(), want, "{raw}");
        }
    }

    #[test]
    fn malformed_phones_are_refused() {
        for bad in [
            "555-0100",
            "+12",
            "+1234567890123456",
            "+1 555 abc",
            "+0123456789",
            "1+5550102000",
        ] {
            assert!(
                IdentifierKind::Phone.normalize(bad).is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn provider_ids_are_kept_but_checked() {
        assert_eq!(
            IdentifierKind::Telegram.normalize(" 123456789 ").unwrap(),
            "123456789"
        );
        assert!(IdentifierKind::Messenger.normalize("has space").is_err());
        assert!(IdentifierKind::Instagram.normalize("tab\tid").is_err());
    }

    #[test]
    fn kinds_round_trip() {
        for k in IdentifierKind::ALL {
            assert_eq!(IdentifierKind::parse(k.as_str()).unwrap(), k);
        }
        assert!(IdentifierKind::parse("pager").is_err());
    }

    proptest! {
        #[test]
        fn normalising_twice_changes_nothing(raw in "\\PC{0,40}") {
            for k in IdentifierKind::ALL {
                if let Ok(once) = k.normalize(&raw) {
                    prop_assert_eq!(k.normalize(&once).unwrap(), once.clone());
                }
            }
        }

        #[test]
        fn formatted_phone_numbers_meet(digits in "[1-9][0-9]{9,13}") {
            let spaced: String = digits.chars().enumerate()
                .flat_map(|(i, c)| if i % 3 == 2 { vec![c, ' '] } else { vec![c] })
                .collect();
            let a = normalize_phone(&format!("+{digits}")).unwrap();
            let b = normalize_phone(&format!("+{spaced}")).unwrap();
            let c = normalize_phone(&format!("00{digits}")).unwrap();
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(&a, &c);
        }

        #[cfg(feature = "ssr")]
        #[test]
        fn emails_meet_whatever_their_case_and_unicode_form(
            local in "[a-zA-Z\u{e0}-\u{ff}\u{c0}-\u{de}]{1,12}",
            domain in "[a-zA-Z]{1,10}\\.[a-z]{2,4}",
        ) {
            use unicode_normalization::UnicodeNormalization;
            let raw = format!("{local}@{domain}");
            let base = normalize_email(&raw).unwrap();
            let nfd: String = raw.nfd().collect();
            prop_assert_eq!(normalize_email(&nfd).unwrap(), base.clone());
            prop_assert_eq!(normalize_email(&raw.to_uppercase()).unwrap(), base.clone());
            prop_assert_eq!(normalize_email(&format!("  {raw} ")).unwrap(), base.clone());
            prop_assert_eq!(base.to_lowercase(), base.clone());
        }

        #[test]
        fn name_keys_ignore_case_and_spacing(words in proptest::collection::vec("[a-zA-Z]{1,8}", 1..4), gap in " {1,3}") {
            let plain = words.join(" ");
            let spaced = format!(" {} ", words.join(&gap)).to_uppercase();
            prop_assert_eq!(name_key(&plain), name_key(&spaced));
        }

        #[test]
        fn normalised_email_never_contains_header_breaking_chars(raw in "\\PC{0,40}") {
            if let Ok(e) = normalize_email(&raw) {
                prop_assert!(!e.contains(['\r', '\n', ' ', '<', '>']));
                prop_assert_eq!(e.matches('@').count(), 1);
            }
        }
    }

    #[test]
    fn labels_lose_control_characters() {
        assert_eq!(clean_label("  a\u{7}b \n"), "ab");
        assert_eq!(clean_label(&"x".repeat(300)).chars().count(), 200);
        assert_eq!(kind_words(IdentifierKind::Whatsapp), "WhatsApp number");
    }
}
