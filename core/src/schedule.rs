//! Recording hours and local-time arithmetic: when dwell records, how a span of time
//! is clipped to those hours and split at local midnight, local calendar days and ISO
//! weeks, all DST-aware.
//!
//! Local times are turned into instants with one rule everywhere: a local time that
//! does not exist (spring-forward gap, or a missing midnight) means the first instant
//! after the gap; an ambiguous one (fall-back) means the earliest of its instants. A
//! work range is therefore the stretch of real time from its start instant to its end
//! instant on that local day, so `09:00-17:00` is 8 real hours even on a DST day.

use chrono::{
    DateTime, Datelike, MappedLocalTime, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Timelike, Utc, Weekday,
};
use std::fmt;

/// Whether dwell records only during work hours or all the time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordMode {
    WorkHours,
    Always,
}

/// A local time-of-day range `[start, end)`, e.g. `09:00-12:00`.
///
/// `24:00` (end of day) is stored as `end == NaiveTime::MIN` (00:00): an end of 00:00
/// always means midnight at the end of the day, never the start. Use
/// [`TimeRange::contains`] and [`TimeRange::ends_at_midnight`] rather than comparing
/// `end` directly. A valid range has `start < end`, or ends at midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

const EXAMPLE_RANGE: &str = "\"09:00-12:00\"";

impl TimeRange {
    /// Parses `HH:MM-HH:MM` (`24:00` allowed as an end, spaces allowed around `-`).
    /// The error names the bad value and says what is expected.
    pub fn parse(s: &str) -> Result<TimeRange, String> {
        let shape = || format!("\"{s}\": expected a range like {EXAMPLE_RANGE}");
        let (a, b) = s.trim().split_once('-').ok_or_else(shape)?;
        let (a, b) = (a.trim(), b.trim());
        let start = match parse_hhmm(a).ok_or_else(shape)? {
            Clock::Time(t) => t,
            Clock::Midnight24 => {
                return Err(format!(
                    "\"{s}\": a range cannot start at 24:00 (use 00:00 for the start of the day)"
                ))
            }
        };
        let (end, at_midnight) = match parse_hhmm(b).ok_or_else(shape)? {
            Clock::Time(t) => (t, false),
            Clock::Midnight24 => (NaiveTime::MIN, true),
        };
        if at_midnight || start < end {
            return Ok(TimeRange { start, end });
        }
        if start == end {
            return Err(format!(
                "\"{s}\": the range is empty: the end must be after the start, like {EXAMPLE_RANGE}"
            ));
        }
        if end == NaiveTime::MIN {
            return Err(format!(
                "\"{s}\": write the end of the day as 24:00, like \"{a}-24:00\""
            ));
        }
        Err(format!(
            "\"{s}\": a range cannot cross midnight: split it into \"{a}-24:00\" and \"00:00-{b}\""
        ))
    }

    /// Whether the range runs to the end of the day (`24:00`).
    pub fn ends_at_midnight(&self) -> bool {
        self.end == NaiveTime::MIN
    }

    /// Whether the local time of day `t` is in `[start, end)`.
    pub fn contains(&self, t: NaiveTime) -> bool {
        t >= self.start && (self.ends_at_midnight() || t < self.end)
    }

    /// `start < end` (or the range ends at midnight).
    fn is_valid(&self) -> bool {
        self.ends_at_midnight() || self.start < self.end
    }

    /// Sort key for the end, with midnight after every other time.
    fn end_key(&self) -> (bool, NaiveTime) {
        (self.ends_at_midnight(), self.end)
    }
}

/// `HH:MM-HH:MM`, with `24:00` for an end at midnight.
impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_clock(f, self.start)?;
        f.write_str("-")?;
        if self.ends_at_midnight() {
            f.write_str("24:00")
        } else {
            write_clock(f, self.end)
        }
    }
}

fn write_clock(f: &mut fmt::Formatter<'_>, t: NaiveTime) -> fmt::Result {
    if t.second() == 0 && t.nanosecond() == 0 {
        write!(f, "{:02}:{:02}", t.hour(), t.minute())
    } else {
        write!(f, "{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
    }
}

enum Clock {
    Time(NaiveTime),
    Midnight24,
}

/// `H:MM` or `HH:MM`, 00:00 to 24:00.
fn parse_hhmm(s: &str) -> Option<Clock> {
    // `12` is `12:00`.
    let (h, m) = s.split_once(':').unwrap_or((s, "00"));
    let digits = |x: &str| x.bytes().all(|c| c.is_ascii_digit());
    if h.is_empty() || h.len() > 2 || m.len() != 2 || !digits(h) || !digits(m) {
        return None;
    }
    let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
    if h == 24 && m == 0 {
        return Some(Clock::Midnight24);
    }
    NaiveTime::from_hms_opt(h, m, 0).map(Clock::Time)
}

/// 0 = Monday .. 6 = Sunday (as from [`parse_weekday`]) to a chrono weekday.
pub fn weekday_of_index(i: usize) -> Weekday {
    [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ][i % 7]
}

/// The first day of the week holding `date`, for weeks starting on `start`.
pub fn week_start_of(date: NaiveDate, start: Weekday) -> NaiveDate {
    let back = (7 + date.weekday().num_days_from_monday() - start.num_days_from_monday()) % 7;
    date - chrono::Days::new(u64::from(back))
}

/// Parses a day of the week (`mon`..`sun` or the full English name, any case) into
/// 0 = Monday .. 6 = Sunday.
pub fn parse_weekday(s: &str) -> Result<usize, String> {
    let day = match s.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => 0,
        "tue" | "tues" | "tuesday" => 1,
        "wed" | "wednesday" => 2,
        "thu" | "thur" | "thurs" | "thursday" => 3,
        "fri" | "friday" => 4,
        "sat" | "saturday" => 5,
        "sun" | "sunday" => 6,
        _ => {
            return Err(format!(
                "\"{s}\" is not a day of the week: use mon, tue, wed, thu, fri, sat or sun"
            ))
        }
    };
    Ok(day)
}

/// Checks every range is valid, sorts them by start and refuses overlaps, naming
/// both ranges. Ranges that merely touch (`09:00-12:00`, `12:00-13:00`) are fine.
pub fn validate_ranges(ranges: &mut [TimeRange]) -> Result<(), String> {
    if let Some(r) = ranges.iter().find(|r| !r.is_valid()) {
        return Err(format!(
            "\"{r}\": the end must be after the start, like {EXAMPLE_RANGE}"
        ));
    }
    ranges.sort_by_key(|r| (r.start, r.end_key()));
    for w in ranges.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if a.ends_at_midnight() || b.start < a.end {
            return Err(format!(
                "\"{a}\" and \"{b}\" overlap: each time of day may appear in one range only"
            ));
        }
    }
    Ok(())
}

/// When dwell records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub record: RecordMode,
    /// Monday first.
    pub work_days: [bool; 7],
    /// Sorted, non-overlapping.
    pub work_hours: Vec<TimeRange>,
}

impl Schedule {
    /// Whether `at` is recorded: always with [`RecordMode::Always`]; with
    /// [`RecordMode::WorkHours`], when the local day is a work day and `at` falls in
    /// one of its ranges (see the module doc for DST).
    pub fn is_recording<Tz: TimeZone>(&self, at: DateTime<Utc>, tz: &Tz) -> bool {
        match self.record {
            RecordMode::Always => true,
            RecordMode::WorkHours => {
                let date = local_date(at, tz);
                if !self.is_work_day(date) {
                    return false;
                }
                let mut day_end = None;
                self.work_hours.iter().any(|r| {
                    let start = local_to_utc(tz, date.and_time(r.start));
                    if at < start {
                        return false;
                    }
                    let end = if r.ends_at_midnight() {
                        *day_end.get_or_insert_with(|| local_day_end(date, tz))
                    } else {
                        local_to_utc(tz, date.and_time(r.end))
                    };
                    at < end
                })
            }
        }
    }

    /// The next instant strictly after `at` where recording starts or stops, or local
    /// midnight, whichever comes first. `None` only if nothing ever changes (in
    /// practice only past the end of chrono's calendar: there is always a midnight).
    pub fn next_boundary<Tz: TimeZone>(&self, at: DateTime<Utc>, tz: &Tz) -> Option<DateTime<Utc>> {
        let mut date = local_date(at, tz);
        let mut ivs = Vec::new();
        // One day is enough; the others guard against zones that skip whole days.
        for _ in 0..4 {
            let bounds = local_day_bounds(date, tz);
            self.day_intervals(date, bounds, tz, &mut ivs);
            for &(s, e) in &ivs {
                if s > at {
                    return Some(s);
                }
                if e > at {
                    return Some(e);
                }
            }
            if bounds.1 > at {
                return Some(bounds.1);
            }
            date = date.succ_opt()?;
        }
        None
    }

    /// The recorded pieces of `[start, end)`: clipped to recording hours and split at
    /// every local midnight, in order, none empty.
    pub fn clip<Tz: TimeZone>(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        tz: &Tz,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut out = Vec::new();
        if start >= end {
            return out;
        }
        let mut date = local_date(start, tz);
        let mut day_start = local_to_utc(tz, date.and_time(NaiveTime::MIN));
        let mut ivs = Vec::new();
        loop {
            let day_end = local_day_end(date, tz);
            self.day_intervals(date, (day_start, day_end), tz, &mut ivs);
            for &(s, e) in &ivs {
                let (a, b) = (s.max(start), e.min(end));
                if a < b {
                    out.push((a, b));
                }
            }
            if day_end >= end {
                break;
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
            day_start = day_end;
        }
        out
    }

    fn is_work_day(&self, date: NaiveDate) -> bool {
        self.work_days[date.weekday().num_days_from_monday() as usize]
    }

    /// The recorded intervals of local day `date` (whose UTC bounds are `bounds`):
    /// sorted, non-empty, disjoint and not touching, all inside `bounds`.
    fn day_intervals<Tz: TimeZone>(
        &self,
        date: NaiveDate,
        bounds: (DateTime<Utc>, DateTime<Utc>),
        tz: &Tz,
        out: &mut Vec<(DateTime<Utc>, DateTime<Utc>)>,
    ) {
        out.clear();
        match self.record {
            RecordMode::Always => {
                if bounds.0 < bounds.1 {
                    out.push(bounds);
                }
            }
            RecordMode::WorkHours => {
                if !self.is_work_day(date) {
                    return;
                }
                for r in self.work_hours.iter().filter(|r| r.is_valid()) {
                    let s = local_to_utc(tz, date.and_time(r.start)).max(bounds.0);
                    let e = if r.ends_at_midnight() {
                        bounds.1
                    } else {
                        local_to_utc(tz, date.and_time(r.end)).min(bounds.1)
                    };
                    if s < e {
                        out.push((s, e));
                    }
                }
                // `work_hours` is normally sorted and disjoint; stay correct if not.
                out.sort_unstable();
                let mut merged = 0;
                for i in 0..out.len() {
                    let cur = out[i];
                    if merged > 0 && cur.0 <= out[merged - 1].1 {
                        out[merged - 1].1 = out[merged - 1].1.max(cur.1);
                    } else {
                        out[merged] = cur;
                        merged += 1;
                    }
                }
                out.truncate(merged);
            }
        }
    }
}

/// UTC bounds `[start, end)` of a local calendar day (23, 24 or 25 hours long; a
/// missing midnight starts the day at the first instant after the gap).
pub fn local_day_bounds<Tz: TimeZone>(date: NaiveDate, tz: &Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        local_to_utc(tz, date.and_time(NaiveTime::MIN)),
        local_day_end(date, tz),
    )
}

/// The local calendar date of `at` in `tz`.
pub fn local_date<Tz: TimeZone>(at: DateTime<Utc>, tz: &Tz) -> NaiveDate {
    at.with_timezone(tz).date_naive()
}

/// Monday and Sunday (inclusive) of ISO week `week` of ISO year `year`, or `None` if
/// that week does not exist.
pub fn iso_week_bounds(year: i32, week: u32) -> Option<(NaiveDate, NaiveDate)> {
    Some((
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)?,
        NaiveDate::from_isoywd_opt(year, week, Weekday::Sun)?,
    ))
}

/// Parses an ISO week like `2026-W48` into `(2026, 48)`, checking the week exists in
/// that ISO year (some years have 53 weeks, most 52).
pub fn parse_iso_week(s: &str) -> Result<(i32, u32), String> {
    let shape = || format!("\"{s}\": expected an ISO week like \"2026-W48\"");
    let t = s.trim();
    let (y, w) = t.split_once('-').ok_or_else(shape)?;
    let w = w
        .strip_prefix('W')
        .or_else(|| w.strip_prefix('w'))
        .ok_or_else(shape)?;
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
    if y.len() != 4 || !digits(y) || w.len() > 2 || !digits(w) {
        return Err(shape());
    }
    let year: i32 = y.parse().map_err(|_| shape())?;
    let week: u32 = w.parse().map_err(|_| shape())?;
    if iso_week_bounds(year, week).is_none() {
        let weeks = if iso_week_bounds(year, 53).is_some() {
            53
        } else {
            52
        };
        return Err(format!(
            "\"{s}\": ISO year {year} has weeks 1 to {weeks} only"
        ));
    }
    Ok((year, week))
}

/// The end of local day `date`: the start of the next one.
fn local_day_end<Tz: TimeZone>(date: NaiveDate, tz: &Tz) -> DateTime<Utc> {
    match date.succ_opt() {
        Some(next) => local_to_utc(tz, next.and_time(NaiveTime::MIN)),
        None => DateTime::<Utc>::MAX_UTC,
    }
}

/// Step used to walk out of a DST gap before narrowing down to the second.
const GAP_STEP_MINUTES: i64 = 15;
/// How far to walk (48 h): gaps are usually an hour; a few zones skipped a whole day.
const GAP_MAX_STEPS: u32 = 48 * 60 / GAP_STEP_MINUTES as u32;

/// Reads a date argument: `YYYY-MM-DD` strictly, `today` / `yesterday`, or a
/// weekday name (`mon`, `Tuesday`…: the most recent one, today included),
/// relative to `today`. The one date parser of both commands.
pub fn parse_date(s: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "today" => return Ok(today),
        "yesterday" => {
            return today
                .pred_opt()
                .ok_or_else(|| "\"yesterday\" is out of range".to_owned())
        }
        _ => {}
    }
    if let Ok(day) = parse_weekday(t) {
        let back = (today.weekday().num_days_from_monday() as usize + 7 - day) % 7;
        return today
            .checked_sub_days(chrono::Days::new(back as u64))
            .ok_or_else(|| format!("\"{s}\" is out of range"));
    }
    let shape = t.len() == 10
        && t.bytes().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    let bad = || {
        format!("\"{s}\" is not a date: write it like 2026-11-24 (or today, yesterday, or a weekday such as mon)")
    };
    if !shape {
        return Err(bad());
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| bad())
}

/// The first instant of local time `local` in `tz` that is after `after`, when
/// there is one: on a fall-back night a local time happens twice, and the second
/// may be the one still ahead. Otherwise as [`local_to_utc`].
pub fn local_to_utc_after<Tz: TimeZone>(
    tz: &Tz,
    local: NaiveDateTime,
    after: DateTime<Utc>,
) -> DateTime<Utc> {
    if let MappedLocalTime::Ambiguous(a, b) = tz.from_local_datetime(&local) {
        let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
        let (first, second) = (a.min(b), a.max(b));
        return if first > after { first } else { second };
    }
    local_to_utc(tz, local)
}

/// The instant of local time `local` in `tz`: the earliest one if ambiguous, the first
/// instant after the gap if it does not exist.
pub fn local_to_utc<Tz: TimeZone>(tz: &Tz, local: NaiveDateTime) -> DateTime<Utc> {
    if let Some(t) = earliest_instant(tz, local) {
        return t;
    }
    // In a gap. Offsets and transitions are whole seconds, so work in whole seconds:
    // walk forward to a valid time, then bisect to the first valid second, which is
    // the local time right after the gap.
    let mut prev = local.with_nanosecond(0).unwrap_or(local);
    let step = TimeDelta::minutes(GAP_STEP_MINUTES);
    for _ in 0..GAP_MAX_STEPS {
        let Some(next) = prev.checked_add_signed(step) else {
            break;
        };
        if let Some(found) = earliest_instant(tz, next) {
            let (mut lo, mut hi, mut best) = (prev, next, found);
            while (hi - lo).num_seconds() > 1 {
                let mid = lo + TimeDelta::seconds((hi - lo).num_seconds() / 2);
                match earliest_instant(tz, mid) {
                    Some(t) => (hi, best) = (mid, t),
                    None => lo = mid,
                }
            }
            return best;
        }
        prev = next;
    }
    // Not reachable with real zone data: read the local time with the offset in force.
    let offset = tz.offset_from_utc_datetime(&local).fix();
    local
        .checked_sub_offset(offset)
        .map_or_else(|| local.and_utc(), |t| t.and_utc())
}

fn earliest_instant<Tz: TimeZone>(tz: &Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        MappedLocalTime::Single(t) => Some(t.with_timezone(&Utc)),
        MappedLocalTime::Ambiguous(a, b) => Some(a.with_timezone(&Utc).min(b.with_timezone(&Utc))),
        MappedLocalTime::None => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono_tz::America::{New_York, Toronto};
    use chrono_tz::Europe::Paris;

    #[test]
    fn dates_are_strict_or_relative() {
        let today = d(2026, 11, 25);
        assert_eq!(parse_date("today", today), Ok(today));
        assert_eq!(parse_date(" yesterday ", today), Ok(d(2026, 11, 24)));
        assert_eq!(parse_date("2026-11-01", today), Ok(d(2026, 11, 1)));
        // 25 Nov 2026 is a Wednesday: a weekday is the most recent one.
        assert_eq!(parse_date("wed", today), Ok(today));
        assert_eq!(parse_date("Tuesday", today), Ok(d(2026, 11, 24)));
        assert_eq!(parse_date("thu", today), Ok(d(2026, 11, 19)));
        assert_eq!(parse_date("MON", today), Ok(d(2026, 11, 23)));
        for bad in [
            "2026-02-30",
            "26-02-03",
            "2026-2-03",
            "1/11/2026",
            "",
            "tomorrow",
        ] {
            let e = parse_date(bad, today).unwrap_err();
            assert!(e.contains("2026-11-24"), "{bad}: {e}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_date_never_panics(s in "\\PC{0,16}", days in 0i64..200_000) {
            let today = NaiveDate::MIN + TimeDelta::days(days);
            let _ = parse_date(&s, today);
        }
    }

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// A local wall-clock time in `tz` (earliest if ambiguous).
    fn local<Tz: TimeZone>(tz: &Tz, s: &str) -> DateTime<Utc> {
        let n = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        local_to_utc(tz, n)
    }

    fn hours(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
        (b - a).num_seconds() as f64 / 3600.0
    }

    fn total_hours(pieces: &[(DateTime<Utc>, DateTime<Utc>)]) -> f64 {
        pieces.iter().map(|&(a, b)| hours(a, b)).sum()
    }

    fn office() -> Schedule {
        Schedule {
            record: RecordMode::WorkHours,
            work_days: [true, true, true, true, true, false, false],
            work_hours: vec![
                TimeRange::parse("09:00-12:00").unwrap(),
                TimeRange::parse("13:00-17:00").unwrap(),
            ],
        }
    }

    fn always() -> Schedule {
        Schedule {
            record: RecordMode::Always,
            ..office()
        }
    }

    #[test]
    fn parses_good_ranges() {
        let r = TimeRange::parse("09:00-12:00").unwrap();
        assert_eq!((r.start, r.end), (t("09:00"), t("12:00")));
        assert_eq!(
            TimeRange::parse(" 9:30 - 12:15 ").unwrap().start,
            t("09:30")
        );
        let r = TimeRange::parse("22:00-24:00").unwrap();
        assert_eq!((r.start, r.end), (t("22:00"), NaiveTime::MIN));
        assert!(r.ends_at_midnight());
        assert!(r.contains(t("23:59")) && r.contains(t("22:00")) && !r.contains(t("21:59")));
        assert_eq!(r.to_string(), "22:00-24:00");
        // Whole hours may go without their minutes.
        let r = TimeRange::parse("8:30-12").unwrap();
        assert_eq!((r.start, r.end), (t("08:30"), t("12:00")));
        assert_eq!(TimeRange::parse("9-17").unwrap().to_string(), "09:00-17:00");
        assert!(TimeRange::parse("13-24").unwrap().ends_at_midnight());
        let all = TimeRange::parse("00:00-24:00").unwrap();
        assert!(all.contains(t("00:00")) && all.contains(t("12:00")));
        assert!(!TimeRange::parse("09:00-12:00")
            .unwrap()
            .contains(t("12:00")));
    }

    #[test]
    fn refuses_bad_ranges() {
        let e = TimeRange::parse("9-1200").unwrap_err();
        assert_eq!(e, "\"9-1200\": expected a range like \"09:00-12:00\"");
        for bad in [
            "",
            "09:00",
            "09:00-",
            "09:0-12:00",
            "25:00-26:00",
            "09:60-10:00",
            "a-b",
        ] {
            let e = TimeRange::parse(bad).unwrap_err();
            assert!(
                e.contains(&format!("\"{bad}\"")) && e.contains("09:00-12:00"),
                "{e}"
            );
        }
        let e = TimeRange::parse("22:00-02:00").unwrap_err();
        assert!(
            e.contains("\"22:00-24:00\"") && e.contains("\"00:00-02:00\""),
            "{e}"
        );
        let e = TimeRange::parse("22:00-00:00").unwrap_err();
        assert!(e.contains("24:00"), "{e}");
        assert!(TimeRange::parse("10:00-10:00")
            .unwrap_err()
            .contains("empty"));
        assert!(TimeRange::parse("24:00-24:00")
            .unwrap_err()
            .contains("start at 24:00"));
        assert!(TimeRange::parse("24:30-24:45").is_err());
    }

    #[test]
    fn parses_weekdays() {
        assert_eq!(parse_weekday("mon"), Ok(0));
        assert_eq!(parse_weekday("Tuesday"), Ok(1));
        assert_eq!(parse_weekday(" WED "), Ok(2));
        assert_eq!(parse_weekday("thu"), Ok(3));
        assert_eq!(parse_weekday("Fri"), Ok(4));
        assert_eq!(parse_weekday("saturday"), Ok(5));
        assert_eq!(parse_weekday("SUN"), Ok(6));
        let e = parse_weekday("funday").unwrap_err();
        assert!(e.contains("\"funday\"") && e.contains("mon"), "{e}");
        assert!(parse_weekday("").is_err());
    }

    #[test]
    fn validates_ranges() {
        let p = |s: &str| TimeRange::parse(s).unwrap();
        let mut v = vec![p("13:00-17:00"), p("09:00-12:00"), p("12:00-13:00")];
        validate_ranges(&mut v).unwrap();
        assert_eq!(
            v,
            vec![p("09:00-12:00"), p("12:00-13:00"), p("13:00-17:00")]
        );
        let mut v = vec![p("11:00-13:00"), p("09:00-12:00")];
        let e = validate_ranges(&mut v).unwrap_err();
        assert!(
            e.contains("\"09:00-12:00\"") && e.contains("\"11:00-13:00\""),
            "{e}"
        );
        let mut v = vec![p("20:00-24:00"), p("22:00-23:00")];
        assert!(validate_ranges(&mut v).is_err());
        let mut v = vec![p("00:00-24:00")];
        validate_ranges(&mut v).unwrap();
        let mut v = vec![TimeRange {
            start: t("12:00"),
            end: t("09:00"),
        }];
        assert!(validate_ranges(&mut v).is_err());
        let mut v = vec![];
        validate_ranges(&mut v).unwrap();
    }

    #[test]
    fn records_on_work_hours_only() {
        let s = office();
        // Monday 2026-11-23, Paris is UTC+1.
        assert!(s.is_recording(local(&Paris, "2026-11-23 10:00"), &Paris));
        assert!(s.is_recording(local(&Paris, "2026-11-23 09:00"), &Paris));
        assert!(!s.is_recording(local(&Paris, "2026-11-23 08:59"), &Paris));
        assert!(!s.is_recording(local(&Paris, "2026-11-23 12:30"), &Paris));
        assert!(!s.is_recording(local(&Paris, "2026-11-23 12:00"), &Paris));
        assert!(s.is_recording(local(&Paris, "2026-11-23 16:59"), &Paris));
        assert!(!s.is_recording(local(&Paris, "2026-11-23 17:00"), &Paris));
        assert!(!s.is_recording(local(&Paris, "2026-11-23 20:00"), &Paris));
        // Saturday.
        assert!(!s.is_recording(local(&Paris, "2026-11-28 10:00"), &Paris));
        // 10:00 in Paris is 04:00 in New York: not recorded there.
        let at = local(&Paris, "2026-11-23 10:00");
        assert!(!s.is_recording(at, &New_York));
        assert!(!s.is_recording(at, &Toronto));
        assert!(s.is_recording(utc("2026-11-23T10:00:00Z"), &Utc));
        assert!(always().is_recording(local(&Paris, "2026-11-28 03:00"), &Paris));
    }

    #[test]
    fn clips_across_lunch_break() {
        let s = office();
        let (a, b) = (
            local(&Paris, "2026-11-23 11:00"),
            local(&Paris, "2026-11-23 14:00"),
        );
        let pieces = s.clip(a, b, &Paris);
        assert_eq!(
            pieces,
            vec![
                (a, local(&Paris, "2026-11-23 12:00")),
                (local(&Paris, "2026-11-23 13:00"), b),
            ]
        );
        // Inside a single range: unchanged.
        let (a, b) = (
            local(&Paris, "2026-11-23 09:10"),
            local(&Paris, "2026-11-23 09:20"),
        );
        assert_eq!(s.clip(a, b, &Paris), vec![(a, b)]);
        // Empty or reversed spans.
        assert!(s.clip(a, a, &Paris).is_empty());
        assert!(s.clip(b, a, &Paris).is_empty());
    }

    #[test]
    fn clips_outside_and_weekend_to_nothing() {
        let s = office();
        let pieces = s.clip(
            local(&Paris, "2026-11-23 18:00"),
            local(&Paris, "2026-11-23 23:00"),
            &Paris,
        );
        assert!(pieces.is_empty());
        // Friday 17:00 to Monday 09:00.
        let pieces = s.clip(
            local(&Paris, "2026-11-27 17:00"),
            local(&Paris, "2026-11-30 09:00"),
            &Paris,
        );
        assert!(pieces.is_empty());
        // Friday 16:00 to Monday 10:00: two hours.
        let pieces = s.clip(
            local(&Paris, "2026-11-27 16:00"),
            local(&Paris, "2026-11-30 10:00"),
            &Paris,
        );
        assert_eq!(pieces.len(), 2);
        assert_eq!(total_hours(&pieces), 2.0);
    }

    #[test]
    fn always_splits_at_midnight() {
        let s = always();
        let (a, b) = (
            local(&Paris, "2026-11-23 23:00"),
            local(&Paris, "2026-11-24 00:30"),
        );
        let mid = local(&Paris, "2026-11-24 00:00");
        assert_eq!(s.clip(a, b, &Paris), vec![(a, mid), (mid, b)]);
        // Same span read in UTC does not cross midnight there.
        assert_eq!(s.clip(a, b, &Utc), vec![(a, b)]);
        // Three days and a bit.
        let pieces = s.clip(a, local(&Paris, "2026-11-27 00:30"), &Paris);
        assert_eq!(pieces.len(), 5);
        assert_eq!(total_hours(&pieces), 73.5);
        for w in pieces.windows(2) {
            assert_eq!(w[0].1, w[1].0);
        }
    }

    #[test]
    fn dst_days_are_23_and_25_hours() {
        for (tz_day, len) in [
            (local_day_bounds(d(2026, 3, 29), &Paris), 23.0),
            (local_day_bounds(d(2026, 10, 25), &Paris), 25.0),
            (local_day_bounds(d(2026, 3, 8), &New_York), 23.0),
            (local_day_bounds(d(2026, 11, 1), &New_York), 25.0),
            (local_day_bounds(d(2026, 11, 1), &Toronto), 25.0),
            (local_day_bounds(d(2026, 11, 2), &Toronto), 24.0),
            (local_day_bounds(d(2026, 3, 29), &Utc), 24.0),
        ] {
            assert_eq!(hours(tz_day.0, tz_day.1), len);
        }
        let (s, e) = local_day_bounds(d(2026, 3, 29), &Paris);
        assert_eq!(s, utc("2026-03-28T23:00:00Z"));
        assert_eq!(e, utc("2026-03-29T22:00:00Z"));
    }

    #[test]
    fn gap_and_ambiguous_local_times() {
        // 02:30 does not exist in Paris on 2026-03-29: the day jumps from 02:00 to 03:00.
        let n = d(2026, 3, 29).and_time(t("02:30"));
        assert_eq!(local_to_utc(&Paris, n), utc("2026-03-29T01:00:00Z"));
        let n = d(2026, 3, 29).and_hms_nano_opt(2, 59, 59, 500).unwrap();
        assert_eq!(local_to_utc(&Paris, n), utc("2026-03-29T01:00:00Z"));
        // 02:30 happens twice on 2026-10-25: the earliest is in summer time.
        let n = d(2026, 10, 25).and_time(t("02:30"));
        assert_eq!(local_to_utc(&Paris, n), utc("2026-10-25T00:30:00Z"));
        let n = d(2026, 3, 8).and_time(t("02:15"));
        assert_eq!(local_to_utc(&New_York, n), utc("2026-03-08T07:00:00Z"));
    }

    #[test]
    fn missing_midnight_starts_the_day_after_the_gap() {
        // Sao Paulo skipped 00:00-01:00 on 2018-11-04 (UTC-3 to UTC-2).
        let tz = chrono_tz::America::Sao_Paulo;
        let (s, e) = local_day_bounds(d(2018, 11, 4), &tz);
        assert_eq!(s, utc("2018-11-04T03:00:00Z"));
        assert_eq!(e, utc("2018-11-05T02:00:00Z"));
        assert_eq!(local_date(s, &tz), d(2018, 11, 4));
        assert_eq!(local_date(s - TimeDelta::seconds(1), &tz), d(2018, 11, 3));
        let pieces = always().clip(s - TimeDelta::hours(1), s + TimeDelta::hours(1), &tz);
        assert_eq!(
            pieces,
            vec![(s - TimeDelta::hours(1), s), (s, s + TimeDelta::hours(1))]
        );
        assert_eq!(
            always().next_boundary(s - TimeDelta::hours(1), &tz),
            Some(s)
        );
        // Havana: midnight missing on 2026-03-08, twice on 2026-11-01 (earliest wins).
        let tz = chrono_tz::America::Havana;
        let (s, e) = local_day_bounds(d(2026, 3, 8), &tz);
        assert_eq!(
            (s, e),
            (utc("2026-03-08T05:00:00Z"), utc("2026-03-09T04:00:00Z"))
        );
        assert_eq!(local_date(s, &tz), d(2026, 3, 8));
        let (s, e) = local_day_bounds(d(2026, 11, 1), &tz);
        assert_eq!(
            (s, e),
            (utc("2026-11-01T04:00:00Z"), utc("2026-11-02T05:00:00Z"))
        );
        // Santiago: 2026-09-06 starts at 01:00.
        let tz = chrono_tz::America::Santiago;
        let (s, e) = local_day_bounds(d(2026, 9, 6), &tz);
        assert_eq!(
            (s, e),
            (utc("2026-09-06T04:00:00Z"), utc("2026-09-07T03:00:00Z"))
        );
    }

    #[test]
    fn always_across_dst_change_counts_real_time() {
        let s = always();
        let spring = s.clip(
            local(&Paris, "2026-03-29 01:00"),
            local(&Paris, "2026-03-29 04:00"),
            &Paris,
        );
        assert_eq!(spring.len(), 1);
        assert_eq!(total_hours(&spring), 2.0);
        let fall = s.clip(
            local(&Paris, "2026-10-25 01:00"),
            local(&Paris, "2026-10-25 04:00"),
            &Paris,
        );
        assert_eq!(fall.len(), 1);
        assert_eq!(total_hours(&fall), 4.0);
        let fall = s.clip(
            local(&New_York, "2026-11-01 00:30"),
            local(&New_York, "2026-11-01 03:00"),
            &New_York,
        );
        assert_eq!(total_hours(&fall), 3.5);
    }

    #[test]
    fn work_hours_on_dst_days_are_still_eight_hours() {
        let s = Schedule {
            record: RecordMode::WorkHours,
            work_days: [true; 7],
            work_hours: vec![TimeRange::parse("09:00-17:00").unwrap()],
        };
        for (tz_day, tz) in [
            (d(2026, 3, 29), Paris),
            (d(2026, 10, 25), Paris),
            (d(2026, 3, 8), New_York),
            (d(2026, 11, 1), New_York),
            (d(2026, 11, 1), Toronto),
        ] {
            let (a, b) = local_day_bounds(tz_day, &tz);
            let pieces = s.clip(a, b, &tz);
            assert_eq!(pieces.len(), 1);
            assert_eq!(total_hours(&pieces), 8.0, "{tz_day} {tz}");
            // And the whole week around it.
            let week = s.clip(a - TimeDelta::days(3), b + TimeDelta::days(3), &tz);
            assert_eq!(total_hours(&week), 56.0);
        }
        // A range spanning the change counts real time: 01:00-04:00 is 2 h in spring.
        let night = Schedule {
            work_hours: vec![TimeRange::parse("01:00-04:00").unwrap()],
            ..s.clone()
        };
        let (a, b) = local_day_bounds(d(2026, 3, 29), &Paris);
        assert_eq!(total_hours(&night.clip(a, b, &Paris)), 2.0);
        let (a, b) = local_day_bounds(d(2026, 10, 25), &Paris);
        assert_eq!(total_hours(&night.clip(a, b, &Paris)), 4.0);
        // The second 02:30 (winter time) is still inside the range.
        assert!(night.is_recording(utc("2026-10-25T01:30:00Z"), &Paris));
        assert!(!night.is_recording(utc("2026-10-25T03:00:00Z"), &Paris));
    }

    #[test]
    fn next_boundary_walks_the_day() {
        let s = office();
        let mut at = local(&Paris, "2026-11-23 00:00");
        let mut seen = vec![];
        for _ in 0..5 {
            at = s.next_boundary(at, &Paris).unwrap();
            seen.push(at);
        }
        let expect: Vec<_> = [
            "2026-11-23 09:00",
            "2026-11-23 12:00",
            "2026-11-23 13:00",
            "2026-11-23 17:00",
            "2026-11-24 00:00",
        ]
        .iter()
        .map(|x| local(&Paris, x))
        .collect();
        assert_eq!(seen, expect);
        // Strictly after, and mid-range.
        let nine = local(&Paris, "2026-11-23 09:00");
        assert_eq!(
            s.next_boundary(nine, &Paris),
            Some(local(&Paris, "2026-11-23 12:00"))
        );
        let noonish = local(&Paris, "2026-11-23 12:10");
        assert_eq!(
            s.next_boundary(noonish, &Paris),
            Some(local(&Paris, "2026-11-23 13:00"))
        );
        // Saturday: only midnight.
        let sat = local(&Paris, "2026-11-28 10:00");
        assert_eq!(
            s.next_boundary(sat, &Paris),
            Some(local(&Paris, "2026-11-29 00:00"))
        );
        // Always: the next local midnight, 23 h after the previous one in spring.
        let a = local(&Paris, "2026-03-29 00:00");
        let next = always().next_boundary(a, &Paris).unwrap();
        assert_eq!(hours(a, next), 23.0);
        // Every boundary is a flip or a midnight, and is_recording agrees with clip.
        let mut at = local(&New_York, "2026-10-30 00:00");
        let end = local(&New_York, "2026-11-04 00:00");
        let mut recorded = 0.0;
        while at < end {
            let next = s.next_boundary(at, &New_York).unwrap();
            assert!(next > at);
            if s.is_recording(at, &New_York) {
                recorded += hours(at, next);
                assert!(s.is_recording(next - TimeDelta::seconds(1), &New_York));
            } else {
                assert!(!s.is_recording(next - TimeDelta::seconds(1), &New_York));
            }
            at = next;
        }
        let start = local(&New_York, "2026-10-30 00:00");
        assert_eq!(recorded, total_hours(&s.clip(start, end, &New_York)));
        // Friday, Monday and Tuesday (the weekend holds the DST change).
        assert_eq!(recorded, 7.0 * 3.0);
    }

    #[test]
    fn local_dates() {
        let at = utc("2026-11-22T23:30:00Z");
        assert_eq!(local_date(at, &Paris), d(2026, 11, 23));
        assert_eq!(local_date(at, &Utc), d(2026, 11, 22));
        assert_eq!(local_date(at, &New_York), d(2026, 11, 22));
    }

    #[test]
    fn iso_weeks() {
        assert_eq!(parse_iso_week("2026-W48"), Ok((2026, 48)));
        assert_eq!(
            iso_week_bounds(2026, 48),
            Some((d(2026, 11, 23), d(2026, 11, 29)))
        );
        assert_eq!(parse_iso_week("2026-w01"), Ok((2026, 1)));
        assert_eq!(
            iso_week_bounds(2026, 1),
            Some((d(2025, 12, 29), d(2026, 1, 4)))
        );
        assert_eq!(parse_iso_week("2026-W53"), Ok((2026, 53)));
        assert_eq!(
            iso_week_bounds(2026, 53),
            Some((d(2026, 12, 28), d(2027, 1, 3)))
        );
        let e = parse_iso_week("2025-W53").unwrap_err();
        assert!(e.contains("\"2025-W53\"") && e.contains("52"), "{e}");
        assert!(parse_iso_week("2026-W00").is_err());
        assert!(iso_week_bounds(2025, 53).is_none());
        for bad in ["2026-48", "2026W48", "26-W48", "2026-W", "2026-W480", "x"] {
            let e = parse_iso_week(bad).unwrap_err();
            assert!(e.contains("2026-W48"), "{e}");
        }
    }

    #[test]
    fn weeks_can_start_on_any_day() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // Wednesday 25 November 2026.
        assert_eq!(
            week_start_of(d("2026-11-25"), Weekday::Mon),
            d("2026-11-23")
        );
        assert_eq!(
            week_start_of(d("2026-11-25"), Weekday::Sun),
            d("2026-11-22")
        );
        assert_eq!(
            week_start_of(d("2026-11-25"), Weekday::Wed),
            d("2026-11-25")
        );
        assert_eq!(
            week_start_of(d("2026-11-25"), Weekday::Thu),
            d("2026-11-19")
        );
        assert_eq!(weekday_of_index(6), Weekday::Sun);
    }
}
