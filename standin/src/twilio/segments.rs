//! How many parts Twilio reports for a message body (`num_segments`, `NumSegments`), as its
//! documentation counts them: GSM-7 when every character is in the GSM 03.38 tables (160
//! septets in one part, 153 per part after; an extension-table character takes two septets and
//! is never cut in two), else UCS-2 (70 UTF-16 units in one part, 67 per part after; a
//! surrogate pair is never cut).
//!
//! Counted here, as the provider would, rather than taken from the app's `domain::sms`: the
//! stand-in plays Twilio's side, and depending on the app would pull the whole Leptos app into
//! this crate.

/// The GSM 03.38 basic table: one septet each.
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The GSM 03.38 extension table: escape and character, two septets each.
const EXTENSION: &str = "\u{0C}^{}\\[~]|€";

/// Parts of `text`; 0 when it is empty.
pub fn count(text: &str) -> usize {
    let gsm = text
        .chars()
        .all(|c| BASIC.contains(c) || EXTENSION.contains(c));
    let units = |c: char| match (gsm, EXTENSION.contains(c)) {
        (true, true) => 2,
        (true, false) => 1,
        (false, _) => c.len_utf16(),
    };
    let (single, per_part) = if gsm { (160, 153) } else { (70, 67) };
    let total: usize = text.chars().map(units).sum();
    if total <= single {
        return usize::from(total > 0);
    }
    let (mut parts, mut used) = (1, 0);
    for u in text.chars().map(units) {
        if used + u > per_part {
            parts += 1;
            used = 0;
        }
        used += u;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn gsm7_parts() {
        assert_eq!(count(""), 0);
        assert_eq!(count("Hello"), 1);
        assert_eq!(count(&"a".repeat(160)), 1);
        assert_eq!(count(&"a".repeat(161)), 2);
        assert_eq!(count(&"a".repeat(306)), 2);
        assert_eq!(count(&"a".repeat(307)), 3);
        // Extension characters take two septets...
        assert_eq!(count(&"€".repeat(80)), 1);
        assert_eq!(count(&"€".repeat(81)), 2);
        // ...and are not cut: 152 + 2 does not fit a part of 153.
        let edge = format!("{}€{}", "a".repeat(152), "a".repeat(10));
        assert_eq!(count(&edge), 2);
        let cut = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(
            count(&cut),
            3,
            "the € starts the second part, which then overflows"
        );
    }

    #[test]
    fn ucs2_parts() {
        assert_eq!(count(&"ж".repeat(70)), 1);
        assert_eq!(count(&"ж".repeat(71)), 2);
        assert_eq!(count(&"ж".repeat(134)), 2);
        assert_eq!(count(&"ж".repeat(135)), 3);
        // Surrogate pairs: 35 emoji are 70 units; 36 are two parts of at most 67.
        assert_eq!(count(&"😀".repeat(35)), 1);
        assert_eq!(count(&"😀".repeat(36)), 2);
        // One character outside GSM-7 makes the whole body UCS-2.
        assert_eq!(count(&format!("{}ж", "a".repeat(69))), 1);
        assert_eq!(count(&format!("{}ж", "a".repeat(70))), 2);
    }
}
