//! When a failed delivery is tried again, and until when.
//!
//! A temporary failure (the provider down, a 5xx, a timeout before the request left) is retried
//! with a growing pause for a horizon measured from when the message was queued: hours, not a
//! fixed number of attempts, so a provider outage of an afternoon delays replies instead of
//! losing them. A channel whose messaging window closes sooner (Meta's 24 hours from the
//! customer's last message) stops at the window.

/// The default retry horizon: 24 hours.
pub const DEFAULT_HORIZON_MS: i64 = 24 * 3_600_000;

/// The longest pause between two attempts.
pub const MAX_BACKOFF_MS: i64 = 600_000;

/// Exponential backoff with a cap: 2 s, 4 s, 8 s ... up to 10 minutes after attempt `attempt`.
pub fn backoff_ms(attempt: i64) -> i64 {
    let exp = attempt.clamp(1, 20) as u32;
    (1000i64 << exp).min(MAX_BACKOFF_MS)
}

/// What to do after a temporary failure of attempt `attempt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Try again at this time (unix ms).
    At(i64),
    /// The horizon (or the channel's window) is over: the message fails.
    GiveUp,
}

/// The next attempt after a temporary failure at `now` of attempt `attempt` of a message queued
/// (or queued again by an agent) at `since`, with `horizon_ms` of retries and the channel's
/// messaging window closing at `window_closes_at` (None when it never does). The last attempt
/// is placed at the deadline rather than skipped when the pause would pass it.
pub fn next_attempt(
    attempt: i64,
    since: i64,
    now: i64,
    horizon_ms: i64,
    window_closes_at: Option<i64>,
) -> Retry {
    let deadline = since.saturating_add(horizon_ms.max(0));
    let deadline = window_closes_at.map_or(deadline, |w| w.min(deadline));
    if now >= deadline {
        return Retry::GiveUp;
    }
    Retry::At((now + backoff_ms(attempt)).min(deadline))
}

/// A horizon as people write it: `90s`, `30m`, `24h`, `2d`, or bare seconds.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, "s"),
    };
    let n: i64 = num.parse().ok()?;
    let factor = match unit {
        "ms" => 1,
        "s" | "sec" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(2), 4_000);
        assert!(backoff_ms(5) > backoff_ms(4));
        assert_eq!(backoff_ms(60), 600_000);
        assert_eq!(backoff_ms(0), 2_000);
    }

    #[test]
    fn retries_last_the_horizon_not_a_number_of_attempts() {
        let h = DEFAULT_HORIZON_MS;
        // The old rule gave up after 6 attempts, about a minute in; now attempt 50 still retries.
        assert_eq!(
            next_attempt(6, 0, 62_000, h, None),
            Retry::At(62_000 + 64_000)
        );
        assert_eq!(
            next_attempt(50, 0, 3_600_000, h, None),
            Retry::At(3_600_000 + MAX_BACKOFF_MS)
        );
        // The last attempt is at the deadline, then it gives up.
        assert_eq!(next_attempt(50, 0, h - 1_000, h, None), Retry::At(h));
        assert_eq!(next_attempt(51, 0, h, h, None), Retry::GiveUp);
    }

    #[test]
    fn a_closing_window_ends_retries_sooner() {
        let h = DEFAULT_HORIZON_MS;
        assert_eq!(
            next_attempt(3, 0, 50_000, h, Some(55_000)),
            Retry::At(55_000)
        );
        assert_eq!(next_attempt(3, 0, 55_000, h, Some(55_000)), Retry::GiveUp);
        // A window closing after the horizon changes nothing.
        assert_eq!(next_attempt(1, 0, 0, 10_000, Some(h)), Retry::At(2_000));
    }

    #[test]
    fn durations_are_read_with_units() {
        assert_eq!(parse_duration_ms("24h"), Some(DEFAULT_HORIZON_MS));
        assert_eq!(parse_duration_ms("90"), Some(90_000));
        assert_eq!(parse_duration_ms("30m"), Some(1_800_000));
        assert_eq!(parse_duration_ms("2d"), Some(172_800_000));
        assert_eq!(parse_duration_ms("250ms"), Some(250));
        assert_eq!(parse_duration_ms("h"), None);
        assert_eq!(parse_duration_ms("5 weeks"), None);
    }
}
