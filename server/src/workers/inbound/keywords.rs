//! SMS keywords on a message just stored: STOP/START change consent (with a timeline event),
//! HELP is answered with the account's help text and the customer's preference center link.

use app::domain::keywords::{sms_keyword, SmsKeyword};
use app::domain::pref_words::{fill, EN};
use app::domain::ChannelKind;
use app::model::{LiveEvent, LiveKind};
use app::ports::InboundMessage;
use app::service::ingest::Ingested;
use app::service::{consent, reply};
use app::ssr::live::Hub;
use app::ssr::pref_token::Linker;
use app::store::channel_accounts::AccountRow;
use app::store::{Db, Result};

/// The default help answer when the account has none configured.
pub const DEFAULT_HELP: &str =
    "Reply STOP to stop receiving messages, START to receive them again.";

/// After a new SMS is stored: STOP/START change consent (with a timeline event), HELP is
/// answered with the account's help text.
pub async fn act_on_keyword(
    db: &Db,
    hub: &Hub,
    links: Option<&Linker>,
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
        // The answer carries the customer's preference center link (issue 18).
        let help = match links {
            Some(l) => format!(
                "{help} {}",
                fill(
                    EN.link_message,
                    &l.link(identifier_id, r.customer_id, app::store::now_ms())
                )
            ),
            None => help.to_string(),
        };
        reply::queue_automatic(db, r.conversation_id, account.id, identifier_id, &help).await?;
    }
    hub.publish(LiveEvent {
        kind: LiveKind::Conversation,
        conversation_id: Some(r.conversation_id),
        message_id: None,
        presence: None,
    })
    .await;
    Ok(())
}
