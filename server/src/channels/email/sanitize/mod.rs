//! HTML email made safe to show: a tight ammonia allow-list, quoted history folded behind
//! "Show quoted text", and the Content-Security-Policy of the frame that shows it.
//!
//! Three layers, so that no single mistake loads or runs anything:
//! 1. [`sanitize`] (at ingest): ammonia with an allow-list made for email, relative URLs denied,
//!    `style` attributes reduced to properties that cannot load anything.
//! 2. [`render_frame`] (at display): remote `img src` removed unless the agent asked for images.
//! 3. [`frame_csp`]: the frame's own Content-Security-Policy and sandbox.
//!
//! html5ever (under ammonia) is quadratic on some pathological markup (100,000 nested `<div>`s
//! take most of a minute; misnested formatting tags can multiply the node count). Before
//! parsing, [`sanitize`] estimates the tree builder's work with a cheap, deliberately
//! pessimistic model of its stack; markup over budget is shown as plain text instead.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::OnceLock;

mod lexer;
mod scan;
#[cfg(test)]
mod tests;

use lexer::*;
use scan::*;

/// HTML beyond this many bytes is cut (html5ever closes whatever the cut leaves open).
pub const MAX_HTML_BYTES: usize = 2 * 1024 * 1024;
/// Budget for the tree builder's stack scans (sum of the stack depth over every tag).
const MAX_TREE_WORK: u64 = 20_000_000;
/// Budget for elements the tree builder may clone when it reopens formatting elements.
const MAX_CLONE_WORK: u64 = 500_000;

const QUOTE_OPEN: &str = "<details class=\"quoted\"><summary>Show quoted text</summary>";

/// Sanitises `html` (no scripts, event handlers, forms, frames, styles that load anything).
pub fn sanitize(html: &str) -> String {
    sanitize_with_note(html).0
}

/// [`sanitize`], plus a note in words when the HTML could not be shown in full: cut at
/// [`MAX_HTML_BYTES`], or too convoluted to parse cheaply and so shown as plain text.
pub fn sanitize_with_note(html: &str) -> (String, Option<String>) {
    let mut note = None;
    let html = if html.len() > MAX_HTML_BYTES {
        note = Some(format!(
            "The HTML version is {} KB; only its first {} KB are shown.",
            html.len() / 1024,
            MAX_HTML_BYTES / 1024
        ));
        &html[..floor_char_boundary(html, MAX_HTML_BYTES)]
    } else {
        html
    };
    let scan = scan(html);
    if scan.over_budget {
        let note = "The HTML version is too deeply nested to display safely; it is shown as plain \
                    text."
            .to_string();
        return (
            text_as_html(&mail_parser::decoders::html::html_to_text(html)),
            Some(note),
        );
    }
    let input: Cow<str> = match scan.fold_at {
        Some(at) => {
            let mut s = String::with_capacity(html.len() + QUOTE_OPEN.len());
            s.push_str(&html[..at]);
            s.push_str(QUOTE_OPEN);
            s.push_str(&html[at..]);
            Cow::Owned(s)
        }
        None => Cow::Borrowed(html),
    };
    (builder().clean(&input).to_string(), note)
}

/// Replaces `src="cid:…"` in sanitised HTML with URLs from `resolve` (unresolved ones are
/// dropped). `resolve` gets the Content-ID as written in the URL, percent-decoded, without
/// `cid:`. Resolved URLs should be same-origin paths (`/attachments/7`): [`render_frame`] keeps
/// those and treats absolute `http(s)` URLs as remote images.
pub fn rewrite_cid(html: &str, resolve: &dyn Fn(&str) -> Option<String>) -> String {
    rewrite_attributes(html, |_tag, attr, value| {
        if !attr.eq_ignore_ascii_case("src") {
            return Edit::Keep;
        }
        let v = unescape_attr(value);
        let trimmed = v.trim_start();
        match strip_prefix_ci(trimmed, "cid:") {
            Some(id) => match resolve(&percent_decode(id.trim())) {
                Some(url) => Edit::Replace(url),
                None => Edit::Drop,
            },
            None => Edit::Keep,
        }
    })
}

/// The message frame's document, and how many remote images it left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub html: String,
    pub blocked_images: usize,
}

const FRAME_STYLE: &str = "html{color-scheme:light}\
body{margin:0;padding:8px;font:14px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,\
\"Helvetica Neue\",Arial,sans-serif;color:#1f2328;background:#fff;overflow-wrap:anywhere}\
img{max-width:100%;height:auto}\
table{max-width:100%}\
pre{white-space:pre-wrap}\
blockquote{margin:0 0 0 .8em;padding-left:.8em;border-left:3px solid #d0d7de;color:#57606a}\
details.quoted{margin-top:.5em}\
details.quoted>summary{color:#6e7781;cursor:pointer;font-size:12px;user-select:none}\
a{color:#0969da}";

/// A complete HTML document around a sanitised body (the output of [`sanitize`], after
/// [`rewrite_cid`]), for the message frame. Unless `remote_images`, every image that is not a
/// same-origin path (`/…`) or `data:` loses its `src` (its `alt` stays), so the document loads
/// nothing from elsewhere even without [`frame_csp`].
pub fn render_frame(sanitized_body: &str, remote_images: bool) -> Frame {
    let mut blocked = 0usize;
    let body = if remote_images {
        sanitized_body.to_string()
    } else {
        rewrite_attributes(sanitized_body, |tag, attr, value| {
            let loads = (tag.eq_ignore_ascii_case("img") && attr.eq_ignore_ascii_case("src"))
                || attr.eq_ignore_ascii_case("srcset")
                || attr.eq_ignore_ascii_case("background")
                || attr.eq_ignore_ascii_case("poster");
            if !loads {
                return Edit::Keep;
            }
            if attr.eq_ignore_ascii_case("src") && is_local_source(&unescape_attr(value)) {
                Edit::Keep
            } else {
                blocked += 1;
                Edit::Drop
            }
        })
    };
    let mut html = String::with_capacity(body.len() + FRAME_STYLE.len() + 200);
    html.push_str("<!doctype html><html><head><meta charset=\"utf-8\"><base target=\"_blank\">");
    html.push_str("<meta name=\"referrer\" content=\"no-referrer\"><style>");
    html.push_str(FRAME_STYLE);
    html.push_str("</style></head><body>");
    html.push_str(&body);
    html.push_str("</body></html>");
    Frame {
        html,
        blocked_images: blocked,
    }
}

/// The CSP of the message frame; remote images only when the agent asked for them.
pub fn frame_csp(remote_images: bool) -> String {
    let images = if remote_images {
        "'self' data: https: http:"
    } else {
        "'self' data:"
    };
    format!(
        "default-src 'none'; img-src {images}; style-src 'unsafe-inline'; font-src 'none'; \
         form-action 'none'; base-uri 'none'; frame-ancestors 'self'; \
         sandbox allow-popups allow-popups-to-escape-sandbox allow-same-origin"
    )
}

// ---------------------------------------------------------------------------------------------
// The ammonia allow-list.

const TAGS: &[&str] = &[
    "p",
    "br",
    "div",
    "span",
    "a",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "s",
    "strike",
    "ul",
    "ol",
    "li",
    "blockquote",
    "pre",
    "code",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "td",
    "th",
    "caption",
    "img",
    "hr",
    "sub",
    "sup",
    "small",
    "big",
    "center",
    "font",
    "details",
    "summary",
];

/// Elements removed with everything inside them (their text is not mail content, or is
/// foreign content that is better not shown at all).
const DROP_WITH_CONTENT: &[&str] = &[
    "script", "style", "title", "noscript", "template", "iframe", "noembed", "noframes", "xmp",
    "svg", "math", "select", "textarea", "object", "applet", "head",
];

/// CSS properties that cannot load anything.
const STYLE_PROPERTIES: &[&str] = &[
    "color",
    "background-color",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-variant",
    "font-weight",
    "text-align",
    "text-decoration",
    "text-decoration-color",
    "text-decoration-line",
    "text-decoration-style",
    "text-indent",
    "text-transform",
    "line-height",
    "letter-spacing",
    "word-spacing",
    "margin",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border",
    "border-top",
    "border-right",
    "border-bottom",
    "border-left",
    "border-color",
    "border-style",
    "border-width",
    "border-top-color",
    "border-top-style",
    "border-top-width",
    "border-right-color",
    "border-right-style",
    "border-right-width",
    "border-bottom-color",
    "border-bottom-style",
    "border-bottom-width",
    "border-left-color",
    "border-left-style",
    "border-left-width",
    "border-collapse",
    "border-spacing",
    "border-radius",
    "width",
    "height",
    "max-width",
    "vertical-align",
    "white-space",
];

fn builder() -> &'static ammonia::Builder<'static> {
    static BUILDER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let set = |v: &[&'static str]| v.iter().copied().collect::<HashSet<&'static str>>();
        let mut b = ammonia::Builder::empty();
        b.tags(set(TAGS))
            .clean_content_tags(set(DROP_WITH_CONTENT))
            .generic_attributes(set(&["style"]))
            .tag_attributes(
                [
                    ("a", set(&["href", "title"])),
                    ("img", set(&["src", "alt", "width", "height", "title"])),
                    (
                        "table",
                        set(&["width", "border", "cellpadding", "cellspacing", "align"]),
                    ),
                    (
                        "td",
                        set(&["colspan", "rowspan", "align", "valign", "width"]),
                    ),
                    (
                        "th",
                        set(&["colspan", "rowspan", "align", "valign", "width"]),
                    ),
                    ("font", set(&["color", "size"])),
                ]
                .into_iter()
                .collect(),
            )
            .allowed_classes([("details", set(&["quoted"]))].into_iter().collect())
            .url_schemes(set(&["http", "https", "mailto", "tel", "cid"]))
            .url_relative(ammonia::UrlRelative::Deny)
            .link_rel(Some("noopener noreferrer nofollow"))
            .set_tag_attribute_value("a", "target", "_blank")
            .strip_comments(true)
            .filter_style_properties(set(STYLE_PROPERTIES))
            .attribute_filter(|_element, attribute, value| {
                if attribute == "style" {
                    filter_style(value)
                } else {
                    Some(Cow::Borrowed(value))
                }
            });
        b
    })
}

/// Drops `style` declarations that could load or run anything even though their property is
/// allowed (`url(`, `image-set(`, `expression(`, `src(`, `var(`), and the whole attribute when
/// it uses CSS escapes, which could spell those. ammonia then keeps only allowed properties.
fn filter_style(value: &str) -> Option<Cow<'_, str>> {
    if value.contains('\\') {
        return None;
    }
    let lower = value.to_ascii_lowercase();
    const BAD: &[&str] = &[
        "url(",
        "image",
        "expression",
        "src(",
        "var(",
        "@import",
        "behavior",
    ];
    if !BAD.iter().any(|b| lower.contains(b)) {
        return Some(Cow::Borrowed(value));
    }
    let kept: Vec<&str> = value
        .split(';')
        .filter(|d| {
            let d = d.to_ascii_lowercase();
            !BAD.iter().any(|b| d.contains(b))
        })
        .collect();
    let kept = kept.join(";");
    if kept.trim().is_empty() {
        None
    } else {
        Some(Cow::Owned(kept))
    }
}

/// Plain text as safe HTML (the composer's conversion), without control characters.
fn text_as_html(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    app::domain::convert::text_to_html(&cleaned)
}

fn escape_text_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
}

fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_text_into(s, &mut out);
    out
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether an image source loads nothing from elsewhere: a same-origin path or `data:`.
/// Mirrors the URL parser's leniency (leading spaces and controls, tabs and newlines anywhere).
fn is_local_source(value: &str) -> bool {
    let v: String = value
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let lower = v.to_ascii_lowercase();
    if lower.starts_with("data:") {
        return true;
    }
    let mut chars = lower.chars();
    chars.next() == Some('/') && !matches!(chars.next(), Some('/') | Some('\\'))
}

/// `&amp;`, `&quot;`, `&lt;`, `&gt;`, `&#39;` and `&nbsp;`: what html5ever's serializer writes in
/// attribute values.
fn unescape_attr(v: &str) -> Cow<'_, str> {
    if !v.contains('&') {
        return Cow::Borrowed(v);
    }
    Cow::Owned(
        v.replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#39;", "'")
            .replace("&nbsp;", "\u{a0}")
            .replace("&amp;", "&"),
    )
}
