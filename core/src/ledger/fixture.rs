//! One tricky week of stored spans with the figures every consumer must show
//! for it, shared by the tests of core, the agent and the report (feature
//! `fixtures`; never in a release build).
//!
//! Read in Europe/Paris, week 2026-W43 (Monday 19 to Sunday 25 October 2026).
//! The spans were recorded with `record = "always"` ([`config_then`]); the
//! settings are now the default work hours, Monday to Friday 09:00-12:00 and
//! 13:00-17:00 ([`config_now`]). In it:
//! - Monday: 10 min before 09:00 and 10 min in the lunch break (outside today's
//!   hours), 10 min inside them;
//! - Tuesday: 12 min;
//! - Saturday 23:55 to Sunday 00:05: one visit across local midnight;
//! - Sunday, the day the clocks go back (25 hours): a streak of 7 min, a 90 s
//!   work page (shorter than the 2 min streak gap), 7 min more across the change
//!   (02:58:30 summer time to 02:05:30 winter time): 14 min of social time
//!   over 15.5 min of clock time, under the 15 min streak limit; then 10 min in
//!   the morning.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};

use crate::model::{Activity, Source, Span};
use crate::Config;

/// The time zone the fixture is read in (`chrono_tz::Europe::Paris`).
pub const ZONE: &str = "Europe/Paris";
/// Its ISO week.
pub const WEEK: &str = "2026-W43";

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("an RFC 3339 time")
        .with_timezone(&Utc)
}

/// Monday of the week.
pub fn monday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 19).expect("a date")
}

/// The stored spans, in order (UTC; Paris is UTC+2 until Sunday 01:00 UTC,
/// then UTC+1).
pub fn spans() -> Vec<Span> {
    let s = |a: &str, b: &str, site: Option<&str>| Span {
        start: utc(a),
        end: utc(b),
        activity: site.map_or(Activity::Other, |x| Activity::Social(x.into())),
        source: Source::X11,
    };
    vec![
        s(
            "2026-10-19T06:20:00Z",
            "2026-10-19T06:30:00Z",
            Some("linkedin.com"),
        ),
        s("2026-10-19T06:30:00Z", "2026-10-19T08:00:00Z", None),
        s(
            "2026-10-19T08:00:00Z",
            "2026-10-19T08:10:00Z",
            Some("x.com"),
        ),
        s(
            "2026-10-19T10:15:00Z",
            "2026-10-19T10:25:00Z",
            Some("reddit.com"),
        ),
        s(
            "2026-10-20T07:30:00Z",
            "2026-10-20T07:42:00Z",
            Some("facebook.com"),
        ),
        s("2026-10-20T07:42:00Z", "2026-10-20T09:00:00Z", None),
        s(
            "2026-10-24T21:55:00Z",
            "2026-10-24T22:05:00Z",
            Some("reddit.com"),
        ),
        s(
            "2026-10-25T00:50:00Z",
            "2026-10-25T00:57:00Z",
            Some("x.com"),
        ),
        s("2026-10-25T00:57:00Z", "2026-10-25T00:58:30Z", None),
        s(
            "2026-10-25T00:58:30Z",
            "2026-10-25T01:05:30Z",
            Some("youtube.com"),
        ),
        s(
            "2026-10-25T09:00:00Z",
            "2026-10-25T09:10:00Z",
            Some("instagram.com"),
        ),
    ]
}

fn config(text: &str) -> Config {
    Config::parse(text, Path::new("fixture.toml")).expect("a valid config")
}

/// The settings the spans were recorded under.
pub fn config_then() -> Config {
    config("[schedule]\nrecord = \"always\"\n")
}

/// Today's settings: narrower hours, weekdays only.
pub fn config_now() -> Config {
    config(
        "[schedule]\nrecord = \"work_hours\"\nwork_days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\nwork_hours = [\"09:00-12:00\", \"13:00-17:00\"]\n",
    )
}

/// Social seconds of each day, Monday first.
pub const DAY_SECONDS: [i64; 7] = [1800, 720, 0, 0, 0, 300, 1740];
/// Other active seconds of each day.
pub const OTHER_SECONDS: [i64; 7] = [5400, 4680, 0, 0, 0, 0, 90];
/// The week's social seconds.
pub const WEEK_SECONDS: i64 = 4560;

/// The longest streak: Sunday's, interrupted by the work page.
pub const STREAK_SECONDS: i64 = 840;
pub const STREAK_CLOCK_SECONDS: i64 = 930;
pub const STREAK_VISITS: usize = 2;
pub fn streak_start() -> DateTime<Utc> {
    utc("2026-10-25T00:50:00Z")
}
pub fn streak_end() -> DateTime<Utc> {
    utc("2026-10-25T01:05:30Z")
}

/// What `status` and the reminders show at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moment {
    pub now: DateTime<Utc>,
    pub today_seconds: i64,
    pub week_seconds: i64,
    /// The streak going on (0: none).
    pub streak_seconds: i64,
}

/// Half a minute after the streak, and at 23:59 on Sunday.
pub fn moments() -> [Moment; 2] {
    [
        Moment {
            now: utc("2026-10-25T01:06:00Z"),
            today_seconds: 300 + STREAK_SECONDS,
            week_seconds: 1800 + 720 + 300 + 300 + STREAK_SECONDS,
            streak_seconds: STREAK_SECONDS,
        },
        Moment {
            now: utc("2026-10-25T22:59:00Z"),
            today_seconds: DAY_SECONDS[6],
            week_seconds: WEEK_SECONDS,
            streak_seconds: 0,
        },
    ]
}
