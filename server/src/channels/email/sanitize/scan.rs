//! A pessimistic estimate of html5ever's work on a document (it is quadratic on some nesting) and the search for the first quoted-history marker.

#[allow(unused_imports)]
use super::*;

pub(super) const VOID: &[&str] = &[
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img",
    "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
];
pub(super) const FORMATTING: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];
pub(super) const SPECIAL: &[&str] = &[
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
pub(super) const CLOSES_P: &[&str] = &[
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
pub(super) const SCOPE: &[&str] = &[
    "applet", "caption", "html", "table", "td", "th", "marquee", "object", "template",
];
pub(super) const HEADINGS: &[&str] = &["h1", "h2", "h3", "h4", "h5", "h6"];

pub(super) const F_SPECIAL: u8 = 1;
pub(super) const F_FORMATTING: u8 = 2;
pub(super) const F_SCOPE: u8 = 4;

pub(super) fn flags(name: &str) -> u8 {
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

pub(super) struct Open {
    pub(super) name: String,
    /// Where its start tag is in the input, and how much content had been seen before it.
    pub(super) at: usize,
    pub(super) seq: u64,
    pub(super) flags: u8,
    /// For formatting elements: name and raw attributes, the identity the tree builder's
    /// "Noah's Ark" clause compares (at most three identical entries stay in its list).
    pub(super) key: Option<String>,
}

/// A pessimistic model of html5ever's stack of open elements and of its list of active
/// formatting elements. It pushes every non-void start tag and pops only what the tree builder
/// certainly pops, so its stack is never much shallower than the real one; formatting elements
/// leave its list only when their own end tag closes them.
pub(super) struct Model {
    pub(super) stack: Vec<Open>,
    /// Formatting elements per identity, and the list length they imply.
    pub(super) list: std::collections::HashMap<String, u32>,
    pub(super) list_len: u64,
    pub(super) work: u64,
    pub(super) clones: u64,
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

pub(super) struct Scan {
    pub(super) over_budget: bool,
    pub(super) fold_at: Option<usize>,
}

/// Whether a start tag opens quoted history (Gmail, Apple Mail, Thunderbird, Yahoo, Outlook).
pub(super) fn is_quote_marker(html: &str, name: &str, tag: &Tag) -> bool {
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
pub(super) fn hoist(stack: &[Open], at: usize, content_seq: u64) -> usize {
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

pub(super) fn scan(html: &str) -> Scan {
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
