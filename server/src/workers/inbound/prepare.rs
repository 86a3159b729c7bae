//! Preparing an inbound message before it is stored: phone numbers in E.164 with the account's
//! region, and the files the provider holds downloaded.

use crate::channels::{MediaError, Registry};
use app::domain::IdentifierKind;
use app::ports::InboundMessage;
use app::store::channel_accounts::AccountRow;
use app::store::Result;

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
