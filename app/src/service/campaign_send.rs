//! Delivering campaigns, in passes the campaign worker runs (any number of processes may run
//! them at once):
//!
//! - **plan**: a step's recipients written once, in pages of customers (never all in memory);
//!   `UNIQUE (campaign_id, step, customer_id)` makes a plan that is interrupted and run again
//!   write each customer once.
//! - **send**: due recipients claimed with a lease, each checked again *now* (consent, window,
//!   quiet hours, daily cap, the account's throttle) and either queued in the outbox, in one
//!   transaction with its `campaign_messages` row (`UNIQUE (recipient_id, channel)`: a customer
//!   is messaged once per step and channel whatever process or restart), or left waiting, or
//!   skipped with the reason.
//! - **follow**: what became of each message: delivered; failed or not delivered in time, so
//!   the next channel is tried (fallback); the step ends and the next one is planned.

use crate::domain::campaign::{fill_template, Definition, Status};
use crate::domain::campaign_rules::{
    cap_until, pick, quiet_until, wait_words, zone_for_phone, Contact, Person, SkipReason,
};
use crate::domain::canned::{self, Fill};
use crate::domain::consent::{Consent, Purpose};
use crate::domain::preferences::{frequency_until, Quiet};
use crate::domain::text::escape_html;
use crate::domain::window::{DAY_MS, HOUR_MS};
use crate::domain::{ChannelKind, IdentifierKind};
use crate::ports::{CampaignExtra, TemplateSend};
use crate::store::campaign_audience::{self as audience, ContactRow};
use crate::store::campaigns::{self, CampaignRow, NewCampaignMessage, NewRecipient};
use crate::store::messages::{self, NewOutbound};
use crate::store::{conversations, outbox, users, Db, Result, StoreError};
use std::collections::HashMap;

/// Customers read per page while planning.
pub const PLAN_PAGE: i64 = 2_000;
/// Recipients claimed per send batch.
pub const SEND_BATCH: i64 = 200;
/// How long one process holds a campaign's planning lease.
const PLAN_LEASE_MS: i64 = 120_000;

/// A customer read for a campaign: who they are and how they can be reached.
pub struct Reader {
    pub customer_id: i64,
    pub name: String,
    pub person: Person,
    pub time_zone: Option<String>,
    /// The quiet hours and marketing frequency the customer chose (preference center).
    pub quiet: Option<Quiet>,
    pub frequency: Option<(u32, u32)>,
    /// The first phone number (E.164), for the time zone its region suggests.
    pub phone: Option<String>,
    /// Identifier id → how it is written.
    pub labels: HashMap<i64, String>,
}

/// Groups rows (ordered by customer) into customers.
pub fn readers(rows: Vec<ContactRow>) -> Vec<Reader> {
    let mut out: Vec<Reader> = Vec::new();
    for r in rows {
        if out.last().is_none_or(|l| l.customer_id != r.customer_id) {
            out.push(Reader {
                customer_id: r.customer_id,
                name: r.name.clone(),
                person: Person {
                    preferred: r.preferred_channel.as_deref().and_then(ChannelKind::parse),
                    contacts: Vec::new(),
                },
                time_zone: r.time_zone.clone(),
                quiet: match (r.quiet_from, r.quiet_until) {
                    (Some(f), Some(u))
                        if (0..1440).contains(&f) && (0..1440).contains(&u) && f != u =>
                    {
                        Some(Quiet {
                            from: f as u16,
                            until: u as u16,
                        })
                    }
                    _ => None,
                },
                frequency: match (r.marketing_max, r.marketing_days) {
                    (Some(m), Some(d)) if m > 0 && d > 0 => Some((m as u32, d as u32)),
                    _ => None,
                },
                phone: None,
                labels: HashMap::new(),
            });
        }
        let reader = out.last_mut().expect("pushed");
        let (Some(id), Some(kind)) = (r.identifier_id, r.kind.as_deref()) else {
            continue;
        };
        let Ok(kind) = IdentifierKind::parse(kind) else {
            continue;
        };
        let label = r.label.clone().unwrap_or_default();
        if matches!(kind, IdentifierKind::Phone | IdentifierKind::Whatsapp)
            && reader.phone.is_none()
        {
            reader.phone = r.value.clone();
        }
        reader.labels.insert(id, label.clone());
        let consent = r.granted.map(|g| Consent {
            granted: g != 0,
            source: r.source.clone().unwrap_or_default(),
            detail: r.detail.clone(),
            at: r.consent_at.unwrap_or(0),
        });
        for channel in ChannelKind::for_identifier(kind) {
            reader.person.contacts.push(Contact {
                identifier_id: id,
                channel,
                label: label.clone(),
                last_inbound_at: r.last_inbound_at,
                consent: consent.clone(),
            });
        }
    }
    out
}

/// The campaign's definition as stored.
pub fn definition_of(c: &CampaignRow) -> Result<Definition> {
    serde_json::from_str(&c.definition)
        .map_err(|e| StoreError::Invalid(format!("Campaign {} cannot be read: {e}", c.id)))
}

/// The skip reason's state: an opt-out is recorded as such.
fn skipped_state(reason: SkipReason) -> &'static str {
    if reason == SkipReason::OptedOut {
        "opted_out"
    } else {
        "skipped"
    }
}

/// Plans `c`'s current step when it is due and not planned yet; returns the recipients
/// written. Step 0 reads the audience; later steps take the previous step's recipients that
/// were messaged (not skipped, opted out, or replied).
pub async fn plan(
    db: &Db,
    c: &CampaignRow,
    now: i64,
    only: Option<&std::collections::HashSet<i64>>,
) -> Result<u64> {
    if c.planned_step >= c.step || c.step_due_at.is_none_or(|t| t > now) {
        return Ok(0);
    }
    if !campaigns::lease(db, c.id, now, PLAN_LEASE_MS).await? {
        return Ok(0);
    }
    let result = plan_leased(db, c, now, only).await;
    campaigns::unlease(db, c.id).await?;
    result
}

async fn plan_leased(
    db: &Db,
    c: &CampaignRow,
    now: i64,
    only: Option<&std::collections::HashSet<i64>>,
) -> Result<u64> {
    let def = definition_of(c)?;
    let mut written = 0;
    if c.step > 0 {
        written = campaigns::plan_next_step(db, c.id, c.step, now).await?;
    } else {
        let step = def
            .steps
            .first()
            .ok_or_else(|| StoreError::Invalid("no steps".into()))?;
        let mut after = 0;
        loop {
            let rows = audience::page(db, &def.audience, def.topic, after, PLAN_PAGE, now).await?;
            let Some(last) = rows.last() else { break };
            after = last.customer_id;
            let batch: Vec<NewRecipient> = readers(rows)
                .into_iter()
                .filter(|r| only.is_none_or(|set| set.contains(&r.customer_id)))
                .map(
                    |r| match pick(def.topic, &def.strategy, step, &r.person, &[], now) {
                        Ok(_) => NewRecipient {
                            customer_id: r.customer_id,
                            state: "planned",
                            reason: None,
                            skip: None,
                            due_at: now,
                        },
                        Err(s) => NewRecipient {
                            customer_id: r.customer_id,
                            state: skipped_state(s.reason),
                            reason: Some(s.words),
                            skip: Some(s.reason.as_str()),
                            due_at: now,
                        },
                    },
                )
                .collect();
            let mut tx = db.write.begin().await?;
            written += campaigns::insert_recipients(&mut tx, c.id, 0, &batch, now).await?;
            tx.commit().await?;
        }
    }
    campaigns::set_planned(db, c.id, c.step, now).await?;
    Ok(written)
}

/// The UTC offset (seconds) of `zone` at `now`, remembered per zone name.
fn offset(cache: &mut HashMap<String, i32>, zone: &str, now: i64) -> Option<i32> {
    if let Some(o) = cache.get(zone) {
        return Some(*o);
    }
    let tz = jiff::tz::TimeZone::get(zone).ok()?;
    let ts = jiff::Timestamp::from_millisecond(now).ok()?;
    let o = tz.to_offset(ts).seconds();
    cache.insert(zone.to_string(), o);
    Some(o)
}

/// Which account sends on each channel for an identifier: the one the customer last wrote
/// to, else the oldest enabled account of the channel.
struct Accounts {
    first: HashMap<ChannelKind, i64>,
    last: HashMap<i64, i64>,
    enabled: Vec<(ChannelKind, i64)>,
}

impl Accounts {
    fn for_identifier(&self, channel: ChannelKind, identifier: i64) -> Option<i64> {
        self.last
            .get(&identifier)
            .copied()
            .filter(|a| self.enabled.contains(&(channel, *a)))
            .or_else(|| self.first.get(&channel).copied())
    }
}

/// Recipients written per transaction while sending.
const COMMIT_EVERY: usize = 25;

/// What a send pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    pub queued: usize,
    pub waiting: usize,
    pub skipped: usize,
}

/// Makes a customer's preference center link: `(identifier, customer) → URL` (the key stays
/// with the caller). A marketing campaign's first message on a channel other than email
/// carries it (every email carries it already, added by the email sender).
pub type Links<'a> = Option<&'a (dyn Fn(i64, i64) -> String + Send + Sync)>;

/// Sends one batch of `c`'s due recipients; returns what it did (nothing claimed: all zero).
pub async fn send_batch(
    db: &Db,
    c: &CampaignRow,
    links: Links<'_>,
    now: i64,
) -> Result<(usize, Sent)> {
    let def = definition_of(c)?;
    let Some(step) = def.steps.get(c.step as usize) else {
        return Ok((0, Sent::default()));
    };
    let due = campaigns::claim_due(db, c.id, c.step, now, SEND_BATCH).await?;
    if due.is_empty() {
        return Ok((0, Sent::default()));
    }
    let ids: Vec<i64> = due.iter().map(|d| d.customer_id).collect();
    let (rows, recent, last) = {
        let mut conn = db.read.acquire().await?;
        let rows = audience::people(&mut conn, &ids, def.topic).await?;
        // The longest span a customer's marketing frequency looks back over (30 days).
        let recent = campaigns::recent_sends(&mut conn, &ids, now - 30 * DAY_MS).await?;
        let identifiers: Vec<i64> = rows.iter().filter_map(|r| r.identifier_id).collect();
        let last = audience::last_accounts(&mut conn, &identifiers).await?;
        (rows, recent, last)
    };
    let enabled = audience::enabled_accounts(db).await?;
    let mut first = HashMap::new();
    for (ch, id) in &enabled {
        first.entry(*ch).or_insert(*id);
    }
    let accounts = Accounts {
        first,
        last: last.into_iter().collect(),
        enabled,
    };
    let mut recent_by: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut marketing_by: HashMap<i64, Vec<i64>> = HashMap::new();
    for (customer, at, marketing) in recent {
        if at > now - DAY_MS {
            recent_by.entry(customer).or_default().push(at);
        }
        if marketing {
            marketing_by.entry(customer).or_default().push(at);
        }
    }
    let people: HashMap<i64, Reader> = readers(rows)
        .into_iter()
        .map(|r| (r.customer_id, r))
        .collect();
    let author = users::get(db, c.created_by)
        .await?
        .map(|u| u.name)
        .unwrap_or_default();
    let mut zones = HashMap::new();
    let mut done = Sent::default();
    let n = due.len();
    // The writes go in transactions of a few recipients each (a savepoint per message, so a
    // recipient another process sent rolls back alone): fewer commits, and the write lock is
    // never held for long.
    let mut batch = db.write.begin().await?;
    let mut in_batch = 0;
    for d in due {
        in_batch += 1;
        if in_batch > COMMIT_EVERY {
            batch.commit().await?;
            batch = db.write.begin().await?;
            in_batch = 1;
        }
        let mut tried: Vec<ChannelKind> =
            d.tried.split(',').filter_map(ChannelKind::parse).collect();
        let Some(reader) = people.get(&d.customer_id) else {
            campaigns::set_final(
                &mut batch,
                d.id,
                "skipped",
                Some(SkipReason::NoIdentifier.as_str()),
                "The customer no longer exists (merged or removed).",
            )
            .await?;
            done.skipped += 1;
            continue;
        };
        // Where the customer is: quiet hours are theirs.
        let zone = reader
            .time_zone
            .clone()
            .or_else(|| {
                reader
                    .phone
                    .as_deref()
                    .and_then(zone_for_phone)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| def.strategy.default_zone.clone());
        let off = offset(&mut zones, &zone, now)
            .or_else(|| offset(&mut zones, &def.strategy.default_zone, now))
            .unwrap_or(0);
        if let Some(until) = quiet_until(&def.strategy, off, now) {
            campaigns::set_waiting(&mut batch, d.id, until, &wait_words(true)).await?;
            done.waiting += 1;
            continue;
        }
        // The customer's own quiet hours and marketing frequency (their preference center).
        if let Some(until) = reader.quiet.and_then(|q| q.ends_after(off, now)) {
            let words = format!(
                "Quiet hours the customer chose ({} in {zone}).",
                reader.quiet.map(|q| q.words()).unwrap_or_default(),
            );
            campaigns::set_waiting(&mut batch, d.id, until, &words).await?;
            done.waiting += 1;
            continue;
        }
        if def.topic == Purpose::Marketing {
            if let Some(((max, days), until)) = reader.frequency.and_then(|(m, dd)| {
                frequency_until(
                    m,
                    dd,
                    marketing_by.get(&d.customer_id).unwrap_or(&Vec::new()),
                    now,
                )
                .map(|u| ((m, dd), u))
            }) {
                let words = format!(
                    "The customer asked for marketing at most {}.",
                    crate::domain::preferences::frequency_words(max, days),
                );
                campaigns::set_waiting(&mut batch, d.id, until, &words).await?;
                done.waiting += 1;
                continue;
            }
        }
        let empty = Vec::new();
        if let Some(until) = cap_until(
            def.strategy.daily_cap,
            recent_by.get(&d.customer_id).unwrap_or(&empty),
            now,
        ) {
            campaigns::set_waiting(&mut batch, d.id, until, &wait_words(false)).await?;
            done.waiting += 1;
            continue;
        }
        // The first channel that can take it; a channel without an account is passed over.
        let choice = loop {
            match pick(def.topic, &def.strategy, step, &reader.person, &tried, now) {
                Ok(p) => match accounts.for_identifier(p.channel, p.identifier_id) {
                    Some(account) => break Ok((p, account)),
                    None => tried.push(p.channel),
                },
                Err(s) => break Err(s),
            }
        };
        let (p, account) = match choice {
            Ok(x) => x,
            Err(s) => {
                let fell = !d.tried.is_empty();
                let (state, why) = if fell {
                    (
                        "failed",
                        format!(
                            "Every channel was tried ({}); {}",
                            d.tried.replace(',', ", "),
                            s.words
                        ),
                    )
                } else {
                    (skipped_state(s.reason), s.words)
                };
                campaigns::set_final(
                    &mut batch,
                    d.id,
                    state,
                    (!fell).then_some(s.reason.as_str()),
                    &why,
                )
                .await?;
                done.skipped += 1;
                continue;
            }
        };
        let label = reader
            .labels
            .get(&p.identifier_id)
            .cloned()
            .unwrap_or_default();
        let fill = Fill {
            customer_name: reader.name.clone(),
            agent_name: author.clone(),
            identifier: Some(label),
        };
        let mut extra = CampaignExtra::default();
        let (subject, text) = match p.channel {
            ChannelKind::Email => {
                let e = &step.email;
                if !e.html.trim().is_empty() {
                    extra.html = Some(canned::fill(
                        &e.html,
                        &Fill {
                            customer_name: escape_html(&fill.customer_name),
                            agent_name: escape_html(&fill.agent_name),
                            identifier: fill.identifier.as_deref().map(escape_html),
                        },
                    ));
                }
                (
                    Some(canned::fill(&e.subject, &fill)),
                    canned::fill(&e.text, &fill),
                )
            }
            ChannelKind::Whatsapp if p.template => {
                let w = &step.whatsapp;
                let params: Vec<String> = w.params.iter().map(|x| canned::fill(x, &fill)).collect();
                let text = fill_template(&w.body, &params);
                extra.template = Some(TemplateSend {
                    name: w.template.trim().to_string(),
                    language: w.language.trim().to_string(),
                    params,
                });
                (None, text)
            }
            ch => {
                let mut text = canned::fill(step.text(ch), &fill);
                if def.topic == Purpose::Marketing {
                    if let Some(link) = links {
                        if !campaigns::ever_sent_on(&mut batch, d.customer_id, ch).await? {
                            let line = crate::domain::pref_words::fill(
                                crate::domain::pref_words::EN.link_message,
                                &link(p.identifier_id, d.customer_id),
                            );
                            text = format!("{}\n{line}", text.trim_end());
                        }
                    }
                }
                (None, text)
            }
        };
        let payload = serde_json::to_string(&extra).unwrap_or_else(|_| "{}".into());
        let mut tx = sqlx::Acquire::begin(&mut batch).await?;
        if def.strategy.per_minute > 0
            && !campaigns::take_throttle(&mut tx, account, now, def.strategy.per_minute as i64)
                .await?
        {
            let until = (now / 60_000 + 1) * 60_000;
            campaigns::set_waiting(
                &mut tx,
                d.id,
                until,
                &format!(
                    "Throttled: the {} account sends at most {} campaign messages a minute; waits until the next minute.",
                    p.channel.label(),
                    def.strategy.per_minute
                ),
            )
            .await?;
            tx.commit().await?;
            done.waiting += 1;
            continue;
        }
        let conversation_id = match conversations::of_customer(&mut tx, d.customer_id).await? {
            Some(id) => id,
            None => {
                // A customer who never wrote gets a conversation, closed until they answer.
                let id = conversations::ensure_for_customer(&mut tx, d.customer_id, now).await?;
                conversations::set_status(&mut tx, id, crate::domain::Status::Resolved, None)
                    .await?;
                id
            }
        };
        let message_id = messages::insert_campaign(
            &mut tx,
            &NewOutbound {
                conversation_id,
                customer_id: d.customer_id,
                channel: p.channel,
                account_id: account,
                identifier_id: p.identifier_id,
                author: None,
                body_text: &text,
                automatic: false,
                at: now,
                draft_key: None,
            },
            subject.as_deref(),
            extra.html.as_deref(),
        )
        .await?;
        let recorded = campaigns::record_message(
            &mut tx,
            &NewCampaignMessage {
                message_id,
                campaign_id: c.id,
                recipient_id: d.id,
                customer_id: d.customer_id,
                step: c.step,
                channel: p.channel.as_str(),
                purpose: def.topic.as_str(),
                payload: &payload,
                at: now,
            },
        )
        .await?;
        if !recorded {
            // Another process sent this step on this channel already.
            tx.rollback().await?;
            continue;
        }
        outbox::enqueue(&mut tx, message_id, now).await?;
        tx.commit().await?;
        recent_by.entry(d.customer_id).or_default().push(now);
        done.queued += 1;
    }
    batch.commit().await?;
    Ok((n, done))
}

/// Follows `c`'s sent messages: delivered ones are recorded, failed or late ones fall back
/// to the next channel. Returns how many recipients changed.
pub async fn follow(db: &Db, c: &CampaignRow, now: i64) -> Result<usize> {
    let def = definition_of(c)?;
    let after = def.strategy.fallback_after_minutes as i64 * 60_000;
    let before = if after > 0 { now - after } else { i64::MIN };
    let rows = campaigns::outcomes(db, c.id, before, 1_000).await?;
    let n = rows.len();
    for r in rows {
        let channel = r.channel.as_deref().and_then(ChannelKind::parse);
        let words = channel.map(|c| c.label()).unwrap_or("the channel");
        let tried = match &r.channel {
            Some(ch) if r.tried.is_empty() => ch.clone(),
            Some(ch) => format!("{},{ch}", r.tried),
            None => r.tried.clone(),
        };
        match r.delivery_state.as_str() {
            "delivered" | "read" => campaigns::set_delivered(db, r.id, now).await?,
            "failed" => {
                let why = format!(
                    "Fell back: {words} failed ({})",
                    r.delivery_error.as_deref().unwrap_or("no reason given")
                );
                campaigns::fall_back(db, r.id, &tried, &why, now).await?;
            }
            _ => {
                let why = format!(
                    "Fell back: {words} was not delivered within {}",
                    minutes_words(def.strategy.fallback_after_minutes)
                );
                campaigns::fall_back(db, r.id, &tried, &why, now).await?;
            }
        }
    }
    Ok(n)
}

fn minutes_words(m: u32) -> String {
    if m.is_multiple_of(60) {
        let h = m / 60;
        format!("{h} hour{}", if h == 1 { "" } else { "s" })
    } else {
        format!("{m} minutes")
    }
}

/// Ends `c`'s current step when nothing is left to send or to follow, and moves on to the
/// next one (due `wait_hours` after this one was) or ends the campaign.
pub async fn finish_step(db: &Db, c: &CampaignRow, now: i64) -> Result<bool> {
    if c.planned_step < c.step {
        return Ok(false);
    }
    let def = definition_of(c)?;
    let after = def.strategy.fallback_after_minutes as i64 * 60_000;
    let since = if after > 0 { now - after } else { i64::MAX };
    let (todo, open) = campaigns::pending(db, c.id, c.step, since).await?;
    if todo > 0 || open > 0 {
        return Ok(false);
    }
    match def.steps.get(c.step as usize + 1) {
        Some(next) => {
            let started = c.step_due_at.unwrap_or(now);
            let due = (started + next.wait_hours as i64 * HOUR_MS).max(now);
            campaigns::advance(db, c.id, c.step, due).await
        }
        None => {
            campaigns::transition(db, c.id, &[Status::Sending.as_str()], Status::Done.as_str())
                .await
        }
    }
}
