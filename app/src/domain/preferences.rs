//! The customer's preference center (issue 18): the rules behind the page, pure.
//!
//! - How an identifier is shown to someone holding only a link (masked: `a.l***@example.com`,
//!   `+1 *** *** 0101`), so a forwarded link reveals little.
//! - Quiet hours (minutes after local midnight, may wrap midnight) and the marketing frequency
//!   the customer picks from a short list, checked here whatever the form sent.
//! - The consent details and timeline sentences a change records.

use crate::domain::consent::Purpose;
use crate::domain::{ChannelKind, IdentifierKind};

/// How an identifier of `kind` is shown on the page.
pub fn mask(kind: IdentifierKind, value: &str) -> String {
    match kind {
        IdentifierKind::Email => match value.rsplit_once('@') {
            Some((local, domain)) => {
                let keep: String = local
                    .chars()
                    .take(if local.chars().count() > 4 { 3 } else { 1 })
                    .collect();
                format!("{keep}***@{domain}")
            }
            None => stars(value),
        },
        IdentifierKind::Phone | IdentifierKind::Whatsapp => {
            let digits: Vec<char> = value.chars().filter(char::is_ascii_digit).collect();
            if digits.len() < 8 {
                return stars(value);
            }
            let last: String = digits[digits.len() - 4..].iter().collect();
            // The country code as E.164 starts it: 1 digit for +1 and +7, else 2.
            let cc = if matches!(digits[0], '1' | '7') { 1 } else { 2 };
            let cc: String = digits[..cc].iter().collect();
            format!("+{cc} *** *** {last}")
        }
        _ => stars(value),
    }
}

/// A provider id or anything unexpected: the last two characters only.
fn stars(value: &str) -> String {
    let n = value.chars().count();
    let tail: String = value.chars().skip(n.saturating_sub(2)).collect();
    if n <= 4 {
        "***".into()
    } else {
        format!("***{tail}")
    }
}

/// The identifier kinds a customer may add on the page (a code can be sent to them).
pub const ADDABLE: [IdentifierKind; 2] = [IdentifierKind::Email, IdentifierKind::Phone];

/// Quiet hours: no messages chosen between `from` and `until` (minutes after local midnight).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quiet {
    pub from: u16,
    pub until: u16,
}

impl Quiet {
    /// "22:00–08:00".
    pub fn words(self) -> String {
        format!("{}–{}", hhmm(self.from), hhmm(self.until))
    }

    /// Whether local minute `minute` (0..1440) falls inside.
    pub fn contains(self, minute: u16) -> bool {
        if self.from < self.until {
            minute >= self.from && minute < self.until
        } else {
            minute >= self.from || minute < self.until
        }
    }

    /// The end of quiet hours when `now` (unix ms) falls inside them for a UTC offset of
    /// `offset_secs`, else None.
    pub fn ends_after(self, offset_secs: i32, now: i64) -> Option<i64> {
        const DAY: i64 = 86_400_000;
        let local = now + offset_secs as i64 * 1000;
        let minute = (local.rem_euclid(DAY) / 60_000) as u16;
        if !self.contains(minute) {
            return None;
        }
        let wait = (self.until as i64 - minute as i64).rem_euclid(24 * 60);
        Some(now - local.rem_euclid(60_000) + wait * 60_000)
    }
}

/// "08:05" for 485.
pub fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Minutes after midnight of "HH:MM" (what `<input type=time>` sends), else None.
pub fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Quiet hours from the form's two times: both empty is none; one alone, or the same time
/// twice, is an error in words (an index into the page's words, see `pref_words`).
pub fn parse_quiet(from: &str, until: &str) -> Result<Option<Quiet>, QuietError> {
    match (from.trim(), until.trim()) {
        ("", "") => Ok(None),
        ("", _) | (_, "") => Err(QuietError::OneMissing),
        (f, u) => {
            let (Some(from), Some(until)) = (parse_hhmm(f), parse_hhmm(u)) else {
                return Err(QuietError::NotATime);
            };
            if from == until {
                return Err(QuietError::Same);
            }
            Ok(Some(Quiet { from, until }))
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuietError {
    OneMissing,
    NotATime,
    Same,
}

/// The marketing frequencies offered: at most `max` messages in `days` days; (0, 0) is no
/// limit.
pub const FREQUENCIES: [(u32, u32); 5] = [(0, 0), (1, 1), (3, 7), (1, 7), (1, 30)];

/// A frequency the form sent, when it is one offered ("3/7").
pub fn parse_frequency(s: &str) -> Option<(u32, u32)> {
    let (m, d) = s.trim().split_once('/')?;
    let f = (m.parse().ok()?, d.parse().ok()?);
    FREQUENCIES.contains(&f).then_some(f)
}

/// When another marketing message fits a limit of `max` in `days` days, given the times the
/// customer got one (any order): None when one fits now.
pub fn frequency_until(max: u32, days: u32, recent: &[i64], now: i64) -> Option<i64> {
    if max == 0 || days == 0 {
        return None;
    }
    let span = days as i64 * 86_400_000;
    let mut inside: Vec<i64> = recent.iter().copied().filter(|t| *t > now - span).collect();
    if inside.len() < max as usize {
        return None;
    }
    inside.sort_unstable();
    Some(inside[inside.len() - max as usize] + span)
}

/// The consent detail a preference-center change records, which reply options and the panel
/// show: "the customer asked not to be reached on SMS" (for support answers) or "…for
/// marketing on SMS".
pub fn consent_detail(channel: ChannelKind, purpose: Purpose, allowed: bool) -> String {
    let ch = channel.label();
    match (purpose, allowed) {
        (Purpose::Support, false) => format!("the customer asked not to be reached on {ch}"),
        (Purpose::Marketing, false) => {
            format!("the customer asked for no marketing on {ch}")
        }
        (Purpose::Support, true) => format!("the customer allowed answers on {ch}"),
        (Purpose::Marketing, true) => format!("the customer agreed to marketing on {ch}"),
    }
}

/// The timeline's sentence for changes made on the page: "The customer changed their
/// preferences: no marketing on SMS; prefers WhatsApp; quiet hours 22:00–08:00 (Europe/Madrid)."
pub fn timeline_sentence(changes: &[String]) -> String {
    format!(
        "The customer changed their preferences in the preference center: {}.",
        changes.join("; ")
    )
}

/// How the panel sums up what the customer chose, or None when nothing was chosen.
pub fn summary(
    quiet: Option<Quiet>,
    zone: Option<&str>,
    frequency: Option<(u32, u32)>,
) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(q) = quiet {
        parts.push(format!(
            "quiet hours {} ({})",
            q.words(),
            zone.unwrap_or("UTC")
        ));
    }
    if let Some((m, d)) = frequency.filter(|(m, _)| *m > 0) {
        parts.push(format!("marketing at most {}", frequency_words(m, d)));
    }
    (!parts.is_empty()).then(|| {
        let mut s = parts.join(", ");
        s[..1].make_ascii_uppercase();
        s
    })
}

/// "once a day", "3 times a week", "once a month".
pub fn frequency_words(max: u32, days: u32) -> String {
    let times = if max == 1 {
        "once".to_string()
    } else {
        format!("{max} times")
    };
    let per = match days {
        1 => "a day".to_string(),
        7 => "a week".to_string(),
        30 => "a month".to_string(),
        d => format!("in {d} days"),
    };
    format!("{times} {per}")
}

/// The codes a customer types: six digits.
pub fn is_code(s: &str) -> bool {
    let s = s.trim();
    s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())
}

/// How long a code works, and how many wrong tries it allows.
pub const CODE_TTL_MS: i64 = 15 * 60_000;
pub const CODE_TRIES: i64 = 5;

/// Time zones offered on the page (the customer's own, when another, is added on top).
pub const ZONES: &[&str] = &[
    "UTC",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Phoenix",
    "America/Chicago",
    "America/New_York",
    "America/Halifax",
    "America/Mexico_City",
    "America/Bogota",
    "America/Lima",
    "America/Santiago",
    "America/Caracas",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "Atlantic/Reykjavik",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Madrid",
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/Amsterdam",
    "Europe/Berlin",
    "Europe/Rome",
    "Europe/Zurich",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Europe/Kyiv",
    "Europe/Moscow",
    "Africa/Casablanca",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Singapore",
    "Asia/Manila",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Pacific/Auckland",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_masked() {
        assert_eq!(
            mask(IdentifierKind::Email, "a.lopez@example.com"),
            "a.l***@example.com"
        );
        assert_eq!(
            mask(IdentifierKind::Email, "al@example.com"),
            "a***@example.com"
        );
        assert_eq!(
            mask(IdentifierKind::Phone, "+14155550101"),
            "+1 *** *** 0101"
        );
        assert_eq!(
            mask(IdentifierKind::Whatsapp, "+447700900123"),
            "+44 *** *** 0123"
        );
        assert_eq!(mask(IdentifierKind::Telegram, "123456789"), "***89");
        assert_eq!(mask(IdentifierKind::Messenger, "abc"), "***");
        // Never the whole value.
        for (k, v) in [
            (IdentifierKind::Email, "rita@example.com"),
            (IdentifierKind::Phone, "+14155550101"),
            (IdentifierKind::Instagram, "17841400000000"),
        ] {
            assert_ne!(mask(k, v), v);
            assert!(!mask(k, v).contains(&v[..v.len() - 2]), "{v}");
        }
    }

    #[test]
    fn quiet_hours_are_read_and_may_wrap_midnight() {
        assert_eq!(parse_quiet("", ""), Ok(None));
        assert_eq!(parse_quiet("22:00", ""), Err(QuietError::OneMissing));
        assert_eq!(parse_quiet("25:00", "08:00"), Err(QuietError::NotATime));
        assert_eq!(parse_quiet("8:00", "8:00"), Err(QuietError::Same));
        let q = parse_quiet("22:00", "08:00").unwrap().unwrap();
        assert_eq!(q.words(), "22:00–08:00");
        assert!(q.contains(23 * 60) && q.contains(60) && !q.contains(12 * 60));
        let day = parse_quiet("09:30", "17:00").unwrap().unwrap();
        assert!(day.contains(10 * 60) && !day.contains(17 * 60));
        // 23:00 UTC in a zone one hour ahead is midnight: quiet until 08:00 local, 07:00 UTC.
        let now = 20_000 * 86_400_000 + 23 * 3_600_000;
        let until = q.ends_after(3600, now).unwrap();
        assert_eq!(until - now, 8 * 3_600_000);
        assert_eq!(q.ends_after(3600, now - 12 * 3_600_000), None);
    }

    #[test]
    fn only_offered_frequencies_are_taken_and_they_hold() {
        assert_eq!(parse_frequency("1/7"), Some((1, 7)));
        assert_eq!(parse_frequency("0/0"), Some((0, 0)));
        assert_eq!(parse_frequency("100/1"), None);
        assert_eq!(parse_frequency("x"), None);
        let day = 86_400_000;
        let now = 100 * day;
        assert_eq!(frequency_until(1, 7, &[], now), None);
        assert_eq!(frequency_until(1, 7, &[now - 8 * day], now), None);
        assert_eq!(
            frequency_until(1, 7, &[now - 2 * day], now),
            Some(now + 5 * day)
        );
        assert_eq!(
            frequency_until(3, 7, &[now - day, now - 2 * day], now),
            None
        );
        assert_eq!(
            frequency_until(3, 7, &[now - day, now - 2 * day, now - 3 * day], now),
            Some(now + 4 * day)
        );
        assert_eq!(frequency_until(0, 0, &[now; 9], now), None);
    }

    #[test]
    fn words_say_what_the_customer_chose() {
        assert_eq!(
            consent_detail(ChannelKind::Sms, Purpose::Support, false),
            "the customer asked not to be reached on SMS"
        );
        assert_eq!(frequency_words(3, 7), "3 times a week");
        assert_eq!(
            summary(
                Some(Quiet {
                    from: 1320,
                    until: 480
                }),
                Some("Europe/Madrid"),
                Some((1, 7))
            )
            .unwrap(),
            "Quiet hours 22:00–08:00 (Europe/Madrid), marketing at most once a week"
        );
        assert_eq!(summary(None, None, Some((0, 0))), None);
        assert!(is_code("012345") && !is_code("12345") && !is_code("12345a"));
        assert!(ZONES.iter().all(|z| !z.is_empty()));
    }
}
