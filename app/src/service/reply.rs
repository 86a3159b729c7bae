//! Sending a reply: the outbound message, its files (or links to them), its outbox entry and
//! the conversation's summary, in one transaction, after the same checks the composer showed.

use super::{reports, sending};
use crate::domain::{convert, ChannelKind, Direction, IdentifierKind};
use crate::ports::NewAttachment;
use crate::store::messages::{self, NewOutbound};
use crate::store::{attachments, channel_accounts, conversations, now_ms, outbox};
use crate::store::{Db, Result, StoreError};

/// Longest reply body accepted from the composer (per-channel limits come on top).
pub const MAX_BODY_CHARS: usize = 20_000;
/// Most files on one outbound message, and their total size.
pub const MAX_OUTBOUND_FILES: usize = 10;
pub const MAX_OUTBOUND_BYTES: usize = 20 * 1024 * 1024;

/// Links for the files of one outbound message: the public address they start with and one
/// fresh token (with its SHA-256 in hex) per file, in the files' order.
#[derive(Clone, Debug)]
pub struct FileLinks {
    /// `CONVERGENCE_PUBLIC_URL` without a trailing slash.
    pub base_url: String,
    pub tokens: Vec<LinkToken>,
}

#[derive(Clone)]
pub struct LinkToken {
    /// URL-safe text of 32 random bytes; never stored.
    pub token: String,
    /// Lowercase hex SHA-256 of `token`.
    pub sha256: String,
}

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkToken(..)")
    }
}

impl FileLinks {
    /// The public address of token `i`.
    pub fn url(&self, i: usize) -> Option<String> {
        self.tokens
            .get(i)
            .map(|t| format!("{}/files/{}", self.base_url.trim_end_matches('/'), t.token))
    }
}

/// Writes an outbound message and its outbox entry in one transaction. The identifier must
/// belong to the conversation's customer and fit the account's channel.
pub async fn queue_reply(
    db: &Db,
    conversation_id: i64,
    account_id: i64,
    identifier_id: i64,
    author: i64,
    body: &str,
) -> Result<i64> {
    queue_reply_with_files(
        db,
        conversation_id,
        account_id,
        identifier_id,
        author,
        body,
        &[],
    )
    .await
}

/// [`queue_reply`] with files attached (stored with the message, in the same transaction).
/// Only email carries files; see [`queue_reply_with_links`] for the other channels.
pub async fn queue_reply_with_files(
    db: &Db,
    conversation_id: i64,
    account_id: i64,
    identifier_id: i64,
    author: i64,
    body: &str,
    files: &[NewAttachment],
) -> Result<i64> {
    queue_reply_with_links(
        db,
        conversation_id,
        account_id,
        identifier_id,
        author,
        body,
        files,
        None,
    )
    .await
}

/// How the agent sent a reply, beyond its text and target.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sending<'a> {
    /// The draft's idempotency key (the composer makes one per draft): a request with a key
    /// a message of the conversation already holds stores nothing and answers with that
    /// message, so a double submit or a retried request sends once.
    pub draft_key: Option<&'a str>,
    /// The agent confirmed replying to an identifier nobody verified is the customer's.
    pub unverified_confirmed: bool,
}

/// The longest idempotency key accepted.
pub const MAX_DRAFT_KEY: usize = 100;

/// Writes an outbound message and its outbox entry in one transaction. The identifier must
/// belong to the conversation's customer and fit the account's channel. The text is converted
/// for the channel (`convert::for_channel`: what the composer previewed). On a channel that
/// cannot carry files, each file becomes a line "File: <name> <link>" with one of `links`'
/// tokens (the files are still stored with the message, and the links expire).
#[allow(clippy::too_many_arguments)]
pub async fn queue_reply_with_links(
    db: &Db,
    conversation_id: i64,
    account_id: i64,
    identifier_id: i64,
    author: i64,
    body: &str,
    files: &[NewAttachment],
    links: Option<&FileLinks>,
) -> Result<i64> {
    queue_agent_reply(
        db,
        conversation_id,
        account_id,
        identifier_id,
        author,
        body,
        files,
        links,
        Sending::default(),
    )
    .await
}

/// [`queue_reply_with_links`] as the composer sends it: with the draft's idempotency key and
/// the agent's confirmations. A reply to an unverified identifier (one that joined by
/// threading) is refused unless `sending.unverified_confirmed`; a disabled or failing
/// account is refused.
#[allow(clippy::too_many_arguments)]
pub async fn queue_agent_reply(
    db: &Db,
    conversation_id: i64,
    account_id: i64,
    identifier_id: i64,
    author: i64,
    body: &str,
    files: &[NewAttachment],
    links: Option<&FileLinks>,
    sending: Sending<'_>,
) -> Result<i64> {
    let draft_key = sending.draft_key.map(str::trim).filter(|k| !k.is_empty());
    if draft_key.is_some_and(|k| k.len() > MAX_DRAFT_KEY) {
        return Err(StoreError::Invalid("the draft key is too long".into()));
    }
    if let Some(k) = draft_key {
        // Sent already (a double submit, or a retry after a lost answer): the same message.
        let mut conn = db.write.acquire().await?;
        if let Some(id) = messages::by_draft_key(&mut conn, conversation_id, k).await? {
            return Ok(id);
        }
    }
    if files.len() > MAX_OUTBOUND_FILES {
        return Err(StoreError::Invalid(format!(
            "attach at most {MAX_OUTBOUND_FILES} files"
        )));
    }
    if files.iter().map(|f| f.data.len()).sum::<usize>() > MAX_OUTBOUND_BYTES {
        return Err(StoreError::Invalid(format!(
            "attachments may total at most {} MB",
            MAX_OUTBOUND_BYTES / (1024 * 1024)
        )));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(StoreError::Invalid(format!(
            "a message can have at most {MAX_BODY_CHARS} characters"
        )));
    }
    let mut tx = db.write.begin().await?;
    let r = messages::reply_target(&mut tx, conversation_id, identifier_id, account_id)
        .await?
        .ok_or_else(|| StoreError::Invalid("this customer cannot be reached that way".into()))?;
    let channel = ChannelKind::parse(&r.channel)
        .ok_or_else(|| StoreError::Invalid("unknown channel".into()))?;
    if IdentifierKind::parse(&r.kind).ok() != Some(channel.identifier_kind()) {
        return Err(StoreError::Invalid(format!(
            "a {} identifier cannot receive {} messages",
            r.kind,
            channel.label()
        )));
    }
    let as_links = !files.is_empty() && !convert::carries_files(channel);
    let links = match links {
        Some(l) if as_links && l.tokens.len() >= files.len() => Some(l),
        _ if as_links => {
            return Err(StoreError::Invalid(format!(
                "files can be sent by email; {} replies carry text only",
                channel.label()
            )))
        }
        _ => None,
    };
    if let Some(problem) = crate::domain::reply_choice::account_problem(
        channel,
        &r.account_name,
        r.enabled,
        &r.account_state,
        r.account_state_detail.as_deref(),
    ) {
        return Err(StoreError::Invalid(problem));
    }
    if !r.verified && !sending.unverified_confirmed {
        return Err(StoreError::Invalid(format!(
            "{} is unverified: it joined this conversation by quoting one of our emails, and may not be the customer. Confirm the reply to it, or confirm the identifier first.",
            r.label
        )));
    }
    let mut text = convert::for_channel(channel, body).text;
    if let Some(l) = links {
        let lines: Vec<String> = files
            .iter()
            .enumerate()
            .filter_map(|(i, f)| Some(convert::file_link_line(&f.filename, &l.url(i)?)))
            .collect();
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&lines.join("\n"));
    }
    if text.trim().is_empty() {
        return Err(StoreError::Invalid("the message is empty".into()));
    }
    crate::domain::window::check_text_limit(channel, &text).map_err(StoreError::Invalid)?;
    let now = now_ms();
    // Consent and the reply window, as the composer showed them (the outbox asks again).
    sending::gate(db, identifier_id)
        .await?
        .check(channel, &r.label, now)
        .map_err(StoreError::Invalid)?;
    let id = messages::insert_outbound(
        &mut tx,
        &NewOutbound {
            conversation_id,
            customer_id: r.customer_id,
            channel,
            account_id,
            identifier_id,
            author: Some(author),
            body_text: &text,
            automatic: false,
            at: now,
            draft_key,
        },
    )
    .await?;
    if id.is_some() {
        reports::count_message(&mut tx, conversation_id, now, false, channel, Some(author)).await?;
    }
    let Some(id) = id else {
        // A double submit of the same draft won the race: answer with its message.
        tx.rollback().await?;
        let mut conn = db.write.acquire().await?;
        return messages::by_draft_key(&mut conn, conversation_id, draft_key.unwrap_or_default())
            .await?
            .ok_or_else(|| StoreError::Conflict("this draft is being sent already".into()));
    };
    for (i, f) in files.iter().enumerate() {
        let aid = attachments::insert(
            &mut tx,
            id,
            &f.filename,
            &f.content_type,
            None,
            &f.data,
            now,
        )
        .await?;
        if let Some(t) = links.and_then(|l| l.tokens.get(i)) {
            attachments::create_link(&mut tx, &t.sha256, aid, id, now).await?;
        }
    }
    outbox::enqueue(&mut tx, id, now).await?;
    conversations::touch_for_message(
        &mut tx,
        conversation_id,
        channel,
        Direction::Out,
        &text,
        now,
        conversations::Writer {
            author: Some(author),
            identifier: Some(identifier_id),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Queues an automatic answer (an SMS HELP reply): no author, marked automatic, exempt from
/// consent and windows (carriers require HELP to be answered even after STOP).
pub async fn queue_automatic(
    db: &Db,
    conversation_id: i64,
    account_id: i64,
    identifier_id: i64,
    body: &str,
) -> Result<i64> {
    let mut tx = db.write.begin().await?;
    let customer_id = conversations::customer_of(&mut tx, conversation_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let channel = channel_accounts::channel_of(&mut tx, account_id).await?;
    let now = now_ms();
    let id = messages::insert_outbound(
        &mut tx,
        &NewOutbound {
            conversation_id,
            customer_id,
            channel,
            account_id,
            identifier_id,
            author: None,
            body_text: body,
            automatic: true,
            at: now,
            draft_key: None,
        },
    )
    .await?
    .ok_or_else(|| StoreError::Conflict("an automatic answer was not stored".into()))?;
    reports::count_message(&mut tx, conversation_id, now, false, channel, None).await?;
    outbox::enqueue(&mut tx, id, now).await?;
    tx.commit().await?;
    Ok(id)
}
