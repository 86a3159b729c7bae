//! The search box's language, read into words, phrases, people and filters (pure; the server
//! turns the result into each engine's query, the browser shows what was understood).
//!
//! - Words are ANDed: `refund delayed`. `"exact phrase"`; `-word` leaves out; `a OR b`.
//! - Filters: `channel:sms`, `status:open`, `assignee:me|none|<name>`, `label:vip` (quotes for
//!   spaces: `label:"key account"`), `from:customer|agent`, `is:note`, `after:2026-01-31`,
//!   `before:2026-02-01`, `has:attachment`.
//! - An email address or a phone number (in any written form, spaces allowed: `+1 555 010
//!   0101`) names a customer; when no customer holds it, it is searched as text.
//!
//! Any input reads: an unclosed quote runs to the end, unknown `word:value` filters are
//! listed as ignored, and a query past [`MAX_QUERY_CHARS`] or [`MAX_TERMS`] is cut with a
//! notice. Nothing here fails.

use crate::domain::{ChannelKind, Status};
use serde::{Deserialize, Serialize};

/// Characters of a query that are read; the rest is cut, with a notice.
pub const MAX_QUERY_CHARS: usize = 500;
/// Words and phrases searched; the rest are dropped, with a notice.
pub const MAX_TERMS: usize = 12;
/// Longest word kept (longer ones are cut).
pub const MAX_WORD_CHARS: usize = 64;

/// A word or a phrase: lower-case runs of letters and digits ("e-mail" is the phrase "e mail").
pub type Phrase = Vec<String>;

/// Who wrote the searched item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum From {
    Customer,
    Agent,
    /// Private notes only.
    Note,
}

impl From {
    /// The `search_docs.direction` it matches.
    pub fn direction(self) -> &'static str {
        match self {
            From::Customer => "in",
            From::Agent => "out",
            From::Note => "note",
        }
    }
}

/// A customer named in the query by an identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Who {
    /// An email address, lower-cased.
    Email(String),
    /// A phone number as typed (digits, spaces, `+`, `()`, `-`, `.`); the server reads it
    /// into E.164 with the numbering plan.
    Phone(String),
}

impl Who {
    /// What to search as text when no customer holds it: the address's or number's words.
    pub fn as_phrase(&self) -> Phrase {
        match self {
            Who::Email(e) => words_of(e),
            // "+1 555 010 0101" in a message is written "555-010-0101" as often as not: the
            // country code is left out of the phrase.
            Who::Phone(p) => {
                let groups: Vec<&str> = p.split_whitespace().collect();
                let skip = usize::from(groups.len() > 1 && groups[0].starts_with('+'));
                groups[skip..].iter().flat_map(|g| words_of(g)).collect()
            }
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    pub channel: Option<ChannelKind>,
    pub status: Option<Status>,
    /// `me`, `none`, or a name or email to look up.
    pub assignee: Option<String>,
    pub label: Option<String>,
    pub from: Option<From>,
    /// Local dates (year, month, day): `after:D` is from the start of D, `before:D` until
    /// the start of D, in the agent's time zone.
    pub after: Option<(i32, u32, u32)>,
    pub before: Option<(i32, u32, u32)>,
    pub has_attachment: bool,
}

impl Filters {
    /// Whether a filter concerns single messages (so a customer's profile alone cannot
    /// satisfy it).
    pub fn on_messages(&self) -> bool {
        self.channel.is_some() || self.from.is_some() || self.has_attachment
    }

    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }
}

/// A query, read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// ANDed clauses; each clause is one phrase or several ORed.
    pub all: Vec<Vec<Phrase>>,
    /// Phrases left out (`-word`).
    pub not: Vec<Phrase>,
    pub who: Vec<Who>,
    pub filters: Filters,
    /// Filter words that were not understood, as typed ("colour:red").
    pub ignored: Vec<String>,
    /// What was changed to read the query, in words.
    pub notices: Vec<String>,
}

impl Query {
    /// Whether there is anything to look for.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty() && self.who.is_empty() && self.filters.is_empty()
    }

    /// The single words of the positive clauses (for matching customers' names).
    pub fn plain_words(&self) -> Vec<String> {
        self.all
            .iter()
            .filter(|c| c.len() == 1)
            .flat_map(|c| c[0].iter().cloned())
            .collect()
    }

    /// The query in FTS5's language. Every word is a quoted string, so nothing the agent
    /// types is read as an operator. `None` when there are no positive words.
    pub fn fts5(&self) -> Option<String> {
        if self.all.is_empty() {
            return None;
        }
        let phrase = |p: &Phrase| format!("\"{}\"", p.join(" "));
        let mut s = self
            .all
            .iter()
            .map(|c| {
                if c.len() == 1 {
                    phrase(&c[0])
                } else {
                    format!(
                        "({})",
                        c.iter().map(phrase).collect::<Vec<_>>().join(" OR ")
                    )
                }
            })
            .collect::<Vec<_>>()
            .join(" AND ");
        for n in &self.not {
            s.push_str(" NOT ");
            s.push_str(&phrase(n));
        }
        Some(s)
    }

    /// The query for PostgreSQL's `websearch_to_tsquery`: words, quoted phrases, `or`, `-`.
    /// Words are letters and digits only, so none is read as an operator ("or" itself is
    /// dropped by [`parse`]).
    pub fn websearch(&self) -> Option<String> {
        if self.all.is_empty() {
            return None;
        }
        let phrase = |p: &Phrase| {
            if p.len() == 1 {
                p[0].clone()
            } else {
                format!("\"{}\"", p.join(" "))
            }
        };
        let mut parts: Vec<String> = self
            .all
            .iter()
            .map(|c| c.iter().map(phrase).collect::<Vec<_>>().join(" or "))
            .collect();
        parts.extend(self.not.iter().map(|n| format!("-{}", phrase(n))));
        Some(parts.join(" "))
    }

    /// The filters understood, in words ("channel: SMS"), for the page to show.
    pub fn described_filters(&self) -> Vec<String> {
        let f = &self.filters;
        let date = |(y, m, d): (i32, u32, u32)| format!("{y:04}-{m:02}-{d:02}");
        let mut out = Vec::new();
        if let Some(c) = f.channel {
            out.push(format!("channel: {}", c.label()));
        }
        if let Some(s) = f.status {
            out.push(format!("status: {}", s.label()));
        }
        if let Some(a) = &f.assignee {
            out.push(format!("assignee: {a}"));
        }
        if let Some(l) = &f.label {
            out.push(format!("label: {l}"));
        }
        match f.from {
            Some(From::Customer) => out.push("from the customer".into()),
            Some(From::Agent) => out.push("from an agent".into()),
            Some(From::Note) => out.push("private notes".into()),
            None => {}
        }
        if let Some(d) = f.after {
            out.push(format!("on or after {}", date(d)));
        }
        if let Some(d) = f.before {
            out.push(format!("before {}", date(d)));
        }
        if f.has_attachment {
            out.push("with attachments".into());
        }
        for w in &self.who {
            match w {
                Who::Email(e) => out.push(format!("customer: {e}")),
                Who::Phone(p) => out.push(format!("customer: {p}")),
            }
        }
        out
    }
}

/// Lower-case runs of letters and digits, each at most [`MAX_WORD_CHARS`].
pub fn words_of(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.chars()
                .take(MAX_WORD_CHARS)
                .collect::<String>()
                .to_lowercase()
        })
        .collect()
}

/// A raw piece of the query: its text, whether it was quoted, whether it was negated.
#[derive(Debug)]
struct Piece {
    text: String,
    quoted: bool,
    negated: bool,
    /// `key:` before it (the value is `text`).
    key: Option<String>,
}

/// Splits the query into pieces: quoted strings, `key:value` (value may be quoted), words.
fn pieces(q: &str, notices: &mut Vec<String>) -> Vec<Piece> {
    let mut out = Vec::new();
    let chars: Vec<char> = q.chars().collect();
    let mut i = 0;
    let read_quoted = |i: &mut usize, notices: &mut Vec<String>| -> String {
        // chars[*i] is the opening quote.
        *i += 1;
        let start = *i;
        while *i < chars.len() && chars[*i] != '"' {
            *i += 1;
        }
        let s: String = chars[start..*i].iter().collect();
        if *i >= chars.len() {
            notices.push("A quote was not closed: the rest was searched as a phrase.".into());
        } else {
            *i += 1;
        }
        s
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let negated = c == '-' && i + 1 < chars.len() && !chars[i + 1].is_whitespace();
        if negated {
            i += 1;
        }
        if chars[i] == '"' {
            let text = read_quoted(&mut i, notices);
            out.push(Piece {
                text,
                quoted: true,
                negated,
                key: None,
            });
            continue;
        }
        let start = i;
        let mut keyed = false;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '"' {
            if chars[i] == ':' && i > start && i + 1 < chars.len() && !chars[i + 1].is_whitespace()
            {
                let key: String = chars[start..i].iter().collect();
                if key.chars().all(|k| k.is_ascii_alphabetic()) {
                    i += 1;
                    let text = if chars[i] == '"' {
                        read_quoted(&mut i, notices)
                    } else {
                        let vs = i;
                        while i < chars.len() && !chars[i].is_whitespace() {
                            i += 1;
                        }
                        chars[vs..i].iter().collect()
                    };
                    out.push(Piece {
                        text,
                        quoted: false,
                        negated,
                        key: Some(key.to_ascii_lowercase()),
                    });
                    keyed = true;
                    break;
                }
            }
            i += 1;
        }
        if keyed {
            continue;
        }
        let text: String = chars[start..i].iter().collect();
        if !text.is_empty() {
            out.push(Piece {
                text,
                quoted: false,
                negated,
                key: None,
            });
        }
    }
    out
}

/// A date written `YYYY-MM-DD` (or `YYYY/MM/DD`).
fn date(s: &str) -> Option<(i32, u32, u32)> {
    let parts: Vec<&str> = s.split(['-', '/']).collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let (y, m, d): (i32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    ((1970..=9999).contains(&y) && (1..=days).contains(&d)).then_some((y, m, d))
}

/// Whether a piece of text is written like a part of a phone number.
fn phone_like(s: &str) -> bool {
    !s.is_empty()
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || "()-.".contains(c) || (c == '+' && i == 0))
}

/// Whether `s` is written like an email address.
fn email_like(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c == '"')
}

/// Reads a query. Never fails: what it cannot use is listed in `ignored` or `notices`.
pub fn parse(q: &str) -> Query {
    let mut query = Query::default();
    let total = q.chars().count();
    let q: String = if total > MAX_QUERY_CHARS {
        query.notices.push(format!(
            "The search was cut to its first {MAX_QUERY_CHARS} characters (it had {total})."
        ));
        q.chars().take(MAX_QUERY_CHARS).collect()
    } else {
        q.to_string()
    };
    let pieces = pieces(&q, &mut query.notices);
    let mut terms = 0usize;
    let mut dropped = 0usize;
    let mut or_next = false;
    let mut i = 0;
    while i < pieces.len() {
        let p = &pieces[i];
        i += 1;
        if let Some(key) = &p.key {
            if ["http", "https", "mailto", "ftp"].contains(&key.as_str())
                || p.text.starts_with("//")
            {
                // A link pasted into the box: its words are searched.
                let phrase = words_of(&format!("{key}:{}", p.text));
                if !phrase.is_empty() && terms < MAX_TERMS {
                    terms += 1;
                    query.all.push(vec![phrase]);
                }
                continue;
            }
            if !filter(&mut query, key, &p.text) {
                let shown = format!("{}{key}:{}", if p.negated { "-" } else { "" }, p.text);
                query.ignored.push(shown);
            }
            continue;
        }
        if !p.quoted && (p.text == "OR" || p.text == "|") {
            or_next = !query.all.is_empty();
            continue;
        }
        // A phone number may be written in several pieces: "+1 555 010 0101".
        if !p.quoted && !p.negated && phone_like(&p.text) {
            let mut text = p.text.clone();
            let mut j = i;
            while j < pieces.len()
                && pieces[j].key.is_none()
                && !pieces[j].quoted
                && !pieces[j].negated
                && phone_like(&pieces[j].text)
            {
                text.push(' ');
                text.push_str(&pieces[j].text);
                j += 1;
            }
            let digits = text.chars().filter(|c| c.is_ascii_digit()).count();
            if (7..=15).contains(&digits) {
                i = j;
                query.who.push(Who::Phone(text));
                or_next = false;
                continue;
            }
        }
        if !p.quoted && !p.negated && email_like(&p.text) {
            query.who.push(Who::Email(p.text.to_lowercase()));
            or_next = false;
            continue;
        }
        let mut phrase = words_of(&p.text);
        if !p.quoted {
            // A lone "or" is the operator in PostgreSQL's language: never a word.
            phrase.retain(|w| w != "or");
        }
        if phrase.is_empty() {
            continue;
        }
        if terms >= MAX_TERMS {
            dropped += 1;
            continue;
        }
        terms += 1;
        if p.negated {
            query.not.push(phrase);
        } else if or_next {
            query
                .all
                .last_mut()
                .expect("or_next needs a clause")
                .push(phrase);
        } else {
            query.all.push(vec![phrase]);
        }
        or_next = false;
    }
    if dropped > 0 {
        query.notices.push(format!(
            "Only the first {MAX_TERMS} words and phrases were searched ({dropped} more left out)."
        ));
    }
    if query.all.is_empty() && !query.not.is_empty() {
        query
            .notices
            .push("Words to leave out need a word to look for: the search left them out.".into());
        query.not.clear();
    }
    query
}

/// Applies one `key:value` filter; false when it is not understood.
fn filter(q: &mut Query, key: &str, value: &str) -> bool {
    let v = value.trim().to_lowercase();
    let f = &mut q.filters;
    match key {
        "channel" | "in" if ChannelKind::parse(&v).is_some() => f.channel = ChannelKind::parse(&v),
        "status" | "is" if Status::parse(&v).is_some() => f.status = Status::parse(&v),
        "is" | "from" if v == "note" || v == "notes" => f.from = Some(From::Note),
        "from" => match v.as_str() {
            "customer" | "customers" | "them" => f.from = Some(From::Customer),
            "agent" | "agents" | "us" | "staff" => f.from = Some(From::Agent),
            _ => return false,
        },
        "assignee" | "assigned" if !v.is_empty() => f.assignee = Some(value.trim().to_string()),
        "label" | "tag" if !v.is_empty() => f.label = Some(value.trim().to_string()),
        "after" | "since" => match date(&v) {
            Some(d) => f.after = Some(d),
            None => return false,
        },
        "before" | "until" => match date(&v) {
            Some(d) => f.before = Some(d),
            None => return false,
        },
        "has" if ["attachment", "attachments", "file", "files"].contains(&v.as_str()) => {
            f.has_attachment = true
        }
        _ => return false,
    }
    true
}

/// The first second of the `search_docs` id space: 2000-01-01T00:00:00Z.
pub const EPOCH_SECS: i64 = 946_684_800;

/// The `search_docs.id` of a message (`note` false) or a note written at `at_ms` with row id
/// `id`: the same sum the triggers compute, so ids sort by time.
pub fn doc_id(at_ms: i64, id: i64, note: bool) -> i64 {
    (at_ms / 1000 - EPOCH_SECS) * 2_147_483_648 + (id % 1_073_741_824) * 2 + i64::from(note)
}

/// The smallest doc id at or after `at_ms` (whole seconds).
pub fn first_id_at(at_ms: i64) -> i64 {
    (at_ms.div_euclid(1000) - EPOCH_SECS) * 2_147_483_648
}

/// The sort key of a conversation found by its customer: after every message of the second
/// of its last activity.
pub fn profile_key(last_activity_ms: i64) -> i64 {
    first_id_at(last_activity_ms) + 2_147_483_647
}

/// Marks around the matched words in a snippet (control characters, never in stored text
/// shown to people: they are split off here).
pub const MARK_START: char = '\u{2}';
pub const MARK_END: char = '\u{3}';

/// A snippet with marks, as (text, highlighted) runs. Control characters are dropped.
pub fn snippet_runs(s: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut cur = String::new();
    let mut on = false;
    for c in s.chars() {
        match c {
            MARK_START | MARK_END => {
                if !cur.is_empty() {
                    out.push((std::mem::take(&mut cur), on));
                }
                on = c == MARK_START;
            }
            '\n' | '\r' | '\t' => cur.push(' '),
            c if c.is_control() => {}
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push((cur, on));
    }
    out
}

/// `text` with every case-insensitive occurrence of `words` marked, as runs (for matches
/// found without the engine's help: a customer's name or identifier).
pub fn mark_words(text: &str, words: &[String]) -> Vec<(String, bool)> {
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        // Lower-casing changed byte offsets: show it unmarked rather than mark the wrong part.
        return vec![(text.to_string(), false)];
    }
    let mut marked = vec![false; text.len()];
    for w in words.iter().filter(|w| !w.is_empty()) {
        let mut from = 0;
        while let Some(at) = lower[from..].find(w.as_str()) {
            let s = from + at;
            marked[s..s + w.len()].iter_mut().for_each(|m| *m = true);
            from = s + w.len();
        }
    }
    let mut out: Vec<(String, bool)> = Vec::new();
    for (i, c) in text.char_indices() {
        let m = marked[i];
        match out.last_mut() {
            Some((s, on)) if *on == m => s.push(c),
            _ => out.push((c.to_string(), m)),
        }
    }
    out
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
