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
    pub const ALL: [IdentifierKind; 6] = [
        IdentifierKind::Email,
        IdentifierKind::Phone,
        IdentifierKind::Whatsapp,
        IdentifierKind::Messenger,
        IdentifierKind::Instagram,
        IdentifierKind::Telegram,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::Email => "email",
            IdentifierKind::Phone => "phone",
            IdentifierKind::Whatsapp => "whatsapp",
            IdentifierKind::Messenger => "messenger",
            IdentifierKind::Instagram => "instagram",
            IdentifierKind::Telegram => "telegram",
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
            IdentifierKind::Messenger | IdentifierKind::Instagram | IdentifierKind::Telegram => {
                normalize_provider_id(raw)
            }
        }
    }
}

/// Lower-cases an email address and checks its shape (one `@`, non-empty parts, a dot in the
/// domain, no whitespace or control characters). `Name <addr>` forms are not accepted here.
pub fn normalize_email(raw: &str) -> Result<String, IdentifierError> {
    let bad = || IdentifierError::BadEmail(raw.to_string());
    if raw.len() > 254 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = raw.rsplit_once('@').ok_or_else(bad)?;
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
    Ok(format!(
        "{}@{}",
        local.to_lowercase(),
        domain.to_lowercase()
    ))
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

        #[test]
        fn normalised_email_never_contains_header_breaking_chars(raw in "\\PC{0,40}") {
            if let Ok(e) = normalize_email(&raw) {
                prop_assert!(!e.contains(['\r', '\n', ' ', '<', '>']));
                prop_assert_eq!(e.matches('@').count(), 1);
            }
        }
    }
}
