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

// ---------------------------------------------------------------------------------------------
// Attribute rewriting over serialised (sanitised) HTML: text never contains `<` or `>`, every
// attribute value is double-quoted, comments are gone.

enum Edit {
    Keep,
    Drop,
    Replace(String),
}

fn rewrite_attributes(html: &str, mut f: impl FnMut(&str, &str, &str) -> Edit) -> String {
    let b = html.as_bytes();
    let mut out = String::with_capacity(html.len());
    let mut copied = 0usize;
    let mut i = 0usize;
    while i < b.len() {
        if b[i] != b'<' || !b.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic()) {
            i += 1;
            continue;
        }
        let Some(tag) = lex_tag(b, i + 1) else {
            break;
        };
        let name = &html[i + 1..tag.name_end];
        for a in &tag.attrs {
            let attr_name = &html[a.name.0..a.name.1];
            let value = a.value.map(|(s, e)| &html[s..e]).unwrap_or("");
            match f(name, attr_name, value) {
                Edit::Keep => {}
                Edit::Drop => {
                    // Remove the attribute with the whitespace before it.
                    let mut start = a.name.0;
                    while start > 0 && is_ws(b[start - 1]) {
                        start -= 1;
                    }
                    out.push_str(&html[copied..start]);
                    copied = a.end;
                }
                Edit::Replace(new) => {
                    out.push_str(&html[copied..a.name.0]);
                    out.push_str(attr_name);
                    out.push_str("=\"");
                    out.push_str(&escape_attr(&new));
                    out.push('"');
                    copied = a.end;
                }
            }
        }
        i = tag.end;
    }
    out.push_str(&html[copied..]);
    out
}

// ---------------------------------------------------------------------------------------------
// A lexer for raw HTML, following the HTML tokenizer's rules for tags, attributes, comments and
// raw text closely enough that it never sees fewer tags than html5ever does where it matters.

fn is_ws(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

struct Attr {
    name: (usize, usize),
    value: Option<(usize, usize)>,
    /// Just past the attribute (its closing quote, if any).
    end: usize,
}

struct Tag {
    name_end: usize,
    attrs: Vec<Attr>,
    /// Just past the closing `>`.
    end: usize,
}

/// Lexes a tag whose name starts at `start` (just after `<` or `</`). `None` when the input
/// ends inside the tag (the tokenizer then drops it).
fn lex_tag(b: &[u8], start: usize) -> Option<Tag> {
    #[derive(Clone, Copy)]
    enum St {
        BeforeName,
        Name(usize),
        AfterName(usize, usize),
        BeforeValue(usize, usize),
        Unquoted(usize, usize, usize),
        AfterQuoted,
        SelfClosing,
    }
    let n = b.len();
    let mut i = start;
    while i < n && !is_ws(b[i]) && b[i] != b'/' && b[i] != b'>' {
        i += 1;
    }
    let name_end = i;
    let mut attrs = Vec::new();
    let mut st = St::BeforeName;
    while i < n {
        let c = b[i];
        match st {
            St::BeforeName => {
                if is_ws(c) {
                    i += 1;
                } else if c == b'/' {
                    st = St::SelfClosing;
                    i += 1;
                } else if c == b'>' {
                    return Some(Tag {
                        name_end,
                        attrs,
                        end: i + 1,
                    });
                } else {
                    st = St::Name(i);
                    i += 1;
                }
            }
            St::Name(s) => {
                if is_ws(c) {
                    st = St::AfterName(s, i);
                    i += 1;
                } else if c == b'/' || c == b'>' {
                    attrs.push(Attr {
                        name: (s, i),
                        value: None,
                        end: i,
                    });
                    st = St::BeforeName;
                } else if c == b'=' {
                    st = St::BeforeValue(s, i);
                    i += 1;
                } else {
                    i += 1;
                }
            }
            St::AfterName(s, e) => {
                if is_ws(c) {
                    i += 1;
                } else if c == b'=' {
                    st = St::BeforeValue(s, e);
                    i += 1;
                } else {
                    attrs.push(Attr {
                        name: (s, e),
                        value: None,
                        end: e,
                    });
                    st = St::BeforeName;
                }
            }
            St::BeforeValue(s, e) => {
                if is_ws(c) {
                    i += 1;
                } else if c == b'"' || c == b'\'' {
                    let close = b[i + 1..].iter().position(|&x| x == c)? + i + 1;
                    attrs.push(Attr {
                        name: (s, e),
                        value: Some((i + 1, close)),
                        end: close + 1,
                    });
                    st = St::AfterQuoted;
                    i = close + 1;
                } else if c == b'>' {
                    attrs.push(Attr {
                        name: (s, e),
                        value: Some((i, i)),
                        end: i,
                    });
                    st = St::BeforeName;
                } else {
                    st = St::Unquoted(s, e, i);
                    i += 1;
                }
            }
            St::Unquoted(s, e, v) => {
                if is_ws(c) || c == b'>' {
                    attrs.push(Attr {
                        name: (s, e),
                        value: Some((v, i)),
                        end: i,
                    });
                    st = St::BeforeName;
                } else {
                    i += 1;
                }
            }
            St::AfterQuoted => {
                if c == b'/' {
                    st = St::SelfClosing;
                    i += 1;
                } else {
                    st = St::BeforeName;
                }
            }
            St::SelfClosing => {
                if c == b'>' {
                    return Some(Tag {
                        name_end,
                        attrs,
                        end: i + 1,
                    });
                }
                st = St::BeforeName;
            }
        }
    }
    None
}

/// Elements whose content the tokenizer reads as text up to their own end tag (in HTML
/// content; inside `svg`/`math` or `select` they do not, which is why those taint the scan).
const RAW_TEXT: &[&str] = &[
    "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes",
];

/// After these, the lexer can no longer be sure to see what html5ever sees (script escapes,
/// foreign content and CDATA, select and template modes, plaintext): the rest of the document
/// is costed pessimistically.
const TAINT: &[&str] = &[
    "script",
    "svg",
    "math",
    "select",
    "template",
    "frameset",
    "plaintext",
    "noscript",
];

/// The start of the end tag closing raw text `name` at or after `from` (or the end of input).
fn raw_text_end(b: &[u8], from: usize, name: &str) -> usize {
    let nb = name.as_bytes();
    let mut i = from;
    while i + 1 < b.len() {
        if b[i] == b'<' && b[i + 1] == b'/' {
            let s = i + 2;
            if b.len() >= s + nb.len()
                && b[s..s + nb.len()].eq_ignore_ascii_case(nb)
                && b.get(s + nb.len())
                    .is_none_or(|&c| is_ws(c) || c == b'/' || c == b'>')
            {
                return i;
            }
        }
        i += 1;
    }
    b.len()
}

enum Tok<'a> {
    Start {
        name: String,
        tag: &'a Tag,
        at: usize,
    },
    End {
        name: String,
    },
    Text {
        visible: bool,
    },
}

/// Walks raw HTML, calling `on` for each token until it returns false.
fn lex(html: &str, mut on: impl FnMut(Tok<'_>) -> bool) {
    let b = html.as_bytes();
    let n = b.len();
    let mut i = 0usize;
    let mut text_from = 0usize;
    let visible = |from: usize, to: usize| {
        let t = &html[from..to];
        t.replace("&nbsp;", " ")
            .replace("&#160;", " ")
            .chars()
            .any(|c| !c.is_whitespace())
    };
    macro_rules! flush {
        ($to:expr) => {
            if $to > text_from
                && !on(Tok::Text {
                    visible: visible(text_from, $to),
                })
            {
                return;
            }
        };
    }
    // The end of a comment-like construct that runs to the next `>`.
    let to_gt = |from: usize| {
        b[from..]
            .iter()
            .position(|&c| c == b'>')
            .map_or(n, |p| from + p + 1)
    };
    while i < n {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        match b.get(i + 1).copied() {
            Some(c) if c.is_ascii_alphabetic() => {
                flush!(i);
                let Some(tag) = lex_tag(b, i + 1) else {
                    return;
                };
                let name = html[i + 1..tag.name_end].to_ascii_lowercase();
                let raw = RAW_TEXT.contains(&name.as_str());
                let end = tag.end;
                if !on(Tok::Start {
                    name: name.clone(),
                    tag: &tag,
                    at: i,
                }) {
                    return;
                }
                i = if raw {
                    raw_text_end(b, end, &name)
                } else {
                    end
                };
                text_from = i;
            }
            Some(b'/') => match b.get(i + 2).copied() {
                Some(c) if c.is_ascii_alphabetic() => {
                    flush!(i);
                    let Some(tag) = lex_tag(b, i + 2) else {
                        return;
                    };
                    let name = html[i + 2..tag.name_end].to_ascii_lowercase();
                    if !on(Tok::End { name }) {
                        return;
                    }
                    i = tag.end;
                    text_from = i;
                }
                Some(b'>') => {
                    flush!(i);
                    i += 3;
                    text_from = i;
                }
                None => i += 1,
                Some(_) => {
                    flush!(i);
                    i = to_gt(i + 2);
                    text_from = i;
                }
            },
            Some(b'!') => {
                flush!(i);
                if b[i + 2..].starts_with(b"--") {
                    let s = i + 4;
                    i = if b[s..].starts_with(b">") {
                        s + 1
                    } else if b[s..].starts_with(b"->") {
                        s + 2
                    } else {
                        let mut j = s;
                        loop {
                            match b[j..].iter().position(|&c| c == b'-') {
                                None => break n,
                                Some(p) => {
                                    j += p;
                                    if b[j..].starts_with(b"-->") {
                                        break j + 3;
                                    }
                                    if b[j..].starts_with(b"--!>") {
                                        break j + 4;
                                    }
                                    j += 1;
                                }
                            }
                        }
                    };
                } else {
                    i = to_gt(i + 2);
                }
                text_from = i;
            }
            Some(b'?') => {
                flush!(i);
                i = to_gt(i + 2);
                text_from = i;
            }
            _ => i += 1,
        }
    }
    flush!(n);
}

const VOID: &[&str] = &[
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img",
    "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
];
const FORMATTING: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];
const SPECIAL: &[&str] = &[
    "address",
    "applet",
    "area",
    "article",
    "aside",
    "base",
    "basefont",
    "bgsound",
    "blockquote",
    "body",
    "br",
    "button",
    "caption",
    "center",
    "col",
    "colgroup",
    "dd",
    "details",
    "dir",
    "div",
    "dl",
    "dt",
    "embed",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "frame",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hgroup",
    "hr",
    "html",
    "iframe",
    "img",
    "input",
    "keygen",
    "li",
    "link",
    "listing",
    "main",
    "marquee",
    "menu",
    "meta",
    "nav",
    "noembed",
    "noframes",
    "noscript",
    "object",
    "ol",
    "p",
    "param",
    "plaintext",
    "pre",
    "script",
    "search",
    "section",
    "select",
    "source",
    "style",
    "summary",
    "table",
    "tbody",
    "td",
    "template",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "track",
    "ul",
    "wbr",
    "xmp",
];
/// Start tags that close an open `p` ("close a p element").
const CLOSES_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "header",
    "hgroup",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "search",
    "section",
    "summary",
    "ul",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "listing",
    "form",
    "table",
    "li",
    "dd",
    "dt",
];
const SCOPE: &[&str] = &[
    "applet", "caption", "html", "table", "td", "th", "marquee", "object", "template",
];
const HEADINGS: &[&str] = &["h1", "h2", "h3", "h4", "h5", "h6"];

const F_SPECIAL: u8 = 1;
const F_FORMATTING: u8 = 2;
const F_SCOPE: u8 = 4;

fn flags(name: &str) -> u8 {
    let mut f = 0;
    if SPECIAL.contains(&name) {
        f |= F_SPECIAL;
    }
    if FORMATTING.contains(&name) {
        f |= F_FORMATTING;
    }
    if SCOPE.contains(&name) {
        f |= F_SCOPE;
    }
    f
}

struct Open {
    name: String,
    /// Where its start tag is in the input, and how much content had been seen before it.
    at: usize,
    seq: u64,
    flags: u8,
    /// For formatting elements: name and raw attributes, the identity the tree builder's
    /// "Noah's Ark" clause compares (at most three identical entries stay in its list).
    key: Option<String>,
}

/// A pessimistic model of html5ever's stack of open elements and of its list of active
/// formatting elements. It pushes every non-void start tag and pops only what the tree builder
/// certainly pops, so its stack is never much shallower than the real one; formatting elements
/// leave its list only when their own end tag closes them.
struct Model {
    stack: Vec<Open>,
    /// Formatting elements per identity, and the list length they imply.
    list: std::collections::HashMap<String, u32>,
    list_len: u64,
    work: u64,
    clones: u64,
}

impl Model {
    fn new() -> Model {
        Model {
            stack: Vec::new(),
            list: Default::default(),
            list_len: 0,
            work: 0,
            clones: 0,
        }
    }

    fn list_add(&mut self, key: &str, delta: i32) {
        let c = self.list.entry(key.to_string()).or_insert(0);
        let before = (*c).min(3) as i64;
        *c = (*c as i64 + delta as i64).max(0) as u32;
        let after = (*c).min(3) as i64;
        self.list_len = (self.list_len as i64 + after - before).max(0) as u64;
    }

    fn top_is(&self, names: &[&str]) -> bool {
        self.stack
            .last()
            .is_some_and(|t| names.contains(&t.name.as_str()))
    }

    fn pop(&mut self) {
        self.stack.pop();
    }

    /// Pops through the nearest element named in `targets`, unless an element for which
    /// `stop` holds comes first. The element found leaves the formatting list too.
    fn close(&mut self, targets: &[&str], stop: impl Fn(&Open) -> bool) {
        for k in (0..self.stack.len()).rev() {
            if targets.contains(&self.stack[k].name.as_str()) {
                if let Some(key) = self.stack[k].key.clone() {
                    self.list_add(&key, -1);
                }
                self.stack.truncate(k);
                return;
            }
            if stop(&self.stack[k]) {
                return;
            }
        }
    }

    fn start(&mut self, html: &str, name: &str, tag: &Tag, at: usize, seq: u64) {
        self.work += self.stack.len() as u64 + 1;
        self.clones += self.list_len;
        if VOID.contains(&name) {
            if name == "hr" && self.top_is(&["p"]) {
                self.pop();
            }
            return;
        }
        if CLOSES_P.contains(&name) && self.top_is(&["p"]) {
            self.pop();
        }
        match name {
            "li" if self.top_is(&["li"]) => self.pop(),
            "dd" | "dt" if self.top_is(&["dd", "dt"]) => self.pop(),
            "option" if self.top_is(&["option"]) => self.pop(),
            "td" | "th" if self.top_is(&["td", "th"]) => self.pop(),
            "tr" => {
                if self.top_is(&["td", "th"]) {
                    self.pop();
                }
                if self.top_is(&["tr"]) {
                    self.pop();
                }
            }
            "thead" | "tbody" | "tfoot" => {
                while self.top_is(&["td", "th", "tr"]) {
                    self.pop();
                }
                if self.top_is(&["thead", "tbody", "tfoot"]) {
                    self.pop();
                }
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" if self.top_is(HEADINGS) => self.pop(),
            "a" | "nobr" if self.top_is(&[name]) => self.close(&[name], |_| true),
            "button" if self.top_is(&[name]) => self.pop(),
            _ => {}
        }
        let f = flags(name);
        let key = (f & F_FORMATTING != 0).then(|| {
            let attrs = tag
                .attrs
                .first()
                .map_or("", |a| &html[a.name.0..tag.end - 1]);
            format!("{name} {attrs}")
        });
        if let Some(k) = &key {
            self.list_add(k, 1);
        }
        self.stack.push(Open {
            name: name.to_string(),
            at,
            seq,
            flags: f,
            key,
        });
    }

    fn end(&mut self, name: &str) {
        self.work += self.stack.len() as u64 + 1;
        let table_scope = |o: &Open| matches!(o.name.as_str(), "table" | "html" | "template");
        let scope = |o: &Open| o.flags & F_SCOPE != 0;
        match name {
            "body" | "html" => {}
            "td" | "th" | "tr" | "tbody" | "thead" | "tfoot" | "caption" | "colgroup" => {
                self.close(&[name], table_scope)
            }
            "table" => self.close(&[name], |o| matches!(o.name.as_str(), "html" | "template")),
            "li" => self.close(&[name], |o| {
                scope(o) || matches!(o.name.as_str(), "ol" | "ul")
            }),
            "p" => self.close(&[name], |o| scope(o) || o.name == "button"),
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => self.close(HEADINGS, scope),
            _ if SPECIAL.contains(&name) => self.close(&[name], scope),
            // Formatting and ordinary elements: the tree builder pops them only when no
            // special element stands above them.
            _ => self.close(&[name], |o| o.flags & F_SPECIAL != 0),
        }
    }

    fn over(&self) -> bool {
        self.work > MAX_TREE_WORK || self.clones > MAX_CLONE_WORK
    }

    /// Costs the rest of the document from `from` as if every tag in it nested, and every
    /// formatting tag stayed in the list to be reopened at every later token.
    fn pessimistic_rest(&mut self, b: &[u8], from: usize) {
        let mut k = 0u64;
        let mut kf = 0u64;
        let mut i = from;
        while i + 1 < b.len() {
            if b[i] == b'<' && b[i + 1].is_ascii_alphabetic() {
                k += 1;
                let s = i + 1;
                let mut e = s;
                while e < b.len() && b[e].is_ascii_alphanumeric() {
                    e += 1;
                }
                let name = String::from_utf8_lossy(&b[s..e]).to_ascii_lowercase();
                if FORMATTING.contains(&name.as_str()) {
                    kf += 1;
                }
                i = e;
            } else {
                i += 1;
            }
        }
        let d = self.stack.len() as u64;
        self.work = self
            .work
            .saturating_add(k.saturating_mul(d))
            .saturating_add(k.saturating_mul(k + 1) / 2);
        self.clones = self
            .clones
            .saturating_add((self.list_len + kf).saturating_mul(2 * k + 1));
    }
}

struct Scan {
    over_budget: bool,
    fold_at: Option<usize>,
}

/// Whether a start tag opens quoted history (Gmail, Apple Mail, Thunderbird, Yahoo, Outlook).
fn is_quote_marker(html: &str, name: &str, tag: &Tag) -> bool {
    let attr = |want: &str| {
        tag.attrs.iter().find_map(|a| {
            html[a.name.0..a.name.1]
                .eq_ignore_ascii_case(want)
                .then(|| a.value.map_or("", |(s, e)| &html[s..e]))
        })
    };
    if name == "blockquote" {
        // Gmail's "indent" button makes a blockquote without a border: that is not a quote.
        let style: String = attr("style")
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        return !style.contains("border:none");
    }
    if let Some(class) = attr("class") {
        let class = class.to_ascii_lowercase();
        if ["gmail_quote", "moz-cite-prefix", "yahoo_quoted"]
            .iter()
            .any(|m| class.contains(m))
        {
            return true;
        }
    }
    if attr("id").is_some_and(|id| id.trim().eq_ignore_ascii_case("divRplyFwdMsg")) {
        return true;
    }
    if name == "div" {
        if let Some(style) = attr("style") {
            let s: String = style.chars().filter(|c| !c.is_whitespace()).collect();
            let s = s.to_ascii_lowercase();
            if s.starts_with("border:none;border-top:solid#e1e1e1")
                || s.starts_with("border:none;border-top:solid#b5c4df")
            {
                return true;
            }
        }
    }
    false
}

/// Where to open the fold for a quote marker at `at`: before the outermost enclosing elements
/// that hold nothing visible before the marker, so the fold also takes in what follows them
/// (Outlook puts its reply header in a wrapper `div` and the quoted text after it). Never
/// across table or list structure.
fn hoist(stack: &[Open], at: usize, content_seq: u64) -> usize {
    let mut at = at;
    for o in stack.iter().rev() {
        let structural = matches!(
            o.name.as_str(),
            "html"
                | "head"
                | "body"
                | "table"
                | "tbody"
                | "thead"
                | "tfoot"
                | "tr"
                | "td"
                | "th"
                | "caption"
                | "colgroup"
                | "ul"
                | "ol"
                | "li"
                | "dl"
                | "dt"
                | "dd"
                | "button"
                | "select"
                | "form"
        );
        if structural || o.seq != content_seq {
            break;
        }
        at = o.at;
    }
    at
}

fn scan(html: &str) -> Scan {
    let mut m = Model::new();
    let mut seen_content = false;
    // Counts visible content (text, images) seen so far.
    let mut content_seq = 0u64;
    let mut marker_decided = false;
    let mut fold_at = None;
    let mut taint_at = None;
    lex(html, |tok| {
        match tok {
            Tok::Text { visible } => {
                m.clones += m.list_len;
                seen_content |= visible;
                content_seq += visible as u64;
            }
            Tok::Start { name, tag, at } => {
                if !marker_decided && is_quote_marker(html, &name, tag) {
                    marker_decided = true;
                    if seen_content {
                        fold_at = Some(hoist(&m.stack, at, content_seq));
                    }
                }
                if name == "img" {
                    seen_content = true;
                    content_seq += 1;
                }
                if TAINT.contains(&name.as_str()) {
                    taint_at = Some(at);
                    return false;
                }
                m.start(html, &name, tag, at, content_seq);
            }
            Tok::End { name } => m.end(&name),
        }
        !m.over()
    });
    if let Some(at) = taint_at {
        m.pessimistic_rest(html.as_bytes(), at);
    }
    let over_budget = m.over();
    Scan {
        over_budget,
        fold_at: if over_budget { None } else { fold_at },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn clean(s: &str) -> String {
        sanitize(s)
    }

    #[test]
    fn scripts_handlers_and_forms_go() {
        let out = clean(
            "<p onclick=\"x()\">Hi<script>alert(1)</script></p><form action=/x><input name=a>\
             </form><iframe src=//evil></iframe><object data=x></object><embed src=x>\
             <a href=\"javascript:alert(1)\">j</a><svg onload=alert(1)><circle/></svg>\
             <math><mi>x</mi></math><base href=//evil/><meta http-equiv=refresh content=0>\
             <link rel=stylesheet href=//evil/x.css><style>@import url(//evil)</style>",
        );
        for bad in [
            "<script",
            "onclick",
            "alert",
            "<form",
            "<input",
            "<iframe",
            "<object",
            "<embed",
            "javascript:",
            "<svg",
            "<math",
            "<base",
            "<meta",
            "<link",
            "<style",
            "@import",
        ] {
            assert!(!out.contains(bad), "{bad} survived in {out}");
        }
        assert!(out.contains("<p>Hi</p>"), "{out}");
    }

    #[test]
    fn links_open_outside_without_referrer() {
        let out = clean("<a href=\"https://example.com/x\" title=t target=_self>x</a>");
        assert!(out.contains("href=\"https://example.com/x\""), "{out}");
        assert!(out.contains("target=\"_blank\""), "{out}");
        assert!(
            out.contains("rel=\"noopener noreferrer nofollow\""),
            "{out}"
        );
        assert!(!out.contains("_self"));
    }

    #[test]
    fn relative_and_odd_urls_are_dropped() {
        let out = clean(
            "<img src=\"/api/admin\"><img src=\"//evil.com/p.png\"><img src=\"data:image/png;base64,AA\">\
             <a href=\"#top\">t</a><a href=\"vbscript:x\">v</a><img src=\"cid:a@b\">",
        );
        assert!(!out.contains("/api/admin"), "{out}");
        assert!(!out.contains("evil.com"), "{out}");
        assert!(!out.contains("data:"), "{out}");
        assert!(!out.contains("vbscript"), "{out}");
        assert!(out.contains("src=\"cid:a@b\""), "{out}");
    }

    #[test]
    fn styles_keep_only_harmless_properties() {
        let out = clean(
            "<p style=\"color: red; background-image: url(https://t/x.png); position: fixed; \
             font-weight: bold\">a</p><p style=\"color: u\\72l(https://t)\">b</p>\
             <p style=\"background-color: url('https://t/y')\">c</p><div style=\"display:none\">d</div>",
        );
        assert!(out.contains("color:red"), "{out}");
        assert!(out.contains("font-weight:bold"), "{out}");
        assert!(!out.contains("url("), "{out}");
        assert!(!out.contains("position"), "{out}");
        assert!(!out.contains("display"), "{out}");
        assert!(!out.contains("\\72"), "{out}");
    }

    #[test]
    fn class_only_on_our_details() {
        let out = clean("<p class=\"x\">a</p><details class=\"quoted evil\" open><summary>s</summary>b</details>");
        assert!(!out.contains("class=\"x\""), "{out}");
        assert!(out.contains("<details class=\"quoted\">"), "{out}");
        assert!(!out.contains("open"), "{out}");
    }

    #[test]
    fn gmail_quote_is_folded() {
        let html = "<div dir=\"ltr\">Thanks, that works!</div><br><div class=\"gmail_quote\">\
                    <div dir=\"ltr\" class=\"gmail_attr\">On Mon, 3 Mar 2025 at 10:00, Ann &lt;a@x.com&gt; wrote:<br></div>\
                    <blockquote class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex\">\
                    old text</blockquote></div>";
        let out = clean(html);
        let d = out
            .find("<details class=\"quoted\"><summary>Show quoted text</summary>")
            .expect(&out);
        assert!(out.find("Thanks").unwrap() < d);
        assert!(out.find("old text").unwrap() > d);
        assert!(out.find("wrote:").unwrap() > d);
    }

    #[test]
    fn apple_thunderbird_yahoo_outlook_quotes_are_folded() {
        for html in [
            "<div>Sounds good.</div><div><br><blockquote type=\"cite\"><div>On 3 Mar, Ann wrote:</div>old</blockquote></div>",
            "<p>Yes.</p><div class=\"moz-cite-prefix\">On 03/03/2025 Ann wrote:<br></div><blockquote type=\"cite\">old</blockquote>",
            "<div>Ok</div><div class=\"yahoo_quoted\"><div>On Monday, Ann wrote:</div>old</div>",
            "<div>Done.</div><hr style=\"display:inline-block;width:98%\"><div id=\"divRplyFwdMsg\" dir=\"ltr\"><b>From:</b> Ann</div>old",
            "<p class=MsoNormal>Fine<o:p></o:p></p><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in'><p><b>From:</b> Ann</p></div>old",
        ] {
            let out = clean(html);
            let d = out.find("<details class=\"quoted\">").unwrap_or_else(|| panic!("no fold: {out}"));
            assert!(out.find("old").unwrap() > d, "{out}");
        }
    }

    #[test]
    fn the_fold_takes_in_what_follows_a_wrapped_marker() {
        let html = "<div class=WordSection1><p>Hi Ann,</p><p>See below.</p><div><div style='border:none;border-top:solid #E1E1E1 1.0pt'>\
                    <p><b>From:</b> Ann</p></div></div><p>Old text</p></div>";
        let out = clean(html);
        let d = out.find("<details").expect(&out);
        let end = out.find("</details>").expect(&out);
        let old = out.find("Old text").unwrap();
        assert!(d < old && old < end, "{out}");
        assert!(out.find("See below").unwrap() < d);
        // Not across a table cell.
        let out =
            clean("<table><tr><td>Reply<blockquote>q</blockquote></td><td>side</td></tr></table>");
        let end = out.find("</details>").expect(&out);
        assert!(out.find("side").unwrap() > end, "{out}");
    }

    #[test]
    fn a_quote_at_the_start_is_not_folded() {
        for html in [
            "<blockquote>quoted first</blockquote><p>my answer below</p>",
            "  <div><br>&nbsp;</div><div class=\"gmail_quote\">all quote</div>",
        ] {
            let out = clean(html);
            assert!(!out.contains("<details"), "{out}");
        }
        // Gmail's indent is not a quote.
        let out = clean("<p>a</p><blockquote style=\"margin:0 0 0 40px;border:none;padding:0px\">b</blockquote>");
        assert!(!out.contains("<details"), "{out}");
    }

    #[test]
    fn markers_in_comments_and_attributes_do_not_count() {
        let out = clean("<p>a</p><!-- <blockquote> --><p title=\"<blockquote>\">b</p>");
        assert!(!out.contains("<details"), "{out}");
    }

    #[test]
    fn cid_images_are_rewritten_or_dropped() {
        let html = clean("<p>x</p><img src=\"cid:part1.abc@example.com\" alt=\"logo\"><img src=\"cid:missing%40x\">");
        let out = rewrite_cid(&html, &|cid| {
            (cid == "part1.abc@example.com").then(|| "/attachments/7?x=1&y=\"2\"".to_string())
        });
        assert!(
            out.contains("<img src=\"/attachments/7?x=1&amp;y=&quot;2&quot;\" alt=\"logo\">"),
            "{out}"
        );
        assert!(!out.contains("cid:"), "{out}");
        assert!(out.contains("<img>"), "{out}");
    }

    #[test]
    fn frame_blocks_remote_images_unless_asked() {
        let body = clean(
            "<p>Hi</p><img src=\"https://t.example/p.gif\" alt=\"pixel\"><img src=\"HTTP://x\">\
             <img src=\" https://y\"><img src=\"cid:z\">",
        );
        let body = rewrite_cid(&body, &|_| Some("/attachments/1".into()));
        let f = render_frame(&body, false);
        assert_eq!(f.blocked_images, 3, "{}", f.html);
        assert!(
            !f.html.to_ascii_lowercase().contains("src=\"http"),
            "{}",
            f.html
        );
        assert!(!f.html.contains("src=\" http"), "{}", f.html);
        assert!(f.html.contains("alt=\"pixel\""));
        assert!(f.html.contains("src=\"/attachments/1\""));
        assert!(f.html.starts_with("<!doctype html>"));
        assert!(f.html.contains("<meta charset=\"utf-8\">"));
        assert!(f.html.contains("<base target=\"_blank\">"));
        let f = render_frame(&body, true);
        assert_eq!(f.blocked_images, 0);
        assert!(f.html.contains("src=\"https://t.example/p.gif\""));
    }

    #[test]
    fn csp_is_well_formed() {
        let c = frame_csp(false);
        assert!(c.contains("img-src 'self' data:;"));
        assert!(!c.contains("https:"));
        assert!(frame_csp(true).contains("img-src 'self' data: https: http:;"));
        for d in c.split("; ") {
            let name = d.split(' ').next().unwrap();
            assert!(
                [
                    "default-src",
                    "img-src",
                    "style-src",
                    "font-src",
                    "form-action",
                    "base-uri",
                    "frame-ancestors",
                    "sandbox"
                ]
                .contains(&name),
                "{d}"
            );
        }
        assert!(!c.contains('\n') && !c.contains(";;"));
        assert!(!c.contains("allow-scripts"));
    }

    fn quick(html: &str) -> (String, Option<String>, Duration) {
        let t = Instant::now();
        let (out, note) = sanitize_with_note(html);
        (out, note, t.elapsed())
    }

    #[test]
    fn pathological_markup_finishes_fast() {
        let cases = [
            "<div>".repeat(100_000),
            "<b><i>x</b></i>".repeat(50_000),
            format!(
                "<p>{}</p>{}",
                "<b id=1><b id=2><b id=3><b id=4>".repeat(2_000),
                "<div>x</div>".repeat(20_000)
            ),
            format!(
                "<p>{}",
                (0..5_000)
                    .map(|i| format!("<b id={i}>"))
                    .collect::<String>()
            ) + &"</p><p>x</p>".repeat(5_000),
            "<font><b><i><u><s><strike><em><strong><small><big>x</p>".repeat(10_000),
            "<table><tr><td>".repeat(20_000),
            format!("<select>{}", "<div>".repeat(50_000)),
            format!("<p>x</p>{}", "<div><!--x--!></div>-->".repeat(20_000)),
            "<a href=x>".repeat(30_000),
            "<".repeat(1_000_000),
            "<p title=\"".repeat(100_000),
        ];
        for html in &cases {
            let (out, _note, took) = quick(html);
            assert!(
                took < Duration::from_secs(3),
                "took {took:?} for {}",
                &html[..40.min(html.len())]
            );
            assert!(!out.contains("<script"));
        }
        let (_, note, _) = quick(&"<div>".repeat(100_000));
        assert!(note.unwrap().contains("plain text"));
    }

    #[test]
    fn ordinary_sloppy_html_is_not_degraded() {
        // Unclosed <p>, <li>, <td>, <font> as old mail programs wrote them.
        let mut html =
            String::from("<html><head><title>T</title><style>p{color:red}</style></head><body>");
        for i in 0..3_000 {
            html.push_str(&format!(
                "<p>para {i}<font face=Arial><b>bold</b> <span>x</p>"
            ));
        }
        html.push_str("<table>");
        for i in 0..2_000 {
            html.push_str(&format!("<tr><td>{i}<td>y"));
        }
        html.push_str("</table><ul><li>a<li>b<li>c</ul></body></html>");
        let (out, note, _) = quick(&html);
        assert!(note.is_none(), "{note:?}");
        assert!(out.contains("<td>1999</td>"));
        assert!(!out.contains(">T<"), "title text shown");
        assert!(!out.contains("color:red}"));
    }

    #[test]
    fn oversized_html_is_cut_with_a_note() {
        let html = format!("<p>start</p>{}", "<p>é</p>".repeat(MAX_HTML_BYTES / 8));
        let (out, note, _) = quick(&html);
        assert!(out.starts_with("<p>start</p>"));
        assert!(note.unwrap().contains("first"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn output_is_always_inert(html in "(<(script|svg|img|a|p|div|b|style|iframe|blockquote|details|math|table|td)( (src|href|onclick|onerror|style|class|id)(=(\"[^\"]{0,12}\"|'[^']{0,12}'|[a-z:/.()]{0,12}))?){0,3} ?/?>|</[a-z]{1,6}>|<!--|-->|--!>|<!\\[CDATA\\[|]]>|<\\?|javascript:|http://x/|cid:y|url\\(|[a-z &;]{0,6}|<|>|\"|'){0,40}") {
            let out = sanitize(&html);
            let lower = out.to_ascii_lowercase();
            for bad in ["<script", "<svg", "<iframe", "<style", "<math", "javascript:", "onclick", "onerror", "url("] {
                // Text may mention these only escaped: never inside a tag.
                for (i, _) in lower.match_indices(bad) {
                    let before = &lower[..i];
                    let in_tag = before.rfind('<') > before.rfind('>');
                    proptest::prop_assert!(!in_tag || !bad.starts_with('<'), "{bad} in tag: {out}");
                    proptest::prop_assert!(!bad.starts_with('<'), "{bad}: {out}");
                    if bad == "onclick" || bad == "onerror" || bad == "javascript:" || bad == "url(" {
                        proptest::prop_assert!(!in_tag, "{bad} inside a tag: {out}");
                    }
                }
            }
            let f = render_frame(&rewrite_cid(&out, &|_| Some("/attachments/1".into())), false);
            proptest::prop_assert!(!f.html.contains("src=\"http"), "{}", f.html);
            proptest::prop_assert!(!f.html.contains("src=\"//"), "{}", f.html);
        }
    }

    #[test]
    fn lexer_handles_edge_cases_without_panicking() {
        for s in [
            "",
            "<",
            "</",
            "<!",
            "<!-",
            "<!--",
            "<!-->",
            "<!--->",
            "<a",
            "<a b",
            "<a b=",
            "<a b=\"",
            "<a b='x",
            "</a",
            "</>",
            "</ x>",
            "<?x",
            "<style>",
            "<style></style",
            "é<é>",
            "<a\u{0}b>",
            "<p/>",
            "<p / >",
            "<img src=x/>",
        ] {
            let _ = sanitize(s);
            let _ = rewrite_cid(s, &|_| None);
            let _ = render_frame(s, false);
        }
    }
}
