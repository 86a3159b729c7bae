//! Business hours: how many seconds between two instants fall inside a
//! weekly opening schedule.
//!
//! Pure rules, `std` only. Times are `i64` unix seconds (UTC). The caller
//! supplies the account's time zone either as a fixed UTC offset stored in
//! the [`Schedule`] or as a function `instant -> offset seconds` (so that the
//! caller, who owns the time-zone database, can handle daylight saving time).

/// Seconds in a (civil) day.
const DAY_SECS: i64 = 86_400;

/// Minutes in a day: the largest allowed `end_minute`.
pub const MINUTES_PER_DAY: u16 = 1_440;

/// The largest UTC offset accepted, in seconds (18 hours, as in ISO 8601).
/// Offsets returned by an offset function are clamped to this range.
pub const MAX_UTC_OFFSET_SECS: i32 = 18 * 3_600;

/// Earliest instant considered by [`business_secs`]: 0001-01-01T00:00:00Z.
/// Earlier inputs are clamped to it.
pub const MIN_INSTANT: i64 = -62_135_596_800;

/// Latest instant considered by [`business_secs`]: 9999-12-31T23:59:59Z.
/// Later inputs are clamped to it.
pub const MAX_INSTANT: i64 = 253_402_300_799;

/// Why a [`Schedule`] was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduleError {
    /// Opening hours of this weekday (0 = Monday) do not satisfy
    /// `start_minute < end_minute <= 1440` (empty, inverted, or crossing
    /// midnight, which is not supported).
    InvalidHours {
        /// Weekday index, 0 = Monday .. 6 = Sunday.
        weekday: usize,
    },
    /// The fixed UTC offset is larger than 18 hours in absolute value.
    InvalidOffset,
}

/// Weekly opening hours in the account's local time.
///
/// `days[0]` is Monday and `days[6]` is Sunday; each open day is
/// `(start_minute, end_minute)` counted from local midnight, with
/// `start_minute < end_minute <= 1440`. Opening hours that cross midnight are
/// not supported (split them over two days instead). The fixed
/// `utc_offset_secs` (local = UTC + offset) is used by [`business_secs`];
/// [`business_secs_zoned`] takes an offset function instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    days: [Option<(u16, u16)>; 7],
    utc_offset_secs: i32,
}

impl Schedule {
    /// Builds a schedule.
    ///
    /// # Errors
    ///
    /// [`ScheduleError::InvalidHours`] when a day's hours are not
    /// `start < end <= 1440`; [`ScheduleError::InvalidOffset`] when the offset
    /// exceeds ±18 h.
    pub fn new(
        days: [Option<(u16, u16)>; 7],
        utc_offset_secs: i32,
    ) -> Result<Schedule, ScheduleError> {
        if utc_offset_secs.unsigned_abs() > MAX_UTC_OFFSET_SECS.unsigned_abs() {
            return Err(ScheduleError::InvalidOffset);
        }
        for (weekday, hours) in days.iter().enumerate() {
            if let Some((start, end)) = *hours {
                if start >= end || end > MINUTES_PER_DAY {
                    return Err(ScheduleError::InvalidHours { weekday });
                }
            }
        }
        Ok(Schedule {
            days,
            utc_offset_secs,
        })
    }

    /// Same opening hours Monday to Friday, closed on weekends.
    ///
    /// # Errors
    ///
    /// As [`Schedule::new`].
    pub fn weekdays(
        start_minute: u16,
        end_minute: u16,
        utc_offset_secs: i32,
    ) -> Result<Schedule, ScheduleError> {
        let open = Some((start_minute, end_minute));
        Schedule::new([open, open, open, open, open, None, None], utc_offset_secs)
    }

    /// Opening hours `(start_minute, end_minute)` of a weekday
    /// (0 = Monday .. 6 = Sunday); `None` when closed or out of range.
    pub fn open_hours(&self, weekday: usize) -> Option<(u16, u16)> {
        self.days.get(weekday).copied().flatten()
    }

    /// The fixed UTC offset in seconds (local = UTC + offset).
    pub fn utc_offset_secs(&self) -> i32 {
        self.utc_offset_secs
    }
}

/// Weekday (0 = Monday .. 6 = Sunday) of a day index counted from
/// 1970-01-01, which was a Thursday.
pub fn weekday_of_day(day: i64) -> usize {
    // rem_euclid(7) is in 0..7, so the cast cannot truncate.
    (day + 3).rem_euclid(7) as usize
}

/// Seconds of `[from, to)` that fall inside the schedule's opening hours,
/// using the schedule's fixed UTC offset. Returns 0 when `from >= to`.
/// Inputs outside [`MIN_INSTANT`]..=[`MAX_INSTANT`] are clamped. Runs in
/// O(number of days spanned).
pub fn business_secs(schedule: &Schedule, from: i64, to: i64) -> i64 {
    let offset = schedule.utc_offset_secs;
    business_secs_zoned(schedule, &|_| offset, from, to)
}

/// Like [`business_secs`], but the local offset (local = UTC + offset, in
/// seconds) is asked from `offset_at` for each instant, so the caller can
/// apply daylight saving time. The schedule's fixed offset is ignored.
/// Offsets are clamped to ±[`MAX_UTC_OFFSET_SECS`]. The result never exceeds
/// the wall-clock span `to - from`, whatever `offset_at` returns.
pub fn business_secs_zoned(
    schedule: &Schedule,
    offset_at: &dyn Fn(i64) -> i32,
    from: i64,
    to: i64,
) -> i64 {
    let from = from.clamp(MIN_INSTANT, MAX_INSTANT);
    let to = to.clamp(MIN_INSTANT, MAX_INSTANT);
    if from >= to {
        return 0;
    }
    let max = i64::from(MAX_UTC_OFFSET_SECS);
    let offset = |at: i64| i64::from(offset_at(at)).clamp(-max, max);
    // Local wall time -> UTC: estimate the offset at the local reading, then
    // re-read the offset at the estimated instant (right outside DST gaps).
    let to_utc = |local: i64| local - offset(local - offset(local));
    // One spare day on each side covers offsets that differ at both ends.
    let first_day = (from + offset(from)).div_euclid(DAY_SECS) - 1;
    let last_day = (to + offset(to)).div_euclid(DAY_SECS) + 1;
    let mut total = 0;
    // Instants before `covered` were already counted (guards against
    // double counting when the offset function jumps around).
    let mut covered = from;
    for day in first_day..=last_day {
        let Some((start, end)) = schedule.open_hours(weekday_of_day(day)) else {
            continue;
        };
        let midnight = day * DAY_SECS;
        let open = to_utc(midnight + i64::from(start) * 60).max(covered);
        let close = to_utc(midnight + i64::from(end) * 60).min(to);
        if close > open {
            total += close - open;
            covered = close;
        }
    }
    total
}

/// How a duration between two instants is measured.
#[derive(Clone, Copy)]
pub enum Clock<'a> {
    /// Wall-clock seconds (`to - from`, never negative).
    Wall,
    /// Seconds inside opening hours, with the schedule's fixed UTC offset.
    Business(&'a Schedule),
    /// Seconds inside opening hours, with the local offset given per instant
    /// by the caller (local = UTC + offset seconds), e.g. to follow DST.
    BusinessZoned(&'a Schedule, &'a dyn Fn(i64) -> i32),
}

impl Clock<'_> {
    /// Seconds from `from` to `to` on this clock; 0 when `from >= to`.
    pub fn secs(&self, from: i64, to: i64) -> i64 {
        match *self {
            Clock::Wall => to.saturating_sub(from).max(0),
            Clock::Business(schedule) => business_secs(schedule, from, to),
            Clock::BusinessZoned(schedule, offset_at) => {
                business_secs_zoned(schedule, offset_at, from, to)
            }
        }
    }
}

/// The longest schedule text read: seven days written out in full fit in far less.
pub const MAX_SCHEDULE_TEXT: usize = 300;

/// Weekday names as written in a schedule, Monday first.
const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The weekday (0 = Monday) a word names: its first three letters or more, any case.
fn weekday_named(word: &str) -> Option<usize> {
    let w = word.trim().to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    DAY_NAMES
        .iter()
        .position(|d| d.to_ascii_lowercase().starts_with(&w))
}

/// `HH:MM` (or `H`, `HH`, `HHMM`) as minutes of the day; 24:00 is the end of the day.
fn minute_of(word: &str) -> Option<u16> {
    let w = word.trim();
    let (h, m) = match w.split_once(':') {
        Some((h, m)) => (h, m),
        None if w.len() == 4 => w.split_at(2),
        None => (w, "0"),
    };
    if h.is_empty() || h.len() > 2 || m.is_empty() || m.len() > 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

fn clock(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

impl Schedule {
    /// Reads opening hours written as `Mon-Fri 09:00-17:30, Sat 10:00-14:00`: parts separated
    /// by commas, semicolons or new lines, each a day or a range of days and a time range
    /// (24-hour clock; `24:00` closes at midnight). Days not named are closed. An empty text is
    /// no schedule (`None`). Refused in words: an unknown day, a time that is not one, a day
    /// named twice, hours that close before they open (split hours across midnight over two
    /// days).
    pub fn parse(text: &str) -> Result<Option<Schedule>, String> {
        if text.len() > MAX_SCHEDULE_TEXT {
            return Err(format!(
                "the opening hours are {} characters long; write them in at most {MAX_SCHEDULE_TEXT}, \
                 as in Mon-Fri 09:00-17:00, Sat 10:00-14:00.",
                text.len()
            ));
        }
        let mut days: [Option<(u16, u16)>; 7] = [None; 7];
        let mut any = false;
        for part in text.split([',', ';', '\n']) {
            // "Mon - Fri 9:00 - 17:00" reads as "Mon-Fri 9:00-17:00".
            let part = part
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .replace(" -", "-")
                .replace("- ", "-")
                .replace(" –", "–")
                .replace("– ", "–");
            let part = part.as_str();
            if part.is_empty() {
                continue;
            }
            let (day_words, hours) = part.rsplit_once(char::is_whitespace).ok_or_else(|| {
                format!("“{part}”: write the days, then the hours, as in Mon-Fri 09:00-17:00.")
            })?;
            let (open, close) = hours.split_once(['-', '–']).ok_or_else(|| {
                format!(
                    "“{part}”: the hours need an opening and a closing time, as in 09:00-17:00."
                )
            })?;
            let (open, close) = match (minute_of(open), minute_of(close)) {
                (Some(o), Some(c)) => (o, c),
                _ => {
                    return Err(format!(
                        "“{part}”: “{hours}” is not a time range on a 24-hour clock, as in 09:00-17:00."
                    ))
                }
            };
            if open >= close {
                return Err(format!(
                    "“{part}”: the closing time must come after the opening time (hours past \
                     midnight go on the next day)."
                ));
            }
            let day_words = day_words.trim();
            let (first, last) = match day_words.split_once(['-', '–']) {
                Some((a, b)) => (a, b),
                None => (day_words, day_words),
            };
            let (first, last) = match (weekday_named(first), weekday_named(last)) {
                (Some(a), Some(b)) => (a, b),
                _ => {
                    return Err(format!(
                        "“{part}”: “{day_words}” is not a day or a range of days (Mon, Tue, Wed, \
                         Thu, Fri, Sat, Sun)."
                    ))
                }
            };
            // A range may wrap over the weekend: Sat-Mon.
            let mut d = first;
            loop {
                if days[d].is_some() {
                    return Err(format!("{} is given twice.", DAY_NAMES[d]));
                }
                days[d] = Some((open, close));
                any = true;
                if d == last {
                    break;
                }
                d = (d + 1) % 7;
            }
        }
        if !any {
            return Ok(None);
        }
        Schedule::new(days, 0)
            .map(Some)
            .map_err(|_| "Those opening hours are not valid.".to_string())
    }

    /// The schedule as [`Schedule::parse`] reads it, days with the same hours joined:
    /// `Mon-Fri 09:00-17:00, Sat 10:00-14:00`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut d = 0;
        while d < 7 {
            let Some(hours) = self.days[d] else {
                d += 1;
                continue;
            };
            let mut end = d;
            while end + 1 < 7 && self.days[end + 1] == Some(hours) {
                end += 1;
            }
            let days = if end == d {
                DAY_NAMES[d][..3].to_string()
            } else {
                format!("{}-{}", &DAY_NAMES[d][..3], &DAY_NAMES[end][..3])
            };
            parts.push(format!("{days} {}-{}", clock(hours.0), clock(hours.1)));
            d = end + 1;
        }
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600;
    /// 2024-01-01T00:00:00Z, a Monday.
    const MONDAY: i64 = 1_704_067_200;

    fn nine_to_five(offset: i32) -> Schedule {
        Schedule::weekdays(9 * 60, 17 * 60, offset).unwrap()
    }

    #[test]
    fn weekday_of_known_days() {
        assert_eq!(weekday_of_day(0), 3); // 1970-01-01 Thursday
        assert_eq!(weekday_of_day(MONDAY / DAY_SECS), 0);
        assert_eq!(weekday_of_day(-1), 2); // 1969-12-31 Wednesday
    }

    #[test]
    fn rejects_invalid_schedules() {
        let mut days = [None; 7];
        days[2] = Some((600, 600));
        assert_eq!(
            Schedule::new(days, 0),
            Err(ScheduleError::InvalidHours { weekday: 2 })
        );
        days[2] = Some((1_200, 300)); // crosses midnight
        assert!(Schedule::new(days, 0).is_err());
        days[2] = Some((0, 1_441));
        assert!(Schedule::new(days, 0).is_err());
        assert_eq!(
            Schedule::new([None; 7], 19 * 3_600),
            Err(ScheduleError::InvalidOffset)
        );
        assert!(Schedule::new([Some((0, 1_440)); 7], -18 * 3_600).is_ok());
    }

    #[test]
    fn within_one_open_day() {
        let s = nine_to_five(0);
        assert_eq!(
            business_secs(&s, MONDAY + 10 * HOUR, MONDAY + 12 * HOUR),
            2 * HOUR
        );
        assert_eq!(
            business_secs(&s, MONDAY + 8 * HOUR, MONDAY + 18 * HOUR),
            8 * HOUR
        );
        assert_eq!(business_secs(&s, MONDAY + 17 * HOUR, MONDAY + 18 * HOUR), 0);
    }

    #[test]
    fn across_a_night() {
        let s = nine_to_five(0);
        // Monday 16:00 -> Tuesday 10:00 = 1 h + 1 h.
        let from = MONDAY + 16 * HOUR;
        let to = MONDAY + DAY_SECS + 10 * HOUR;
        assert_eq!(business_secs(&s, from, to), 2 * HOUR);
    }

    #[test]
    fn across_a_weekend() {
        let s = nine_to_five(0);
        // Friday 16:00 -> Monday 10:00 = 1 h (Fri) + 1 h (Mon).
        let friday = MONDAY + 4 * DAY_SECS;
        let from = friday + 16 * HOUR;
        let to = friday + 3 * DAY_SECS + 10 * HOUR;
        assert_eq!(business_secs(&s, from, to), 2 * HOUR);
        // A whole week is 5 x 8 h.
        assert_eq!(business_secs(&s, MONDAY, MONDAY + 7 * DAY_SECS), 40 * HOUR);
    }

    #[test]
    fn reversed_or_empty_span_is_zero() {
        let s = nine_to_five(0);
        assert_eq!(business_secs(&s, MONDAY + 12 * HOUR, MONDAY + 10 * HOUR), 0);
        assert_eq!(business_secs(&s, MONDAY + 12 * HOUR, MONDAY + 12 * HOUR), 0);
        assert_eq!(
            business_secs(&Schedule::new([None; 7], 0).unwrap(), 0, 1_000_000),
            0
        );
    }

    #[test]
    fn fixed_offset_shifts_opening_hours() {
        // UTC+2: 09:00 local is 07:00 UTC.
        let s = nine_to_five(2 * 3_600);
        assert_eq!(
            business_secs(&s, MONDAY + 6 * HOUR, MONDAY + 8 * HOUR),
            HOUR
        );
        // Late UTC Sunday is already Monday morning in UTC+10.
        let s = nine_to_five(10 * 3_600);
        let sunday_22 = MONDAY - 2 * HOUR; // Sunday 22:00 UTC = Monday 08:00 local
        assert_eq!(business_secs(&s, sunday_22, sunday_22 + 2 * HOUR), HOUR);
    }

    #[test]
    fn offset_function_handles_a_dst_change() {
        // Offset changes from +1 h to +2 h at Wednesday 00:00 UTC.
        let s = nine_to_five(0);
        let switch = MONDAY + 2 * DAY_SECS;
        let offset = move |at: i64| if at < switch { 3_600 } else { 7_200 };
        // Tuesday 09:00 local = 08:00 UTC; Wednesday 09:00 local = 07:00 UTC.
        let tue = MONDAY + DAY_SECS;
        assert_eq!(
            business_secs_zoned(&s, &offset, tue + 8 * HOUR, tue + 9 * HOUR),
            HOUR
        );
        let wed = MONDAY + 2 * DAY_SECS;
        assert_eq!(
            business_secs_zoned(&s, &offset, wed + 7 * HOUR, wed + 8 * HOUR),
            HOUR
        );
        assert_eq!(
            business_secs_zoned(&s, &offset, MONDAY, MONDAY + 7 * DAY_SECS),
            40 * HOUR
        );
    }

    #[test]
    fn clocks() {
        let s = nine_to_five(0);
        let from = MONDAY + 16 * HOUR;
        let to = MONDAY + DAY_SECS + 10 * HOUR;
        assert_eq!(Clock::Wall.secs(from, to), 18 * HOUR);
        assert_eq!(Clock::Wall.secs(to, from), 0);
        assert_eq!(Clock::Business(&s).secs(from, to), 2 * HOUR);
        let utc = |_: i64| 0;
        assert_eq!(Clock::BusinessZoned(&s, &utc).secs(from, to), 2 * HOUR);
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        let s = Schedule::new([Some((0, 1_440)); 7], 0).unwrap();
        let all = business_secs(&s, i64::MIN, i64::MAX);
        assert_eq!(all, MAX_INSTANT - MIN_INSTANT);
        let wild = |at: i64| if at % 2 == 0 { i32::MAX } else { i32::MIN };
        let secs = business_secs_zoned(&s, &wild, 0, 10 * DAY_SECS);
        assert!((0..=10 * DAY_SECS).contains(&secs));
    }
    #[test]
    fn schedules_are_read_from_words_and_written_back() {
        let s = Schedule::parse("Mon-Fri 09:00-17:30, sat 10-14")
            .unwrap()
            .unwrap();
        assert_eq!(s.open_hours(0), Some((540, 1050)));
        assert_eq!(s.open_hours(4), Some((540, 1050)));
        assert_eq!(s.open_hours(5), Some((600, 840)));
        assert_eq!(s.open_hours(6), None);
        assert_eq!(s.describe(), "Mon-Fri 09:00-17:30, Sat 10:00-14:00");
        assert_eq!(Schedule::parse(&s.describe()).unwrap(), Some(s));
        // Full names, new lines, a range over the weekend, midnight as 24:00.
        let s = Schedule::parse("Saturday-Monday 0800-24:00\nWednesday 9:00-12:00")
            .unwrap()
            .unwrap();
        assert_eq!(
            s.describe(),
            "Mon 08:00-24:00, Wed 09:00-12:00, Sat-Sun 08:00-24:00"
        );
        assert_eq!(Schedule::parse("  ").unwrap(), None);
    }

    #[test]
    fn bad_schedules_are_refused_in_words() {
        for (text, words) in [
            ("Mon-Fri 17:00-09:00", "closing time must come after"),
            ("Mon-Fri 09:00-25:00", "not a time range"),
            ("Mon-Fri 9-17:75", "not a time range"),
            ("Funday 09:00-17:00", "not a day"),
            ("Mon 09:00-12:00, Mon 13:00-17:00", "Monday is given twice"),
            ("Mon-Fri", "the days, then the hours"),
            ("Mon 0900", "an opening and a closing time"),
            (&"Mon 09:00-17:00, ".repeat(100), "at most 300"),
            ("Mon - Fri 09:00 - 17:00, Sun 10:00-12:00", ""),
        ] {
            match Schedule::parse(text) {
                Err(err) => assert!(!words.is_empty() && err.contains(words), "{text}: {err}"),
                Ok(s) => assert!(words.is_empty() && s.is_some(), "{text} was read"),
            }
        }
    }
}
