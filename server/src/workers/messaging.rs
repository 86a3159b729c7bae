//! What the inbound worker does around storing a message on the messaging channels: download
//! the files the provider holds, put phone numbers in E.164, act on SMS keywords, and apply
//! delivery reports, including those that arrive before the message they are about.

use crate::channels::{MediaError, Registry};
use app::domain::keywords::{sms_keyword, SmsKeyword};
use app::domain::{ChannelKind, DeliveryState, IdentifierKind};
use app::model::{LiveEvent, LiveKind};
use app::ports::InboundMessage;
use app::service::ingest::Ingested;
use app::service::{consent, reply};
use app::ssr::live::Hub;
use app::store::channel_accounts::AccountRow;
use app::store::{messages, reports, Db, Result};

/// The default help answer when the account has none configured.
pub const DEFAULT_HELP: &str =
    "Reply STOP to stop receiving messages, START to receive them again.";

/// Puts a phone-like identifier in E.164 with the account's default region.
pub fn normalise_sender(account: &AccountRow, m: &mut InboundMessage) -> Result<(), String> {
    if matches!(
        m.identifier_kind,
        IdentifierKind::Phone | IdentifierKind::Whatsapp
    ) {
        let region = account.setting("default_region");
        let region = if region.is_empty() {
            "US"
        } else {
            region.as_str()
        };
        m.identifier = app::domain::phone::to_e164(&m.identifier, region)?;
    }
    Ok(())
}

/// Downloads `m.media` into `m.attachments`. A file refused (too large) or gone is noted in
/// the message text; a temporary failure is an `Err` so the payload is processed again later.
pub async fn fetch_media(
    registry: &Registry,
    account: &AccountRow,
    m: &mut InboundMessage,
) -> Result<(), String> {
    if m.media.is_empty() {
        return Ok(());
    }
    let Some(fetcher) = registry.media(&account.provider) else {
        m.body_text
            .push_str("\n[The provider sent files this channel cannot download.]");
        return Ok(());
    };
    for media in std::mem::take(&mut m.media) {
        match fetcher.fetch(account, &media).await {
            Ok(a) => m.attachments.push(a),
            Err(MediaError::Temporary(e)) => {
                return Err(format!("downloading a file failed for now: {e}"))
            }
            Err(MediaError::Refused(e) | MediaError::Permanent(e)) => {
                if !m.body_text.is_empty() {
                    m.body_text.push('\n');
                }
                m.body_text.push_str(&format!("[File not stored: {e}]"));
            }
        }
    }
    Ok(())
}

/// After a new SMS is stored: STOP/START change consent (with a timeline event), HELP is
/// answered with the account's help text.
pub async fn act_on_keyword(
    db: &Db,
    hub: &Hub,
    account: &AccountRow,
    m: &InboundMessage,
    r: &Ingested,
) -> Result<()> {
    if account.channel != ChannelKind::Sms {
        return Ok(());
    }
    let Some(k) = sms_keyword(&m.body_text) else {
        return Ok(());
    };
    let identifier_id = r.identifier_id;
    consent::apply_sms_keyword(
        db,
        r.conversation_id,
        identifier_id,
        k,
        &m.body_text,
        r.message_id,
    )
    .await?;
    if k == SmsKeyword::Help {
        let help = account.setting("help_reply");
        let help = if help.trim().is_empty() {
            DEFAULT_HELP
        } else {
            help.trim()
        };
        reply::queue_automatic(db, r.conversation_id, account.id, identifier_id, help).await?;
    }
    hub.publish(LiveEvent {
        kind: LiveKind::Conversation,
        conversation_id: Some(r.conversation_id),
        message_id: None,
    })
    .await;
    Ok(())
}

async fn publish_delivery(hub: &Hub, conversation_id: i64, message_id: i64) {
    hub.publish(LiveEvent {
        kind: LiveKind::Delivery,
        conversation_id: Some(conversation_id),
        message_id: Some(message_id),
    })
    .await;
}

/// Applies a provider's delivery report. A report about a message we do not know yet is kept
/// and applied when the send's answer names it ([`apply_held_reports`]).
pub async fn apply_status(
    db: &Db,
    hub: &Hub,
    account_id: i64,
    provider_message_id: &str,
    state: DeliveryState,
    reason: Option<&str>,
) -> Result<()> {
    match messages::by_provider_id(db, account_id, provider_message_id).await? {
        Some(mid) => {
            if let Some(cid) = messages::set_delivery(db, mid, state, reason, None).await? {
                publish_delivery(hub, cid, mid).await;
            }
        }
        None => {
            reports::save(db, account_id, provider_message_id, state, reason).await?;
            // The send's answer may have been recorded between the lookup and the save: look
            // again, so the report is never left behind.
            if let Some(mid) = messages::by_provider_id(db, account_id, provider_message_id).await?
            {
                apply_held_reports(db, hub, account_id, provider_message_id, mid).await?;
            }
        }
    }
    Ok(())
}

/// Applies the reports held for a message that just got its provider id.
pub async fn apply_held_reports(
    db: &Db,
    hub: &Hub,
    account_id: i64,
    provider_message_id: &str,
    message_id: i64,
) -> Result<()> {
    for (state, reason) in reports::take(db, account_id, provider_message_id).await? {
        if let Some(cid) =
            messages::set_delivery(db, message_id, state, reason.as_deref(), None).await?
        {
            publish_delivery(hub, cid, message_id).await;
        }
    }
    Ok(())
}

/// Messenger/Instagram read receipts: everything sent to `identifier` up to `watermark`.
pub async fn apply_read(
    db: &Db,
    hub: &Hub,
    account: &AccountRow,
    identifier: &str,
    watermark: i64,
) -> Result<()> {
    let kind = account.channel.identifier_kind();
    for (mid, cid) in messages::read_up_to(db, account.id, kind, identifier, watermark).await? {
        publish_delivery(hub, cid, mid).await;
    }
    Ok(())
}
