//! Times in the agent's time zone. Times are stored in UTC (milliseconds since the epoch); a
//! [`Zone`] carries the zone's UTC offsets over a span of years, so formatting is a pure
//! function here and the browser needs no time zone database: the server computes the table
//! (`ssr::zone`) and the page carries it to the browser.

use serde::{Deserialize, Serialize};

/// One stretch of time with the same UTC offset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// Start of the stretch, ms since the epoch (UTC).
    pub from: i64,
    /// Seconds east of UTC.
    pub offset: i32,
    /// Abbreviation ("CET", "CEST", "+0530"), may be empty.
    pub abbr: String,
}

/// A time zone as the screens need it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    /// IANA name ("Europe/Berlin"), or "UTC".
    pub name: String,
    /// False when the agent's zone is not known (yet): times are shown in UTC and say so.
    pub known: bool,
    /// Offsets in time order; the first applies before its start too, the last after it.
    pub spans: Vec<Span>,
}

impl Zone {
    /// UTC, used until the browser has told its zone.
    pub fn utc_fallback() -> Zone {
        Zone {
            name: "UTC".into(),
            known: false,
            spans: vec![Span {
                from: i64::MIN,
                offset: 0,
                abbr: "UTC".into(),
            }],
        }
    }

    /// The span in force at `ms`.
    pub fn span_at(&self, ms: i64) -> Option<&Span> {
        let i = self.spans.partition_point(|s| s.from <= ms);
        self.spans.get(i.saturating_sub(1))
    }

    /// Seconds east of UTC at `ms`.
    pub fn offset_at(&self, ms: i64) -> i32 {
        self.span_at(ms).map_or(0, |s| s.offset)
    }
}

/// A local date and time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Local {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// Days since 1970-01-01 of the local date (to compare dates).
    pub day_number: i64,
    /// The offset used, seconds east of UTC.
    pub offset: i32,
}

/// `ms` (UTC) as a local date and time in `zone`.
pub fn to_local(ms: i64, zone: &Zone) -> Local {
    let offset = zone.offset_at(ms);
    let secs = ms.div_euclid(1000) + offset as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = super::text::civil_from_days(days);
    Local {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: ((rem % 3600) / 60) as u32,
        second: (rem % 60) as u32,
        day_number: days,
        offset,
    }
}

/// The short form for lists and the timeline: "Today 14:03", "Yesterday 09:12",
/// "2026-11-22 08:24". Today and yesterday are local dates in `zone`, so a day of 23 or 25
/// hours (a DST change) counts as one day.
pub fn format_short(ms: i64, now_ms: i64, zone: &Zone) -> String {
    let t = to_local(ms, zone);
    let today = to_local(now_ms, zone).day_number;
    let hm = format!("{:02}:{:02}", t.hour, t.minute);
    match today - t.day_number {
        0 => format!("Today {hm}"),
        1 => format!("Yesterday {hm}"),
        _ => format!("{:04}-{:02}-{:02} {hm}", t.year, t.month, t.day),
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];

/// "+01:00", "-03:30", "+00:00".
pub fn format_offset(offset: i32) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
}

/// The full form for a hover title: "Sunday 22 November 2026, 08:24:05 CET (Europe/Berlin,
/// UTC+01:00)"; in UTC when the agent's zone is not known, and it says so.
pub fn format_full(ms: i64, zone: &Zone) -> String {
    let t = to_local(ms, zone);
    let abbr = zone.span_at(ms).map(|s| s.abbr.as_str()).unwrap_or("");
    let weekday = WEEKDAYS[t.day_number.rem_euclid(7) as usize];
    let month = MONTHS[(t.month - 1) as usize];
    let when = format!(
        "{weekday} {} {month} {}, {:02}:{:02}:{:02}",
        t.day, t.year, t.hour, t.minute, t.second
    );
    if !zone.known {
        return format!("{when} UTC (your time zone is not known yet)");
    }
    let abbr = if abbr.is_empty() || abbr.starts_with(['+', '-']) {
        String::new()
    } else {
        format!("{abbr} ")
    };
    format!(
        "{when} {abbr}({}, UTC{})",
        zone.name,
        format_offset(t.offset)
    )
}

/// For exports and machine-readable attributes: "2026-11-22T08:24:05+01:00" (RFC 3339 in the
/// zone's local time, so a reader sees both the local time and the offset).
pub fn format_rfc3339(ms: i64, zone: &Zone) -> String {
    let t = to_local(ms, zone);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        format_offset(t.offset)
    )
}

/// A zone name the browser may send: IANA names are ASCII letters, digits and `/_+-`.
pub fn plausible_zone_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    /// Europe/Berlin around 2026: CET (+1), CEST (+2) from 2026-03-29 01:00 UTC, CET again from
    /// 2026-10-25 01:00 UTC.
    fn berlin() -> Zone {
        Zone {
            name: "Europe/Berlin".into(),
            known: true,
            spans: vec![
                Span {
                    from: 1_761_440_400_000,
                    offset: 3600,
                    abbr: "CET".into(),
                }, // 2025-10-26 01:00Z
                Span {
                    from: 1_774_746_000_000,
                    offset: 7200,
                    abbr: "CEST".into(),
                }, // 2026-03-29 01:00Z
                Span {
                    from: 1_792_890_000_000,
                    offset: 3600,
                    abbr: "CET".into(),
                }, // 2026-10-25 01:00Z
            ],
        }
    }

    /// America/New_York, 2026: EDT (-4) from 2026-03-08 07:00 UTC, EST (-5) from 2026-11-01 06:00 UTC.
    fn new_york() -> Zone {
        Zone {
            name: "America/New_York".into(),
            known: true,
            spans: vec![
                Span {
                    from: 1_762_063_200_000,
                    offset: -18_000,
                    abbr: "EST".into(),
                }, // 2025-11-02 06:00Z
                Span {
                    from: 1_772_953_200_000,
                    offset: -14_400,
                    abbr: "EDT".into(),
                }, // 2026-03-08 07:00Z
                Span {
                    from: 1_793_512_800_000,
                    offset: -18_000,
                    abbr: "EST".into(),
                }, // 2026-11-01 06:00Z
            ],
        }
    }

    #[test]
    fn utc_fallback_formats_in_utc_and_says_so() {
        let z = Zone::utc_fallback();
        assert_eq!(format_short(1_795_335_840_000, 0, &z), "2026-11-22 08:24");
        assert_eq!(
            format_full(1_795_335_840_000, &z),
            "Sunday 22 November 2026, 08:24:00 UTC (your time zone is not known yet)"
        );
        assert_eq!(format_rfc3339(0, &z), "1970-01-01T00:00:00+00:00");
    }

    #[test]
    fn spring_forward_in_berlin() {
        let z = berlin();
        let change = 1_774_746_000_000; // 2026-03-29 01:00Z = 02:00 CET becomes 03:00 CEST
        let before = to_local(change - 1000, &z);
        assert_eq!(
            (before.hour, before.minute, before.second, before.offset),
            (1, 59, 59, 3600)
        );
        let after = to_local(change, &z);
        assert_eq!((after.hour, after.minute, after.offset), (3, 0, 7200));
        assert_eq!(
            format_full(change, &z),
            "Sunday 29 March 2026, 03:00:00 CEST (Europe/Berlin, UTC+02:00)"
        );
        assert_eq!(
            format_full(change - 60_000, &z),
            "Sunday 29 March 2026, 01:59:00 CET (Europe/Berlin, UTC+01:00)"
        );
        assert_eq!(format_rfc3339(change, &z), "2026-03-29T03:00:00+02:00");
    }

    #[test]
    fn fall_back_in_berlin_shows_the_repeated_hour_twice_with_its_zone() {
        let z = berlin();
        let change = 1_792_890_000_000; // 2026-10-25 01:00Z = 03:00 CEST becomes 02:00 CET
        let first = to_local(change - 30 * 60_000, &z);
        let second = to_local(change + 30 * 60_000, &z);
        assert_eq!((first.hour, first.minute), (2, 30));
        assert_eq!((second.hour, second.minute), (2, 30));
        assert!(format_full(change - 30 * 60_000, &z).contains("02:30:00 CEST"));
        assert!(format_full(change + 30 * 60_000, &z).contains("02:30:00 CET"));
    }

    #[test]
    fn today_and_yesterday_follow_local_dates_across_a_23_hour_day() {
        let z = berlin();
        // Now: 2026-03-30 00:30 CEST (2026-03-29 22:30Z); the 29th had 23 hours.
        let now = 1_774_823_400_000;
        assert_eq!(to_local(now, &z).day, 30);
        assert_eq!(format_short(now - 10 * 60_000, now, &z), "Today 00:20");
        // 2026-03-29 00:30 CET is 23 hours earlier but one local day before.
        assert_eq!(format_short(now - 23 * H, now, &z), "Yesterday 00:30");
        // 2026-03-28 23:30 CET: two local days before.
        assert_eq!(format_short(now - 24 * H, now, &z), "2026-03-28 23:30");
        // In UTC the same instant is another time of day.
        assert_eq!(
            format_short(now - 10 * 60_000, now, &Zone::utc_fallback()),
            "Today 22:20"
        );
    }

    #[test]
    fn a_25_hour_day_in_new_york_is_one_day() {
        let z = new_york();
        // Now: 2026-11-01 23:30 EST (2026-11-02 04:30Z); the 1st had 25 hours.
        let now = 1_793_593_800_000;
        assert_eq!(to_local(now, &z).day, 1);
        // 2026-11-01 00:10 EDT: 24h20m earlier, still today.
        assert_eq!(
            format_short(now - 24 * H - 20 * 60_000, now, &z),
            "Today 00:10"
        );
        assert_eq!(
            format_short(now - 25 * H - 20 * 60_000, now, &z),
            "Yesterday 23:10"
        );
        assert_eq!(format_rfc3339(now, &z), "2026-11-01T23:30:00-05:00");
        assert_eq!(
            format_full(now, &z),
            "Sunday 1 November 2026, 23:30:00 EST (America/New_York, UTC-05:00)"
        );
    }

    #[test]
    fn times_outside_the_table_use_the_nearest_span() {
        let z = berlin();
        assert_eq!(z.offset_at(0), 3600);
        assert_eq!(z.offset_at(i64::MAX / 2), 3600);
        assert_eq!(
            Zone {
                spans: vec![],
                ..berlin()
            }
            .offset_at(0),
            0
        );
    }

    #[test]
    fn half_hour_offsets_and_numeric_abbreviations() {
        let z = Zone {
            name: "Asia/Kolkata".into(),
            known: true,
            spans: vec![Span {
                from: i64::MIN,
                offset: 19_800,
                abbr: "IST".into(),
            }],
        };
        assert_eq!(format_rfc3339(0, &z), "1970-01-01T05:30:00+05:30");
        assert_eq!(format_offset(-12_600), "-03:30");
        let numeric = Zone {
            spans: vec![Span {
                from: i64::MIN,
                offset: -10_800,
                abbr: "-03".into(),
            }],
            name: "America/Sao_Paulo".into(),
            known: true,
        };
        assert_eq!(
            format_full(0, &numeric),
            "Wednesday 31 December 1969, 21:00:00 (America/Sao_Paulo, UTC-03:00)"
        );
    }

    #[test]
    fn zone_names_from_the_browser_are_checked() {
        assert!(plausible_zone_name("America/Argentina/Buenos_Aires"));
        assert!(plausible_zone_name("Etc/GMT+3"));
        assert!(!plausible_zone_name(""));
        assert!(!plausible_zone_name("Europe/Berlin; path=/"));
        assert!(!plausible_zone_name(&"A".repeat(65)));
    }
}
