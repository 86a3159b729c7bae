//! Which characters force an SMS into UCS-2, where they are, and the one-click GSM-7
//! replacement for each when there is one. Pure; the composer calls it as the agent types.

use super::sms::{gsm7_units, gsm_replacement};
use serde::{Deserialize, Serialize};

/// Positions kept per character (the count is always exact).
pub const MAX_POSITIONS: usize = 20;

/// One character that forced UCS-2.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offender {
    pub ch: char,
    /// How many times it occurs.
    pub count: usize,
    /// Character (not byte) indices of its first occurrences, at most [`MAX_POSITIONS`].
    pub positions: Vec<usize>,
    /// The GSM-7 text that replaces it ("" removes an invisible character), when one exists.
    pub replacement: Option<&'static str>,
}

impl Offender {
    /// How the character is named on its button: visible characters as themselves, spaces
    /// and invisible ones by code point.
    pub fn shown(&self) -> String {
        name(self.ch)
    }
}

/// How a character is shown to the agent: itself, or `U+00A0 (no-break space)` for the ones
/// that cannot be seen.
pub fn name(c: char) -> String {
    let words = match c {
        '\u{00A0}' => Some("no-break space"),
        '\u{202F}' => Some("narrow no-break space"),
        '\u{2000}'..='\u{200A}' | '\u{205F}' | '\u{3000}' => Some("wide space"),
        '\u{200B}' => Some("zero-width space"),
        '\u{2060}' => Some("word joiner"),
        '\u{FEFF}' => Some("byte-order mark"),
        '\u{00AD}' => Some("soft hyphen"),
        '\t' => Some("tab"),
        _ => None,
    };
    match words {
        Some(w) => format!("U+{:04X} ({w})", c as u32),
        None if c.is_control() => format!("U+{:04X}", c as u32),
        None => c.to_string(),
    }
}

/// The characters of `text` outside the GSM-7 tables, in order of first appearance, with
/// their counts, first positions and replacements.
pub fn offenders(text: &str) -> Vec<Offender> {
    let mut out: Vec<Offender> = Vec::new();
    for (i, c) in text.chars().enumerate() {
        if gsm7_units(c).is_some() {
            continue;
        }
        match out.iter_mut().find(|o| o.ch == c) {
            Some(o) => {
                o.count += 1;
                if o.positions.len() < MAX_POSITIONS {
                    o.positions.push(i);
                }
            }
            None => out.push(Offender {
                ch: c,
                count: 1,
                positions: vec![i],
                replacement: gsm_replacement(c),
            }),
        }
    }
    out
}

/// `text` with every `c` replaced by its GSM-7 replacement; unchanged when `c` has none.
pub fn apply(text: &str, c: char) -> String {
    match gsm_replacement(c) {
        Some(r) => text.replace(c, r),
        None => text.to_string(),
    }
}

/// How many offenders of `text` have a replacement.
pub fn fixable(offenders: &[Offender]) -> usize {
    offenders.iter().filter(|o| o.replacement.is_some()).count()
}

#[cfg(test)]
mod tests {
    use super::super::sms::{analyze, replace_lookalikes, Encoding, GSM7_BASIC, GSM7_EXTENSION};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn offenders_with_counts_positions_and_replacements() {
        let o = offenders("It’s “ok” — ж’");
        let chars: Vec<char> = o.iter().map(|o| o.ch).collect();
        assert_eq!(chars, vec!['’', '“', '”', '—', 'ж']);
        assert_eq!(o[0].count, 2);
        assert_eq!(o[0].positions, vec![2, 13]);
        assert_eq!(o[0].replacement, Some("'"));
        assert_eq!(o[3].replacement, Some("-"));
        assert_eq!(o[4].replacement, None);
        assert_eq!(fixable(&o), 4);
        assert!(offenders("Plain € {text}").is_empty());
    }

    #[test]
    fn applying_one_replacement_changes_only_that_character() {
        let t = "It’s “ok”…\u{00A0}now";
        let once = apply(t, '’');
        assert_eq!(once, "It's “ok”…\u{00A0}now");
        let all = ['“', '”', '…', '\u{00A0}']
            .into_iter()
            .fold(once, |s, c| apply(&s, c));
        assert_eq!(all, "It's \"ok\"... now");
        assert_eq!(analyze(&all).encoding, Encoding::Gsm7);
        assert_eq!(apply("ж", 'ж'), "ж");
    }

    #[test]
    fn invisible_characters_are_named() {
        assert_eq!(name('\u{00A0}'), "U+00A0 (no-break space)");
        assert_eq!(name('’'), "’");
        assert_eq!(name('\u{7}'), "U+0007");
    }

    proptest! {
        /// Offenders are exactly the characters outside the GSM-7 tables, counted exactly.
        #[test]
        fn offenders_match_the_tables(text in "\\PC{0,200}") {
            let o = offenders(&text);
            for c in text.chars() {
                let in_tables = GSM7_BASIC.contains(c) || GSM7_EXTENSION.contains(c);
                let listed = o.iter().find(|o| o.ch == c);
                prop_assert_eq!(listed.is_none(), in_tables);
                if let Some(l) = listed {
                    prop_assert_eq!(l.count, text.chars().filter(|&x| x == c).count());
                    let chars: Vec<char> = text.chars().collect();
                    for &p in &l.positions {
                        prop_assert_eq!(chars[p], c);
                    }
                }
            }
            prop_assert_eq!(o.is_empty(), analyze(&text).encoding == Encoding::Gsm7);
        }

        /// Applying every one-click replacement equals replacing all look-alikes at once.
        #[test]
        fn one_clicks_add_up_to_replace_all(text in "[a-z ’“”—–…\u{00A0}ж😀]{0,80}") {
            let stepped = offenders(&text).iter().fold(text.clone(), |s, o| apply(&s, o.ch));
            prop_assert_eq!(stepped, replace_lookalikes(&text));
        }
    }
}
