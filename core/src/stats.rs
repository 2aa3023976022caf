//! Report figures beyond the usage [`ledger`](crate::ledger): each local day's
//! recording hours under the current schedule (a description of the settings,
//! never used to cut stored time), per-site totals, visits and their median
//! length, the weekday × hour heatmap and the trend against earlier weeks.
//!
//! Everything is counted in whole milliseconds (`i64`) so that sums are exact;
//! renderers round to seconds or minutes at the very end.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc};
use std::collections::HashMap;

use crate::ledger::{ms_between, Piece};
pub use crate::ledger::{visits, Visit};
use crate::schedule::{local_day_bounds, Schedule};

/// `[start, end)` in UTC.
pub type Interval = (DateTime<Utc>, DateTime<Utc>);

/// One local calendar day: its UTC bounds and the recording intervals inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayWindow {
    pub date: NaiveDate,
    pub bounds: Interval,
    /// Sorted, disjoint, inside `bounds`; empty on a day without recording hours.
    pub recording: Vec<Interval>,
}

impl DayWindow {
    /// Milliseconds of recording hours in the day.
    pub fn recording_ms(&self) -> i64 {
        self.recording.iter().map(|&(a, b)| ms_between(a, b)).sum()
    }
}

/// The local days `from..=to` with their recording hours under `schedule`.
pub fn day_windows<Tz: TimeZone>(
    schedule: &Schedule,
    from: NaiveDate,
    to: NaiveDate,
    tz: &Tz,
) -> Vec<DayWindow> {
    let mut out = Vec::new();
    let mut date = from;
    while date <= to {
        let bounds = local_day_bounds(date, tz);
        let recording = schedule.clip(bounds.0, bounds.1, tz);
        out.push(DayWindow {
            date,
            bounds,
            recording,
        });
        match date.succ_opt() {
            Some(d) => date = d,
            None => break,
        }
    }
    out
}

/// Social time per site, most time first (ties by name).
pub fn site_totals(pieces: &[Piece<'_>]) -> Vec<(String, i64)> {
    let mut map: HashMap<&str, i64> = HashMap::new();
    for p in pieces {
        if let Some(site) = p.activity.site() {
            *map.entry(site).or_default() += p.ms();
        }
    }
    let mut out: Vec<(String, i64)> = map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// The median of `values` (mean of the two middle ones for an even count).
pub fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2
    })
}

/// Social ms by local weekday (Monday = 0) and local hour, 7 × 24.
pub type Heatmap = [[i64; 24]; 7];

/// Social time of `pieces` spread over local weekday × hour of day.
pub fn heatmap<Tz: TimeZone>(pieces: &[Piece<'_>], tz: &Tz) -> Heatmap {
    let mut out = [[0i64; 24]; 7];
    for p in pieces.iter().filter(|p| p.activity.is_social()) {
        let mut at = p.start;
        while at < p.end {
            let local = at.with_timezone(tz);
            let into_hour = i64::from(local.minute()) * 60_000
                + i64::from(local.second()) * 1_000
                + i64::from(local.nanosecond() / 1_000_000);
            let step = (3_600_000 - into_hour).max(1);
            let next = (at + chrono::TimeDelta::milliseconds(step)).min(p.end);
            let wd = local.weekday().num_days_from_monday() as usize;
            out[wd][local.hour() as usize] += ms_between(at, next);
            at = next;
        }
    }
    out
}

/// This period's social time per recorded day against the recent average.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trend {
    /// Average social ms per recorded day in this period.
    pub current_per_day_ms: i64,
    /// Average social ms per recorded day in the earlier weeks.
    pub recent_per_day_ms: i64,
    /// `current - recent`: negative means less than usual.
    pub difference_ms: i64,
    /// How many earlier days went into the average.
    pub recent_days: usize,
}

/// Compares per-day social totals of the current period with those of earlier
/// days (only recorded days should be passed). `None` when either
/// side has no days, or the earlier days hold no social time at all (no history
/// to compare with).
pub fn trend(current: &[i64], earlier: &[i64]) -> Option<Trend> {
    if current.is_empty() || earlier.is_empty() || earlier.iter().all(|&v| v == 0) {
        return None;
    }
    let avg = |v: &[i64]| v.iter().sum::<i64>() / v.len() as i64;
    let (c, r) = (avg(current), avg(earlier));
    Some(Trend {
        current_per_day_ms: c,
        recent_per_day_ms: r,
        difference_ms: c - r,
        recent_days: earlier.len(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::ledger::pieces;
    use crate::model::{Activity, Source, Span};
    use crate::schedule::RecordMode;
    use chrono_tz::America::Toronto;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn span(a: &str, b: &str, site: Option<&str>) -> Span {
        Span {
            start: utc(a),
            end: utc(b),
            activity: site
                .map(|s| Activity::Social(s.into()))
                .unwrap_or(Activity::Other),
            source: Source::X11,
        }
    }

    fn work_hours() -> Schedule {
        Config::default().schedule
    }

    #[test]
    fn recording_hours_of_each_day() {
        // Monday 2026-11-23, UTC: work hours 09-12, 13-17.
        let days = day_windows(&work_hours(), d(2026, 11, 23), d(2026, 11, 29), &Utc);
        assert_eq!(days.len(), 7);
        assert_eq!(days[0].recording_ms(), 7 * 3_600_000);
        assert!(days[5].recording.is_empty() && days[6].recording.is_empty());
        assert_eq!(days[6].bounds.1, utc("2026-11-30T00:00:00Z"));
    }

    #[test]
    fn dst_day_is_local() {
        let mut s = work_hours();
        s.record = RecordMode::Always;
        // Toronto falls back on Sunday 2026-11-01: that day is 25 hours long.
        let days = day_windows(&s, d(2026, 11, 1), d(2026, 11, 1), &Toronto);
        assert_eq!(days[0].recording_ms(), 25 * 3_600_000);
    }

    #[test]
    fn site_totals_most_first() {
        let spans = vec![
            span(
                "2026-11-23T10:00:00Z",
                "2026-11-23T10:10:00Z",
                Some("a.com"),
            ),
            span("2026-11-23T10:10:00Z", "2026-11-23T10:30:00Z", None),
            span(
                "2026-11-23T10:30:00Z",
                "2026-11-23T10:50:00Z",
                Some("b.com"),
            ),
            span(
                "2026-11-24T10:00:00Z",
                "2026-11-24T10:05:00Z",
                Some("a.com"),
            ),
        ];
        assert_eq!(
            site_totals(&pieces(&spans, &Utc)),
            vec![
                ("b.com".to_string(), 20 * 60_000),
                ("a.com".to_string(), 15 * 60_000)
            ]
        );
    }

    #[test]
    fn visits_merge_touching_pieces_and_median() {
        let spans = vec![
            span(
                "2026-11-23T10:00:00Z",
                "2026-11-23T10:01:00Z",
                Some("a.com"),
            ),
            span(
                "2026-11-23T10:01:00Z",
                "2026-11-23T10:03:00Z",
                Some("a.com"),
            ),
            span(
                "2026-11-23T10:03:00Z",
                "2026-11-23T10:04:00Z",
                Some("b.com"),
            ),
            span("2026-11-23T10:04:00Z", "2026-11-23T10:30:00Z", None),
            span(
                "2026-11-23T10:30:00Z",
                "2026-11-23T10:40:00Z",
                Some("a.com"),
            ),
            // Split at midnight: two visits, one on each day.
            span(
                "2026-11-23T23:59:00Z",
                "2026-11-24T00:01:00Z",
                Some("a.com"),
            ),
        ];
        let v = visits(&pieces(&spans, &Utc));
        let mut lens: Vec<i64> = v.iter().map(|v| v.ms() / 60_000).collect();
        assert_eq!(lens, vec![3, 1, 10, 1, 1]);
        assert_eq!(v[4].date, d(2026, 11, 24));
        assert_eq!(median(&mut lens), Some(1));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn heatmap_splits_at_local_hours() {
        // 14:50-16:10 UTC is 09:50-11:10 in Toronto (UTC-5) on a Monday.
        let spans = vec![span(
            "2026-11-23T14:50:00Z",
            "2026-11-23T16:10:00Z",
            Some("a.com"),
        )];
        let h = heatmap(&pieces(&spans, &Toronto), &Toronto);
        assert_eq!(h[0][9], 10 * 60_000);
        assert_eq!(h[0][10], 60 * 60_000);
        assert_eq!(h[0][11], 10 * 60_000);
        assert_eq!(h.iter().flatten().sum::<i64>(), 80 * 60_000);
    }

    #[test]
    fn trend_against_recent_days() {
        let t = trend(&[600_000, 1_200_000], &[1_800_000, 1_800_000, 0, 0]).unwrap();
        assert_eq!(t.current_per_day_ms, 900_000);
        assert_eq!(t.recent_per_day_ms, 900_000);
        assert_eq!(t.difference_ms, 0);
        assert_eq!(trend(&[5], &[0, 0]), None);
        assert_eq!(trend(&[], &[5]), None);
    }
}
