//! Whether a reply may go out to an identifier on a channel now: consent and the channel's
//! reply window. The composer shows the answer before the agent writes; the outbox asks
//! again right before sending, whatever the screen showed.

use crate::domain::consent::{refusal, Consent, Purpose};
use crate::domain::window::reply_window;
use crate::domain::ChannelKind;

/// What decides about sending to one identifier.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gate {
    /// When the identifier last wrote to us (unix ms): the channels' reply windows.
    pub last_inbound_at: Option<i64>,
    /// The support consent that holds, if one was ever recorded.
    pub support: Option<Consent>,
}

impl Gate {
    /// `Err(reason)` when a support reply on `channel` to `label` is refused now; otherwise
    /// `Ok(notice)` with what the agent should know, if anything.
    pub fn check(
        &self,
        channel: ChannelKind,
        label: &str,
        now: i64,
    ) -> Result<Option<String>, String> {
        let s = self.support.as_ref();
        if let Some(why) = refusal(
            Purpose::Support,
            s.map(|c| c.granted),
            s.and_then(|c| c.detail.as_deref()),
            s.map(|c| c.at),
            label,
        ) {
            return Err(why);
        }
        let w = reply_window(channel, self.last_inbound_at, now);
        let notice = w.notice(channel, now);
        if w.allows_reply() {
            Ok(notice)
        } else {
            Err(notice.unwrap_or_else(|| "The reply window is closed.".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::window::DAY_MS;

    #[test]
    fn an_opt_out_or_a_closed_window_refuses_in_words() {
        let now = 10 * DAY_MS;
        let open = Gate {
            last_inbound_at: Some(now - 1000),
            support: None,
        };
        assert!(open.check(ChannelKind::Whatsapp, "+1", now).is_ok());
        assert!(open.check(ChannelKind::Email, "a@x.test", now).is_ok());
        let closed = Gate {
            last_inbound_at: Some(now - 2 * DAY_MS),
            support: None,
        };
        assert!(closed.check(ChannelKind::Whatsapp, "+1", now).is_err());
        let stopped = Gate {
            last_inbound_at: Some(now - 1000),
            support: Some(Consent {
                granted: false,
                source: "keyword".into(),
                detail: Some("texted STOP".into()),
                at: 0,
            }),
        };
        let why = stopped.check(ChannelKind::Sms, "+1", now).unwrap_err();
        assert!(why.contains("opted out (texted STOP)"), "{why}");
    }
}
