//! The channels a customer can reach the business on.

use serde::{Deserialize, Serialize};

/// A customer-facing channel. Each has its own identifier kind and its own rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Email,
    Sms,
    Whatsapp,
    Messenger,
    Instagram,
    Telegram,
    /// The business's own website chat (the widget).
    Chat,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 7] = [
        ChannelKind::Email,
        ChannelKind::Sms,
        ChannelKind::Whatsapp,
        ChannelKind::Messenger,
        ChannelKind::Instagram,
        ChannelKind::Telegram,
        ChannelKind::Chat,
    ];

    /// Stable storage and URL form.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Sms => "sms",
            ChannelKind::Whatsapp => "whatsapp",
            ChannelKind::Messenger => "messenger",
            ChannelKind::Instagram => "instagram",
            ChannelKind::Telegram => "telegram",
            ChannelKind::Chat => "chat",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Human name, as shown on badges.
    pub fn label(self) -> &'static str {
        match self {
            ChannelKind::Email => "Email",
            ChannelKind::Sms => "SMS",
            ChannelKind::Whatsapp => "WhatsApp",
            ChannelKind::Messenger => "Messenger",
            ChannelKind::Instagram => "Instagram",
            ChannelKind::Telegram => "Telegram",
            ChannelKind::Chat => "Website chat",
        }
    }

    /// A one-letter mark for the channel icon (drawn as a coloured disc; the label is always
    /// given to assistive technology). Letters, not emoji: they render on every system.
    pub fn glyph(self) -> &'static str {
        match self {
            ChannelKind::Email => "@",
            ChannelKind::Sms => "S",
            ChannelKind::Whatsapp => "W",
            ChannelKind::Messenger => "M",
            ChannelKind::Instagram => "I",
            ChannelKind::Telegram => "T",
            ChannelKind::Chat => "C",
        }
    }

    /// Bit in `conversations.channels_mask`.
    pub fn bit(self) -> i64 {
        1 << (self as i64)
    }

    /// The identifier kind a message on this channel is addressed with.
    pub fn identifier_kind(self) -> crate::domain::IdentifierKind {
        use crate::domain::IdentifierKind as K;
        match self {
            ChannelKind::Email => K::Email,
            ChannelKind::Sms => K::Phone,
            ChannelKind::Whatsapp => K::Whatsapp,
            ChannelKind::Messenger => K::Messenger,
            ChannelKind::Instagram => K::Instagram,
            ChannelKind::Telegram => K::Telegram,
            ChannelKind::Chat => K::Chat,
        }
    }

    /// Channels whose messages can be addressed with identifiers of `kind`.
    pub fn for_identifier(kind: crate::domain::IdentifierKind) -> Vec<ChannelKind> {
        ChannelKind::ALL
            .into_iter()
            .filter(|c| c.identifier_kind() == kind)
            .collect()
    }

    /// Channels present in a `channels_mask`.
    pub fn from_mask(mask: i64) -> Vec<ChannelKind> {
        ChannelKind::ALL
            .into_iter()
            .filter(|c| mask & c.bit() != 0)
            .collect()
    }
}

impl std::fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_storage_form() {
        for c in ChannelKind::ALL {
            assert_eq!(ChannelKind::parse(c.as_str()), Some(c));
        }
        assert_eq!(ChannelKind::parse("fax"), None);
        assert_eq!(ChannelKind::parse("Email"), None);
    }

    #[test]
    fn bits_are_distinct_and_mask_round_trips() {
        let mask = ChannelKind::ALL.iter().fold(0, |m, c| {
            assert_eq!(m & c.bit(), 0, "{c} shares a bit");
            m | c.bit()
        });
        assert_eq!(ChannelKind::from_mask(mask), ChannelKind::ALL.to_vec());
        let some = ChannelKind::Sms.bit() | ChannelKind::Telegram.bit();
        assert_eq!(
            ChannelKind::from_mask(some),
            vec![ChannelKind::Sms, ChannelKind::Telegram]
        );
    }

    #[test]
    fn each_identifier_kind_maps_back_to_its_channel() {
        for c in ChannelKind::ALL {
            assert!(ChannelKind::for_identifier(c.identifier_kind()).contains(&c));
        }
    }
}
