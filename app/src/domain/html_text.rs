//! HTML email to plain text, for SMS and chat channels: block elements become line breaks,
//! links are kept as addresses, entities are decoded and quoted history is dropped. Pure and
//! bounded (input cap, linear scans); runs in the browser for the composer's preview.

/// Largest HTML [`html_to_text`] reads; the rest is cut (with a note in [`for_channel`]).
pub const MAX_HTML_BYTES: usize = 256 * 1024;

/// What [`html_to_text`] did, for the notes shown with a preview.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HtmlText {
    pub text: String,
    /// Quoted history (blockquotes, Gmail quotes, "On … wrote:" trailers, `>` lines) was dropped.
    pub dropped_quotes: bool,
    /// The input was longer than [`MAX_HTML_BYTES`] and was cut.
    pub truncated: bool,
}

/// HTML email to plain text for SMS and chat channels: block elements become line breaks,
/// links are kept as "text (https://…)", entities are decoded, and quoted history is dropped.
pub fn html_to_text(html: &str) -> String {
    html_to_text_report(html).text
}

/// [`html_to_text`] with what it dropped.
pub fn html_to_text_report(html: &str) -> HtmlText {
    let truncated = html.len() > MAX_HTML_BYTES;
    let html = if truncated {
        let mut end = MAX_HTML_BYTES;
        while !html.is_char_boundary(end) {
            end -= 1;
        }
        &html[..end]
    } else {
        html
    };
    let mut w = HtmlWalker::default();
    w.walk(html);
    let (text, dropped) = drop_quoted_text(&tidy(&w.out));
    HtmlText {
        text,
        dropped_quotes: dropped || w.dropped,
        truncated,
    }
}

/// Elements whose whole content is dropped.
const SKIPPED: [&str; 7] = [
    "script",
    "style",
    "head",
    "title",
    "template",
    "blockquote",
    "noscript",
];
/// Block elements separated by a blank line, and by a single line break.
const PARAGRAPHS: [&str; 13] = [
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "pre", "dl", "figure",
];
const BLOCKS: [&str; 17] = [
    "div", "tr", "li", "section", "article", "header", "footer", "address", "dt", "dd", "nav",
    "aside", "main", "form", "fieldset", "center", "caption",
];
/// Class names and ids of the containers mail programs put quoted history in.
const QUOTE_MARKS: [&str; 6] = [
    "gmail_quote",
    "yahoo_quoted",
    "moz-cite-prefix",
    "divrplyfwdmsg",
    "appendonsend",
    "protonmail_quote",
];

#[derive(Default)]
struct HtmlWalker {
    out: String,
    /// Inside a dropped element: its name and nesting depth.
    skip: Option<(String, usize)>,
    /// The open link: its address and where its text starts in `out`.
    link: Option<(String, usize)>,
    pre: usize,
    dropped: bool,
}

impl HtmlWalker {
    fn walk(&mut self, html: &str) {
        let mut rest = html;
        while !rest.is_empty() {
            let Some(lt) = rest.find('<') else {
                self.text(rest);
                break;
            };
            self.text(&rest[..lt]);
            rest = &rest[lt..];
            if let Some(after) = rest.strip_prefix("<!--") {
                rest = after.find("-->").map_or("", |e| &after[e + 3..]);
                continue;
            }
            let next = rest[1..].chars().next();
            let is_tag = matches!(next, Some(c) if c.is_ascii_alphabetic() || c == '/' || c == '!' || c == '?');
            if !is_tag {
                self.text("<");
                rest = &rest[1..];
                continue;
            }
            let Some(end) = tag_end(rest) else {
                break;
            };
            let tag = &rest[1..end];
            rest = &rest[end + 1..];
            if tag.starts_with('!') || tag.starts_with('?') {
                continue;
            }
            let (closing, tag) = match tag.strip_prefix('/') {
                Some(t) => (true, t),
                None => (false, tag),
            };
            let name_end = tag
                .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
                .unwrap_or(tag.len());
            let name = tag[..name_end].to_ascii_lowercase();
            let attrs = &tag[name_end..];
            // Raw-text elements: skip to their end tag without reading tags inside.
            if !closing && (name == "script" || name == "style") {
                let close = format!("</{name}");
                rest = match find_ascii_ci(rest, &close) {
                    Some(i) => rest[i..].find('>').map_or("", |e| &rest[i + e + 1..]),
                    None => "",
                };
                continue;
            }
            self.tag(&name, closing, attrs);
        }
    }

    fn tag(&mut self, name: &str, closing: bool, attrs: &str) {
        let void = matches!(
            name,
            "br" | "img" | "hr" | "meta" | "link" | "input" | "wbr" | "col" | "area" | "base"
        ) || attrs.trim_end().ends_with('/');
        if let Some((skipping, depth)) = &mut self.skip {
            if skipping == name && !void {
                if closing {
                    *depth -= 1;
                } else {
                    *depth += 1;
                }
                if *depth == 0 {
                    self.skip = None;
                    self.brk(2);
                }
            }
            return;
        }
        if !closing && !void {
            let quoted = QUOTE_MARKS.iter().any(|m| {
                ["class", "id"]
                    .iter()
                    .any(|a| attr(attrs, a).is_some_and(|v| v.to_ascii_lowercase().contains(m)))
            });
            if SKIPPED.contains(&name) || quoted {
                self.dropped |= name == "blockquote" || quoted;
                self.skip = Some((name.to_string(), 1));
                return;
            }
        }
        match name {
            "br" => {
                trim_spaces(&mut self.out);
                self.out.push('\n');
            }
            "hr" => self.brk(2),
            "li" if !closing => {
                self.brk(1);
                self.out.push_str("- ");
            }
            "td" | "th" if !closing && !self.out.is_empty() && !self.out.ends_with(['\n', ' ']) => {
                self.out.push(' ');
            }
            "img" => {
                if let Some(alt) = attr(attrs, "alt").filter(|a| !a.trim().is_empty()) {
                    self.text(&alt);
                }
            }
            "a" if !closing => self.link = attr(attrs, "href").map(|h| (h, self.out.len())),
            "a" => self.close_link(),
            "pre" => {
                self.brk(2);
                self.pre = if closing {
                    self.pre.saturating_sub(1)
                } else {
                    self.pre + 1
                };
            }
            n if PARAGRAPHS.contains(&n) => self.brk(2),
            n if BLOCKS.contains(&n) => self.brk(1),
            _ => {}
        }
    }

    fn close_link(&mut self) {
        let Some((href, start)) = self.link.take() else {
            return;
        };
        let href = href.trim();
        let lower = href.to_ascii_lowercase();
        let shown = if let Some(addr) = lower.strip_prefix("mailto:") {
            href[href.len() - addr.len()..]
                .split('?')
                .next()
                .unwrap_or("")
        } else if lower.starts_with("https://") || lower.starts_with("http://") {
            href
        } else if lower.starts_with("tel:") {
            &href[4..]
        } else {
            return;
        };
        if shown.is_empty() {
            return;
        }
        let text = self.out.get(start..).unwrap_or("").trim();
        let bare = |s: &str| {
            s.trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_ascii_lowercase()
        };
        if text.is_empty() {
            self.text(shown);
        } else if bare(text) != bare(shown) {
            self.out.push_str(&format!(" ({shown})"));
        }
    }

    fn text(&mut self, raw: &str) {
        if raw.is_empty() || self.skip.is_some() {
            return;
        }
        let decoded = decode_entities(raw);
        if self.pre > 0 {
            self.out.push_str(&decoded);
            return;
        }
        for c in decoded.chars() {
            if c.is_whitespace() && c != '\u{00A0}' {
                if !self.out.is_empty() && !self.out.ends_with([' ', '\n']) {
                    self.out.push(' ');
                }
            } else {
                self.out.push(c);
            }
        }
    }

    /// Ends the current line and leaves `n - 1` blank lines (none at the very start).
    fn brk(&mut self, n: usize) {
        trim_spaces(&mut self.out);
        if self.out.is_empty() {
            return;
        }
        let have = self.out.len() - self.out.trim_end_matches('\n').len();
        for _ in have..n {
            self.out.push('\n');
        }
    }
}

/// Byte index of the first case-insensitive match of the ASCII `needle`.
fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    (0..h.len().saturating_sub(n.len() - 1)).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

fn trim_spaces(s: &mut String) {
    let t = s.trim_end_matches(' ').len();
    s.truncate(t);
}

/// Index of the `>` that ends the tag starting at `s[0] == '<'`, outside quoted values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// The decoded value of attribute `name` in a tag's attribute text.
fn attr(attrs: &str, name: &str) -> Option<String> {
    let mut rest = attrs;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return None;
        }
        let n_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let key = &rest[..n_end];
        rest = rest[n_end..].trim_start();
        let mut value = None;
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (v, tail) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let body = &after[1..];
                    let e = body.find(q).unwrap_or(body.len());
                    (&body[..e], body.get(e + 1..).unwrap_or(""))
                }
                _ => {
                    let e = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..e], &after[e..])
                }
            };
            value = Some(v);
            rest = tail;
        }
        if key.eq_ignore_ascii_case(name) {
            return Some(decode_entities(value.unwrap_or("")));
        }
        if n_end == 0 && value.is_none() {
            // Not an attribute at all: skip one character so the loop always advances.
            rest = rest.get(1..).unwrap_or("");
        }
    }
}

/// Decodes character references: the common named ones, `&#123;` and `&#x1F600;`. Unknown
/// names are left as written; invalid code points become U+FFFD.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // Names are short: look for the `;` in the next 33 bytes only (linear time).
        let semi = rest
            .bytes()
            .skip(1)
            .take(33)
            .position(|b| b == b';')
            .map(|i| i + 1);
        let decoded = semi.and_then(|i| entity(&rest[1..i]).map(|c| (c, i)));
        match decoded {
            Some((c, i)) => {
                out.push(c);
                rest = &rest[i + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        return Some(
            char::from_u32(code)
                .filter(|&c| c != '\0')
                .unwrap_or('\u{FFFD}'),
        );
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{00A0}',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "bull" => '•',
        "middot" => '·',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "cent" => '¢',
        "sect" => '§',
        "deg" => '°',
        "times" => '×',
        "shy" => '\u{00AD}',
        "zwnj" => '\u{200C}',
        "zwj" => '\u{200D}',
        _ => return None,
    })
}

/// Trailing spaces off every line, at most one blank line in a row, no blank start or end.
pub(crate) fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.replace("\r\n", "\n").split('\n') {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

/// Drops the quoted history after the text ("On … wrote:", Outlook headers, a trailing `>`
/// run) and every other `>`-quoted line. Says whether anything was dropped.
fn drop_quoted_text(text: &str) -> (String, bool) {
    let (head, quoted) = super::quote::split_quoted(text);
    let mut dropped = !quoted.is_empty();
    let kept: Vec<&str> = head
        .lines()
        .filter(|l| {
            let q = l.trim_start().starts_with('>');
            dropped |= q;
            !q
        })
        .collect();
    (tidy(&kept.join("\n")), dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::escape_html;

    #[test]
    fn html_blocks_links_and_entities() {
        let t = html_to_text(concat!(
            "<html><head><title>x</title><style>p{}</style></head><body>",
            "<p>Hi&nbsp;Ann &amp; co,</p><p>See <a href=\"https://shop.test/o/1\">your order</a>",
            " or <a href='https://x.test'>https://x.test</a>.<br>Thanks&hellip;</p>",
            "<ul><li>one</li><li>two</li></ul><SCRIPT>alert('<p>')</Script>&#x1F600;&#65;</body></html>",
        ));
        assert_eq!(
            t,
            "Hi\u{a0}Ann & co,\n\nSee your order (https://shop.test/o/1) or https://x.test.\nThanks…\n\n- one\n- two\n\n😀A"
        );
    }

    #[test]
    fn quoted_history_is_dropped() {
        let gmail = "<div dir=ltr>Yes, Tuesday works.</div><br><div class=\"gmail_quote\">\
            <div class=\"gmail_attr\">On Mon, Ann wrote:<br></div><blockquote class=\"gmail_quote\">\
            <div>Does <div>Tuesday</div> work?</div></blockquote></div><p>After</p>";
        let r = html_to_text_report(gmail);
        assert_eq!(r.text, "Yes, Tuesday works.\n\nAfter");
        assert!(r.dropped_quotes);
        let plain =
            "<p>Sure.</p><p>On Mon, 1 Jan 2026, Ann &lt;a@x.test&gt; wrote:</p><p>&gt; old</p>";
        assert_eq!(html_to_text(plain), "Sure.");
        let inline = "<p>Answer<br>&gt; quoted line<br>more</p>";
        assert_eq!(html_to_text(inline), "Answer\nmore");
        let nested = "<blockquote>a<blockquote>b</blockquote>c</blockquote>kept";
        assert_eq!(html_to_text(nested), "kept");
    }

    #[test]
    fn malformed_html_and_plain_text_pass_through() {
        assert_eq!(html_to_text("a < b and c > d"), "a < b and c > d");
        assert_eq!(html_to_text("<p>unclosed <b"), "unclosed");
        assert_eq!(html_to_text("&bogus; &amp"), "&bogus; &amp");
        assert_eq!(html_to_text("<a href=\"javascript:x\">click</a>"), "click");
        assert_eq!(
            html_to_text("<a href=\"mailto:help@x.test?subject=Hi\">Write</a>"),
            "Write (help@x.test)"
        );
        assert_eq!(html_to_text("&#0;&#xD800;"), "\u{FFFD}\u{FFFD}");
    }

    #[test]
    fn input_is_bounded() {
        let big = format!("<p>{}</p>", "é".repeat(MAX_HTML_BYTES));
        let r = html_to_text_report(&big);
        assert!(r.truncated);
        assert!(r.text.len() <= MAX_HTML_BYTES);
    }

    proptest::proptest! {
        /// Any input: no panic, no tags or quoted lines left in what came from markup-free text,
        /// and the output never grows beyond the input plus link addresses.
        #[test]
        fn html_to_text_never_panics(s in "\\PC{0,400}") {
            let t = html_to_text(&s);
            proptest::prop_assert!(t.lines().all(|l| !l.trim_start().starts_with('>')));
        }

        #[test]
        fn plain_words_survive(words in proptest::collection::vec("[a-zA-Z0-9]{1,8}", 1..30)) {
            let text = words.join(" ");
            let html = format!("<div><p>{}</p></div>", escape_html(&text));
            proptest::prop_assert_eq!(html_to_text(&html), text);
        }
    }
}
