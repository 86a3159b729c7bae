//! SMS keywords: the whole message, trimmed and case-insensitive, is a request to stop, to
//! start again, or for help (carrier rules; protocols.md). Anything else is a message.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SmsKeyword {
    /// Stop messages from us on this number. `all`: the customer asked to stop everything
    /// (STOPALL), which also ends marketing on every channel of theirs.
    OptOut { all: bool },
    /// Messages may start again (START, YES, UNSTOP).
    OptIn,
    /// HELP or INFO: answered with the account's configured help text.
    Help,
}

const OPT_OUT: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
];
const OPT_IN: [&str; 3] = ["START", "YES", "UNSTOP"];
const HELP: [&str; 2] = ["HELP", "INFO"];

/// The keyword `text` is, if it is one. Surrounding whitespace and one trailing `.` or `!` are
/// forgiven ("Stop." is still STOP); a keyword inside a sentence is not a keyword.
pub fn sms_keyword(text: &str) -> Option<SmsKeyword> {
    let t = text.trim();
    let t = t.strip_suffix(['.', '!']).unwrap_or(t).trim_end();
    if t.is_empty() || t.len() > 12 {
        return None;
    }
    let up = t.to_ascii_uppercase();
    if OPT_OUT.contains(&up.as_str()) {
        Some(SmsKeyword::OptOut {
            all: up == "STOPALL",
        })
    } else if OPT_IN.contains(&up.as_str()) {
        Some(SmsKeyword::OptIn)
    } else if HELP.contains(&up.as_str()) {
        Some(SmsKeyword::Help)
    } else {
        None
    }
}

impl SmsKeyword {
    /// How the timeline and the customer panel describe it.
    pub fn describe(self, word: &str) -> String {
        let word = word.trim().to_uppercase();
        match self {
            SmsKeyword::OptOut { all: true } => {
                format!("Opted out of all messages (texted {word})")
            }
            SmsKeyword::OptOut { all: false } => format!("Opted out of SMS (texted {word})"),
            SmsKeyword::OptIn => format!("Opted back in to SMS (texted {word})"),
            SmsKeyword::Help => format!("Asked for help (texted {word}); the help reply was sent"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_keyword_is_recognised_in_any_case() {
        for w in OPT_OUT {
            for v in [
                w.to_string(),
                w.to_lowercase(),
                format!("  {w}\n"),
                format!("{w}."),
            ] {
                assert!(
                    matches!(sms_keyword(&v), Some(SmsKeyword::OptOut { .. })),
                    "{v:?}"
                );
            }
        }
        assert_eq!(
            sms_keyword("stopall"),
            Some(SmsKeyword::OptOut { all: true })
        );
        assert_eq!(sms_keyword("Stop"), Some(SmsKeyword::OptOut { all: false }));
        for w in ["start", "Yes", "UNSTOP!"] {
            assert_eq!(sms_keyword(w), Some(SmsKeyword::OptIn), "{w}");
        }
        for w in ["help", "Info"] {
            assert_eq!(sms_keyword(w), Some(SmsKeyword::Help), "{w}");
        }
    }

    #[test]
    fn sentences_containing_keywords_are_messages() {
        for t in [
            "please stop sending",
            "Stop it!!",
            "yes please",
            "I need help",
            "",
            "   ",
            "STOP STOP",
            "ST OP",
            "stopp",
            "Ｓｔｏｐ",
        ] {
            assert_eq!(sms_keyword(t), None, "{t:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_only_short_texts_are_keywords(t in "\\PC{0,40}") {
            if sms_keyword(&t).is_some() {
                prop_assert!(t.trim().len() <= 13);
            }
        }
    }
}
