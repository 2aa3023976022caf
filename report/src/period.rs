//! Which stretch of days a report covers: an ISO week, a range of dates, or one
//! day, all in local dates. Parsing errors are one line and name the bad value.

use chrono::{Datelike, NaiveDate, Weekday};
use dwell_core::schedule::{iso_week_bounds, parse_date, parse_iso_week, week_start_of};

/// Longest range a report accepts (about five years).
pub const MAX_DAYS: i64 = 5 * 366;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An ISO week (`2026-W48`).
    Week(String),
    /// `--from D --to D`.
    Range,
    /// `dwell-report day [DATE]`.
    Day,
}

/// Local dates `from..=to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    pub kind: Kind,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// The week holding `date`, for weeks that begin on `start` (Monday: the
    /// ISO week). A week is labelled by the ISO week of the Monday it holds.
    pub fn week_of(date: NaiveDate, start: Weekday) -> Result<Period, String> {
        let from = week_start_of(date, start);
        Ok(Period {
            kind: Kind::Week(week_label_of(date, start)),
            from,
            to: from + chrono::Days::new(6),
        })
    }

    pub fn iso_week(year: i32, week: u32) -> Result<Period, String> {
        let (from, to) = iso_week_bounds(year, week)
            .ok_or_else(|| format!("ISO week {year}-W{week:02} does not exist"))?;
        Ok(Period {
            kind: Kind::Week(week_label(from)),
            from,
            to,
        })
    }

    /// `--week YYYY-Www`: the week (beginning on `start`) that holds the
    /// Monday of that ISO week.
    pub fn parse_week(s: &str, start: Weekday) -> Result<Period, String> {
        let (y, w) = parse_iso_week(s).map_err(|e| format!("--week {e}"))?;
        let iso = Period::iso_week(y, w)?;
        Period::week_of(iso.from, start)
    }

    /// `--from D [--to D]`; `to` defaults to `today`.
    pub fn range(from: &str, to: Option<&str>, today: NaiveDate) -> Result<Period, String> {
        let from_d = parse_date(from, today).map_err(|e| format!("--from {e}"))?;
        let to_d = match to {
            Some(t) => parse_date(t, today).map_err(|e| format!("--to {e}"))?,
            None => today.max(from_d),
        };
        if from_d > to_d {
            return Err(format!(
                "--from {from_d} is after --to {to_d}: the start must come first"
            ));
        }
        if (to_d - from_d).num_days() >= MAX_DAYS {
            return Err(format!(
                "--from {from_d} --to {to_d} spans more than {MAX_DAYS} days: pick a shorter range"
            ));
        }
        Ok(Period {
            kind: Kind::Range,
            from: from_d,
            to: to_d,
        })
    }

    pub fn day(date: NaiveDate) -> Period {
        Period {
            kind: Kind::Day,
            from: date,
            to: date,
        }
    }

    /// The ISO week label when the period is a week.
    pub fn week(&self) -> Option<&str> {
        match &self.kind {
            Kind::Week(w) => Some(w),
            _ => None,
        }
    }

    /// `"week"`, `"range"` or `"day"`.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Week(_) => "week",
            Kind::Range => "range",
            Kind::Day => "day",
        }
    }
}

/// The label of the week (beginning on `start`) that holds `date`: the ISO
/// week of the Monday it holds. The one definition of which week a day
/// belongs to: notes are stored and looked up under it.
pub fn week_label_of(date: NaiveDate, start: Weekday) -> String {
    let last = week_start_of(date, start) + chrono::Days::new(6);
    week_label(week_start_of(last, Weekday::Mon))
}

/// `2026-W48` for the ISO week holding `date`.
pub fn week_label(date: NaiveDate) -> String {
    let iso = date.iso_week();
    format!("{}-W{:02}", iso.year(), iso.week())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s, NaiveDate::MAX).unwrap()
    }

    #[test]
    fn weeks() {
        let mon = Weekday::Mon;
        let p = Period::parse_week("2026-W48", mon).unwrap();
        assert_eq!((p.from, p.to), (d("2026-11-23"), d("2026-11-29")));
        assert_eq!(p.week(), Some("2026-W48"));
        assert!(Period::parse_week("2026-W54", mon).is_err());
        assert!(Period::parse_week("2026W48", mon).is_err());
        let p = Period::week_of(d("2027-01-01"), mon).unwrap();
        assert_eq!(p.week(), Some("2026-W53"));
    }

    #[test]
    fn weeks_starting_on_sunday_keep_the_label_of_their_monday() {
        let sun = Weekday::Sun;
        let p = Period::parse_week("2026-W48", sun).unwrap();
        assert_eq!((p.from, p.to), (d("2026-11-22"), d("2026-11-28")));
        assert_eq!(p.week(), Some("2026-W48"));
        // Sunday 29 November starts the next week.
        let p = Period::week_of(d("2026-11-29"), sun).unwrap();
        assert_eq!((p.from, p.week()), (d("2026-11-29"), Some("2026-W49")));
    }

    #[test]
    fn ranges_and_dates() {
        let today = d("2026-11-25");
        let p = Period::range("2026-11-01", None, today).unwrap();
        assert_eq!(p.to, today);
        assert_eq!((p.to - p.from).num_days(), 24);
        assert!(Period::range("2026-11-26", Some("2026-11-25"), today)
            .unwrap_err()
            .contains("after"));
        let today = d("2026-11-25");
        assert!(parse_date("2026-02-30", today).is_err());
        assert_eq!(parse_date("today", today), Ok(today));
    }
}
