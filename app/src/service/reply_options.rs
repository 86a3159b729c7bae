//! The channels a reply can go out on: every channel and identifier of the customer, each
//! available one ready, each unavailable one with its reason in words, and the default choice.
//! Also "Move conversation to…", which changes that default.

use super::{customers, reply, reports, sending};
use crate::domain::consent::Latest;
use crate::domain::gate::Gate;
use crate::domain::reply_choice::{self, Candidate, Facts};
use crate::domain::{event, ChannelKind};
use crate::model::{CustomerView, ReplyOption};
use crate::store::channel_accounts::{self, AccountRow};
use crate::store::{self, conversations, events, messages, now_ms, Db, Result, StoreError};
use std::collections::HashMap;

/// The reply options of one conversation and the key of the default one.
#[derive(Clone, Debug, Default)]
pub struct ReplyOptions {
    /// Available options first, then unavailable ones; channels in their usual order.
    pub options: Vec<ReplyOption>,
    pub default: Option<String>,
}

impl ReplyOptions {
    /// The option with form value `key`.
    pub fn find(&self, key: &str) -> Option<&ReplyOption> {
        self.options.iter().find(|o| o.key() == key)
    }

    /// The default option.
    pub fn current(&self) -> Option<&ReplyOption> {
        self.default.as_deref().and_then(|k| self.find(k))
    }
}

/// Lists the reply options of `conversation_id` (whose customer is `customer`, with the
/// consent that holds for its identifiers) on the channel accounts there are (`accounts`, as
/// `channel_accounts::list` reads them).
pub async fn for_conversation(
    db: &Db,
    conversation_id: i64,
    customer: &CustomerView,
    consents: &Latest,
    accounts: &[AccountRow],
) -> Result<ReplyOptions> {
    let gates = sending::gates_from(db, customer.id, consents).await?;
    let mut options = build(customer, accounts, &gates, now_ms());
    let facts = facts(db, conversation_id, customer).await?;
    if let Some(m) = facts.move_holds() {
        for o in options.iter_mut() {
            o.moved_here = o.account_id == m.account_id && o.identifier_id == m.identifier_id;
        }
    }
    let candidates: Vec<Candidate> = options
        .iter()
        .map(|o| Candidate {
            channel: o.channel,
            account_id: o.account_id,
            identifier_id: o.identifier_id,
            available: o.unavailable.is_none(),
            verified: !o.unverified,
        })
        .collect();
    let default = reply_choice::default_choice(&candidates, &facts).map(|i| options[i].key());
    // The website chat reaches a visitor only while the widget is open: say when it is not.
    if options
        .iter()
        .any(|o| o.channel == ChannelKind::Chat && o.unavailable.is_none())
    {
        let now = now_ms();
        let present = crate::store::chat::visitor_present(
            db,
            customer.id,
            now - crate::domain::chat_settings::GONE_FOR_MS,
        )
        .await?;
        if !present {
            let email = options
                .iter()
                .find(|o| o.channel == ChannelKind::Email && o.unavailable.is_none())
                .map(|o| o.identifier_label.clone());
            let words = crate::domain::reply_choice::chat_absent(email.as_deref());
            for o in options
                .iter_mut()
                .filter(|o| o.channel == ChannelKind::Chat)
            {
                o.notice.get_or_insert_with(|| words.clone());
            }
        }
    }
    Ok(ReplyOptions { options, default })
}

/// Every (channel, identifier, account) the customer could be reached by, with its state. A
/// disabled or failing account is not offered: when no account of a channel the customer has
/// an identifier for can send, one row without an identifier (never selectable) says why.
fn build(
    customer: &CustomerView,
    accounts: &[AccountRow],
    gates: &HashMap<i64, Gate>,
    now: i64,
) -> Vec<ReplyOption> {
    let mut options = Vec::new();
    let none_row = |ch: ChannelKind, account_id: i64, why: String| ReplyOption {
        channel: ch,
        identifier_id: 0,
        account_id,
        label: format!("{} · none", ch.label()),
        unavailable: Some(why),
        notice: None,
        identifier_label: String::new(),
        moved_here: false,
        unverified: false,
    };
    for ch in ChannelKind::ALL {
        let accs: Vec<&AccountRow> = accounts.iter().filter(|a| a.channel == ch).collect();
        let problem = |a: &AccountRow| {
            reply_choice::account_problem(
                ch,
                &a.name,
                a.enabled,
                &a.state,
                a.state_detail.as_deref(),
            )
        };
        let ready: Vec<&AccountRow> = accs
            .iter()
            .copied()
            .filter(|a| problem(a).is_none())
            .collect();
        let idents: Vec<_> = customer
            .identifiers
            .iter()
            .filter(|i| i.kind == ch.identifier_kind())
            .collect();
        if idents.is_empty() {
            // A channel the business uses but this customer has no identifier for.
            if let Some(a) = accs.iter().find(|a| a.enabled) {
                options.push(none_row(ch, a.id, reply_choice::missing_identifier(ch)));
            }
            continue;
        }
        if ready.is_empty() {
            // Identifiers, but every account of the channel is failing (or disabled).
            if let Some((a, why)) = accs
                .iter()
                .find_map(|a| Some((a, problem(a)?)).filter(|(a, _)| a.enabled))
            {
                options.push(none_row(ch, a.id, why));
            }
            continue;
        }
        for ident in idents {
            let gate = gates.get(&ident.id).cloned().unwrap_or_default();
            for a in &ready {
                let check = gate.check(ch, &ident.label, now);
                let label = format!("{} · {} (from {})", ch.label(), ident.label, a.name);
                options.push(ReplyOption {
                    channel: ch,
                    identifier_id: ident.id,
                    account_id: a.id,
                    label: if ident.verified {
                        label
                    } else {
                        format!("{label} — unverified")
                    },
                    unavailable: check.as_ref().err().cloned(),
                    notice: check.ok().flatten(),
                    identifier_label: ident.label.clone(),
                    moved_here: false,
                    unverified: !ident.verified,
                });
            }
        }
    }
    // Ready options first, so the list opens with what can be used; unverified ones last.
    options.sort_by_key(|o| (o.unavailable.is_some(), o.unverified));
    options
}

/// The move, the preference and the customer's last message, for the default choice.
async fn facts(db: &Db, conversation_id: i64, customer: &CustomerView) -> Result<Facts> {
    Ok(Facts {
        moved: conversations::moved(db, conversation_id).await?,
        preferred: customer.preferred_channel,
        last_inbound: messages::last_inbound(db, conversation_id).await?,
    })
}

/// The handoff message sent on the old channel when a conversation moves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handoff {
    /// None is sent.
    Skip,
    /// The standard text ("We'll continue this conversation by SMS at …").
    Standard,
    /// The agent's own words.
    Text(String),
}

/// What a move did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoveDone {
    /// The queued handoff message on the old channel, if one was sent.
    pub handoff_message_id: Option<i64>,
    /// The `channel_switch` event; none when the conversation was already moved there.
    pub event_id: Option<i64>,
}

/// "Move conversation to…": `to` (a reply option key) becomes the default reply option until
/// the customer writes on another channel; the handoff message, if any, goes out on the old
/// channel through the normal queue (consent, windows and limits apply); a `channel_switch`
/// event records the move on the timeline. Moving where the conversation already was moved
/// changes nothing (a form sent twice).
///
/// A move to the channel the conversation is on now, or to an unverified identifier, is
/// refused. `handoff_for` is the target the form's handoff text was written for (the composer
/// sends it): when it is not `to`, the move is refused rather than sending the wrong words.
pub async fn move_conversation(
    db: &Db,
    conversation_id: i64,
    to: &str,
    handoff: Handoff,
    handoff_for: Option<&str>,
    actor: i64,
) -> Result<MoveDone> {
    let customer_id = {
        let mut conn = db.read.acquire().await?;
        conversations::customer_of(&mut conn, conversation_id)
            .await?
            .ok_or(StoreError::NotFound)?
    };
    let latest = store::consent::latest_for_customer(db, customer_id).await?;
    let customer = customers::customer_view_from(db, customer_id, &latest).await?;
    let accounts = channel_accounts::list(db).await?;
    let opts = for_conversation(db, conversation_id, &customer, &latest, &accounts).await?;
    let target = opts.find(to).cloned().ok_or_else(|| {
        StoreError::Invalid("choose a channel this customer can be reached on".into())
    })?;
    if let Some(why) = &target.unavailable {
        return Err(StoreError::Invalid(format!(
            "{} cannot be used: {why}",
            target.label
        )));
    }
    if target.unverified {
        return Err(StoreError::Invalid(format!(
            "{} is unverified: confirm it is the customer's before moving the conversation there",
            target.identifier_label
        )));
    }
    if target.moved_here {
        // Already moved there: a form sent twice changes nothing.
        return Ok(MoveDone {
            handoff_message_id: None,
            event_id: None,
        });
    }
    // The channel the conversation is on now (where replies go by default): moving to it is
    // no move, and the handoff goes out there.
    let current = opts.current().cloned();
    if let Some(c) = current.as_ref().filter(|c| c.unavailable.is_none()) {
        if !reply_choice::move_offered(Some(c.channel), target.channel, !target.unverified) {
            return Err(StoreError::Invalid(format!(
                "the conversation is already on {}",
                c.channel.label()
            )));
        }
    }
    // The handoff text on the form was written for another target than the one chosen:
    // sending it would tell the customer the wrong channel.
    if handoff_for.is_some_and(|w| !w.is_empty() && w != to) {
        return Err(StoreError::Invalid(format!(
            "the handoff message was written for another channel; check it names {} and send again",
            reply_choice::by_channel(target.channel)
        )));
    }
    let old = current.filter(|o| o.key() != target.key());
    let text = match handoff {
        Handoff::Skip => None,
        Handoff::Standard => Some(reply_choice::handoff_text(
            target.channel,
            &target.identifier_label,
        )),
        Handoff::Text(t) if t.trim().is_empty() => Some(reply_choice::handoff_text(
            target.channel,
            &target.identifier_label,
        )),
        Handoff::Text(t) => Some(t),
    };
    let handoff_message_id = match (&text, &old) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(StoreError::Invalid(
                "there is no current channel to send a handoff message on; move without one".into(),
            ))
        }
        (Some(_), Some(o)) if o.unavailable.is_some() => {
            return Err(StoreError::Invalid(format!(
                "the handoff message cannot go out on {}: {} Move without one.",
                o.label,
                o.unavailable.as_deref().unwrap_or_default()
            )))
        }
        (Some(t), Some(o)) => Some(
            reply::queue_reply(db, conversation_id, o.account_id, o.identifier_id, actor, t)
                .await?,
        ),
    };
    let short = |o: &ReplyOption| format!("{} · {}", o.channel.label(), o.identifier_label);
    let mut tx = db.write.begin().await?;
    conversations::set_moved(
        &mut tx,
        conversation_id,
        target.account_id,
        target.identifier_id,
        target.channel,
        now_ms(),
    )
    .await?;
    let event_id = events::add(
        &mut tx,
        conversation_id,
        event::CHANNEL_SWITCH,
        Some(actor),
        None,
        serde_json::json!({
            "from": old.as_ref().map(short),
            "to": short(&target),
            "channel": target.channel.as_str(),
            "account_id": target.account_id,
            "identifier_id": target.identifier_id,
            "handoff_message_id": handoff_message_id,
        }),
    )
    .await?;
    reports::mark(&mut tx, conversation_id, now_ms()).await?;
    tx.commit().await?;
    Ok(MoveDone {
        handoff_message_id,
        event_id: Some(event_id),
    })
}
