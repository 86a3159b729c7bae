//! SMS segment arithmetic: which encoding a body needs (GSM-7 or UCS-2), how many units and
//! parts it takes, where a sender cuts it, and GSM-7 replacements for look-alike characters.
//!
//! Pure and allocation-light: the composer calls [`analyze`] on every keystroke in the browser.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// The channel limit on an SMS body, in characters (issue 4).
pub const SMS_MAX_CHARS: usize = 1600;

/// The GSM 03.38 basic character set (everything but the escape code): one septet each.
pub const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The GSM 03.38 extension table: escape + character, two septets each.
pub const GSM7_EXTENSION: &str = "\u{0C}^{}\\[~]|€";

/// Units in a single-part GSM-7 message.
pub const GSM7_SINGLE: usize = 160;
/// Units per part of a concatenated GSM-7 message.
pub const GSM7_PART: usize = 153;
/// UTF-16 units in a single-part UCS-2 message.
pub const UCS2_SINGLE: usize = 70;
/// UTF-16 units per part of a concatenated UCS-2 message.
pub const UCS2_PART: usize = 67;

/// How a message body is encoded on the air.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    /// Units that fit a message sent as one SMS.
    pub const fn single_limit(self) -> usize {
        match self {
            Encoding::Gsm7 => GSM7_SINGLE,
            Encoding::Ucs2 => UCS2_SINGLE,
        }
    }

    /// Units per part of a concatenated message.
    pub const fn part_limit(self) -> usize {
        match self {
            Encoding::Gsm7 => GSM7_PART,
            Encoding::Ucs2 => UCS2_PART,
        }
    }

    /// Units `c` takes in this encoding. Only meaningful for GSM-7 when `c` is in the tables,
    /// which holds whenever the encoding was chosen by [`analyze`] for the text `c` comes from.
    fn units(self, c: char) -> usize {
        match self {
            Encoding::Gsm7 => gsm7_units(c).unwrap_or(1),
            Encoding::Ucs2 => c.len_utf16(),
        }
    }
}

/// What the composer shows under an SMS body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentInfo {
    pub encoding: Encoding,
    /// Unicode scalar values.
    pub characters: usize,
    /// Septets for GSM-7, UTF-16 code units for UCS-2.
    pub units: usize,
    /// Parts the message is sent as; 0 for an empty message.
    pub segments: usize,
    /// 160/153 (GSM-7) or 70/67 (UCS-2): single-message limit unless the text needs several parts.
    pub per_segment: usize,
    /// Units still free in the last part.
    pub remaining_in_segment: usize,
    /// Distinct characters that forced UCS-2, in order of first appearance.
    pub non_gsm: Vec<char>,
}

/// Septets `c` takes in GSM-7: `Some(1)` for the basic set, `Some(2)` for the extension table,
/// `None` when it cannot be sent in GSM-7 at all. Agrees with [`GSM7_BASIC`] / [`GSM7_EXTENSION`].
pub const fn gsm7_units(c: char) -> Option<usize> {
    match c {
        // U+0020..=U+005A (space to Z, including `$` and `@`) is wholly in the basic set.
        ' '..='Z' | '_' | 'a'..='z' | '\n' | '\r' => Some(1),
        '£' | '¥' | 'è' | 'é' | 'ù' | 'ì' | 'ò' | 'Ç' | 'Ø' | 'ø' | 'Å' | 'å' | 'Δ' | 'Φ' | 'Γ'
        | 'Λ' | 'Ω' | 'Π' | 'Ψ' | 'Σ' | 'Θ' | 'Ξ' | 'Æ' | 'æ' | 'ß' | 'É' | '¤' | '¡' | 'Ä'
        | 'Ö' | 'Ñ' | 'Ü' | '§' | '¿' | 'ä' | 'ö' | 'ñ' | 'ü' | 'à' => Some(1),
        '\u{0C}' | '^' | '{' | '}' | '\\' | '[' | '~' | ']' | '|' | '€' => Some(2),
        _ => None,
    }
}

/// Encoding and unit count of `text`.
fn measure(text: &str) -> (Encoding, usize) {
    let mut gsm = 0;
    let mut utf16 = 0;
    let mut all_gsm = true;
    for c in text.chars() {
        utf16 += c.len_utf16();
        match gsm7_units(c) {
            Some(u) => gsm += u,
            None => all_gsm = false,
        }
    }
    if all_gsm {
        (Encoding::Gsm7, gsm)
    } else {
        (Encoding::Ucs2, utf16)
    }
}

/// Greedy cutting into parts of at most `limit` units; a character that does not fit whole
/// (escape pair, surrogate pair) starts the next part. Yields each part with its unit count.
struct Parts<'a> {
    rest: &'a str,
    encoding: Encoding,
    limit: usize,
}

impl<'a> Parts<'a> {
    fn new(text: &'a str, encoding: Encoding, units: usize) -> Self {
        let limit = if units <= encoding.single_limit() {
            encoding.single_limit()
        } else {
            encoding.part_limit()
        };
        Parts {
            rest: text,
            encoding,
            limit,
        }
    }
}

impl<'a> Iterator for Parts<'a> {
    type Item = (&'a str, usize);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let mut used = 0;
        let mut end = self.rest.len();
        for (i, c) in self.rest.char_indices() {
            let u = self.encoding.units(c);
            if used + u > self.limit {
                end = i;
                break;
            }
            used += u;
        }
        // Every limit is at least 2 units and no character takes more, so `end > 0`.
        let (part, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some((part, used))
    }
}

/// Encoding, size and part count of an SMS body.
pub fn analyze(text: &str) -> SegmentInfo {
    let mut characters = 0;
    let mut gsm_units = 0;
    let mut utf16_units = 0;
    let mut non_gsm = Vec::new();
    let mut seen = BTreeSet::new();
    for c in text.chars() {
        characters += 1;
        utf16_units += c.len_utf16();
        match gsm7_units(c) {
            Some(u) => gsm_units += u,
            None => {
                if seen.insert(c) {
                    non_gsm.push(c);
                }
            }
        }
    }
    let (encoding, units) = if non_gsm.is_empty() {
        (Encoding::Gsm7, gsm_units)
    } else {
        (Encoding::Ucs2, utf16_units)
    };

    let (segments, per_segment, last) = if units == 0 {
        (0, encoding.single_limit(), 0)
    } else if units <= encoding.single_limit() {
        (1, encoding.single_limit(), units)
    } else {
        let (segments, last) =
            Parts::new(text, encoding, units).fold((0, 0), |(n, _), (_, used)| (n + 1, used));
        (segments, encoding.part_limit(), last)
    };

    SegmentInfo {
        encoding,
        characters,
        units,
        segments,
        per_segment,
        remaining_in_segment: per_segment - last,
        non_gsm,
    }
}

/// The parts a sender cuts `text` into (one part when it fits, none when empty). No escape or
/// surrogate pair is split; concatenating the parts gives back `text`.
pub fn split(text: &str) -> Vec<String> {
    let (encoding, units) = measure(text);
    Parts::new(text, encoding, units)
        .map(|(part, _)| part.to_owned())
        .collect()
}

/// A GSM-7 replacement for a common look-alike that would force UCS-2, or `None`.
/// Invisible zero-width characters are replaced by nothing.
pub const fn gsm_replacement(c: char) -> Option<&'static str> {
    match c {
        // Single quotes, primes, backtick, acute accent.
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{2039}'
        | '\u{203A}' | '`' | '\u{00B4}' => Some("'"),
        // Double quotes, double prime, guillemets.
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
        | '\u{00BB}' => Some("\""),
        // Hyphens and dashes (‐ ‑ ‒ – — ―), minus sign.
        '\u{2010}'..='\u{2015}' | '\u{2212}' => Some("-"),
        // Bullets.
        '\u{2022}' | '\u{2023}' | '\u{2043}' => Some("-"),
        '\u{2026}' => Some("..."),
        // Tab, no-break space, typographic spaces, narrow no-break, math and ideographic space.
        '\t' | '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => {
            Some(" ")
        }
        // Zero-width space, word joiner, byte-order mark, soft hyphen.
        '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' => Some(""),
        _ => None,
    }
}

/// `text` with every character that has a [`gsm_replacement`] replaced by it.
pub fn replace_lookalikes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match gsm_replacement(c) {
            Some(r) => out.push_str(r),
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // ---- independent reference model, built from the tables rather than from `gsm7_units` ----

    fn ref_char_units(c: char, enc: Encoding) -> usize {
        match enc {
            Encoding::Gsm7 if GSM7_EXTENSION.contains(c) => 2,
            Encoding::Gsm7 => 1,
            Encoding::Ucs2 => c.encode_utf16(&mut [0; 2]).len(),
        }
    }

    fn ref_encoding(s: &str) -> Encoding {
        if s.chars()
            .all(|c| GSM7_BASIC.contains(c) || GSM7_EXTENSION.contains(c))
        {
            Encoding::Gsm7
        } else {
            Encoding::Ucs2
        }
    }

    fn ref_units(s: &str, enc: Encoding) -> usize {
        match enc {
            Encoding::Gsm7 => s.chars().map(|c| ref_char_units(c, enc)).sum(),
            Encoding::Ucs2 => s.encode_utf16().count(),
        }
    }

    /// Characters per part (equal to units for the one-unit fillers used in the unit tests).
    fn char_counts(parts: &[String]) -> Vec<usize> {
        parts.iter().map(|p| p.chars().count()).collect()
    }

    // ---- tables ----

    #[test]
    fn tables_have_the_gsm_03_38_sizes_and_are_disjoint() {
        let basic: BTreeSet<char> = GSM7_BASIC.chars().collect();
        let ext: BTreeSet<char> = GSM7_EXTENSION.chars().collect();
        assert_eq!(GSM7_BASIC.chars().count(), 127);
        assert_eq!(basic.len(), 127, "duplicates in the basic table");
        assert_eq!(ext.len(), 10);
        assert!(basic.is_disjoint(&ext));
    }

    #[test]
    fn lookup_agrees_with_the_tables_for_every_char() {
        let basic: BTreeSet<char> = GSM7_BASIC.chars().collect();
        let ext: BTreeSet<char> = GSM7_EXTENSION.chars().collect();
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let want = if basic.contains(&c) {
                Some(1)
            } else if ext.contains(&c) {
                Some(2)
            } else {
                None
            };
            assert_eq!(gsm7_units(c), want, "{c:?} (U+{:04X})", c as u32);
        }
    }

    // ---- boundaries ----

    #[test]
    fn empty_message() {
        let info = analyze("");
        assert_eq!(
            info,
            SegmentInfo {
                encoding: Encoding::Gsm7,
                characters: 0,
                units: 0,
                segments: 0,
                per_segment: 160,
                remaining_in_segment: 160,
                non_gsm: vec![],
            }
        );
        assert!(split("").is_empty());
    }

    #[test]
    fn gsm_160_fits_one_161_takes_two() {
        let t = "a".repeat(160);
        let i = analyze(&t);
        assert_eq!((i.encoding, i.units, i.segments), (Encoding::Gsm7, 160, 1));
        assert_eq!((i.per_segment, i.remaining_in_segment), (160, 0));
        assert_eq!(split(&t), vec![t.clone()]);

        let t = "a".repeat(161);
        let i = analyze(&t);
        assert_eq!((i.units, i.segments), (161, 2));
        assert_eq!(
            (i.per_segment, i.remaining_in_segment),
            (153, 153 * 2 - 161)
        );
        assert_eq!(char_counts(&split(&t)), vec![153, 8]);
    }

    #[test]
    fn gsm_two_full_parts_and_one_more() {
        let t = "a".repeat(153 * 2);
        let i = analyze(&t);
        assert_eq!((i.segments, i.remaining_in_segment), (2, 0));
        assert_eq!(char_counts(&split(&t)), vec![153, 153]);

        let t = "a".repeat(153 * 2 + 1);
        let i = analyze(&t);
        assert_eq!((i.segments, i.remaining_in_segment), (3, 152));
        assert_eq!(char_counts(&split(&t)), vec![153, 153, 1]);
    }

    #[test]
    fn ucs2_70_fits_one_71_takes_two() {
        let t = "ж".repeat(70);
        let i = analyze(&t);
        assert_eq!((i.encoding, i.units, i.segments), (Encoding::Ucs2, 70, 1));
        assert_eq!((i.per_segment, i.remaining_in_segment), (70, 0));
        assert_eq!(split(&t).len(), 1);

        let t = "ж".repeat(71);
        let i = analyze(&t);
        assert_eq!((i.units, i.segments), (71, 2));
        assert_eq!((i.per_segment, i.remaining_in_segment), (67, 67 * 2 - 71));
        assert_eq!(char_counts(&split(&t)), vec![67, 4]);
    }

    #[test]
    fn extension_char_at_a_part_boundary_moves_whole() {
        // 152 + 2 would straddle the 153 mark: the escape pair starts part two.
        let t = format!("{}€{}", "a".repeat(152), "b".repeat(10));
        let i = analyze(&t);
        assert_eq!((i.encoding, i.units, i.segments), (Encoding::Gsm7, 164, 2));
        let parts = split(&t);
        assert_eq!(parts, vec!["a".repeat(152), format!("€{}", "b".repeat(10))]);
        assert_eq!(i.remaining_in_segment, 153 - 12);

        // Exactly at the single-message limit, and one septet over it.
        assert_eq!(analyze(&format!("{}€", "a".repeat(158))).segments, 1);
        assert_eq!(analyze(&format!("{}€", "a".repeat(159))).segments, 2);
    }

    #[test]
    fn emoji_at_a_ucs2_boundary_moves_whole() {
        let t = format!("{}😀{}", "ж".repeat(66), "ж".repeat(5));
        let i = analyze(&t);
        assert_eq!((i.encoding, i.units, i.segments), (Encoding::Ucs2, 73, 2));
        assert_eq!(i.characters, 72);
        let parts = split(&t);
        assert_eq!(parts, vec!["ж".repeat(66), format!("😀{}", "ж".repeat(5))]);
        assert_eq!(i.remaining_in_segment, 67 - 7);

        assert_eq!(analyze(&format!("{}😀", "ж".repeat(68))).segments, 1);
        assert_eq!(analyze(&format!("{}😀", "ж".repeat(69))).segments, 2);
    }

    #[test]
    fn euro_counts_two_newline_counts_one() {
        let i = analyze("€");
        assert_eq!((i.encoding, i.characters, i.units), (Encoding::Gsm7, 1, 2));
        assert_eq!(i.remaining_in_segment, 158);
        let i = analyze("\n");
        assert_eq!((i.encoding, i.characters, i.units), (Encoding::Gsm7, 1, 1));
        assert_eq!(analyze("a\r\nb").units, 4);
        assert_eq!(analyze("{[]}\\^~|\u{0C}").units, 18);
        // In UCS-2 the euro sign is a single UTF-16 unit.
        assert_eq!(analyze("€ж").units, 2);
    }

    #[test]
    fn non_gsm_lists_distinct_offenders_in_order() {
        let i = analyze("Hi 😀 ж, it’s ok 😀 ж ’ ‘ç`");
        assert_eq!(i.encoding, Encoding::Ucs2);
        assert_eq!(i.non_gsm, vec!['😀', 'ж', '’', '‘', 'ç', '`']);
        assert!(analyze("Plain GSM text: Ç é € {}").non_gsm.is_empty());
    }

    #[test]
    fn replacements_turn_ucs2_back_into_gsm7() {
        let t = "It’s “fine” — really…\u{00A0}• done\u{200B}";
        assert_eq!(analyze(t).encoding, Encoding::Ucs2);
        let fixed = replace_lookalikes(t);
        assert_eq!(fixed, "It's \"fine\" - really... - done");
        let i = analyze(&fixed);
        assert_eq!(i.encoding, Encoding::Gsm7);
        assert!(i.non_gsm.is_empty());
        // A message that needed two UCS-2 parts now fits one SMS.
        let long = "‘quoted’ ".repeat(9);
        assert_eq!(analyze(&long).segments, 2);
        assert_eq!(analyze(&replace_lookalikes(&long)).segments, 1);
        // Untouched when nothing applies.
        assert_eq!(replace_lookalikes("ж😀 ok"), "ж😀 ok");
    }

    #[test]
    fn replacements_are_gsm_and_only_for_non_gsm_chars() {
        let mut count = 0;
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            if let Some(r) = gsm_replacement(c) {
                count += 1;
                assert!(gsm7_units(c).is_none(), "{c:?} is already GSM-7");
                assert!(
                    r.chars().all(|r| gsm7_units(r) == Some(1)),
                    "{c:?} -> {r:?}"
                );
            }
        }
        for c in "‘’‚‛“”„–—…\u{00A0}\u{2000}\u{2005}\u{200A}\u{202F}•".chars()
        {
            assert!(gsm_replacement(c).is_some(), "{c:?}");
        }
        assert!(count >= 30);
        assert_eq!(gsm_replacement('ж'), None);
        assert_eq!(gsm_replacement('😀'), None);
    }

    #[test]
    fn serde_round_trip() {
        let i = analyze("ж😀");
        let json = serde_json::to_string(&i).unwrap();
        assert!(json.contains("\"ucs2\""));
        assert_eq!(serde_json::from_str::<SegmentInfo>(&json).unwrap(), i);
    }

    // ---- properties ----

    fn basic_char() -> impl Strategy<Value = char> {
        prop::sample::select(GSM7_BASIC.chars().collect::<Vec<_>>())
    }

    fn extension_char() -> impl Strategy<Value = char> {
        prop::sample::select(GSM7_EXTENSION.chars().collect::<Vec<_>>())
    }

    fn astral_char() -> impl Strategy<Value = char> {
        prop_oneof![
            (0x1F300u32..=0x1FAFF).prop_map(|u| char::from_u32(u).unwrap()),
            (0x10000u32..=0x10FFFF).prop_map(|u| char::from_u32(u).unwrap()),
        ]
    }

    fn lookalike_char() -> impl Strategy<Value = char> {
        prop::sample::select(
            (0..0x10000u32)
                .filter_map(char::from_u32)
                .filter(|&c| gsm_replacement(c).is_some())
                .collect::<Vec<_>>(),
        )
    }

    fn gsm_text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![5 => basic_char(), 1 => extension_char()],
            0..500,
        )
        .prop_map(String::from_iter)
    }

    fn mixed_text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                8 => basic_char(),
                3 => extension_char(),
                1 => any::<char>(),
                1 => astral_char(),
                1 => lookalike_char(),
            ],
            0..300,
        )
        .prop_map(String::from_iter)
    }

    /// Texts that put an escape pair or a surrogate pair right at a part boundary.
    fn boundary_text() -> impl Strategy<Value = String> {
        prop_oneof![
            (150usize..=162, extension_char(), gsm_text())
                .prop_map(|(n, e, tail)| format!("{}{e}{tail}", "a".repeat(n))),
            (145usize..=155, 1usize..4, gsm_text()).prop_map(|(n, k, tail)| format!(
                "{}{}{tail}",
                "a".repeat(n),
                "€".repeat(k)
            )),
            (62usize..=72, astral_char(), 0usize..80).prop_map(|(n, e, k)| format!(
                "{}{e}{}",
                "ж".repeat(n),
                "😀ж".repeat(k)
            )),
        ]
    }

    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![
            2 => gsm_text(),
            3 => mixed_text(),
            1 => any::<String>(),
            2 => boundary_text(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// (1) Cutting loses and reorders nothing.
        #[test]
        fn split_concatenates_back(text in any_text()) {
            prop_assert_eq!(split(&text).concat(), text);
        }

        /// (2) Every part fits its limit in the encoding of the whole text, and the cut is
        /// greedy: the next part's first character would not have fitted the previous part.
        #[test]
        fn parts_fit_and_are_full(text in any_text()) {
            let enc = ref_encoding(&text);
            let parts = split(&text);
            let limit = if parts.len() > 1 { enc.part_limit() } else { enc.single_limit() };
            for p in &parts {
                prop_assert!(!p.is_empty());
                let units = ref_units(p, enc);
                prop_assert!(units <= limit, "part of {} units > {}", units, limit);
            }
            for w in parts.windows(2) {
                let next = w[1].chars().next().unwrap();
                prop_assert!(ref_units(&w[0], enc) + ref_char_units(next, enc) > limit);
            }
            if ref_units(&text, enc) <= enc.single_limit() {
                prop_assert!(parts.len() <= 1);
            }
        }

        /// (3) `analyze` agrees with `split` and with the reference model.
        #[test]
        fn analyze_matches_split(text in any_text()) {
            let info = analyze(&text);
            let parts = split(&text);
            let enc = ref_encoding(&text);
            prop_assert_eq!(info.segments, parts.len());
            prop_assert_eq!(info.segments == 0, text.is_empty());
            prop_assert_eq!(info.encoding, enc);
            prop_assert_eq!(info.units, ref_units(&text, enc));
            prop_assert_eq!(info.characters, text.chars().count());
            let per = if parts.len() > 1 { enc.part_limit() } else { enc.single_limit() };
            prop_assert_eq!(info.per_segment, per);
            let last = parts.last().map_or(0, |p| ref_units(p, enc));
            prop_assert_eq!(info.remaining_in_segment, per - last);
            let mut want_non_gsm = Vec::new();
            for c in text.chars() {
                let in_tables = GSM7_BASIC.contains(c) || GSM7_EXTENSION.contains(c);
                if !in_tables && !want_non_gsm.contains(&c) {
                    want_non_gsm.push(c);
                }
            }
            prop_assert_eq!(info.non_gsm, want_non_gsm);
        }

        /// (4) Text drawn from the GSM-7 tables stays GSM-7, basic = 1 and extension = 2 units.
        #[test]
        fn table_text_is_gsm7(
            chars in prop::collection::vec(prop_oneof![basic_char(), extension_char()], 0..400),
        ) {
            let text: String = chars.iter().collect();
            let info = analyze(&text);
            prop_assert_eq!(info.encoding, Encoding::Gsm7);
            let want: usize = chars
                .iter()
                .map(|&c| if GSM7_EXTENSION.contains(c) { 2 } else { 1 })
                .sum();
            prop_assert_eq!(info.units, want);
            prop_assert!(info.non_gsm.is_empty());
        }

        /// (5) No pair is split. Model the text as its sequence of units, each marked as the
        /// first or second unit of its character; cut naively every `limit` units and move a cut
        /// that lands on a second unit back by one. `split` must cut at exactly those places, and
        /// each part counted on its own must add up to the whole.
        #[test]
        fn cuts_never_fall_inside_a_pair(text in prop_oneof![boundary_text(), any_text()]) {
            let enc = ref_encoding(&text);
            let parts = split(&text);
            let per_part: Vec<usize> = parts.iter().map(|p| ref_units(p, enc)).collect();
            prop_assert_eq!(per_part.iter().sum::<usize>(), ref_units(&text, enc));

            let mut first_unit = Vec::new();
            for c in text.chars() {
                first_unit.push(true);
                first_unit.resize(first_unit.len() + ref_char_units(c, enc) - 1, false);
            }
            let total = first_unit.len();
            let limit = if total > enc.single_limit() {
                enc.part_limit()
            } else {
                enc.single_limit()
            };
            let mut want = Vec::new();
            let mut pos = 0;
            while pos < total {
                let mut end = (pos + limit).min(total);
                if end < total && !first_unit[end] {
                    end -= 1;
                }
                want.push(end - pos);
                pos = end;
            }
            prop_assert_eq!(per_part, want);
        }

        /// Replacing look-alikes removes every replaceable offender, and a text of GSM-7 plus
        /// look-alikes becomes GSM-7.
        #[test]
        fn replacements_remove_lookalikes(
            text in any_text(),
            fixable in prop::collection::vec(
                prop_oneof![3 => basic_char(), 1 => extension_char(), 1 => lookalike_char()],
                0..300,
            ),
        ) {
            let fixed = replace_lookalikes(&text);
            prop_assert!(analyze(&fixed).non_gsm.iter().all(|&c| gsm_replacement(c).is_none()));
            prop_assert_eq!(replace_lookalikes(&fixed), fixed.clone());
            let fixable: String = fixable.into_iter().collect();
            prop_assert_eq!(analyze(&replace_lookalikes(&fixable)).encoding, Encoding::Gsm7);
        }
    }
}
