//! Consent changes, each with its timeline event where the customer has a conversation: SMS
//! keywords, provider opt-outs, changes an agent records, unsubscribe links, and imports.

use crate::domain::consent::{self as rules, source, Purpose};
use crate::domain::event;
use crate::domain::keywords::SmsKeyword;
use crate::domain::IdentifierKind;
use crate::store::consent::{self, Change};
use crate::store::{events, identifiers, now_ms, Db, Result, StoreError};

/// Applies an SMS keyword the customer texted from `identifier_id` (message `message_id`):
/// STOP-like words end support and marketing on that number (as carriers do), STOPALL also
/// ends marketing on every identifier of the customer, START-like words restore that number.
/// Adds a timeline event. Returns the sentence shown (HELP is answered, not a consent change).
pub async fn apply_sms_keyword(
    db: &Db,
    conversation_id: i64,
    identifier_id: i64,
    keyword: SmsKeyword,
    word: &str,
    message_id: i64,
) -> Result<String> {
    let detail = rules::keyword_detail(word);
    let mut tx = db.write.begin().await?;
    let by_keyword = |granted| Change {
        granted,
        source: source::KEYWORD,
        detail: Some(&detail),
        actor: None,
        message_id: Some(message_id),
        at: now_ms(),
    };
    match keyword {
        SmsKeyword::OptOut { all } => {
            for p in Purpose::ALL {
                consent::record_change(&mut tx, identifier_id, p, &by_keyword(false)).await?;
            }
            if all {
                for id in identifiers::siblings(&mut tx, identifier_id).await? {
                    consent::record_change(&mut tx, id, Purpose::Marketing, &by_keyword(false))
                        .await?;
                }
            }
        }
        SmsKeyword::OptIn => {
            for p in Purpose::ALL {
                consent::record_change(&mut tx, identifier_id, p, &by_keyword(true)).await?;
            }
        }
        SmsKeyword::Help => {}
    }
    let text = keyword.describe(word);
    events::add(
        &mut tx,
        conversation_id,
        event::CONSENT,
        None,
        Some(&text),
        serde_json::json!({ "identifier_id": identifier_id, "message_id": message_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(text)
}

/// Records that the provider refused a send because the recipient opted out.
pub async fn provider_opt_out(
    db: &Db,
    identifier_id: i64,
    words: &str,
    message_id: i64,
) -> Result<()> {
    let mut tx = db.write.begin().await?;
    for p in [Purpose::Support, Purpose::Marketing] {
        consent::record(
            &mut tx,
            identifier_id,
            p,
            false,
            source::PROVIDER,
            Some(words),
            None,
            Some(message_id),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A change a staff member records in the customer panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentChange {
    pub identifier_id: i64,
    pub purpose: Purpose,
    pub granted: bool,
    pub reason: String,
    /// A marketing opt-out that applies to every identifier of the customer.
    pub all_channels: bool,
}

/// Records `change` (source agent, with its reason and the actor) and a timeline event.
/// Returns the customer's conversation, if there is one, for the live update.
pub async fn record_by_agent(
    db: &Db,
    change: &AgentChange,
    actor_id: i64,
    actor_name: &str,
) -> Result<Option<i64>> {
    let reason = rules::check_agent_change(
        change.purpose,
        change.granted,
        &change.reason,
        change.all_channels,
    )
    .map_err(StoreError::Invalid)?;
    let mut tx = db.write.begin().await?;
    let (customer_id, value, conversation) =
        identifiers::context(&mut tx, change.identifier_id).await?;
    let c = Change {
        granted: change.granted,
        source: source::AGENT,
        detail: Some(&reason),
        actor: Some(actor_id),
        message_id: None,
        at: now_ms(),
    };
    consent::record_change(&mut tx, change.identifier_id, change.purpose, &c).await?;
    if change.all_channels {
        for other in identifiers::ids_of(&mut tx, customer_id, change.identifier_id).await? {
            consent::record_change(&mut tx, other, Purpose::Marketing, &c).await?;
        }
    }
    if let Some(conv) = conversation {
        let text = rules::agent_change_sentence(
            actor_name,
            &value,
            change.purpose,
            change.granted,
            change.all_channels,
            &reason,
        );
        events::add(
            &mut tx,
            conv,
            event::CONSENT,
            Some(actor_id),
            Some(&text),
            serde_json::json!({
                "identifier_id": change.identifier_id,
                "purpose": change.purpose.as_str(),
                "granted": change.granted,
                "source": source::AGENT,
                "all_channels": change.all_channels,
            }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(conversation)
}

/// What following an email's unsubscribe link did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsubscribed {
    /// The identifier's value (the email address), for the confirmation page.
    pub value: String,
    /// The customer's conversation, for the live update.
    pub conversation_id: Option<i64>,
    /// False when it was already opted out (a second click, a mail client's retry).
    pub changed: bool,
}

/// The customer followed an unsubscribe link: marketing ends on that identifier (and, when
/// they asked for `all` email, support answers too). Purposes already opted out are left as
/// they are, so repeated posts add nothing. Adds a timeline event when something changed.
pub async fn unsubscribe(db: &Db, identifier_id: i64, all: bool) -> Result<Unsubscribed> {
    let mut tx = db.write.begin().await?;
    let (_, value, conversation) = identifiers::context(&mut tx, identifier_id).await?;
    let purposes: &[Purpose] = if all {
        &[Purpose::Marketing, Purpose::Support]
    } else {
        &[Purpose::Marketing]
    };
    let mut changed = false;
    for &p in purposes {
        let current = consent::newest(&mut tx, identifier_id, p).await?;
        if current.is_some_and(|c| !c.granted) {
            continue;
        }
        let c = Change {
            granted: false,
            source: source::UNSUBSCRIBE,
            detail: Some(rules::unsubscribe_detail(all)),
            actor: None,
            message_id: None,
            at: now_ms(),
        };
        consent::record_change(&mut tx, identifier_id, p, &c).await?;
        changed = true;
    }
    if let Some(conv) = conversation.filter(|_| changed) {
        events::add(
            &mut tx,
            conv,
            event::CONSENT,
            None,
            Some(&rules::unsubscribe_sentence(&value, all)),
            serde_json::json!({ "identifier_id": identifier_id, "source": source::UNSUBSCRIBE, "all": all }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Unsubscribed {
        value,
        conversation_id: conversation,
        changed,
    })
}

/// What importing one line did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Imported {
    Recorded,
    /// The same line was imported before: nothing written.
    AlreadyImported,
    /// A later change holds (its words); the line's older consent is not applied.
    NewerHolds(String),
    /// No customer has this identifier.
    UnknownIdentifier,
}

/// One line of a consent import: `kind:value` (normalised) for `purpose`, given or refused
/// `at` (unix ms; None: now). Idempotent: the same line imported twice is recorded once.
pub async fn import(
    db: &Db,
    kind: IdentifierKind,
    value: &str,
    purpose: Purpose,
    granted: bool,
    detail: Option<&str>,
    at: Option<i64>,
) -> Result<Imported> {
    let mut tx = db.write.begin().await?;
    let Some((_, id)) = identifiers::find(&mut tx, kind, value).await? else {
        return Ok(Imported::UnknownIdentifier);
    };
    if consent::imported_before(&mut tx, id, purpose, granted, detail, at).await? {
        return Ok(Imported::AlreadyImported);
    }
    if let Some(t) = at {
        if let Some(newer) = consent::newest(&mut tx, id, purpose)
            .await?
            .filter(|c| c.at > t)
        {
            return Ok(Imported::NewerHolds(rules::newer_holds_words(
                newer.granted,
                newer.at,
                &newer.source,
                newer.detail.as_deref(),
            )));
        }
    }
    let c = Change {
        granted,
        source: source::IMPORT,
        detail,
        actor: None,
        message_id: None,
        at: at.unwrap_or_else(now_ms),
    };
    consent::record_change(&mut tx, id, purpose, &c).await?;
    tx.commit().await?;
    Ok(Imported::Recorded)
}
