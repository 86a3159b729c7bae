//! Search: the query read (`domain::search`), customers named by an identifier or a name
//! found, the index walked newest first, results grouped by conversation and keyset-paged.
//!
//! A conversation's place in the results is its newest match: the newest matching message or
//! note, or, when the customer's name or identifier matched, its last activity (found as the
//! customer, it sorts as recent as it is). The cursor is that place `(key, conversation id)`;
//! the next page holds conversations whose newest match is older, so a conversation shown
//! once is not shown again (the conversations matched at or above the cursor are looked up
//! again and left out).

use crate::domain::search::{self, From, Who};
use crate::domain::{phone, ChannelKind, Direction};
use crate::model::{Matched, SearchPage, SearchResult};
use crate::store::search::{Assignee, Hit, Scope, Words};
use crate::store::{self, conversations, Db, Result};
use std::collections::{HashMap, HashSet};

/// Conversations per page.
pub const PAGE: usize = 50;
/// Docs read by the first index query, then by each further one (most pages need one).
const FIRST_BATCH: i64 = 80;
const BATCH: i64 = 400;
/// Docs read at most for one page; past it the page ends early with a cursor to go on.
const SCAN_BUDGET: usize = 4_000;
/// Customers matched by name or identifier, at most.
const PEOPLE_CAP: i64 = 500;

/// Who is searching, and where dates are read.
pub struct Searcher<'a> {
    pub user_id: i64,
    /// IANA zone for `after:`/`before:` dates ("UTC" when unknown).
    pub zone: &'a str,
    /// Region for phone numbers written nationally.
    pub region: &'a str,
}

/// A cursor: the place of the last conversation shown.
fn encode(key: i64, conversation: i64) -> String {
    format!("{key}.{conversation}")
}

fn decode(s: &str) -> Option<(i64, i64)> {
    let (a, b) = s.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Start of a local date in `zone`, unix ms.
fn day_start(zone: &str, (y, m, d): (i32, u32, u32)) -> i64 {
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::civil::Date::new(y as i16, m as i8, d as i8)
        .ok()
        .and_then(|date| date.to_zoned(tz).ok())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0)
}

/// One page of results for `q` as typed.
pub async fn search(
    db: &Db,
    who: &Searcher<'_>,
    q: &str,
    after: Option<&str>,
) -> Result<SearchPage> {
    let query = search::parse(q);
    let mut page = SearchPage {
        filters: query.described_filters(),
        ignored: query.ignored.clone(),
        notices: query.notices.clone(),
        ..SearchPage::default()
    };
    if query.is_empty() {
        if !q.trim().is_empty() && page.notices.is_empty() {
            page.notices.push(
                "Nothing to search for: type a word, a name, an email address or a phone number."
                    .into(),
            );
        }
        return Ok(page);
    }
    let cursor = match after.filter(|s| !s.is_empty()) {
        Some(s) => match decode(s) {
            Some(c) => Some(c),
            None => {
                page.notices
                    .push("That page link is damaged: showing the first page.".into());
                None
            }
        },
        None => None,
    };

    // Filters that name things: an agent, a label.
    let mut scope = Scope {
        from: i64::MIN,
        ..Scope::default()
    };
    let f = &query.filters;
    scope.status = f.status.map(|s| s.as_str());
    scope.files = f.has_attachment;
    scope.direction = f.from.map(From::direction);
    if let Some(a) = &f.assignee {
        match a.to_lowercase().as_str() {
            "me" | "mine" => scope.assignee = Assignee::User(who.user_id),
            "none" | "nobody" | "unassigned" => scope.assignee = Assignee::Nobody,
            name => match store::users::find_by_name_or_email(db, name).await? {
                Some(id) => scope.assignee = Assignee::User(id),
                None => {
                    page.notices
                        .push(format!("No agent is called {a:?}: nothing can match."));
                    return Ok(page);
                }
            },
        }
    }
    if let Some(l) = &f.label {
        match store::labels::by_name(db, &crate::domain::labels::name_key(l)).await? {
            Some(label) => scope.label = Some(label.id),
            None => {
                page.notices
                    .push(format!("No label is called {l:?}: nothing can match."));
                return Ok(page);
            }
        }
    }
    let from_ms = f.after.map(|d| day_start(who.zone, d)).unwrap_or(i64::MIN);
    let below_ms = f.before.map(|d| day_start(who.zone, d)).unwrap_or(i64::MAX);

    // Customers named by an identifier; one nobody holds is searched as text.
    let mut named: Vec<i64> = Vec::new();
    let mut text_query = query.clone();
    for w in &query.who {
        let value = match w {
            Who::Email(e) => crate::domain::identifier::normalize_email(e).ok(),
            Who::Phone(p) => phone::to_e164(p, who.region).ok(),
        };
        let holders = match value {
            Some(v) => store::search::holders(db, &[v]).await?,
            None => Vec::new(),
        };
        if holders.is_empty() {
            text_query.all.push(vec![w.as_phrase()]);
        } else {
            named.extend(holders);
        }
    }
    let named_conversations = store::search::conversations_of(db, &named).await?;

    // Customers found by name or part of an identifier: they match as a whole when every
    // word is in their name or identifiers (and no filter asks for single messages).
    let mut profiles: HashMap<i64, (i64, i64)> = HashMap::new(); // conversation -> (key, customer)
    let words = text_query.plain_words();
    let whole_words = text_query.all.iter().all(|c| c.len() == 1) && text_query.not.is_empty();
    if !f.on_messages() && f.after.is_none() && f.before.is_none() {
        let mut found: Vec<(i64, i64, i64)> = Vec::new();
        if !words.is_empty() && whole_words && named.is_empty() {
            let people = store::search::people(db, &words, PEOPLE_CAP).await?;
            let ids: Vec<i64> = people.iter().map(|(c, _)| *c).collect();
            found = store::search::conversations_of(db, &ids).await?;
        } else if words.is_empty() && !named.is_empty() {
            found = named_conversations.clone();
        }
        let convs: Vec<i64> = found.iter().map(|(_, c, _)| *c).collect();
        let pass =
            store::search::filter_conversations(db, &convs, &scope, 0, from_ms, below_ms).await?;
        let pass: HashSet<i64> = pass.into_iter().map(|(c, _)| c).collect();
        for (customer, conv, at) in found {
            if pass.contains(&conv) {
                profiles.insert(conv, (search::profile_key(at), customer));
            }
        }
    }

    let has_words = !text_query.all.is_empty();
    let engine_words = match has_words {
        true => {
            // Rare only when every clause is a single phrase (an OR adds matches).
            let plain = text_query.all.iter().all(|c| c.len() == 1);
            let positive: Vec<String> =
                text_query.all.iter().flatten().flatten().cloned().collect();
            Some(Words {
                fts5: text_query.fts5().unwrap_or_default(),
                websearch: text_query.websearch().unwrap_or_default(),
                rare: plain && store::search::rare(db, &positive.join(" ")).await?,
            })
        }
        false => None,
    };
    if !named.is_empty() {
        scope.conversations = Some(named_conversations.iter().map(|(_, c, _)| *c).collect());
    }
    scope.channel = f.channel.map(ChannelKind::as_str);
    if f.after.is_some() {
        scope.from = search::first_id_at(from_ms);
    }
    let until = f.before.map(|_| search::first_id_at(below_ms)).unwrap_or(0);

    // Filters alone (or customers named with no words and no message filter): conversations
    // by last activity.
    let docs_needed = has_words || f.on_messages();
    if !docs_needed && profiles.is_empty() {
        let channel_bit = f.channel.map(|c| c.bit()).unwrap_or(0);
        let only: Option<Vec<i64>> = scope.conversations.clone();
        let list = match only {
            Some(convs) => {
                let mut l = store::search::filter_conversations(
                    db,
                    &convs,
                    &scope,
                    channel_bit,
                    from_ms,
                    below_ms,
                )
                .await?;
                l.sort_by_key(|&(c, at)| std::cmp::Reverse((at, c)));
                let (at, id) = cursor.unwrap_or((i64::MAX, i64::MAX));
                l.retain(|&(c, a)| (a, c) < (at, id));
                l.truncate(PAGE + 1);
                l
            }
            None => {
                store::search::filtered_page(
                    db,
                    &scope,
                    channel_bit,
                    from_ms,
                    below_ms,
                    cursor.unwrap_or((i64::MAX, i64::MAX)),
                    PAGE as i64 + 1,
                )
                .await?
            }
        };
        let more = list.len() > PAGE;
        let shown: Vec<(i64, i64)> = list.into_iter().take(PAGE).collect();
        if more {
            page.next = shown.last().map(|&(c, at)| encode(at, c));
        }
        let entries = shown
            .iter()
            .map(|&(c, at)| Entry {
                conversation: c,
                at,
                found: Found::Filters,
            })
            .collect();
        page.items = finish(db, who.user_id, entries, None, &HashMap::new(), &words).await?;
        return Ok(page);
    }

    // Docs, newest first, grouped by conversation.
    let (c_key, c_conv) = cursor.unwrap_or((i64::MAX, i64::MAX));
    let mut newest: Vec<(i64, Hit)> = Vec::new(); // (key, newest hit) per conversation, in order
    let mut seen: HashSet<i64> = HashSet::new();
    let mut scanned = 0usize;
    let mut exhausted = !docs_needed;
    let mut below = if c_key == i64::MAX {
        0
    } else {
        c_key.saturating_add(1)
    };
    if until != 0 && (below == 0 || until < below) {
        below = until;
    }
    // Conversations already shown on earlier pages: matched at or above the cursor.
    let mut shown_before: HashSet<i64> = HashSet::new();
    if cursor.is_some() && docs_needed {
        let mut above = scope.clone();
        above.from = c_key;
        above.below = until;
        for h in store::search::hits(db, engine_words.as_ref(), &above, 20_000, false).await? {
            if (h.id, h.conversation_id) >= (c_key, c_conv) {
                shown_before.insert(h.conversation_id);
            }
        }
    }
    while !exhausted && newest.len() <= PAGE && scanned < SCAN_BUDGET {
        let mut s = scope.clone();
        s.below = below;
        let want = if scanned == 0 { FIRST_BATCH } else { BATCH };
        let batch = store::search::hits(db, engine_words.as_ref(), &s, want, true).await?;
        scanned += batch.len();
        if (batch.len() as i64) < want {
            exhausted = true;
        }
        if let Some(last) = batch.last() {
            below = last.id;
        }
        for h in batch {
            if (h.id, h.conversation_id) >= (c_key, c_conv)
                || shown_before.contains(&h.conversation_id)
                || !seen.insert(h.conversation_id)
            {
                continue;
            }
            newest.push((h.id, h));
        }
    }

    // Merge with the customers found as a whole.
    let mut entries: Vec<(i64, i64, Found)> = Vec::new();
    for (key, h) in newest {
        match profiles.get(&h.conversation_id) {
            Some(_) => {} // placed by its profile key below
            None => entries.push((key, h.conversation_id, Found::Doc(h))),
        }
    }
    for (&conv, &(key, customer)) in &profiles {
        if (key, conv) < (c_key, c_conv) {
            entries.push((key, conv, Found::Customer(customer)));
        }
    }
    entries.sort_by_key(|e| std::cmp::Reverse((e.0, e.1)));
    // With the scan cut short, a profile older than the last doc read may hide a newer doc.
    let floor = if exhausted { i64::MIN } else { below };
    entries.retain(|e| e.0 >= floor || matches!(e.2, Found::Doc(_)));
    if entries.len() > PAGE {
        entries.truncate(PAGE);
        page.next = entries.last().map(|e| encode(e.0, e.1));
    } else if !exhausted {
        // The budget ran out: everything at or above the last doc read has been placed.
        page.next = Some(encode(below, i64::MIN + 1));
        page.notices.push(format!(
            "Searched the newest {scanned} matches for this page; the next page goes on."
        ));
    }
    let entries = entries
        .into_iter()
        .map(|(key, conversation, found)| Entry {
            conversation,
            at: match &found {
                Found::Doc(h) => h.at,
                _ => key,
            },
            found,
        })
        .collect();
    let texts: HashMap<i64, String> = {
        let customers: Vec<i64> = profiles.values().map(|(_, c)| *c).collect();
        store::search::people_texts(db, &customers)
            .await?
            .into_iter()
            .collect()
    };
    page.items = finish(
        db,
        who.user_id,
        entries,
        engine_words.as_ref(),
        &texts,
        &words,
    )
    .await?;
    Ok(page)
}

enum Found {
    Doc(Hit),
    Customer(i64),
    Filters,
}

struct Entry {
    conversation: i64,
    at: i64,
    found: Found,
}

/// The page's rows: each conversation's list row, what matched and its snippet.
async fn finish(
    db: &Db,
    user_id: i64,
    entries: Vec<Entry>,
    words: Option<&Words>,
    people: &HashMap<i64, String>,
    plain: &[String],
) -> Result<Vec<SearchResult>> {
    let ids: Vec<i64> = entries.iter().map(|e| e.conversation).collect();
    let mut summaries: HashMap<i64, _> = conversations::summaries(db, user_id, &ids)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    for (conv, label) in store::labels::of_conversations(db, &ids).await? {
        if let Some(s) = summaries.get_mut(&conv) {
            s.labels.push(label);
        }
    }
    // Snippets the hits did not bring (PostgreSQL's, or hits found without words).
    let docs: Vec<i64> = entries
        .iter()
        .filter_map(|e| match &e.found {
            Found::Doc(h) if h.snippet.is_none() => Some(h.id),
            _ => None,
        })
        .collect();
    let mut snippets: HashMap<i64, String> = match words {
        Some(w) => store::search::snippets(db, w, &docs).await?,
        None => store::search::texts(db, &docs).await?,
    }
    .into_iter()
    .collect();
    for e in &entries {
        if let Found::Doc(Hit {
            id,
            snippet: Some(s),
            ..
        }) = &e.found
        {
            snippets.insert(*id, s.clone());
        }
    }
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let Some(conversation) = summaries.remove(&e.conversation) else {
            continue;
        };
        let (matched, snippet) = match &e.found {
            Found::Doc(h) => {
                let text = snippets.get(&h.id).cloned().unwrap_or_default();
                let matched = if h.kind == "note" {
                    Matched::Note
                } else {
                    Matched::Message {
                        channel: h.channel.as_deref().and_then(ChannelKind::parse),
                        direction: Direction::parse(&h.direction).unwrap_or(Direction::In),
                    }
                };
                (matched, search::snippet_runs(&text))
            }
            Found::Customer(c) => {
                let text = people.get(c).cloned().unwrap_or_default();
                (Matched::Customer, customer_snippet(&text, plain))
            }
            Found::Filters => (
                Matched::Filters,
                vec![(conversation.preview.clone(), false)],
            ),
        };
        out.push(SearchResult {
            conversation,
            matched,
            at: e.at,
            snippet,
        });
    }
    Ok(out)
}

/// The parts of a customer's name and identifiers ("Rita Alvarez | rita@example.com …")
/// holding the words, marked; all of it when none holds them.
fn customer_snippet(text: &str, words: &[String]) -> Vec<(String, bool)> {
    let parts: Vec<&str> = text.split(" | ").collect();
    let holding: Vec<&str> = parts
        .iter()
        .copied()
        .filter(|p| {
            let l = p.to_lowercase();
            words.iter().any(|w| l.contains(w.as_str()))
        })
        .collect();
    let shown = if holding.is_empty() { parts } else { holding };
    search::mark_words(&shown.join(" · "), words)
}
