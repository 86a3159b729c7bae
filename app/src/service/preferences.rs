//! The customer's preference center (issue 18): what the page shows and what its choices do.
//!
//! The page is reached by a signed link (`ssr::pref_token`) naming an identifier and the
//! customer who held it. [`open`] refuses it once that customer was merged away or the
//! identifier removed or given to someone else. Choices per channel and purpose are consent
//! (`consent_events`, source `preference_center`), so replies, moves, campaigns and reports
//! honour them through the same gates as every other opt-out; the preferred channel, quiet hours,
//! time zone and marketing frequency are kept on the customer. Each save is one transaction with
//! its timeline event and audit entry.
//!
//! Adding an address sends a code to it; the address joins only when the code comes back
//! (verified ones join: one another customer held is merged in, by the reversible merge).
//! Until then it is at most a suggestion, which never merges anything.

use super::merge::{merge_by, MergeActor};
use super::reply;
use crate::domain::audit::AuditAction;
use crate::domain::consent::{source, ConsentStatus, Purpose};
use crate::domain::event;
use crate::domain::preferences::{self as rules, Quiet, CODE_TRIES, CODE_TTL_MS};
use crate::domain::{ChannelKind, IdentifierKind};
use crate::store::audit::{self, NewEntry};
use crate::store::consent::{self, Change};
use crate::store::customers::{self, Chosen};
use crate::store::{
    campaign_audience, conversations, events, identifiers, preference_codes, rate_counters,
};
use crate::store::{Db, Result, StoreError};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

/// The consent detail that marks an address the customer asked us to remove.
pub const REMOVAL_DETAIL: &str = "the customer asked us to remove this address";
/// Who acts, in the audit trail.
const ACTOR: &str = "the customer (preference center)";

/// One address as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub identifier_id: i64,
    pub kind: IdentifierKind,
    pub channel: ChannelKind,
    pub masked: String,
    /// The value as stored: for the staff's timeline sentence, never shown on the page.
    pub value: String,
    pub support: bool,
    pub marketing: bool,
    /// An SMS number that texted STOP: only START changes it (carriers block sends till then).
    pub stopped: bool,
    pub removal_asked: bool,
}

/// What the page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub customer_id: i64,
    pub rows: Vec<Row>,
    pub preferred: Option<ChannelKind>,
    pub chosen: Chosen,
    /// An address waiting for its code (masked).
    pub pending: Option<String>,
}

impl Page {
    /// The channels the customer may prefer: those of their addresses still in use.
    pub fn channels(&self) -> Vec<ChannelKind> {
        let mut out: Vec<ChannelKind> = Vec::new();
        for r in self.rows.iter().filter(|r| !r.removal_asked) {
            if !out.contains(&r.channel) {
                out.push(r.channel);
            }
        }
        out
    }
}

/// What a link leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opened {
    Ready(Box<Page>),
    /// The customer was merged into another since the link was sent.
    Merged,
    /// The identifier is gone, or held by another customer now.
    Removed,
}

/// The channel a page row stands for (the first a kind is used on).
fn channel_of(kind: IdentifierKind) -> Option<ChannelKind> {
    ChannelKind::for_identifier(kind).into_iter().next()
}

/// Whether the link made for `identifier_id` of `customer_id` still applies, inside a
/// transaction.
async fn still_applies(
    conn: &mut AnyConnection,
    identifier_id: i64,
    customer_id: i64,
) -> Result<Option<Opened>> {
    let state = match customers::state(conn, customer_id).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Ok(Some(Opened::Removed)),
        Err(e) => return Err(e),
    };
    match identifiers::get(conn, identifier_id).await? {
        None => return Ok(Some(Opened::Removed)),
        Some(i) if i.customer_id != customer_id => {
            // Merges move identifiers to the survivor: the link's customer is merged away.
            return Ok(Some(if state.merged_into.is_some() {
                Opened::Merged
            } else {
                Opened::Removed
            }));
        }
        Some(_) => {}
    }
    if state.merged_into.is_some() {
        return Ok(Some(Opened::Merged));
    }
    Ok(None)
}

/// The page for a link naming `identifier_id` of `customer_id`.
pub async fn open(db: &Db, identifier_id: i64, customer_id: i64, now: i64) -> Result<Opened> {
    let mut conn = db.read.acquire().await?;
    if let Some(stale) = still_applies(&mut conn, identifier_id, customer_id).await? {
        return Ok(stale);
    }
    let mut rows = Vec::new();
    for i in identifiers::held_by(&mut conn, &[customer_id]).await? {
        let Some(channel) = channel_of(i.kind) else {
            continue;
        };
        // A chat visitor id means nothing to the customer; a suggestion was never confirmed.
        if i.kind == IdentifierKind::Chat || !i.verified {
            continue;
        }
        let s = consent::newest(&mut conn, i.id, Purpose::Support).await?;
        let m = consent::newest(&mut conn, i.id, Purpose::Marketing).await?;
        let allows = |c: &Option<crate::domain::consent::Consent>, p: Purpose| {
            ConsentStatus::of(c.as_ref().map(|c| c.granted)).allows(p)
        };
        let stopped = channel == ChannelKind::Sms
            && [&s, &m].iter().any(|c| {
                c.as_ref()
                    .is_some_and(|c| !c.granted && c.source == source::KEYWORD)
            });
        rows.push(Row {
            identifier_id: i.id,
            kind: i.kind,
            channel,
            masked: rules::mask(i.kind, &i.value),
            value: i.value.clone(),
            support: allows(&s, Purpose::Support),
            marketing: allows(&m, Purpose::Marketing),
            stopped,
            removal_asked: s.as_ref().and_then(|c| c.detail.as_deref()) == Some(REMOVAL_DETAIL),
        });
    }
    rows.sort_by_key(|r| (r.removal_asked, r.channel.as_str(), r.identifier_id));
    let preferred = customers::preferred_channel(&mut conn, customer_id).await?;
    let chosen = customers::chosen(&mut conn, customer_id).await?;
    let pending = preference_codes::newest(&mut conn, customer_id)
        .await?
        .filter(|p| p.expires_at > now && p.attempts < CODE_TRIES)
        .map(|p| rules::mask(p.kind, &p.value));
    Ok(Opened::Ready(Box::new(Page {
        customer_id,
        rows,
        preferred,
        chosen,
        pending,
    })))
}

/// What the customer chose on the form, read by the edge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Choices {
    /// The ticked boxes: (identifier, purpose).
    pub allowed: Vec<(i64, Purpose)>,
    pub preferred: Option<ChannelKind>,
    pub time_zone: Option<String>,
    pub quiet: Option<Quiet>,
    pub frequency: (u32, u32),
}

/// What saving did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Saved {
    pub conversation_id: Option<i64>,
    /// Each change in words (empty: nothing changed).
    pub changes: Vec<String>,
}

/// The link's holder, checked again inside a write: the customer when the link still applies.
async fn holder(conn: &mut AnyConnection, identifier_id: i64, customer_id: i64) -> Result<()> {
    customers::lock(conn, customer_id, customer_id).await?;
    match still_applies(conn, identifier_id, customer_id).await? {
        None => Ok(()),
        Some(_) => Err(StoreError::Conflict("This link no longer applies.".into())),
    }
}

/// Records one timeline event and one audit entry for `changes` (nothing when empty).
async fn record(
    conn: &mut AnyConnection,
    customer_id: i64,
    sentence: &str,
    data: serde_json::Value,
) -> Result<Option<i64>> {
    let conversation = conversations::of_customer(conn, customer_id).await?;
    if let Some(c) = conversation {
        events::add(conn, c, event::CONSENT, None, Some(sentence), data).await?;
    }
    let name = customers::name_of(conn, customer_id).await?;
    audit::record_in(
        conn,
        &NewEntry {
            actor_id: None,
            actor: ACTOR,
            action: AuditAction::ConsentChanged,
            target: &format!("{name} (customer {customer_id})"),
            detail: sentence,
            ip: None,
        },
    )
    .await?;
    Ok(conversation)
}

/// Saves `choices` for the customer of a link naming `identifier_id` of `customer_id`.
/// Boxes for addresses the page does not offer (another customer's, a STOP'd number) are
/// ignored; a preferred channel the customer has no address on is refused.
pub async fn save(
    db: &Db,
    identifier_id: i64,
    customer_id: i64,
    choices: &Choices,
    now: i64,
) -> Result<Saved> {
    let page = match open(db, identifier_id, customer_id, now).await? {
        Opened::Ready(p) => p,
        _ => return Err(StoreError::Conflict("This link no longer applies.".into())),
    };
    if let Some(p) = choices.preferred {
        if !page.channels().contains(&p) {
            return Err(StoreError::Invalid(format!(
                "We hold no address on {} for you.",
                p.label()
            )));
        }
    }
    let mut tx = db.write.begin().await?;
    holder(&mut tx, identifier_id, customer_id).await?;
    let mut changes = Vec::new();
    for r in page.rows.iter().filter(|r| !r.stopped && !r.removal_asked) {
        for p in Purpose::ALL {
            let want = choices.allowed.contains(&(r.identifier_id, p));
            let current = consent::newest(&mut tx, r.identifier_id, p).await?;
            let has = ConsentStatus::of(current.map(|c| c.granted)).allows(p);
            if want == has {
                continue;
            }
            let detail = rules::consent_detail(r.channel, p, want);
            let c = Change {
                granted: want,
                source: source::PREFERENCE_CENTER,
                detail: Some(&detail),
                actor: None,
                message_id: None,
                at: now,
            };
            consent::record_change(&mut tx, r.identifier_id, p, &c).await?;
            changes.push(format!(
                "{} ({})",
                detail.trim_start_matches("the customer "),
                r.value
            ));
        }
    }
    if choices.preferred != page.preferred {
        customers::set_preferred_channel(&mut tx, customer_id, choices.preferred, now).await?;
        changes.push(match choices.preferred {
            Some(c) => format!("prefers {}", c.label()),
            None => "no preferred channel".into(),
        });
    }
    let chosen = Chosen {
        time_zone: choices.time_zone.clone(),
        quiet: choices.quiet.map(|q| (q.from, q.until)),
        frequency: Some(choices.frequency).filter(|(m, d)| *m > 0 && *d > 0),
    };
    if chosen != page.chosen {
        customers::set_chosen(&mut tx, customer_id, &chosen, now).await?;
        let zone = chosen.time_zone.as_deref().unwrap_or("UTC");
        if chosen.quiet != page.chosen.quiet
            || (chosen.quiet.is_some() && chosen.time_zone != page.chosen.time_zone)
        {
            changes.push(match choices.quiet {
                Some(q) => format!("quiet hours {} ({zone})", q.words()),
                None => "no quiet hours".into(),
            });
        } else if chosen.time_zone != page.chosen.time_zone {
            changes.push(format!("time zone {zone}"));
        }
        if chosen.frequency != page.chosen.frequency {
            changes.push(match chosen.frequency {
                Some((m, d)) => format!("marketing at most {}", rules::frequency_words(m, d)),
                None => "no limit on marketing".into(),
            });
        }
    }
    let mut conversation_id = None;
    if !changes.is_empty() {
        let sentence = rules::timeline_sentence(&changes);
        conversation_id = record(
            &mut tx,
            customer_id,
            &sentence,
            serde_json::json!({ "source": source::PREFERENCE_CENTER }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Saved {
        conversation_id,
        changes,
    })
}

/// The customer asks us to remove `target` (one of their addresses): nothing is sent there
/// any more from now on (both purposes opted out), and the timeline asks an agent to remove
/// it from the records. Answers the masked address and the conversation.
pub async fn ask_removal(
    db: &Db,
    identifier_id: i64,
    customer_id: i64,
    target: i64,
    now: i64,
) -> Result<(String, Option<i64>)> {
    let mut tx = db.write.begin().await?;
    holder(&mut tx, identifier_id, customer_id).await?;
    let t = identifiers::get(&mut tx, target)
        .await?
        .filter(|i| i.customer_id == customer_id && i.kind != IdentifierKind::Chat)
        .ok_or(StoreError::NotFound)?;
    let masked = rules::mask(t.kind, &t.value);
    let already = consent::newest(&mut tx, target, Purpose::Support)
        .await?
        .and_then(|c| c.detail)
        .as_deref()
        == Some(REMOVAL_DETAIL);
    if already {
        return Ok((masked, None));
    }
    for p in Purpose::ALL {
        let c = Change {
            granted: false,
            source: source::PREFERENCE_CENTER,
            detail: Some(REMOVAL_DETAIL),
            actor: None,
            message_id: None,
            at: now,
        };
        consent::record_change(&mut tx, target, p, &c).await?;
    }
    let sentence = format!(
        "The customer asked us to remove {} in the preference center: nothing is sent there any more. Remove it in the customer panel.",
        t.value
    );
    let conv = record(
        &mut tx,
        customer_id,
        &sentence,
        serde_json::json!({ "identifier_id": target, "source": source::PREFERENCE_CENTER }),
    )
    .await?;
    tx.commit().await?;
    Ok((masked, conv))
}

/// The account a message to identifier `id` on `channel` goes out through: the one it last
/// wrote to, else the first enabled account of the channel.
async fn account_for(db: &Db, id: i64, channel: ChannelKind) -> Result<Option<i64>> {
    let enabled = campaign_audience::enabled_accounts(db).await?;
    let mut conn = db.read.acquire().await?;
    let last = campaign_audience::last_accounts(&mut conn, &[id]).await?;
    Ok(last
        .into_iter()
        .map(|(_, a)| a)
        .find(|a| enabled.contains(&(channel, *a)))
        .or_else(|| enabled.iter().find(|(c, _)| *c == channel).map(|(_, a)| *a)))
}

/// Sends an automatic message (a code, a link) to identifier `id`, in its customer's
/// conversation. None when no account can send on its channel.
async fn send_to(db: &Db, id: i64, body: &str, now: i64) -> Result<Option<(i64, i64)>> {
    let mut conn = db.write.acquire().await?;
    let i = identifiers::get(&mut conn, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let Some(channel) = channel_of(i.kind).filter(|c| *c != ChannelKind::Chat) else {
        return Ok(None);
    };
    let owner = customers::current(&mut conn, i.customer_id).await?;
    let conversation = conversations::ensure_for_customer(&mut conn, owner, now).await?;
    drop(conn);
    let Some(account) = account_for(db, id, channel).await? else {
        return Ok(None);
    };
    let message = reply::queue_automatic(db, conversation, account, id, body).await?;
    Ok(Some((conversation, message)))
}

/// Codes asked for per customer, and per address, in an hour.
pub const CODES_PER_HOUR: i64 = 5;
pub const CODES_PER_ADDRESS_PER_HOUR: i64 = 3;

/// What asking for a code came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeAsked {
    /// On its way (conversation it was written in).
    Sent { value: String, conversation_id: i64 },
    /// Not an email address or phone number.
    Invalid,
    /// No account can send there.
    CannotSend,
    /// Too many codes asked for.
    Limited,
}

fn code_hash(customer_id: i64, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{customer_id}:{}", code.trim())))
}

/// Sends a code to `raw` (an email address or phone number of `kind`) for the customer of
/// the link. The address is stored as a suggestion (unverified, merging nothing) when nobody
/// has it, so the code can be sent and shown in the timeline; `message` is the code message
/// with `{}` for the code.
#[allow(clippy::too_many_arguments)]
pub async fn ask_code(
    db: &Db,
    identifier_id: i64,
    customer_id: i64,
    kind: IdentifierKind,
    raw: &str,
    region: &str,
    message: &str,
    now: i64,
) -> Result<CodeAsked> {
    if !rules::ADDABLE.contains(&kind) || raw.len() > 320 {
        return Ok(CodeAsked::Invalid);
    }
    let Ok(value) = super::identifiers::normalize(kind, raw, region) else {
        return Ok(CodeAsked::Invalid);
    };
    let hour = 3_600_000;
    if rate_counters::hit(db, &format!("pref-code:c:{customer_id}"), now, hour).await?
        > CODES_PER_HOUR
        || rate_counters::hit(
            db,
            &format!("pref-code:v:{}:{value}", kind.as_str()),
            now,
            hour,
        )
        .await?
            > CODES_PER_ADDRESS_PER_HOUR
    {
        return Ok(CodeAsked::Limited);
    }
    let code = {
        use rand::Rng;
        format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
    };
    let mut tx = db.write.begin().await?;
    holder(&mut tx, identifier_id, customer_id).await?;
    let target = match identifiers::find(&mut tx, kind, &value).await? {
        Some((_, id)) => id,
        None => {
            identifiers::add_suggested(&mut tx, customer_id, kind, &value, raw.trim(), now).await?
        }
    };
    // Codes are kept a day (long after they expire), then go.
    preference_codes::prune(&mut tx, now - 86_400_000).await?;
    preference_codes::insert(
        &mut tx,
        customer_id,
        kind,
        &value,
        &code_hash(customer_id, &code),
        now,
        now + CODE_TTL_MS,
    )
    .await?;
    tx.commit().await?;
    let body = crate::domain::pref_words::fill(message, &code);
    match send_to(db, target, &body, now).await? {
        Some((conversation_id, _)) => Ok(CodeAsked::Sent {
            value: rules::mask(kind, &value),
            conversation_id,
        }),
        None => Ok(CodeAsked::CannotSend),
    }
}

/// What typing a code came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeChecked {
    /// The address joined the customer (masked); conversations that changed.
    Added {
        value: String,
        changed: Vec<i64>,
    },
    Wrong,
    /// No code waiting, or too old, or tried too often.
    Expired,
}

/// Checks `code` for the customer of the link; a right one adds the address it was sent to,
/// verified, and joins its holder (another customer) by the reversible merge.
pub async fn check_code(
    db: &Db,
    identifier_id: i64,
    customer_id: i64,
    code: &str,
    now: i64,
) -> Result<CodeChecked> {
    let mut conn = db.read.acquire().await?;
    let pending = preference_codes::newest(&mut conn, customer_id).await?;
    drop(conn);
    let Some(p) = pending.filter(|p| p.expires_at > now && p.attempts < CODE_TRIES) else {
        return Ok(CodeChecked::Expired);
    };
    let given = code_hash(customer_id, code);
    let same = crate::domain::text::same_secret(&given, &p.code_hash);
    if !rules::is_code(code) || !same {
        preference_codes::count_try(db, p.id).await?;
        return Ok(CodeChecked::Wrong);
    }
    let mut tx = db.write.begin().await?;
    holder(&mut tx, identifier_id, customer_id).await?;
    if !preference_codes::use_once(&mut tx, p.id, now).await? {
        return Ok(CodeChecked::Expired);
    }
    let other = match identifiers::find(&mut tx, p.kind, &p.value).await? {
        Some((owner, id)) => {
            let owner = customers::current(&mut tx, owner).await?;
            if owner == customer_id {
                identifiers::set_verified(&mut tx, id).await?;
                None
            } else {
                Some(owner)
            }
        }
        None => {
            identifiers::insert_if_new(&mut tx, customer_id, p.kind, &p.value, &p.value, now, true)
                .await?;
            None
        }
    };
    let sentence = format!(
        "The customer added {} in the preference center, confirmed with a code sent to it.",
        p.value
    );
    let mut changed: Vec<i64> = record(
        &mut tx,
        customer_id,
        &sentence,
        serde_json::json!({ "source": source::PREFERENCE_CENTER, "added": p.value }),
    )
    .await?
    .into_iter()
    .collect();
    tx.commit().await?;
    if let Some(other) = other {
        let words = format!(
            "The preference center (a code sent to {} was confirmed)",
            p.value
        );
        let m = merge_by(db, customer_id, other, MergeActor::System(&words)).await?;
        changed.push(m.survivor_conversation);
        changed.extend(m.merged_conversation);
        // The merged customer's copy is now the survivor's: confirmed.
        let mut conn = db.write.acquire().await?;
        if let Some((_, id)) = identifiers::find(&mut conn, p.kind, &p.value).await? {
            identifiers::set_verified(&mut conn, id).await?;
        }
    }
    changed.dedup();
    Ok(CodeChecked::Added {
        value: rules::mask(p.kind, &p.value),
        changed,
    })
}

/// What asking for a fresh link came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fresh {
    /// Sent in conversation.
    Sent(i64),
    /// The identifier is gone (or nothing can send there): nowhere to send it.
    Nowhere,
}

/// Sends a fresh link for a link made for `identifier_id` of `customer_id`, by the same
/// channel: to that identifier when it is still the customer's (or, after a merge, the
/// survivor's); else, when an agent took it away since or the customer asked us to stop using
/// it, to another of the customer's confirmed addresses on the same channel, if there is one.
/// `body(identifier, customer)` writes the message with its link.
pub async fn send_fresh_link(
    db: &Db,
    identifier_id: i64,
    customer_id: i64,
    body: impl Fn(i64, i64) -> String,
    now: i64,
) -> Result<Fresh> {
    let mut conn = db.read.acquire().await?;
    let Some(i) = identifiers::get(&mut conn, identifier_id).await? else {
        return Ok(Fresh::Nowhere);
    };
    let owner = customers::current(&mut conn, i.customer_id).await?;
    let linked = match customers::current(&mut conn, customer_id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Ok(Fresh::Nowhere),
        Err(e) => return Err(e),
    };
    let removed = |c: Option<crate::domain::consent::Consent>| {
        c.and_then(|c| c.detail).as_deref() == Some(REMOVAL_DETAIL)
    };
    let usable = owner == linked
        && !removed(consent::newest(&mut conn, identifier_id, Purpose::Support).await?);
    let target = if usable {
        Some(identifier_id)
    } else {
        // Another confirmed address of the customer's on the same channel.
        let channel = channel_of(i.kind);
        let mut found = None;
        for o in identifiers::held_by(&mut conn, &[linked]).await? {
            if o.id == identifier_id || !o.verified || channel_of(o.kind) != channel {
                continue;
            }
            if !removed(consent::newest(&mut conn, o.id, Purpose::Support).await?) {
                found = Some(o.id);
                break;
            }
        }
        found
    };
    drop(conn);
    let Some(target) = target else {
        return Ok(Fresh::Nowhere);
    };
    match send_to(db, target, &body(target, linked), now).await? {
        Some((c, _)) => Ok(Fresh::Sent(c)),
        None => Ok(Fresh::Nowhere),
    }
}

/// The identifier and customer an agent's "let the customer choose" link names for
/// conversation `conversation`, going by `identifier_id`: the identifier must belong to the
/// conversation's customer (merges followed). `NotFound` otherwise.
pub async fn link_target(db: &Db, conversation: i64, identifier_id: i64) -> Result<(i64, i64)> {
    let mut conn = db.read.acquire().await?;
    let customer = conversations::customer_of(&mut conn, conversation)
        .await?
        .ok_or(StoreError::NotFound)?;
    let i = identifiers::get(&mut conn, identifier_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let owner = customers::current(&mut conn, i.customer_id).await?;
    if owner != customer || i.customer_id != customer {
        return Err(StoreError::NotFound);
    }
    Ok((identifier_id, customer))
}
