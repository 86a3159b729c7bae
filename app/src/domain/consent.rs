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
}

/// Where a consent change came from (`consent_events.source`).
pub mod source {
    /// The customer texted a keyword (STOP, START).
    pub const KEYWORD: &str = "keyword";
    /// The provider refused a send because the recipient opted out with it (Twilio 21610).
    pub const PROVIDER: &str = "provider";
    pub const AGENT: &str = "agent";
    pub const UNSUBSCRIBE: &str = "unsubscribe";
    pub const IMPORT: &str = "import";
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
}
