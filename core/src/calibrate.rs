//! Calibration: while `[tracking] calibrate` runs, dwell records without
//! reminding; afterwards (and any time with `dwell-agent limits suggest`) it
//! suggests a daily budget a little below the employee's own typical workday.
//!
//! Pure: the caller gathers the spans and says which days are work days; a
//! day's social time is the usage [`Ledger`]'s.

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};

use crate::ledger::Ledger;
use crate::model::Span;

/// Fewer working days with data than this and no suggestion is made.
pub const MIN_DAYS: usize = 3;
/// The suggestion is this fraction of the median workday, rounded down.
pub const BELOW_MEDIAN: f64 = 0.9;
/// Suggestions are rounded down to a multiple of this.
pub const ROUND_TO: Duration = Duration::from_secs(5 * 60);
/// The smallest daily budget ever suggested.
pub const FLOOR: Duration = Duration::from_secs(5 * 60);

/// A suggested daily budget, with the numbers behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// Working days with recorded data that went into it.
    pub days_used: usize,
    /// Median social seconds per working day.
    pub median_seconds: f64,
    pub min_seconds: f64,
    pub max_seconds: f64,
    /// The suggested `[limits] daily`.
    pub daily: Duration,
}

/// Why there is no suggestion yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not enough data yet: {days} working day(s) recorded, at least {needed} needed")]
pub struct NotEnoughData {
    pub days: usize,
    pub needed: usize,
}

/// Median of `values` (empty: 0).
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Suggests a daily budget from the social seconds of each working day with
/// data: [`BELOW_MEDIAN`] of the median, rounded down to [`ROUND_TO`], at least
/// [`FLOOR`].
pub fn suggest_daily(day_seconds: &[f64]) -> Result<Suggestion, NotEnoughData> {
    if day_seconds.len() < MIN_DAYS {
        return Err(NotEnoughData {
            days: day_seconds.len(),
            needed: MIN_DAYS,
        });
    }
    let med = median(day_seconds);
    let target = (med * BELOW_MEDIAN).max(0.0);
    let step = ROUND_TO.as_secs();
    let rounded = (target as u64 / step) * step;
    let daily = Duration::from_secs(rounded.max(FLOOR.as_secs()));
    let min = day_seconds.iter().copied().fold(f64::INFINITY, f64::min);
    let max = day_seconds.iter().copied().fold(0.0, f64::max);
    Ok(Suggestion {
        days_used: day_seconds.len(),
        median_seconds: med,
        min_seconds: min,
        max_seconds: max,
        daily,
    })
}

/// Social seconds of each local day in `days` that is a work day (`work_days`,
/// Monday first) and has any recorded span (social or other), in order.
/// `spans` must cover the days (as the store returns them, sorted by start).
pub fn workday_totals<Tz: TimeZone>(
    spans: &[Span],
    days: &[NaiveDate],
    work_days: &[bool; 7],
    tz: &Tz,
) -> Vec<(NaiveDate, f64)> {
    // The streak gap plays no part in day totals.
    let ledger = Ledger::of(spans, Duration::ZERO, tz);
    days.iter()
        .filter(|d| work_days[d.weekday().num_days_from_monday() as usize])
        .filter(|d| ledger.recorded(**d))
        .map(|&d| (d, ledger.day(d) as f64 / 1000.0))
        .collect()
}

/// When the calibration period ends: consent time plus `calibrate`; `None`
/// when there is no calibration or no consent.
pub fn calibration_end(
    consent_at: Option<DateTime<Utc>>,
    calibrate: Option<Duration>,
) -> Option<DateTime<Utc>> {
    let c = chrono::Duration::from_std(calibrate?).ok()?;
    consent_at?.checked_add_signed(c)
}

/// When the calibration period running at `now` ends; `None` when none runs.
pub fn calibrating_until(
    consent_at: Option<DateTime<Utc>>,
    calibrate: Option<Duration>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    calibration_end(consent_at, calibrate).filter(|end| now < *end)
}

/// Whether reminders are held back because the calibration period runs at `now`.
pub fn is_calibrating(
    consent_at: Option<DateTime<Utc>>,
    calibrate: Option<Duration>,
    now: DateTime<Utc>,
) -> bool {
    calibrating_until(consent_at, calibrate, now).is_some()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{Activity, Source};

    fn m(x: u64) -> f64 {
        (x * 60) as f64
    }

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn too_little_data() {
        assert_eq!(
            suggest_daily(&[m(40), m(50)]),
            Err(NotEnoughData { days: 2, needed: 3 })
        );
    }

    #[test]
    fn a_little_below_the_median() {
        let s = suggest_daily(&[m(40), m(50), m(45), m(90), m(10)]).unwrap();
        assert_eq!(s.days_used, 5);
        assert_eq!(s.median_seconds, m(45));
        assert_eq!(s.min_seconds, m(10));
        assert_eq!(s.max_seconds, m(90));
        // 0.9 × 45 min = 40.5 min, rounded down to 40 min.
        assert_eq!(s.daily, Duration::from_secs(40 * 60));
        assert!(s.daily.as_secs_f64() < s.median_seconds);
    }

    #[test]
    fn never_below_the_floor() {
        let s = suggest_daily(&[0.0, m(1), m(2)]).unwrap();
        assert_eq!(s.daily, FLOOR);
    }

    #[test]
    fn totals_skip_weekends_and_empty_days() {
        let tz = Utc;
        // 2026-11-23 is a Monday.
        let days: Vec<NaiveDate> = (23..=29)
            .map(|d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap())
            .collect();
        let at = |d: u32, h: u32, min: u32| tz.with_ymd_and_hms(2026, 11, d, h, min, 0).unwrap();
        let sp = |a, b, site: Option<&str>| Span {
            start: a,
            end: b,
            activity: site
                .map(|s| Activity::Social(s.into()))
                .unwrap_or(Activity::Other),
            source: Source::X11,
        };
        let spans = vec![
            sp(at(23, 10, 0), at(23, 10, 30), Some("x.com")),
            sp(at(24, 10, 0), at(24, 11, 0), None),
            // Saturday: not a work day.
            sp(at(28, 10, 0), at(28, 11, 0), Some("x.com")),
        ];
        let mut work = [true; 7];
        work[5] = false;
        work[6] = false;
        let got = workday_totals(&spans, &days, &work, &tz);
        assert_eq!(got, vec![(days[0], m(30)), (days[1], 0.0)]);
    }

    #[test]
    fn calibration_window() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        let week = Some(Duration::from_secs(7 * 86_400));
        assert!(is_calibrating(
            Some(t0),
            week,
            t0 + chrono::Duration::days(6)
        ));
        assert!(!is_calibrating(
            Some(t0),
            week,
            t0 + chrono::Duration::days(7)
        ));
        assert!(!is_calibrating(Some(t0), None, t0));
        assert!(!is_calibrating(None, week, t0));
        assert_eq!(
            calibration_end(Some(t0), week),
            Some(t0 + chrono::Duration::days(7))
        );
    }
}
