//! Consent: for what a customer may be messaged (support answers, marketing), and how each
//! change was given, so an opt-out is honoured whatever the channel or the screen.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// Answers to the customer's own questions.
    Support,
    /// Campaigns and announcements.
    Marketing,
}

impl Purpose {
    pub const ALL: [Purpose; 2] = [Purpose::Support, Purpose::Marketing];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Support => "support",
            Purpose::Marketing => "marketing",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// "Support" or "Marketing".
    pub fn label(self) -> &'static str {
        match self {
            Purpose::Support => "Support",
            Purpose::Marketing => "Marketing",
        }
    }
}

/// What holds for one identifier and purpose: the newest recorded change, or the default
/// rule when nothing was ever recorded (support answers allowed, marketing not granted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    Granted,
    OptedOut,
    /// Nothing recorded: the default rule applies.
    Default,
}

impl ConsentStatus {
    /// The status of a newest change that `granted` (None: nothing recorded).
    pub fn of(granted: Option<bool>) -> ConsentStatus {
        match granted {
            Some(true) => ConsentStatus::Granted,
            Some(false) => ConsentStatus::OptedOut,
            None => ConsentStatus::Default,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConsentStatus::Granted => "granted",
            ConsentStatus::OptedOut => "opted-out",
            ConsentStatus::Default => "default",
        }
    }

    /// How the customer panel says it for `purpose`.
    pub fn label(self, purpose: Purpose) -> &'static str {
        match (self, purpose) {
            (ConsentStatus::Granted, _) => "Granted",
            (ConsentStatus::OptedOut, _) => "Opted out",
            (ConsentStatus::Default, Purpose::Support) => "Allowed (nothing recorded)",
            (ConsentStatus::Default, Purpose::Marketing) => "Not granted (nothing recorded)",
        }
    }

    /// Whether a message for `purpose` may be sent.
    pub fn allows(self, purpose: Purpose) -> bool {
        match self {
            ConsentStatus::Granted => true,
            ConsentStatus::OptedOut => false,
            ConsentStatus::Default => purpose == Purpose::Support,
        }
    }
}

/// How a change came about, in words: "texted STOP", "set by Sam Support", "email
/// unsubscribe link", "import", "reported by the provider".
pub fn source_words(source: &str, detail: Option<&str>, actor: Option<&str>) -> String {
    match source {
        source::KEYWORD => detail
            .filter(|d| !d.trim().is_empty())
            .unwrap_or("SMS keyword")
            .to_string(),
        source::AGENT => format!("set by {}", actor.unwrap_or("a staff member")),
        source::UNSUBSCRIBE => "email unsubscribe link".to_string(),
        source::IMPORT => "import".to_string(),
        source::CHAT_FORM => "ticked in the website chat".to_string(),
        source::PREFERENCE_CENTER => "the customer's preference center".to_string(),
        source::PROVIDER => "reported by the provider".to_string(),
        other => other.to_string(),
    }
}

/// The reason that goes with a change, when its detail is not already its source's words
/// (a keyword's detail is "texted STOP", which [`source_words`] shows).
pub fn reason<'a>(source: &str, detail: Option<&'a str>) -> Option<&'a str> {
    match source {
        source::KEYWORD => None,
        _ => detail.map(str::trim).filter(|d| !d.is_empty()),
    }
}

/// Longest reason an agent may give, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Checks a change an agent records: a reason in words, and "applies to all channels" only
/// for a marketing opt-out. Returns the trimmed reason.
pub fn check_agent_change(
    purpose: Purpose,
    granted: bool,
    reason: &str,
    all_channels: bool,
) -> Result<String, String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err("Say why consent changes (for example: asked by phone).".into());
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(format!(
            "Keep the reason under {MAX_REASON_CHARS} characters."
        ));
    }
    if reason.chars().any(char::is_control) {
        return Err("The reason cannot contain control characters.".into());
    }
    if all_channels && (purpose != Purpose::Marketing || granted) {
        return Err(
            "\"Applies to all channels\" is for marketing opt-outs only: record other changes one identifier at a time."
                .into(),
        );
    }
    Ok(reason.to_string())
}

/// Where a consent change came from (`consent_events.source`); shown in words by
/// [`source_words`].
pub mod source {
    /// The customer texted a keyword (STOP, START).
    pub const KEYWORD: &str = "keyword";
    /// The provider refused a send because the recipient opted out with it (Twilio 21610).
    pub const PROVIDER: &str = "provider";
    /// A staff member recorded it in the customer panel (with a reason).
    pub const AGENT: &str = "agent";
    /// The customer followed the unsubscribe link of an email (or its one-click POST).
    pub const UNSUBSCRIBE: &str = "unsubscribe";
    /// `server import-consent` from another system's list.
    pub const IMPORT: &str = "import";
    /// The visitor ticked a consent box in the website chat's pre-chat form.
    pub const CHAT_FORM: &str = "chat_form";
    /// The customer chose it on their preference center page (`/p/{token}`).
    pub const PREFERENCE_CENTER: &str = "preference_center";
}

/// Why a send to an identifier is refused, in words, or None when consent allows it.
/// `granted` is the identifier's newest consent for the purpose (None: never recorded, which
/// allows support answers and refuses marketing).
pub fn refusal(
    purpose: Purpose,
    granted: Option<bool>,
    detail: Option<&str>,
    at: Option<i64>,
    identifier: &str,
) -> Option<String> {
    match (purpose, granted) {
        (_, Some(true)) | (Purpose::Support, None) => None,
        (Purpose::Marketing, None) => Some(format!(
            "{identifier} has not agreed to marketing messages."
        )),
        (_, Some(false)) => {
            let how = detail.map(|d| format!(" ({d})")).unwrap_or_default();
            let when = at
                .map(|t| format!(" on {} UTC", crate::domain::text::format_time(t)))
                .unwrap_or_default();
            Some(format!(
                "{identifier} opted out{how}{when}: nothing can be sent there until the customer opts back in (for SMS, by texting START)."
            ))
        }
    }
}

/// The consent that holds for one identifier and purpose: its newest recorded change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consent {
    pub granted: bool,
    pub source: String,
    pub detail: Option<String>,
    pub at: i64,
}

/// The consent that holds, per (identifier, purpose), for one customer's identifiers.
pub type Latest = std::collections::HashMap<(i64, Purpose), Consent>;

/// One line for the customer panel about an identifier's consent, when it is not the
/// default (opted out of something, or opted back in).
pub fn summary(support: Option<&Consent>, marketing: Option<&Consent>) -> Option<String> {
    let line = |what: &str, c: &Consent| {
        let how = c
            .detail
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        format!(
            "{what}{how} · {} UTC",
            crate::domain::text::format_time(c.at)
        )
    };
    match (support, marketing) {
        (Some(s), _) if !s.granted => Some(line("Opted out", s)),
        (_, Some(m)) if !m.granted => Some(line("No marketing", m)),
        (Some(s), _) if s.source == source::KEYWORD => Some(line("Opted back in", s)),
        _ => None,
    }
}

/// The detail kept with a keyword change: "texted STOP".
pub fn keyword_detail(word: &str) -> String {
    format!("texted {}", word.trim().to_uppercase())
}

/// The timeline's sentence for a change an agent recorded: "Sam recorded that +1555… opted
/// out of marketing on every channel (asked by phone)".
pub fn agent_change_sentence(
    actor: &str,
    value: &str,
    purpose: Purpose,
    granted: bool,
    all_channels: bool,
    reason: &str,
) -> String {
    let what = match (purpose, granted) {
        (Purpose::Support, true) => "may receive answers",
        (Purpose::Support, false) => "opted out of all messages",
        (Purpose::Marketing, true) => "agreed to marketing",
        (Purpose::Marketing, false) => "opted out of marketing",
    };
    let scope = if all_channels {
        " on every channel"
    } else {
        ""
    };
    format!("{actor} recorded that {value} {what}{scope} ({reason})")
}

/// The detail kept with an unsubscribe-link change.
pub fn unsubscribe_detail(all: bool) -> &'static str {
    if all {
        "unsubscribe link, all email"
    } else {
        "unsubscribe link"
    }
}

/// The timeline's sentence for an unsubscribe link followed from `value`.
pub fn unsubscribe_sentence(value: &str, all: bool) -> String {
    if all {
        format!("{value} unsubscribed from all email (unsubscribe link)")
    } else {
        format!("{value} unsubscribed from marketing email (unsubscribe link)")
    }
}

/// Why an imported line is not applied: the newer change that holds, in words ("opted out on
/// 2026-01-02 10:00 UTC (texted STOP)").
pub fn newer_holds_words(granted: bool, at: i64, source: &str, detail: Option<&str>) -> String {
    let state = if granted { "granted" } else { "opted out" };
    format!(
        "{state} on {} UTC ({})",
        crate::domain::text::format_time(at),
        source_words(source, detail, None)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn support_is_allowed_until_an_opt_out() {
        assert_eq!(refusal(Purpose::Support, None, None, None, "+1"), None);
        assert_eq!(
            refusal(Purpose::Support, Some(true), None, None, "+1"),
            None
        );
        let r = refusal(
            Purpose::Support,
            Some(false),
            Some("texted STOP"),
            Some(0),
            "+15550100",
        )
        .unwrap();
        assert!(
            r.contains("+15550100 opted out (texted STOP) on 1970-01-01 00:00 UTC"),
            "{r}"
        );
        assert!(r.contains("START"));
    }

    #[test]
    fn marketing_needs_consent() {
        assert!(refusal(Purpose::Marketing, None, None, None, "a@b.c").is_some());
        assert_eq!(
            refusal(Purpose::Marketing, Some(true), None, None, "a@b.c"),
            None
        );
        for p in Purpose::ALL {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
    }

    #[test]
    fn statuses_follow_the_default_rule() {
        use ConsentStatus::*;
        assert_eq!(ConsentStatus::of(None), Default);
        assert_eq!(ConsentStatus::of(Some(true)), Granted);
        assert_eq!(ConsentStatus::of(Some(false)), OptedOut);
        assert!(Default.allows(Purpose::Support));
        assert!(!Default.allows(Purpose::Marketing));
        assert!(!OptedOut.allows(Purpose::Support));
        assert!(Granted.allows(Purpose::Marketing));
        assert_eq!(
            Default.label(Purpose::Support),
            "Allowed (nothing recorded)"
        );
        assert_eq!(
            Default.label(Purpose::Marketing),
            "Not granted (nothing recorded)"
        );
        // Every status agrees with the refusal rule the sender applies.
        for p in Purpose::ALL {
            for g in [None, Some(true), Some(false)] {
                assert_eq!(
                    ConsentStatus::of(g).allows(p),
                    refusal(p, g, None, None, "x").is_none(),
                    "{p:?} {g:?}"
                );
            }
        }
    }

    #[test]
    fn sources_read_as_words() {
        assert_eq!(
            source_words(source::KEYWORD, Some("texted STOP"), None),
            "texted STOP"
        );
        assert_eq!(
            source_words(source::AGENT, Some("asked by phone"), Some("Sam Support")),
            "set by Sam Support"
        );
        assert_eq!(
            source_words(source::UNSUBSCRIBE, None, None),
            "email unsubscribe link"
        );
        assert_eq!(source_words(source::IMPORT, None, None), "import");
        assert_eq!(reason(source::KEYWORD, Some("texted STOP")), None);
        assert_eq!(
            reason(source::AGENT, Some(" asked by phone ")),
            Some("asked by phone")
        );
        assert_eq!(reason(source::IMPORT, Some("  ")), None);
    }

    #[test]
    fn agent_changes_need_a_reason_and_all_channels_only_for_marketing_opt_outs() {
        assert_eq!(
            check_agent_change(Purpose::Marketing, false, "  asked by phone ", true).unwrap(),
            "asked by phone"
        );
        assert!(check_agent_change(Purpose::Marketing, false, "   ", false)
            .unwrap_err()
            .contains("Say why"));
        assert!(check_agent_change(Purpose::Support, false, "x", true).is_err());
        assert!(check_agent_change(Purpose::Marketing, true, "x", true).is_err());
        assert!(check_agent_change(Purpose::Support, true, "x", false).is_ok());
        assert!(check_agent_change(Purpose::Marketing, false, &"x".repeat(501), false).is_err());
        assert!(check_agent_change(Purpose::Marketing, false, "a\u{7}b", false).is_err());
    }

    fn change(granted: bool, source: &str, detail: Option<&str>) -> Consent {
        Consent {
            granted,
            source: source.into(),
            detail: detail.map(str::to_string),
            at: 0,
        }
    }

    #[test]
    fn the_panel_line_names_what_is_not_the_default() {
        let stop = change(false, source::KEYWORD, Some("texted STOP"));
        let start = change(true, source::KEYWORD, Some("texted START"));
        let agreed = change(true, source::AGENT, Some("asked"));
        assert_eq!(
            summary(Some(&stop), None).as_deref(),
            Some("Opted out (texted STOP) · 1970-01-01 00:00 UTC")
        );
        assert_eq!(
            summary(Some(&agreed), Some(&change(false, source::IMPORT, None))).as_deref(),
            Some("No marketing · 1970-01-01 00:00 UTC")
        );
        assert_eq!(
            summary(Some(&start), None).as_deref(),
            Some("Opted back in (texted START) · 1970-01-01 00:00 UTC")
        );
        assert_eq!(summary(Some(&agreed), None), None);
        assert_eq!(summary(None, None), None);
    }

    #[test]
    fn changes_are_told_in_sentences() {
        assert_eq!(keyword_detail(" stop "), "texted STOP");
        assert_eq!(
            agent_change_sentence("Sam", "+15550100", Purpose::Marketing, false, true, "asked"),
            "Sam recorded that +15550100 opted out of marketing on every channel (asked)"
        );
        assert_eq!(
            agent_change_sentence("Sam", "a@x.test", Purpose::Support, true, false, "called"),
            "Sam recorded that a@x.test may receive answers (called)"
        );
        assert_eq!(
            unsubscribe_sentence("a@x.test", false),
            "a@x.test unsubscribed from marketing email (unsubscribe link)"
        );
        assert_eq!(unsubscribe_detail(true), "unsubscribe link, all email");
        assert_eq!(
            newer_holds_words(false, 0, source::KEYWORD, Some("texted STOP")),
            "opted out on 1970-01-01 00:00 UTC (texted STOP)"
        );
    }
}
