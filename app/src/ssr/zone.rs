//! The agent's time zone: the browser's zone name, kept in the `tz` cookie, turned into the
//! offset table that `domain::localtime` formats with (the browser gets the table, not a time
//! zone database).

use crate::domain::localtime::{plausible_zone_name, Span, Zone};

/// The cookie holding the browser's IANA zone name.
pub const COOKIE: &str = "tz";

/// Years of offsets before and after `now` carried in a table; times outside use the nearest.
const YEARS_BACK: i64 = 10;
const YEARS_AHEAD: i64 = 3;
const YEAR_MS: i64 = 365 * 86_400_000;

/// The zone named `name` with its offsets around `now_ms`, or `None` for an unknown name.
pub fn table(name: &str, now_ms: i64) -> Option<Zone> {
    if !plausible_zone_name(name) {
        return None;
    }
    let tz = jiff::tz::TimeZone::get(name).ok()?;
    let ts = |ms: i64| jiff::Timestamp::from_millisecond(ms).ok();
    let start = ts(now_ms - YEARS_BACK * YEAR_MS)?;
    let end = ts(now_ms + YEARS_AHEAD * YEAR_MS)?;
    let info = tz.to_offset_info(start);
    let mut spans = vec![Span {
        from: i64::MIN,
        offset: info.offset().seconds(),
        abbr: info.abbreviation().to_string(),
    }];
    for t in tz.following(start) {
        if t.timestamp() > end {
            break;
        }
        spans.push(Span {
            from: t.timestamp().as_millisecond(),
            offset: t.offset().seconds(),
            abbr: t.abbreviation().to_string(),
        });
    }
    Some(Zone {
        name: name.to_string(),
        known: true,
        spans,
    })
}

/// The zone of a request: its `tz` cookie, or UTC (saying so) when it has none or an unknown one.
pub fn from_cookie_header(cookie: Option<&str>, now_ms: i64) -> Zone {
    cookie
        .and_then(|c| {
            c.split(';').find_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                (k == COOKIE).then_some(v)
            })
        })
        .map(|v| v.replace("%2F", "/").replace("%2f", "/"))
        .and_then(|name| table(&name, now_ms))
        .unwrap_or_else(Zone::utc_fallback)
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::localtime::{format_full, format_short, to_local};

    const NOW: i64 = 1_790_000_000_000; // 2026-09-21

    #[test]
    fn berlin_switches_at_the_right_instants() {
        let z = table("Europe/Berlin", NOW).unwrap();
        assert!(z.known);
        // 2026-10-25 01:00 UTC: CEST -> CET.
        assert_eq!(z.offset_at(1_792_890_000_000 - 1), 7200);
        assert_eq!(z.offset_at(1_792_890_000_000), 3600);
        // 2026-03-29 01:00 UTC: CET -> CEST.
        assert_eq!(z.offset_at(1_774_746_000_000 - 1), 3600);
        assert_eq!(z.offset_at(1_774_746_000_000), 7200);
        assert_eq!(z.span_at(1_774_746_000_000).unwrap().abbr, "CEST");
        assert!(
            format_full(1_792_890_000_000, &z).ends_with("02:00:00 CET (Europe/Berlin, UTC+01:00)")
        );
        // A table of a few years: two changes a year, not the whole history.
        assert!(
            z.spans.len() > 20 && z.spans.len() < 40,
            "{}",
            z.spans.len()
        );
    }

    #[test]
    fn zones_without_dst_and_odd_offsets() {
        let z = table("Asia/Kolkata", NOW).unwrap();
        assert_eq!(z.offset_at(NOW), 19_800);
        let t = to_local(NOW, &z);
        assert_eq!((t.hour, t.minute), (19, 43)); // 14:13Z + 5:30
        let z = table("Australia/Lord_Howe", NOW).unwrap(); // half-hour DST
        assert_eq!(z.offset_at(1_767_225_600_000), 39_600); // 2026-01-01: +11
        assert_eq!(z.offset_at(1_782_864_000_000), 37_800); // 2026-07-01: +10:30
    }

    #[test]
    fn a_cookie_picks_the_zone_and_anything_else_falls_back_to_utc() {
        let z = from_cookie_header(Some("id=abc; tz=America%2FNew_York"), NOW);
        assert_eq!((z.name.as_str(), z.known), ("America/New_York", true));
        assert_eq!(format_short(NOW, NOW, &z), "Today 10:13");
        for bad in [
            None,
            Some("id=abc"),
            Some("tz=Mars/Olympus"),
            Some("tz=../../etc/passwd"),
        ] {
            let z = from_cookie_header(bad, NOW);
            assert_eq!((z.name.as_str(), z.known), ("UTC", false), "{bad:?}");
        }
    }
}
