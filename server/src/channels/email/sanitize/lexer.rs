//! A small HTML tag lexer and attribute rewriting over sanitised output.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// Attribute rewriting over serialised (sanitised) HTML: text never contains `<` or `>`, every
// attribute value is double-quoted, comments are gone.

pub(super) enum Edit {
    Keep,
    Drop,
    Replace(String),
}

pub(super) fn rewrite_attributes(
    html: &str,
    mut f: impl FnMut(&str, &str, &str) -> Edit,
) -> String {
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

pub(super) fn is_ws(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

pub(super) struct Attr {
    pub(super) name: (usize, usize),
    pub(super) value: Option<(usize, usize)>,
    /// Just past the attribute (its closing quote, if any).
    pub(super) end: usize,
}

pub(super) struct Tag {
    pub(super) name_end: usize,
    pub(super) attrs: Vec<Attr>,
    /// Just past the closing `>`.
    pub(super) end: usize,
}

/// Lexes a tag whose name starts at `start` (just after `<` or `</`). `None` when the input
/// ends inside the tag (the tokenizer then drops it).
pub(super) fn lex_tag(b: &[u8], start: usize) -> Option<Tag> {
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
pub(super) const RAW_TEXT: &[&str] = &[
    "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes",
];

/// After these, the lexer can no longer be sure to see what html5ever sees (script escapes,
/// foreign content and CDATA, select and template modes, plaintext): the rest of the document
/// is costed pessimistically.
pub(super) const TAINT: &[&str] = &[
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
pub(super) fn raw_text_end(b: &[u8], from: usize, name: &str) -> usize {
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

pub(super) enum Tok<'a> {
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
pub(super) fn lex(html: &str, mut on: impl FnMut(Tok<'_>) -> bool) {
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
