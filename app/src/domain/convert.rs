//! Converting message content between channels. Pure; runs in the browser too, so the composer
//! can preview what the customer will receive.

use super::html_text::{html_to_text_report, tidy};
use super::ChannelKind;

pub use super::html_text::{decode_entities, html_to_text, HtmlText, MAX_HTML_BYTES};

use crate::domain::text::escape_html;

/// Plain text to simple HTML for email: paragraphs on blank lines, `<br>` on line breaks,
/// `http(s)://` links made clickable. Everything else is escaped.
pub fn text_to_html(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut out = String::with_capacity(text.len() * 5 / 4 + 32);
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        out.push_str("<p>");
        for (i, line) in para.lines().enumerate() {
            if i > 0 {
                out.push_str("<br>\n");
            }
            linkify_into(line, &mut out);
        }
        out.push_str("</p>\n");
    }
    out
}

fn linkify_into(line: &str, out: &mut String) {
    let mut rest = line;
    while let Some(start) = find_url(rest) {
        out.push_str(&escape_html(&rest[..start]));
        let tail = &rest[start..];
        let mut end = tail
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
            .unwrap_or(tail.len());
        // Sentence punctuation after a link is not part of it.
        while end > 0 && tail[..end].ends_with(['.', ',', ';', ':', '!', '?', ')']) {
            end -= 1;
        }
        let url = &tail[..end];
        if url.len() <= "https://".len() {
            out.push_str(&escape_html(url));
        } else {
            let u = escape_html(url);
            out.push_str(&format!("<a href=\"{u}\">{u}</a>"));
        }
        rest = &tail[end..];
        if end == 0 {
            // Cannot happen with a scheme prefix, but never loop forever.
            out.push_str(&escape_html(rest));
            return;
        }
    }
    out.push_str(&escape_html(rest));
}

fn find_url(s: &str) -> Option<usize> {
    let a = s.find("https://");
    let b = s.find("http://");
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A draft that is HTML rather than plain text (pasted from an email).
pub fn looks_like_html(text: &str) -> bool {
    let t = text.trim();
    t.starts_with('<')
        && t.ends_with('>')
        && ["</", "<br", "<p", "<div"]
            .iter()
            .any(|m| t.to_ascii_lowercase().contains(m))
}

/// Whether a channel's messages can carry files (elsewhere files become links).
pub fn carries_files(channel: ChannelKind) -> bool {
    channel == ChannelKind::Email
}

/// The line a file becomes on a channel that cannot carry it.
pub fn file_link_line(filename: &str, url: &str) -> String {
    let name: String = filename
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("File: {} {url}", name.trim())
}

/// What the customer receives on a channel: the text, the HTML for email, and notes in words.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Converted {
    pub text: String,
    pub html: Option<String>,
    pub notes: Vec<String>,
    /// `text` against the channel's limit (what the counter shows and the server checks).
    pub length: Option<super::window::TextLength>,
}

/// Converts a draft for `channel`: HTML drafts become plain text, email gets simple HTML,
/// SMS gets its segment count, and every limited channel says when the text is over it.
pub fn for_channel(channel: ChannelKind, draft: &str) -> Converted {
    let mut notes = Vec::new();
    let text = if looks_like_html(draft) {
        let r = html_to_text_report(draft);
        notes.push("Formatting removed; links kept as addresses.".to_string());
        if r.dropped_quotes {
            notes.push("Quoted history removed.".to_string());
        }
        if r.truncated {
            notes.push("Cut at 256 KB.".to_string());
        }
        r.text
    } else {
        tidy(draft.trim())
    };
    let html = (channel == ChannelKind::Email).then(|| text_to_html(&text));
    if channel == ChannelKind::Sms && !text.is_empty() {
        let info = super::sms::analyze(&text);
        let enc = match info.encoding {
            super::sms::Encoding::Gsm7 => "GSM-7",
            super::sms::Encoding::Ucs2 => "UCS-2",
        };
        let s = if info.segments == 1 { "" } else { "s" };
        notes.push(format!("{} SMS segment{s} ({enc}).", info.segments));
    }
    let length = super::window::text_length(channel, &text);
    if let Some(l) = length.filter(|l| l.over() > 0) {
        notes.push(format!(
            "Over the {} limit of {} characters by {}.",
            channel.label(),
            l.max,
            l.over()
        ));
    }
    Converted {
        text,
        html,
        notes,
        length,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converted_for_each_channel() {
        let c = for_channel(ChannelKind::Email, "Hi\n\nSee https://x.test");
        assert_eq!(c.text, "Hi\n\nSee https://x.test");
        assert!(c.html.unwrap().contains("<a href=\"https://x.test\">"));
        let c = for_channel(ChannelKind::Sms, "<p>Hi <b>there</b></p><p>It’s ok</p>");
        assert_eq!(c.text, "Hi there\n\nIt’s ok");
        assert!(c.html.is_none());
        assert!(c.notes.iter().any(|n| n.contains("Formatting removed")));
        assert!(
            c.notes.iter().any(|n| n == "1 SMS segment (UCS-2)."),
            "{:?}",
            c.notes
        );
        let c = for_channel(ChannelKind::Instagram, &"a".repeat(1001));
        assert_eq!(
            c.notes,
            vec!["Over the Instagram limit of 1000 characters by 1."]
        );
        assert_eq!(
            for_channel(ChannelKind::Sms, "a  \n\n\n\nb ").text,
            "a\n\nb"
        );
    }

    #[test]
    fn the_counted_length_is_the_converted_text() {
        // Blank lines and trailing spaces the conversion drops do not count against the limit.
        let draft = format!("{}\n\n\n\n   ", "a".repeat(1_600));
        let c = for_channel(ChannelKind::Sms, &draft);
        let l = c.length.unwrap();
        assert_eq!((l.chars, l.max, l.over()), (1_600, 1_600, 0));
        assert!(crate::domain::window::check_text_limit(ChannelKind::Sms, &c.text).is_ok());
        assert!(
            c.notes.iter().all(|n| !n.starts_with("Over")),
            "{:?}",
            c.notes
        );
        // HTML counts as the text it becomes.
        let c = for_channel(
            ChannelKind::Instagram,
            &format!("<p>{}</p>", "b".repeat(1_001)),
        );
        assert_eq!(c.length.unwrap().over(), 1);
        assert!(crate::domain::window::check_text_limit(ChannelKind::Instagram, &c.text).is_err());
        assert!(for_channel(ChannelKind::Email, "x").length.is_none());
    }

    #[test]
    fn file_lines() {
        assert_eq!(
            file_link_line("re\nport.pdf", "https://x.test/files/t"),
            "File: re port.pdf https://x.test/files/t"
        );
        assert!(carries_files(ChannelKind::Email));
        assert!(!carries_files(ChannelKind::Sms));
    }

    #[test]
    fn paragraphs_breaks_and_escaping() {
        assert_eq!(
            text_to_html("Hi <Ann>,\nthanks & bye\n\nBob"),
            "<p>Hi &lt;Ann&gt;,<br>\nthanks &amp; bye</p>\n<p>Bob</p>\n"
        );
    }

    #[test]
    fn links_are_clickable_without_trailing_punctuation() {
        let h = text_to_html("See https://example.com/a?b=1&c=2. Or http://x.test");
        assert!(h.contains("<a href=\"https://example.com/a?b=1&amp;c=2\">"));
        assert!(h.contains("</a>. Or <a href=\"http://x.test\">"));
    }

    #[test]
    fn attribute_injection_is_escaped() {
        let h = text_to_html("https://x.test/\"onmouseover=alert(1)");
        assert!(!h.contains("\"onmouseover"));
    }

    #[test]
    fn empty_text_is_empty_html() {
        assert_eq!(text_to_html(" \n\n "), "");
    }
}
