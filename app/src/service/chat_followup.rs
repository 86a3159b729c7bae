//! Website chat continuity (issue 16): answers a visitor left before seeing go on by email.
//!
//! An agent's chat answer that nobody has seen a few minutes after it was written, while the
//! visitor is gone (no widget of theirs has been open for a minute), is sent as one email per
//! conversation, with every such answer quoted, through the ordinary reply path: the customer's
//! email address (the one they typed in the chat counts: they gave it for this), consent and
//! the account checks, the outbox, and a reply address that brings the answer back into the same
//! conversation. Answers the visitor saw in the widget are never emailed. Each answer is followed
//! up once (`chat_followups`, and the email's idempotency key), whichever process finds it.

use super::conversations;
use super::reply::{queue_agent_reply, Sending};
use crate::domain::ChannelKind;
use crate::store::chat::{self as chat_store, UnseenAnswer};
use crate::store::{Db, Result, StoreError};
use std::collections::BTreeMap;

/// Makes the "continue in the chat" link for a customer, from the chat account and the page
/// the visitor wrote from.
pub type Link<'a> = dyn Fn(i64, Option<(i64, &str)>) -> Option<String> + Send + Sync + 'a;

/// How long an answer stays unseen before it goes by email, by default.
pub const UNSEEN_FOR_MS: i64 = 3 * 60_000;
pub use crate::domain::chat_settings::GONE_FOR_MS;

/// When answers go on by email, and how often the worker looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub unseen_for_ms: i64,
    pub gone_for_ms: i64,
    pub every_ms: i64,
}

impl Timing {
    /// Answers unseen for `unseen_for_ms`; gone for a minute (or as long, when shorter);
    /// looked for every 20 seconds (or twice within the wait, when shorter).
    pub fn after(unseen_for_ms: i64) -> Timing {
        let unseen_for_ms = unseen_for_ms.max(1_000);
        Timing {
            unseen_for_ms,
            gone_for_ms: GONE_FOR_MS.min(unseen_for_ms),
            every_ms: 20_000.min(unseen_for_ms / 2).max(500),
        }
    }
}

impl Default for Timing {
    fn default() -> Timing {
        Timing::after(UNSEEN_FOR_MS)
    }
}
/// Most answers looked at per round.
const BATCH: i64 = 200;

/// What happened to one conversation's unseen answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FollowUp {
    pub conversation: i64,
    pub answers: Vec<i64>,
    /// The email that carries them, or why there is none.
    pub outcome: Result<i64, String>,
}

/// The email's words: every unseen answer, and where to go on.
pub fn email_text(answers: &[UnseenAnswer], link: Option<&str>) -> String {
    let mut out = String::from("You left our website chat before you saw our answer:\n");
    for a in answers {
        let who = a
            .author
            .as_deref()
            .and_then(|n| n.split_whitespace().next())
            .unwrap_or("We");
        out.push_str(&format!("\n{who} wrote:\n"));
        for line in a.body_text.lines() {
            out.push_str("> ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str("\nReply to this email to answer; it reaches the same person.");
    if let Some(l) = link {
        out.push_str(&format!(
            "\nOr continue in the chat, where you left off: {l}"
        ));
    }
    out
}

/// Follows up the answers unseen for `timing.unseen_for_ms` at `now` whose visitors are gone.
/// `link(customer, (chat account, page))` makes the "continue in the chat" link (None: no
/// link).
pub async fn follow_up_unseen(
    db: &Db,
    now: i64,
    timing: Timing,
    link: &Link<'_>,
) -> Result<Vec<FollowUp>> {
    let due = chat_store::unseen_answers(
        db,
        now - timing.unseen_for_ms,
        now - timing.gone_for_ms,
        BATCH,
    )
    .await?;
    let mut by_conversation: BTreeMap<i64, Vec<UnseenAnswer>> = BTreeMap::new();
    for a in due {
        by_conversation
            .entry(a.conversation_id)
            .or_default()
            .push(a);
    }
    let mut done = Vec::new();
    for (conversation, answers) in by_conversation {
        let ids: Vec<i64> = answers.iter().map(|a| a.id).collect();
        let outcome = follow_up_one(db, conversation, &answers, link).await;
        // A passing failure (the database busy) is tried again next round; a final one (no
        // address, the customer opted out) is recorded, and not tried again.
        let (email, record) = match &outcome {
            Ok(id) => (Some(*id), true),
            Err(Failure::Final(_)) => (None, true),
            Err(Failure::Passing(_)) => (None, false),
        };
        if record {
            let mut tx = db.write.begin().await?;
            chat_store::record_followup(&mut tx, &ids, email, now).await?;
            tx.commit().await?;
        }
        done.push(FollowUp {
            conversation,
            answers: ids,
            outcome: outcome.map_err(|f| match f {
                Failure::Final(w) | Failure::Passing(w) => w,
            }),
        });
    }
    Ok(done)
}

/// Why a conversation's answers were not emailed.
enum Failure {
    /// Will not change by trying again.
    Final(String),
    /// Tried again next round.
    Passing(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        match e {
            StoreError::Invalid(w) | StoreError::Conflict(w) => Failure::Final(w),
            StoreError::NotFound => Failure::Final("the conversation is gone".into()),
            other => Failure::Passing(other.to_string()),
        }
    }
}

async fn follow_up_one(
    db: &Db,
    conversation: i64,
    answers: &[UnseenAnswer],
    link: &Link<'_>,
) -> Result<i64, Failure> {
    let detail = conversations::detail(db, conversation).await?;
    // A real mailbox before the playground's stand-in, a verified address before a typed one.
    let accounts = crate::store::channel_accounts::list(db).await?;
    let playground = |id: i64| {
        accounts
            .iter()
            .any(|a| a.id == id && a.provider == crate::domain::providers::PLAYGROUND)
    };
    let option = detail
        .reply_options
        .iter()
        .filter(|o| o.channel == ChannelKind::Email && o.unavailable.is_none())
        .min_by_key(|o| (playground(o.account_id), o.unverified))
        .ok_or_else(|| {
            Failure::Final("the visitor left no email address we may write to".into())
        })?;
    let author = answers
        .iter()
        .rev()
        .find_map(|a| a.author_user_id)
        .ok_or_else(|| Failure::Final("the answers have no author".into()))?;
    let page = chat_store::last_page(db, conversation).await?;
    let at = page.as_ref().map(|(a, p)| (*a, p.as_str()));
    let text = email_text(answers, link(detail.customer.id, at).as_deref());
    let last = answers.last().map_or(0, |a| a.id);
    queue_agent_reply(
        db,
        conversation,
        option.account_id,
        option.identifier_id,
        author,
        &text,
        &[],
        None,
        Sending {
            draft_key: Some(&format!("chat-followup-{last}")),
            // The visitor typed this address into the chat for answers like these.
            unverified_confirmed: true,
        },
    )
    .await
    .map_err(Failure::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(id: i64, author: Option<&str>, text: &str) -> UnseenAnswer {
        UnseenAnswer {
            id,
            conversation_id: 1,
            author_user_id: author.map(|_| 7),
            author: author.map(str::to_string),
            body_text: text.into(),
            created_at: 0,
        }
    }

    #[test]
    fn the_email_quotes_every_answer_and_says_where_to_go_on() {
        let t = email_text(
            &[
                answer(1, Some("Sam Support"), "It left today.\nTracking: 123"),
                answer(2, None, "Anything else?"),
            ],
            Some("https://shop.example.com/?convergence_chat=k1.x"),
        );
        assert!(t.starts_with("You left our website chat"), "{t}");
        assert!(
            t.contains("Sam wrote:\n> It left today.\n> Tracking: 123\n"),
            "{t}"
        );
        assert!(t.contains("We wrote:\n> Anything else?\n"), "{t}");
        assert!(t.contains("Reply to this email"), "{t}");
        assert!(t.ends_with("where you left off: https://shop.example.com/?convergence_chat=k1.x"));
        assert!(!email_text(&[answer(1, None, "x")], None).contains("continue in the chat"));
    }
}
