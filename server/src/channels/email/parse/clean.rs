//! Cleaning header values: ids, lines, addresses, text.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// Cleaning header values.

/// A Message-ID without brackets, when it is usable as a key.
pub(super) fn clean_id(id: &str) -> Option<String> {
    let id = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    if id.is_empty()
        || id.chars().count() > MAX_ID_CHARS
        || id.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return None;
    }
    Some(id.to_string())
}

/// Invisible characters that reorder or hide text (bidi overrides, zero-width marks).
pub(super) fn is_format_char(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{061c}')
}

/// Text for one line of display: control characters become spaces, whitespace collapses.
pub(super) fn clean_line(s: &str, max_chars: usize) -> Option<String> {
    let mut out = String::with_capacity(s.len().min(max_chars * 4));
    let mut space = false;
    let mut count = 0;
    for c in s.chars() {
        if is_format_char(c) {
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
            continue;
        }
        if count >= max_chars {
            break;
        }
        if space {
            out.push(' ');
            count += 1;
            space = false;
        }
        out.push(c);
        count += 1;
    }
    (!out.is_empty()).then_some(out)
}

/// An address as written, without whitespace or control characters.
pub(super) fn clean_address(s: &str) -> Option<String> {
    let a: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control() && !is_format_char(*c))
        .take(MAX_ID_CHARS)
        .collect();
    let a = a.trim_start_matches('<').trim_end_matches('>').to_string();
    (!a.is_empty()).then_some(a)
}

/// Body text: NUL and other control characters (but tab and line breaks) removed.
pub(super) fn clean_text(s: &str) -> String {
    s.chars()
        .filter(|&c| (!c.is_control() || matches!(c, '\n' | '\r' | '\t')) && c != '\u{feff}')
        .collect()
}

pub(super) fn first_mailbox(addr: Option<&Address<'_>>) -> Option<Mailbox> {
    addr?.iter().find_map(|a| {
        let address = clean_address(a.address()?)?;
        Some(Mailbox {
            address,
            name: a.name().and_then(|n| clean_line(n, MAX_NAME_CHARS)),
        })
    })
}

pub(super) fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    value
        .as_text_list()
        .unwrap_or_default()
        .iter()
        .filter_map(|id| clean_id(id))
        .collect()
}

/// A root header by name (any case).
pub(super) fn root_header<'a>(message: &'a Message<'_>, name: &str) -> Option<&'a HeaderValue<'a>> {
    message
        .headers()
        .iter()
        .find(|h| h.name.as_str().eq_ignore_ascii_case(name))
        .map(|h| &h.value)
}

pub(super) fn root_text(message: &Message<'_>, name: &str) -> Option<String> {
    match root_header(message, name)? {
        HeaderValue::Text(t) => Some(t.trim().to_string()),
        HeaderValue::TextList(l) => l.first().map(|t| t.trim().to_string()),
        HeaderValue::Address(_) => Some(String::from("address")),
        HeaderValue::Empty => Some(String::new()),
        _ => Some(String::from("value")),
    }
}
