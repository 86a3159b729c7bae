//! Phone numbers in any written form to E.164, with libphonenumber's rules (the `phonenumber`
//! crate) and a default region for national forms, so "(020) 7946 0958" typed by an agent in
//! London and "+44 20 7946 0958" from an SMS meet as one identifier.
//!
//! Server-only: the numbering metadata is far too large for the browser bundle. The browser
//! never needs it: every identifier reaching storage passes through the server.

use crate::domain::IdentifierKind;
use std::str::FromStr;

/// The E.164 form of `raw`, read as a national number of `default_region` (ISO 3166 alpha-2,
/// e.g. "US", "GB") unless it starts with `+` or an international prefix. Refuses numbers that
/// are not valid for their region, in words.
pub fn to_e164(raw: &str, default_region: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("A phone number cannot be empty.".into());
    }
    if raw.len() > 40 || raw.chars().any(|c| c.is_control()) {
        return Err(format!("{raw:?} is not a phone number."));
    }
    let region =
        phonenumber::country::Id::from_str(&default_region.trim().to_ascii_uppercase()).ok();
    // "00" international prefix: most of the world dials it; read it as "+".
    let owned;
    let text = match raw.strip_prefix("00") {
        Some(rest) if !raw.starts_with("000") => {
            owned = format!("+{rest}");
            owned.as_str()
        }
        _ => raw,
    };
    let n = phonenumber::parse(region, text).map_err(|_| {
        format!(
            "{raw:?} is not a phone number: write it with its country code, e.g. +1 555 010 2000."
        )
    })?;
    if !phonenumber::is_valid(&n) {
        // A number written in full international form is taken as it is written (providers
        // send real numbers the metadata may not know yet, and test ranges like +1 555 01xx).
        if let Ok(e164) = crate::domain::identifier::normalize_phone(text) {
            return Ok(e164);
        }
        return Err(format!(
            "{raw:?} is not a valid number{}: check the digits and the country code.",
            region
                .map(|r| format!(" for {}", r.as_ref()))
                .unwrap_or_default()
        ));
    }
    Ok(n.format().mode(phonenumber::Mode::E164).to_string())
}

/// Whether `region` is a two-letter region the numbering plan knows.
pub fn is_region(region: &str) -> bool {
    region.len() == 2 && phonenumber::country::Id::from_str(&region.to_ascii_uppercase()).is_ok()
}

/// The stored form of `raw` as an identifier of `kind` typed by an agent, or why it cannot
/// be one, in words. Phone and WhatsApp numbers are read in `region` when written nationally,
/// so "(415) 555-0101" typed in the panel meets "+14155550101" from an SMS.
pub fn normalize_in_region(
    kind: IdentifierKind,
    raw: &str,
    region: &str,
) -> Result<String, String> {
    match kind {
        IdentifierKind::Phone | IdentifierKind::Whatsapp => to_e164(raw, region),
        _ => kind.normalize(raw).map_err(|e| capitalise(&e.to_string())),
    }
}

/// "is not an email address" → "Is not an email address.".
fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_forms_meet() {
        for (raw, region, want) in [
            ("+44 20 7946 0958", "US", "+442079460958"),
            ("020 7946 0958", "GB", "+442079460958"),
            ("0044 20 7946 0958", "US", "+442079460958"),
            ("(201) 555-0123", "US", "+12015550123"),
            ("+1 201-555-0123", "GB", "+12015550123"),
            ("030 1234567", "DE", "+49301234567"),
            ("+49 30 1234567", "de", "+49301234567"),
        ] {
            assert_eq!(to_e164(raw, region).unwrap(), want, "{raw} in {region}");
        }
    }

    #[test]
    fn invalid_numbers_are_refused_in_words() {
        for (raw, region) in [
            ("", "US"),
            ("hello", "US"),
            ("123", "US"),
            ("+1 555", "US"),
            ("555 0100", "US"),
            ("020 7946 0958", "XX"),
            ("+44 20\r\n7946 0958", "GB"),
        ] {
            let e = to_e164(raw, region).unwrap_err();
            assert!(!e.is_empty(), "{raw:?}");
        }
    }

    #[test]
    fn full_international_forms_are_kept_even_outside_the_metadata() {
        assert_eq!(to_e164("+1 555 010 2000", "GB").unwrap(), "+15550102000");
        assert_eq!(to_e164("+15005550006", "US").unwrap(), "+15005550006");
    }

    #[test]
    fn e164_is_a_fixed_point() {
        for n in [
            "+442079460958",
            "+12015550123",
            "+49301234567",
            "+5511987654321",
        ] {
            assert_eq!(to_e164(n, "US").unwrap(), n);
            assert_eq!(to_e164(&to_e164(n, "GB").unwrap(), "DE").unwrap(), n);
        }
    }

    #[test]
    fn regions() {
        assert!(is_region("US") && is_region("gb"));
        assert!(!is_region("XX") && !is_region("USA") && !is_region(""));
    }

    #[test]
    fn national_and_international_numbers_meet() {
        let a = normalize_in_region(IdentifierKind::Phone, "(201) 555-0123", "US").unwrap();
        let b = normalize_in_region(IdentifierKind::Whatsapp, "+1 201 555 0123", "GB").unwrap();
        assert_eq!(a, "+12015550123");
        assert_eq!(a, b);
        assert_eq!(
            normalize_in_region(IdentifierKind::Phone, "020 7946 0958", "GB").unwrap(),
            "+442079460958"
        );
    }

    #[test]
    fn bad_values_are_refused_in_words() {
        let e = normalize_in_region(IdentifierKind::Email, "not an address", "US").unwrap_err();
        assert!(e.contains("is not an email address"), "{e}");
        assert!(normalize_in_region(IdentifierKind::Phone, "hello", "US").is_err());
        assert!(normalize_in_region(IdentifierKind::Telegram, "has space", "US").is_err());
        assert_eq!(
            normalize_in_region(IdentifierKind::Telegram, " 700100200 ", "US").unwrap(),
            "700100200"
        );
    }
}
