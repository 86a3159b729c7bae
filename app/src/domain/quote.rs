//! Splitting a plain-text message into what the sender wrote and the quoted history or
//! signature below it, so the timeline reads as a conversation. Pure; runs in the browser too.
//!
//! The split is at the first line that starts one of these:
//! - an attribution: `On … wrote:` (also wrapped over two lines, and `Le … a écrit :`,
//!   `Am … schrieb …:`, `El … escribió:`, `Op … schreef …:`, `Il … ha scritto:`,
//!   `Em … escreveu:`);
//! - a run of `>` lines that only quoted lines, blank lines or a signature follow (quotes with
//!   answers between them are part of the answer);
//! - `-----Original Message-----` (and its common translations);
//! - Outlook's header block, `From: …` followed by `Sent: …` (or `Date: …`);
//! - a line of ten or more underscores (Outlook's separator);
//! - the signature delimiter `-- `.

/// `(new text, quoted history and signature)`; the second is empty when nothing was quoted.
///
/// The first is a prefix of `text` with trailing whitespace trimmed, the second the suffix from
/// the split point. When the split would leave no text of the sender's own, nothing is split.
pub fn split_quoted(text: &str) -> (&str, &str) {
    let lines = lines(text);
    let Some(k) = split_point(&lines) else {
        return (text, "");
    };
    let head = text[..k].trim_end();
    if head.trim().is_empty() {
        return (text, "");
    }
    (head, &text[k..])
}

/// A line: its byte offset and its content without the line ending.
struct Line<'a> {
    at: usize,
    s: &'a str,
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut at = 0;
    for raw in text.split_inclusive('\n') {
        let s = raw.strip_suffix('\n').unwrap_or(raw);
        let s = s.strip_suffix('\r').unwrap_or(s);
        out.push(Line { at, s });
        at += raw.len();
    }
    out
}

fn split_point(lines: &[Line<'_>]) -> Option<usize> {
    let quote_run = first_trailing_quote(lines);
    for (i, line) in lines.iter().enumerate() {
        if quote_run == Some(i)
            || is_signature(line.s)
            || is_original_message(line.s)
            || is_underscores(line.s)
            || is_outlook_header(lines, i)
            || is_attribution(lines, i)
        {
            return Some(line.at);
        }
    }
    None
}

fn is_quoted(s: &str) -> bool {
    s.trim_start().starts_with('>')
}

fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn is_signature(s: &str) -> bool {
    s == "-- "
}

/// The first line of the last run of quoted lines, when only quoted lines, blank lines and
/// a signature follow it.
fn first_trailing_quote(lines: &[Line<'_>]) -> Option<usize> {
    // Everything from a signature on may follow the quote.
    let end = lines
        .iter()
        .position(|l| is_signature(l.s))
        .unwrap_or(lines.len());
    let mut first = None;
    for i in (0..end).rev() {
        let s = lines[i].s;
        if is_quoted(s) {
            first = Some(i);
        } else if !is_blank(s) {
            break;
        }
    }
    first
}

fn is_original_message(s: &str) -> bool {
    let t = s.trim();
    if !(t.starts_with("--") && t.ends_with("--")) || t.len() > 80 {
        return false;
    }
    let inner = t.trim_matches('-').trim().to_lowercase();
    [
        "original message",
        "ursprüngliche nachricht",
        "message d'origine",
        "mensaje original",
        "messaggio originale",
        "mensagem original",
        "oorspronkelijk bericht",
    ]
    .contains(&inner.as_str())
}

fn is_underscores(s: &str) -> bool {
    let t = s.trim();
    t.len() >= 10 && t.bytes().all(|b| b == b'_')
}

fn starts_with_field(s: &str, names: &[&str]) -> bool {
    let t = s.trim_start().trim_start_matches('*');
    names.iter().any(|n| {
        t.get(..n.len()).is_some_and(|h| h.eq_ignore_ascii_case(n))
            && t[n.len()..].trim_start().starts_with(':')
    })
}

/// `From: …` with `Sent:` or `Date:` within the next four lines.
fn is_outlook_header(lines: &[Line<'_>], i: usize) -> bool {
    if !starts_with_field(lines[i].s, &["From", "De", "Von", "Van", "Da"]) {
        return false;
    }
    lines[i + 1..].iter().take(4).any(|l| {
        starts_with_field(
            l.s,
            &[
                "Sent",
                "Date",
                "Envoyé",
                "Gesendet",
                "Enviado",
                "Verzonden",
                "Inviato",
                "Datum",
            ],
        )
    })
}

/// Attribution lines: (starts with, must contain, ends with).
const ATTRIBUTIONS: &[(&str, &str, &str)] = &[
    ("On ", "", "wrote:"),
    ("Le ", "", "a écrit :"),
    ("Le ", "", "a écrit:"),
    ("Am ", "schrieb", ":"),
    ("El ", "", "escribió:"),
    ("Op ", "schreef", ":"),
    ("Il ", "", "ha scritto:"),
    ("Em ", "", "escreveu:"),
];

fn is_attribution(lines: &[Line<'_>], i: usize) -> bool {
    let first = lines[i].s.trim();
    let second = lines.get(i + 1).map(|l| l.s.trim());
    ATTRIBUTIONS.iter().any(|&(start, middle, end)| {
        if !first.starts_with(start) {
            return false;
        }
        let one = first.len() <= 300 && first.ends_with(end) && first.contains(middle);
        let two = second.is_some_and(|second| {
            !second.is_empty()
                && first.len() + second.len() <= 400
                && second.ends_with(end)
                && (first.contains(middle) || second.contains(middle))
        });
        one || two
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn split(t: &str) -> (&str, &str) {
        split_quoted(t)
    }

    #[test]
    fn nothing_quoted() {
        let t = "Hello,\n\nthe parcel arrived today.\nThanks!\n";
        assert_eq!(split(t), (t, ""));
        assert_eq!(split(""), ("", ""));
    }

    #[test]
    fn gmail() {
        let t = "Thanks, that works!\n\nOn Mon, 3 Mar 2025 at 10:00, Ann Smith <ann@example.com> wrote:\n\n> Try restarting it.\n>\n> Ann\n";
        let (new, old) = split(t);
        assert_eq!(new, "Thanks, that works!");
        assert!(old.starts_with("On Mon"));
    }

    #[test]
    fn gmail_wrapped_attribution() {
        let t = "Sure.\n\nOn Mon, Mar 3, 2025 at 10:00 AM Ann Smith <\nann@example.com> wrote:\n\n> hello\n";
        assert_eq!(split(t).0, "Sure.");
        assert!(split(t).1.starts_with("On Mon, Mar 3"));
    }

    #[test]
    fn apple_mail() {
        let t = "Perfect, see you then.\n\nSent from my iPhone\n\n> On 3 Mar 2025, at 10:00, Ann <ann@example.com> wrote:\n> \n> Shall we meet?\n";
        let (new, old) = split(t);
        assert_eq!(new, "Perfect, see you then.\n\nSent from my iPhone");
        assert!(old.starts_with("> On 3 Mar"));
    }

    #[test]
    fn thunderbird_with_signature() {
        let t = "Yes, please.\n\nOn 03/03/2025 10:00, Ann wrote:\n> Do you want it?\n\n-- \nBob\n";
        assert_eq!(split(t).0, "Yes, please.");
        let t = "Yes, please.\n-- \nBob Example\nACME Inc.\n";
        let (new, old) = split(t);
        assert_eq!(new, "Yes, please.");
        assert_eq!(old, "-- \nBob Example\nACME Inc.\n");
    }

    #[test]
    fn outlook() {
        let t = "Approved.\r\n\r\n________________________________\r\nFrom: Ann Smith <ann@example.com>\r\nSent: Monday, March 3, 2025 10:00 AM\r\nTo: Bob\r\nSubject: Budget\r\n\r\nPlease approve.\r\n";
        let (new, old) = split(t);
        assert_eq!(new, "Approved.");
        assert!(old.starts_with("_____"));
        let t = "Approved.\n\nFrom: Ann Smith [mailto:ann@example.com]\nSent: Monday, March 3, 2025 10:00 AM\nTo: Bob\n\nold";
        assert!(split(t).1.starts_with("From: Ann"));
        let t = "Approved.\n\n-----Original Message-----\nFrom: Ann\nold";
        assert!(split(t).1.starts_with("-----Original"));
        let t = "Ok\n\n----- Original Message -----\nold";
        assert!(split(t).1.starts_with("----- Original"));
    }

    #[test]
    fn localised_attributions() {
        for (t, at) in [
            (
                "Merci !\n\nLe lun. 3 mars 2025 à 10:00, Ann <a@x.fr> a écrit :\n> old\n",
                "Le lun.",
            ),
            (
                "Danke!\n\nAm Mo., 3. März 2025 um 10:00 Uhr schrieb Ann <a@x.de>:\n> old\n",
                "Am Mo.",
            ),
            (
                "Gracias\n\nEl lun, 3 mar 2025 a las 10:00, Ann (<a@x.es>) escribió:\n> old\n",
                "El lun",
            ),
        ] {
            let (new, old) = split(t);
            assert!(old.starts_with(at), "{t:?} -> {old:?}");
            assert!(!new.is_empty());
        }
    }

    #[test]
    fn inline_replies_are_not_hidden() {
        let t = "> Can you ship on Monday?\nYes.\n> And the invoice?\nAttached.\n";
        assert_eq!(split(t), (t, ""));
        let t = "See below.\n> Can you ship on Monday?\nYes.\n> Invoice?\n> Please.\n";
        let (new, old) = split(t);
        assert_eq!(new, "See below.\n> Can you ship on Monday?\nYes.");
        assert_eq!(old, "> Invoice?\n> Please.\n");
    }

    #[test]
    fn never_leaves_nothing() {
        for t in [
            "> all quoted\n> here\n",
            "-- \nsignature only",
            "On Mon, Ann wrote:\n> x",
            "\n\n  \n-----Original Message-----\nx",
        ] {
            assert_eq!(split(t), (t, ""), "{t:?}");
        }
    }

    #[test]
    fn ordinary_sentences_are_not_attributions() {
        let t = "On Monday we shipped it.\nFrom: the warehouse, as usual.\n";
        assert_eq!(split(t), (t, ""));
    }

    proptest! {
        #[test]
        fn parts_are_prefix_and_suffix(t in "(\\PC|\n|> |-- \n|On x wrote:\n|From: a\nSent: b\n|_{10}\n){0,40}") {
            let (a, b) = split_quoted(&t);
            prop_assert!(t.starts_with(a));
            prop_assert!(t.ends_with(b));
            prop_assert!(a.len() + b.len() <= t.len());
            if !b.is_empty() {
                prop_assert!(!a.trim().is_empty());
            }
        }

        #[test]
        fn any_text_never_panics(t in any::<String>()) {
            let (a, b) = split_quoted(&t);
            prop_assert!(t.starts_with(a) && t.ends_with(b));
        }
    }
}
