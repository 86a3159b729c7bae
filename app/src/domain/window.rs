//! Channel rules the composer shows before an agent writes and the outbox enforces before it
//! sends: the customer-service windows of Meta's channels, and per-channel text limits.

use crate::domain::ChannelKind;

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// Whether a reply may go out on a channel now, given when the customer last wrote on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyWindow {
    /// The channel has no window (email, SMS, Telegram).
    Always,
    /// Inside the 24-hour customer-service window, until `closes_at`.
    Open { closes_at: i64 },
    /// Messenger/Instagram after 24 hours: only with the HUMAN_AGENT tag, until `closes_at`.
    HumanAgent { closes_at: i64 },
    /// No free-form reply is possible; the reason says what would be needed.
    Closed { reason: String },
}

/// Whether free-form replies on `channel` are limited to a 24-hour customer-service window
/// after the customer's last message (Meta's channels: WhatsApp, Messenger, Instagram).
pub fn has_service_window(channel: ChannelKind) -> bool {
    matches!(
        channel,
        ChannelKind::Whatsapp | ChannelKind::Messenger | ChannelKind::Instagram
    )
}

/// The window for `channel` at `now` when the customer last wrote at `last_inbound_at`.
pub fn reply_window(channel: ChannelKind, last_inbound_at: Option<i64>, now: i64) -> ReplyWindow {
    if !has_service_window(channel) {
        return ReplyWindow::Always;
    }
    let Some(last) = last_inbound_at else {
        return ReplyWindow::Closed {
            reason: format!(
                "The customer has not written on {} yet: a business can only answer there.",
                channel.label()
            ),
        };
    };
    if now < last + DAY_MS {
        return ReplyWindow::Open {
            closes_at: last + DAY_MS,
        };
    }
    match channel {
        ChannelKind::Messenger | ChannelKind::Instagram if now < last + 7 * DAY_MS => {
            ReplyWindow::HumanAgent {
                closes_at: last + 7 * DAY_MS,
            }
        }
        ChannelKind::Whatsapp => ReplyWindow::Closed {
            reason: "The 24-hour WhatsApp window is closed: the customer last wrote more than 24 hours ago, and WhatsApp only allows an approved template now. Reply on another channel, or wait for the customer to write.".into(),
        },
        _ => ReplyWindow::Closed {
            reason: format!(
                "The customer last wrote on {} more than 7 days ago: {} allows no reply now. Reply on another channel.",
                channel.label(),
                channel.label()
            ),
        },
    }
}

impl ReplyWindow {
    pub fn allows_reply(&self) -> bool {
        !matches!(self, ReplyWindow::Closed { .. })
    }

    /// One sentence for the composer, or None when there is nothing to say.
    pub fn notice(&self, channel: ChannelKind, now: i64) -> Option<String> {
        let left = |at: i64| {
            let h = (at - now).max(0) / HOUR_MS;
            if h >= 48 {
                format!("{} days", h / 24)
            } else if h >= 1 {
                format!("{h} h")
            } else {
                "less than an hour".into()
            }
        };
        match self {
            ReplyWindow::Always => None,
            ReplyWindow::Open { closes_at } if closes_at - now < 4 * HOUR_MS => Some(format!(
                "The {} reply window closes in {}.",
                channel.label(),
                left(*closes_at)
            )),
            ReplyWindow::Open { .. } => None,
            ReplyWindow::HumanAgent { closes_at } => Some(format!(
                "More than 24 hours since the customer wrote: this reply goes out with Messenger's human agent tag ({} left).",
                left(*closes_at)
            )),
            ReplyWindow::Closed { reason } => Some(reason.clone()),
        }
    }
}

/// The longest text one message may carry on `channel`, in characters (None: no limit we
/// enforce). SMS: 1,600 (the provider splits it into segments); Telegram 4,096; Messenger
/// 2,000; Instagram 1,000; WhatsApp 4,096; website chat 4,000 (both ways).
pub fn max_text_chars(channel: ChannelKind) -> Option<usize> {
    match channel {
        ChannelKind::Email => None,
        ChannelKind::Sms => Some(1_600),
        ChannelKind::Telegram => Some(4_096),
        ChannelKind::Messenger => Some(2_000),
        ChannelKind::Instagram => Some(1_000),
        ChannelKind::Whatsapp => Some(4_096),
        ChannelKind::Chat => Some(super::chat_settings::MAX_VISITOR_TEXT),
    }
}

/// How long a text is against its channel's limit. The text is what goes out (the draft
/// converted by `convert::for_channel`): the composer's counter, the preview's note and the
/// server's check all count it here, so they agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TextLength {
    pub chars: usize,
    pub max: usize,
}

impl TextLength {
    /// Characters over the limit (0 when within it).
    pub fn over(&self) -> usize {
        self.chars.saturating_sub(self.max)
    }
}

/// The length of the outgoing `text` against `channel`'s limit; None where none is enforced.
pub fn text_length(channel: ChannelKind, text: &str) -> Option<TextLength> {
    Some(TextLength {
        chars: text.chars().count(),
        max: max_text_chars(channel)?,
    })
}

/// Refuses a text over the channel's limit, in words.
pub fn check_text_limit(channel: ChannelKind, text: &str) -> Result<(), String> {
    let Some(TextLength { chars: n, max }) = text_length(channel, text) else {
        return Ok(());
    };
    if n > max {
        return Err(format!(
            "{} messages can be at most {max} characters; this one has {n}. Shorten it by {}.",
            channel.label(),
            n - max
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn channels_without_windows_always_allow_replies() {
        for c in [ChannelKind::Email, ChannelKind::Sms, ChannelKind::Telegram] {
            assert_eq!(reply_window(c, None, NOW), ReplyWindow::Always);
        }
    }

    #[test]
    fn meta_windows_open_then_tag_then_close() {
        let w = |c, ago| reply_window(c, Some(NOW - ago), NOW);
        assert_eq!(
            w(ChannelKind::Whatsapp, HOUR_MS),
            ReplyWindow::Open {
                closes_at: NOW + 23 * HOUR_MS
            }
        );
        assert!(!w(ChannelKind::Whatsapp, DAY_MS).allows_reply());
        assert!(w(ChannelKind::Whatsapp, DAY_MS - 1).allows_reply());
        assert_eq!(
            w(ChannelKind::Messenger, 2 * DAY_MS),
            ReplyWindow::HumanAgent {
                closes_at: NOW + 5 * DAY_MS
            }
        );
        assert!(matches!(
            w(ChannelKind::Instagram, 3 * DAY_MS),
            ReplyWindow::HumanAgent { .. }
        ));
        assert!(!w(ChannelKind::Messenger, 7 * DAY_MS).allows_reply());
        assert!(!reply_window(ChannelKind::Instagram, None, NOW).allows_reply());
    }

    #[test]
    fn notices_say_what_applies() {
        let closed = reply_window(ChannelKind::Whatsapp, Some(NOW - 2 * DAY_MS), NOW);
        assert!(closed
            .notice(ChannelKind::Whatsapp, NOW)
            .unwrap()
            .contains("template"));
        let tag = reply_window(ChannelKind::Messenger, Some(NOW - 2 * DAY_MS), NOW);
        assert!(tag
            .notice(ChannelKind::Messenger, NOW)
            .unwrap()
            .contains("human agent"));
        let soon = reply_window(ChannelKind::Whatsapp, Some(NOW - 22 * HOUR_MS), NOW);
        assert_eq!(
            soon.notice(ChannelKind::Whatsapp, NOW).unwrap(),
            "The WhatsApp reply window closes in 2 h."
        );
        let fresh = reply_window(ChannelKind::Whatsapp, Some(NOW - HOUR_MS), NOW);
        assert_eq!(fresh.notice(ChannelKind::Whatsapp, NOW), None);
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        assert!(check_text_limit(ChannelKind::Sms, &"é".repeat(1_600)).is_ok());
        let e = check_text_limit(ChannelKind::Sms, &"a".repeat(1_601)).unwrap_err();
        assert!(e.contains("1600") && e.contains("1601"), "{e}");
        assert!(check_text_limit(ChannelKind::Telegram, &"a".repeat(4_097)).is_err());
        assert!(check_text_limit(ChannelKind::Messenger, &"a".repeat(2_001)).is_err());
        assert!(check_text_limit(ChannelKind::Messenger, &"a".repeat(2_000)).is_ok());
        assert!(check_text_limit(ChannelKind::Email, &"a".repeat(100_000)).is_ok());
    }
}
