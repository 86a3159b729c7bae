//! Choosing the channel a reply goes out on: the reasons an option is unavailable, in words,
//! the default choice, and the short handoff message sent when a conversation moves. Pure.

use super::ChannelKind;

/// One entry of the channel picker, as the default choice sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub channel: ChannelKind,
    pub account_id: i64,
    /// 0 when the customer has no identifier of the channel's kind.
    pub identifier_id: i64,
    pub available: bool,
    /// The identifier is the customer's own (not one that merely joined by threading, which
    /// is never chosen by default).
    pub verified: bool,
}

/// Where an agent moved the conversation, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moved {
    pub channel: ChannelKind,
    pub account_id: i64,
    pub identifier_id: i64,
    pub at: i64,
}

/// The customer's last message: its channel, account, identifier and time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastInbound {
    pub channel: ChannelKind,
    pub account_id: i64,
    pub identifier_id: Option<i64>,
    pub at: i64,
}

/// What decides the default reply option.
#[derive(Clone, Copy, Debug, Default)]
pub struct Facts {
    pub moved: Option<Moved>,
    pub preferred: Option<ChannelKind>,
    pub last_inbound: Option<LastInbound>,
}

impl Facts {
    /// The move still holds: the customer has not written on another channel since.
    pub fn move_holds(&self) -> Option<Moved> {
        let m = self.moved?;
        match self.last_inbound {
            Some(l) if l.at > m.at && l.channel != m.channel => None,
            _ => Some(m),
        }
    }
}

/// Index of the default option in `options`:
/// 1. the option the conversation was moved to, while the move holds and it is available;
/// 2. the customer's preferred channel, when set and available (the identifier they last
///    wrote from first);
/// 3. the channel, account and identifier of the customer's last message, when available;
///    another account or identifier on that channel next;
/// 4. the first available option;
/// 5. with nothing available, the last message's option (so its reason shows), else the first.
///
/// An unverified identifier (one that joined by threading: anyone the customer forwarded our
/// mail to can quote its Message-ID) is never the default, whatever the rules above say.
pub fn default_choice(options: &[Candidate], facts: &Facts) -> Option<usize> {
    let avail = |i: &usize| options[*i].available && options[*i].verified;
    let idx = || (0..options.len()).filter(|&i| options[i].verified);
    let last = facts.last_inbound;
    let exact_last = |i: &usize| {
        last.is_some_and(|l| {
            let o = options[*i];
            o.account_id == l.account_id && Some(o.identifier_id) == l.identifier_id
        })
    };
    if let Some(m) = facts.move_holds() {
        let hit = idx().filter(avail).find(|&i| {
            let o = options[i];
            o.account_id == m.account_id && o.identifier_id == m.identifier_id
        });
        if hit.is_some() {
            return hit;
        }
    }
    if let Some(p) = facts.preferred {
        let on = |i: &usize| options[*i].channel == p;
        let same_ident =
            |i: &usize| last.is_some_and(|l| Some(options[*i].identifier_id) == l.identifier_id);
        let hit = idx()
            .filter(avail)
            .filter(on)
            .find(exact_last)
            .or_else(|| idx().filter(avail).filter(on).find(same_ident))
            .or_else(|| idx().filter(avail).find(on));
        if hit.is_some() {
            return hit;
        }
    }
    if let Some(l) = last {
        let hit = idx().filter(avail).find(exact_last).or_else(|| {
            idx()
                .filter(avail)
                .find(|&i| options[i].channel == l.channel && options[i].identifier_id != 0)
        });
        if hit.is_some() {
            return hit;
        }
    }
    idx()
        .find(avail)
        .or_else(|| idx().find(exact_last))
        .or_else(|| idx().next())
}

/// Why a channel cannot be used when the customer has no identifier of its kind.
pub fn missing_identifier(channel: ChannelKind) -> String {
    let what = match channel {
        ChannelKind::Email => "email address",
        ChannelKind::Sms => "SMS number",
        ChannelKind::Whatsapp => "WhatsApp number",
        ChannelKind::Messenger => "Messenger contact",
        ChannelKind::Instagram => "Instagram account",
        ChannelKind::Telegram => "Telegram chat",
        ChannelKind::Chat => "website chat visitor",
    };
    format!("No {what} for this customer.")
}

/// Why a channel account cannot send now: disabled, or its last connection test or sync
/// failed (`state` is `error`, with the server's words in `detail`).
pub fn account_problem(
    channel: ChannelKind,
    name: &str,
    enabled: bool,
    state: &str,
    detail: Option<&str>,
) -> Option<String> {
    if !enabled {
        return Some(format!(
            "The {} account “{name}” is disabled.",
            channel.label()
        ));
    }
    if state == "error" {
        let why = detail
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| format!(": {}", super::text::preview(d, 160)))
            .unwrap_or_default();
        return Some(format!(
            "The {} account “{name}” is disconnected{why}.",
            channel.label()
        ));
    }
    None
}

/// What the composer says when the website chat's visitor has left: where an answer goes then
/// (`email`: the address unseen answers are sent on to, if the customer has one).
pub fn chat_absent(email: Option<&str>) -> String {
    match email.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => format!(
            "The visitor has left the chat: they see this on their next visit, and if it stays unseen for a few minutes it goes to {e} by email."
        ),
        None => "The visitor has left the chat and gave no email address: they see this on their next visit to the site.".to_string(),
    }
}

/// How a channel is named in a sentence: "by SMS", "by email", "on WhatsApp".
pub fn by_channel(channel: ChannelKind) -> &'static str {
    match channel {
        ChannelKind::Email => "by email",
        ChannelKind::Sms => "by SMS",
        ChannelKind::Whatsapp => "on WhatsApp",
        ChannelKind::Messenger => "on Messenger",
        ChannelKind::Instagram => "on Instagram",
        ChannelKind::Telegram => "on Telegram",
        ChannelKind::Chat => "in the website chat",
    }
}

/// The handoff message the customer gets on the old channel, which the agent can edit:
/// "We'll continue this conversation by SMS at +1 555 0100." Provider ids (Messenger,
/// Instagram, Telegram) mean nothing to the customer and are left out.
pub fn handoff_text(to: ChannelKind, identifier_label: &str) -> String {
    let label = identifier_label.trim();
    let at = match to {
        ChannelKind::Email | ChannelKind::Sms | ChannelKind::Whatsapp if !label.is_empty() => {
            format!(" at {label}")
        }
        _ => String::new(),
    };
    format!(
        "We'll continue this conversation {}{at}. Please reply there.",
        by_channel(to)
    )
}

/// Whether "Move conversation to…" offers a target on `target` channel while the conversation
/// is on `current` (the channel replies go to now): only another channel, and only an
/// identifier known to be the customer's.
pub fn move_offered(
    current: Option<ChannelKind>,
    target: ChannelKind,
    target_verified: bool,
) -> bool {
    target_verified && current != Some(target)
}

/// A draft written for one channel and sent on another must be confirmed as converted.
/// `Err` in words when the confirmation is missing.
pub fn check_converted(
    written_for: Option<ChannelKind>,
    target: ChannelKind,
    confirmed: bool,
) -> Result<(), String> {
    match written_for {
        Some(from) if from != target && !confirmed => Err(format!(
            "This reply was written for {} and will be sent {} as converted. Check the preview and tick “Send as converted”.",
            from.label(),
            by_channel(target)
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChannelKind::*;

    fn c(channel: ChannelKind, account_id: i64, identifier_id: i64, available: bool) -> Candidate {
        Candidate {
            channel,
            account_id,
            identifier_id,
            available,
            verified: true,
        }
    }

    fn last(channel: ChannelKind, account_id: i64, ident: i64, at: i64) -> Option<LastInbound> {
        Some(LastInbound {
            channel,
            account_id,
            identifier_id: Some(ident),
            at,
        })
    }

    fn options() -> Vec<Candidate> {
        vec![
            c(Email, 1, 10, true),
            c(Sms, 2, 20, true),
            c(Sms, 3, 20, true),
            c(Whatsapp, 4, 30, false),
            c(Telegram, 5, 0, false),
        ]
    }

    #[test]
    fn last_inbound_is_the_default_without_move_or_preference() {
        let f = Facts {
            last_inbound: last(Sms, 3, 20, 100),
            ..Facts::default()
        };
        assert_eq!(default_choice(&options(), &f), Some(2));
        // Its account gone: the same channel through another account.
        let f = Facts {
            last_inbound: last(Sms, 99, 20, 100),
            ..Facts::default()
        };
        assert_eq!(default_choice(&options(), &f), Some(1));
    }

    #[test]
    fn preferred_channel_beats_last_inbound_when_available() {
        let f = Facts {
            preferred: Some(Email),
            last_inbound: last(Sms, 2, 20, 100),
            ..Facts::default()
        };
        assert_eq!(default_choice(&options(), &f), Some(0));
        // Unavailable preference: ignored.
        let f = Facts {
            preferred: Some(Whatsapp),
            last_inbound: last(Sms, 3, 20, 100),
            ..Facts::default()
        };
        assert_eq!(default_choice(&options(), &f), Some(2));
        // Preferred SMS, last written by email: the first SMS option.
        let f = Facts {
            preferred: Some(Sms),
            last_inbound: last(Email, 1, 10, 100),
            ..Facts::default()
        };
        assert_eq!(default_choice(&options(), &f), Some(1));
        // Preferred SMS, last written by SMS through account 3: that one.
        let f = Facts {
            preferred: Some(Sms),
            last_inbound: last(Sms, 3, 20, 100),
            ..Facts::default()
        };
        assert_eq!(default_choice(&options(), &f), Some(2));
    }

    #[test]
    fn a_move_wins_until_the_customer_writes_on_another_channel() {
        let moved = Some(Moved {
            channel: Sms,
            account_id: 3,
            identifier_id: 20,
            at: 200,
        });
        let mut f = Facts {
            moved,
            preferred: Some(Email),
            last_inbound: last(Email, 1, 10, 100),
        };
        assert_eq!(default_choice(&options(), &f), Some(2));
        // The customer answers on the new channel: still moved.
        f.last_inbound = last(Sms, 2, 20, 300);
        assert_eq!(default_choice(&options(), &f), Some(2));
        // The customer writes by email after the move: the move no longer holds.
        f.last_inbound = last(Email, 1, 10, 300);
        assert!(f.move_holds().is_none());
        assert_eq!(default_choice(&options(), &f), Some(0));
        // A move to an option that became unavailable falls through.
        let mut opts = options();
        opts[2].available = false;
        f.last_inbound = last(Sms, 2, 20, 300);
        f.preferred = None;
        assert_eq!(default_choice(&opts, &f), Some(1));
    }

    #[test]
    fn first_available_then_last_inbound_then_first() {
        assert_eq!(default_choice(&options(), &Facts::default()), Some(0));
        let none = vec![c(Whatsapp, 4, 30, false), c(Telegram, 5, 0, false)];
        assert_eq!(default_choice(&none, &Facts::default()), Some(0));
        let f = Facts {
            last_inbound: last(Telegram, 5, 0, 1),
            ..Facts::default()
        };
        assert_eq!(default_choice(&none, &f), Some(1));
        assert_eq!(default_choice(&[], &f), None);
        // A no-identifier row is never a "same channel" stand-in for the last inbound.
        let opts = vec![c(Email, 1, 10, true), c(Sms, 2, 0, true)];
        let f = Facts {
            last_inbound: last(Sms, 9, 20, 1),
            ..Facts::default()
        };
        assert_eq!(default_choice(&opts, &f), Some(0));
    }

    #[test]
    fn an_unverified_identifier_is_never_the_default() {
        // The stranger (identifier 11) wrote last, by email, and is even "preferred".
        let mut opts = options();
        opts.insert(
            0,
            Candidate {
                verified: false,
                ..c(Email, 1, 11, true)
            },
        );
        let f = Facts {
            preferred: Some(Email),
            last_inbound: last(Email, 1, 11, 100),
            ..Facts::default()
        };
        assert_eq!(
            default_choice(&opts, &f),
            Some(1),
            "the customer's own address"
        );
        // Moved there (by an old build) or nothing else available: still not chosen.
        let f = Facts {
            moved: Some(Moved {
                channel: Email,
                account_id: 1,
                identifier_id: 11,
                at: 50,
            }),
            last_inbound: last(Email, 1, 11, 100),
            ..Facts::default()
        };
        assert_eq!(default_choice(&opts, &f), Some(1));
        let only = vec![Candidate {
            verified: false,
            ..c(Email, 1, 11, true)
        }];
        assert_eq!(default_choice(&only, &f), None);
        let down = vec![
            Candidate {
                verified: false,
                ..c(Email, 1, 11, false)
            },
            c(Sms, 2, 20, false),
        ];
        assert_eq!(default_choice(&down, &f), Some(1));
    }

    #[test]
    fn reasons_read_as_sentences() {
        assert_eq!(missing_identifier(Sms), "No SMS number for this customer.");
        assert_eq!(
            account_problem(Sms, "Line", false, "ok", None).unwrap(),
            "The SMS account “Line” is disabled."
        );
        assert_eq!(
            account_problem(Email, "Mail", true, "error", Some("login refused")).unwrap(),
            "The Email account “Mail” is disconnected: login refused."
        );
        assert!(account_problem(Email, "Mail", true, "ok", None).is_none());
    }

    #[test]
    fn handoff_texts_name_reachable_addresses_only() {
        assert_eq!(
            handoff_text(Sms, "+1 555 0100"),
            "We'll continue this conversation by SMS at +1 555 0100. Please reply there."
        );
        assert_eq!(
            handoff_text(Messenger, "2837462"),
            "We'll continue this conversation on Messenger. Please reply there."
        );
    }

    #[test]
    fn a_move_goes_to_another_channel_and_a_verified_identifier() {
        assert!(move_offered(Some(Email), Sms, true));
        assert!(!move_offered(Some(Sms), Sms, true), "SMS to SMS is no move");
        assert!(!move_offered(Some(Email), Sms, false));
        assert!(move_offered(None, Sms, true));
    }

    #[test]
    fn conversion_needs_confirmation_only_across_channels() {
        assert!(check_converted(Some(Email), Sms, false).is_err());
        assert!(check_converted(Some(Email), Sms, true).is_ok());
        assert!(check_converted(Some(Sms), Sms, false).is_ok());
        assert!(check_converted(None, Sms, false).is_ok());
    }
}
