//! What the fuzz targets share: a plausible account row and a stored payload, built the way the
//! server crate's own unit tests build them.

use app::domain::ChannelKind;
use app::ports::RawInbound;
use app::store::channel_accounts::AccountRow;

/// An enabled account of `channel` / `provider` with the given address, settings and secrets.
pub fn account(
    channel: ChannelKind,
    provider: &str,
    address: &str,
    settings: &str,
    secrets: &str,
) -> AccountRow {
    AccountRow {
        id: 7,
        channel,
        provider: provider.into(),
        name: "Fuzz".into(),
        address: address.into(),
        settings: settings.into(),
        secrets: secrets.into(),
        enabled: true,
        state: "ok".into(),
        state_detail: None,
    }
}

/// One stored payload as the inbound worker hands it to a receiver.
pub fn raw(content_type: &str, payload: &[u8]) -> RawInbound {
    RawInbound {
        id: 1,
        channel_account_id: 7,
        content_type: content_type.into(),
        payload: payload.to_vec(),
        attempts: 0,
        // 2024-01-01T00:00:00Z
        received_at: 1_704_067_200_000,
    }
}
