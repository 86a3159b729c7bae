//! Converting message content between channels. Pure; runs in the browser too, so the composer
//! can preview what the customer will receive.

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

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

#[cfg(test)]
mod tests {
    use super::*;

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
