//! The usage ledger: the one definition of the social time dwell counts against
//! the limits. The reminders ([`crate::policy`]), `dwell-agent status`,
//! `dwell-agent limits suggest` ([`crate::calibrate`]) and every report read
//! their figures from it, so for the same data they show the same numbers.
//!
//! - a **day**'s social time is the social time inside that local calendar day
//!   (spans are cut at local midnight; a DST day has 23 or 25 hours);
//! - a **week**'s is the sum of its seven days, from `[schedule] week_start`;
//! - a **site**'s time on a day (for `[limits.sites]`) is the part of that
//!   day's social time on that site label;
//! - a **streak** is a run of visits, each starting less than
//!   `limits.streak_gap` after the previous one ended; its length is the social
//!   time in it (not the clock time, which includes the breaks). It goes on
//!   across midnight and belongs to the day it started on.
//!
//! Stored spans are final: the agent clipped them to the recording hours in force
//! when it wrote them. The ledger takes them as they are and never clips them
//! again, so changing the settings never rewrites the past. Whole milliseconds.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc, Weekday};

use crate::model::{Activity, Span};
use crate::schedule::{local_date, local_day_bounds, week_start_of};

#[cfg(any(test, feature = "fixtures"))]
pub mod fixture;

/// Milliseconds from `a` to `b`, never negative.
pub fn ms_between(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (b - a).num_milliseconds().max(0)
}

/// The part of a stored span inside one local day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece<'a> {
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub activity: &'a Activity,
}

impl Piece<'_> {
    pub fn ms(&self) -> i64 {
        ms_between(self.start, self.end)
    }

    /// Whether this piece continues the visit to `site` that ended at `end` on
    /// `date`: same site, same day, touching (a checkpoint, a rule reload).
    pub fn continues_visit(&self, date: NaiveDate, site: &str, end: DateTime<Utc>) -> bool {
        self.date == date && self.start == end && self.activity.site() == Some(site)
    }
}

/// The local day of an instant, remembering the last day looked up (spans come
/// in order, so most lookups hit it).
struct Days<'t, Tz: TimeZone> {
    tz: &'t Tz,
    last: Option<(NaiveDate, DateTime<Utc>, DateTime<Utc>)>,
}

impl<'t, Tz: TimeZone> Days<'t, Tz> {
    fn new(tz: &'t Tz) -> Self {
        Days { tz, last: None }
    }

    /// The local date of `at` and the end of that day.
    fn of(&mut self, at: DateTime<Utc>) -> (NaiveDate, DateTime<Utc>) {
        match self.last {
            Some((date, start, end)) if start <= at && at < end => (date, end),
            _ => {
                let date = local_date(at, self.tz);
                let (start, end) = local_day_bounds(date, self.tz);
                self.last = Some((date, start, end));
                (date, end)
            }
        }
    }

    /// Calls `f` with each local day's part of `[start, end)`, in order.
    fn split(
        &mut self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        mut f: impl FnMut(NaiveDate, DateTime<Utc>, DateTime<Utc>),
    ) {
        let mut from = start;
        while from < end {
            let (date, day_end) = self.of(from);
            // Always move on, even if a zone's rules make a day look empty.
            let to = end.min(day_end.max(from + TimeDelta::milliseconds(1)));
            f(date, from, to);
            from = to;
        }
    }
}

/// `spans` cut at local midnight, in order; empty parts are dropped.
pub fn pieces<'a, Tz: TimeZone>(spans: &'a [Span], tz: &Tz) -> Vec<Piece<'a>> {
    let mut days = Days::new(tz);
    let mut out = Vec::with_capacity(spans.len());
    for span in spans {
        days.split(span.start, span.end, |date, start, end| {
            out.push(Piece {
                date,
                start,
                end,
                activity: &span.activity,
            })
        });
    }
    out
}

/// One uninterrupted stretch on one social site, inside one local day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visit<'a> {
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub site: &'a str,
}

impl Visit<'_> {
    pub fn ms(&self) -> i64 {
        ms_between(self.start, self.end)
    }
}

/// Social pieces as visits: consecutive pieces of the same site that touch
/// (see [`Piece::continues_visit`]) are one visit.
pub fn visits<'a>(pieces: &[Piece<'a>]) -> Vec<Visit<'a>> {
    let mut out: Vec<Visit<'a>> = Vec::new();
    for p in pieces {
        let Some(site) = p.activity.site() else {
            continue;
        };
        if let Some(last) = out.last_mut() {
            if p.continues_visit(last.date, last.site, last.end) {
                last.end = p.end;
                continue;
            }
        }
        out.push(Visit {
            date: p.date,
            start: p.start,
            end: p.end,
            site,
        });
    }
    out
}

/// `spans` cut to `[from, to)` (the store returns every span that overlaps a
/// query, whole); spans left empty are dropped.
pub fn within(spans: &[Span], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Span> {
    spans
        .iter()
        .filter(|s| s.start < to && s.end > from)
        .map(|s| Span {
            start: s.start.max(from),
            end: s.end.min(to),
            ..s.clone()
        })
        .collect()
}

/// Visits taken together: see the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Streak {
    /// The local day it started on.
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    /// The end of its last visit.
    pub end: DateTime<Utc>,
    pub visits: usize,
    /// Its length: the time actually on social sites in it.
    pub social_ms: i64,
}

impl Streak {
    /// Its length, as the limits and reminders count it.
    pub fn length(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.social_ms).unwrap_or(0))
    }

    /// From the start of the first visit to the end of the last, breaks included.
    pub fn clock_ms(&self) -> i64 {
        ms_between(self.start, self.end)
    }

    /// Whether a visit starting at `start` continues this streak.
    fn joins(&self, start: DateTime<Utc>, gap: TimeDelta) -> bool {
        start >= self.start && start - self.end < gap
    }
}

/// The end of the last social piece counted, to tell a new visit from more of
/// the same one.
#[derive(Clone, Debug)]
struct LastVisit {
    date: NaiveDate,
    site: String,
    end: DateTime<Utc>,
}

/// Social (and other active) time per local day, and the streaks, of the spans
/// added so far. Add spans in order of start.
#[derive(Clone, Debug)]
pub struct Ledger {
    gap: TimeDelta,
    social: BTreeMap<NaiveDate, i64>,
    other: BTreeMap<NaiveDate, i64>,
    /// Social time per day and site label.
    sites: BTreeMap<(NaiveDate, String), i64>,
    streaks: Vec<Streak>,
    last_visit: Option<LastVisit>,
}

/// The figures at one moment, as the reminders and `status` show them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    /// Social time today.
    pub today_ms: i64,
    /// Social time this week.
    pub week_ms: i64,
    /// The streak going on (the last one, if it may still continue).
    pub streak: Option<Streak>,
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

impl Ledger {
    /// An empty ledger; `streak_gap` is `limits.streak_gap`.
    pub fn new(streak_gap: Duration) -> Ledger {
        Ledger {
            gap: delta(streak_gap),
            social: BTreeMap::new(),
            other: BTreeMap::new(),
            sites: BTreeMap::new(),
            streaks: Vec::new(),
            last_visit: None,
        }
    }

    /// The ledger of `spans` (sorted by start, as the store returns them).
    pub fn of<Tz: TimeZone>(spans: &[Span], streak_gap: Duration, tz: &Tz) -> Ledger {
        Ledger::from_pieces(&pieces(spans, tz), streak_gap)
    }

    /// The ledger of spans already cut with [`pieces`].
    pub fn from_pieces(pieces: &[Piece<'_>], streak_gap: Duration) -> Ledger {
        let mut l = Ledger::new(streak_gap);
        for p in pieces {
            l.add_piece(p);
        }
        l
    }

    /// Takes a new `limits.streak_gap`, for streaks from now on.
    pub fn set_streak_gap(&mut self, streak_gap: Duration) {
        self.gap = delta(streak_gap);
    }

    /// Counts one more stored span.
    pub fn add<Tz: TimeZone>(&mut self, span: &Span, tz: &Tz) {
        let mut days = Days::new(tz);
        days.split(span.start, span.end, |date, start, end| {
            self.add_piece(&Piece {
                date,
                start,
                end,
                activity: &span.activity,
            })
        });
    }

    /// Counts one more piece.
    pub fn add_piece(&mut self, p: &Piece<'_>) {
        let ms = p.ms();
        if ms == 0 {
            return;
        }
        let Some(site) = p.activity.site() else {
            *self.other.entry(p.date).or_default() += ms;
            return;
        };
        *self.social.entry(p.date).or_default() += ms;
        *self.sites.entry((p.date, site.to_owned())).or_default() += ms;
        let same_visit = match &mut self.last_visit {
            Some(v) => {
                let same = p.continues_visit(v.date, &v.site, v.end);
                if v.site != site {
                    v.site.clear();
                    v.site.push_str(site);
                }
                v.date = p.date;
                v.end = p.end;
                same
            }
            None => {
                self.last_visit = Some(LastVisit {
                    date: p.date,
                    site: site.to_owned(),
                    end: p.end,
                });
                false
            }
        };
        match self.streaks.last_mut() {
            Some(s) if same_visit || s.joins(p.start, self.gap) => {
                s.end = s.end.max(p.end);
                s.social_ms += ms;
                s.visits += usize::from(!same_visit);
            }
            _ => self.streaks.push(Streak {
                date: p.date,
                start: p.start,
                end: p.end,
                visits: 1,
                social_ms: ms,
            }),
        }
    }

    /// Forgets everything counted.
    pub fn clear(&mut self) {
        *self = Ledger {
            gap: self.gap,
            ..Ledger::new(Duration::ZERO)
        };
    }

    /// Counts a day's social and other time as the store's rollups keep them
    /// ([`DayRollup`]), without its streaks.
    pub fn add_totals(&mut self, date: NaiveDate, social_ms: i64, other_ms: i64) {
        if social_ms > 0 {
            *self.social.entry(date).or_default() += social_ms;
        }
        if other_ms > 0 {
            *self.other.entry(date).or_default() += other_ms;
        }
    }

    /// Forgets the days before `date`, and the streaks that started on them.
    pub fn forget_before(&mut self, date: NaiveDate) {
        self.social = self.social.split_off(&date);
        self.other = self.other.split_off(&date);
        self.sites = self.sites.split_off(&(date, String::new()));
        self.streaks.retain(|s| s.date >= date);
    }

    /// Social time on local day `date`.
    pub fn day(&self, date: NaiveDate) -> i64 {
        self.social.get(&date).copied().unwrap_or(0)
    }

    /// Social time on `site` on local day `date` (the label as stored).
    pub fn site_day(&self, date: NaiveDate, site: &str) -> i64 {
        self.sites
            .get(&(date, site.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Other active time on local day `date`.
    pub fn other(&self, date: NaiveDate) -> i64 {
        self.other.get(&date).copied().unwrap_or(0)
    }

    /// Whether anything (social or other) was recorded on `date`.
    pub fn recorded(&self, date: NaiveDate) -> bool {
        self.day(date) > 0 || self.other(date) > 0
    }

    /// Social time in the week holding `date`, for weeks starting on `week_start`.
    pub fn week(&self, date: NaiveDate, week_start: Weekday) -> i64 {
        let first = week_start_of(date, week_start);
        let last = first + chrono::Days::new(6);
        self.social.range(first..=last).map(|(_, ms)| ms).sum()
    }

    /// Every streak, in order.
    pub fn streaks(&self) -> &[Streak] {
        &self.streaks
    }

    /// The longest streak (by its length; the earliest of equals).
    pub fn longest_streak(&self) -> Option<&Streak> {
        self.streaks
            .iter()
            .fold(None, |best: Option<&Streak>, s| match best {
                Some(b) if b.social_ms >= s.social_ms => Some(b),
                _ => Some(s),
            })
    }

    /// The figures at `now`, counting also the social span open since `open`
    /// (not stored yet), if any. Without one, the last streak is still going on
    /// while less than the streak gap has passed since it ended.
    pub fn at<Tz: TimeZone>(
        &self,
        now: DateTime<Utc>,
        open: Option<DateTime<Utc>>,
        week_start: Weekday,
        tz: &Tz,
    ) -> Usage {
        let date = local_date(now, tz);
        let mut today_ms = self.day(date);
        let mut week_ms = self.week(date, week_start);
        let last = self.streaks.last();
        let streak = match open {
            Some(o) => {
                let (day_start, _) = local_day_bounds(date, tz);
                let (week_from, _) = local_day_bounds(week_start_of(date, week_start), tz);
                today_ms += ms_between(o.max(day_start), now);
                week_ms += ms_between(o.max(week_from), now);
                let ms = ms_between(o, now);
                Some(match last {
                    Some(s) if s.joins(o, self.gap) => Streak {
                        end: s.end.max(now),
                        visits: s.visits + 1,
                        social_ms: s.social_ms + ms,
                        ..s.clone()
                    },
                    _ => Streak {
                        date: local_date(o, tz),
                        start: o,
                        end: now.max(o),
                        visits: 1,
                        social_ms: ms,
                    },
                })
            }
            None => last.filter(|s| now - s.end < self.gap).cloned(),
        };
        Usage {
            today_ms,
            week_ms,
            streak,
        }
    }
}

/// One local day's figures as the store keeps them (its rollups): a cache of
/// this module's numbers for the day, never a second definition. The day's
/// visits ([`visits`] of its pieces) are kept in order, so the
/// streaks, the median visit and the hour-of-day pattern of any stretch of days
/// follow by feeding them back through [`Ledger`] and [`crate::stats`], for any
/// `streak_gap`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayRollup<'a> {
    pub date: NaiveDate,
    /// The local day's bounds, in UTC: under another time zone they differ,
    /// and the rollup does not apply.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub social_ms: i64,
    pub other_ms: i64,
    pub visits: Vec<Visit<'a>>,
    /// False when spans overlap on this day: then its pieces come in another
    /// order than day by day, and only the spans give its streaks and visits.
    pub exact: bool,
}

/// The rollups of each local day that `spans` (sorted by start, as the store
/// returns them, already cut to the days wanted with [`within`]) touch.
pub fn day_rollups<'a, Tz: TimeZone>(spans: &'a [Span], tz: &Tz) -> Vec<DayRollup<'a>> {
    let all = pieces(spans, tz);
    let ledger = Ledger::from_pieces(&all, Duration::ZERO);
    // Days on which spans overlap: from the start of a span that begins before
    // an earlier one ended, to where they stop overlapping.
    let mut inexact = std::collections::BTreeSet::new();
    let mut days = Days::new(tz);
    let mut max_end: Option<DateTime<Utc>> = None;
    for s in spans.iter().filter(|s| s.end > s.start) {
        if let Some(m) = max_end {
            if s.start < m {
                days.split(s.start, m.min(s.end), |date, _, _| {
                    inexact.insert(date);
                });
            }
        }
        max_end = Some(max_end.map_or(s.end, |m| m.max(s.end)));
    }
    let mut out: Vec<DayRollup<'a>> = Vec::new();
    for p in &all {
        if out.last().is_none_or(|d| d.date != p.date) {
            let (start, end) = local_day_bounds(p.date, tz);
            out.push(DayRollup {
                date: p.date,
                start,
                end,
                social_ms: ledger.day(p.date),
                other_ms: ledger.other(p.date),
                visits: Vec::new(),
                exact: !inexact.contains(&p.date),
            });
        }
    }
    // Pieces of overlapping spans may come back to an earlier day.
    out.sort_by_key(|d| d.date);
    out.dedup_by_key(|d| d.date);
    for v in visits(&all) {
        if let Ok(i) = out.binary_search_by_key(&v.date, |d| d.date) {
            out[i].visits.push(v);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::Source;
    use chrono_tz::Europe::Paris;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn span(a: &str, b: &str, site: Option<&str>) -> Span {
        Span {
            start: utc(a),
            end: utc(b),
            activity: site.map_or(Activity::Other, |s| Activity::Social(s.into())),
            source: Source::X11,
        }
    }

    const MIN: i64 = 60_000;
    const GAP: Duration = Duration::from_secs(120);

    #[test]
    fn days_are_cut_at_local_midnight_in_real_time() {
        // 23:30 to 01:30 in Paris, into the Sunday the clocks go back; then
        // other time until 04:00 local on that 25-hour day: 3.5 real hours.
        let spans = vec![
            span(
                "2026-10-24T21:30:00Z",
                "2026-10-24T23:30:00Z",
                Some("x.com"),
            ),
            span("2026-10-24T23:30:00Z", "2026-10-25T03:00:00Z", None),
        ];
        let l = Ledger::of(&spans, GAP, &Paris);
        assert_eq!(l.day(d("2026-10-24")), 30 * MIN);
        assert_eq!(l.day(d("2026-10-25")), 90 * MIN);
        assert_eq!(l.other(d("2026-10-25")), 210 * MIN);
        assert!(l.recorded(d("2026-10-25")) && !l.recorded(d("2026-10-26")));
        // Spring forward: a span 01:00-04:00 local is two real hours.
        let spring = vec![span(
            "2026-03-29T00:00:00Z",
            "2026-03-29T02:00:00Z",
            Some("x.com"),
        )];
        assert_eq!(
            Ledger::of(&spring, GAP, &Paris).day(d("2026-03-29")),
            120 * MIN
        );
    }

    #[test]
    fn weeks_start_on_the_configured_day() {
        // Saturday 24 and Monday 26 October.
        let spans = vec![
            span(
                "2026-10-24T10:00:00Z",
                "2026-10-24T10:10:00Z",
                Some("x.com"),
            ),
            span(
                "2026-10-26T10:00:00Z",
                "2026-10-26T10:05:00Z",
                Some("x.com"),
            ),
        ];
        let l = Ledger::of(&spans, GAP, &Paris);
        assert_eq!(l.week(d("2026-10-24"), Weekday::Mon), 10 * MIN);
        assert_eq!(l.week(d("2026-10-26"), Weekday::Mon), 5 * MIN);
        assert_eq!(l.week(d("2026-10-26"), Weekday::Sat), 15 * MIN);
        assert_eq!(l.week(d("2026-10-23"), Weekday::Sat), 0);
    }

    #[test]
    fn a_streak_is_its_social_time_and_a_short_break_does_not_end_it() {
        let spans = vec![
            span(
                "2026-11-23T10:00:00Z",
                "2026-11-23T10:05:00Z",
                Some("a.com"),
            ),
            span("2026-11-23T10:05:00Z", "2026-11-23T10:06:30Z", None),
            span(
                "2026-11-23T10:06:30Z",
                "2026-11-23T10:10:00Z",
                Some("b.com"),
            ),
            // Touching the previous one on the same site: the same visit.
            span(
                "2026-11-23T10:10:00Z",
                "2026-11-23T10:11:00Z",
                Some("b.com"),
            ),
            span("2026-11-23T10:11:00Z", "2026-11-23T10:30:00Z", None),
            span(
                "2026-11-23T10:30:00Z",
                "2026-11-23T10:38:00Z",
                Some("a.com"),
            ),
        ];
        let l = Ledger::of(&spans, GAP, &Paris);
        let s = l.streaks();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].social_ms, 9 * MIN + 30_000);
        assert_eq!(s[0].clock_ms(), 11 * MIN);
        assert_eq!(s[0].visits, 2);
        assert_eq!(s[1].social_ms, 8 * MIN);
        assert_eq!(l.longest_streak(), Some(&s[0]));
        // A gap of exactly the streak gap ends a streak.
        let exact = Ledger::of(&spans, Duration::from_secs(90), &Paris);
        assert_eq!(exact.streaks().len(), 3);
        // With no gap at all, a visit split in two pieces is still one streak.
        let none = Ledger::of(&spans, Duration::ZERO, &Paris);
        assert_eq!(none.streaks().len(), 3);
        assert_eq!(none.streaks()[1].social_ms, 4 * MIN + 30_000);
        assert_eq!(Ledger::new(GAP).longest_streak(), None);
    }

    #[test]
    fn longest_streak_prefers_social_time_over_clock_time() {
        let spans = vec![
            // 12 min of social time over 15 min.
            span(
                "2026-11-23T09:00:00Z",
                "2026-11-23T09:06:00Z",
                Some("a.com"),
            ),
            span(
                "2026-11-23T09:07:30Z",
                "2026-11-23T09:09:00Z",
                Some("a.com"),
            ),
            span(
                "2026-11-23T09:10:30Z",
                "2026-11-23T09:15:00Z",
                Some("a.com"),
            ),
            // 13 min in one go.
            span(
                "2026-11-23T11:00:00Z",
                "2026-11-23T11:13:00Z",
                Some("b.com"),
            ),
        ];
        let l = Ledger::of(&spans, GAP, &Paris);
        assert_eq!(l.streaks()[0].clock_ms(), 15 * MIN);
        assert_eq!(l.streaks()[0].social_ms, 12 * MIN);
        assert_eq!(l.longest_streak().unwrap().social_ms, 13 * MIN);
        assert_eq!(
            l.longest_streak().unwrap().length(),
            Duration::from_secs(780)
        );
    }

    #[test]
    fn a_streak_goes_on_across_midnight_and_belongs_to_its_first_day() {
        let spans = vec![
            span(
                "2026-10-24T21:55:00Z",
                "2026-10-24T22:05:00Z",
                Some("x.com"),
            ),
            span(
                "2026-10-24T22:06:00Z",
                "2026-10-24T22:08:00Z",
                Some("x.com"),
            ),
        ];
        let l = Ledger::of(&spans, GAP, &Paris);
        assert_eq!(l.streaks().len(), 1);
        let s = &l.streaks()[0];
        assert_eq!((s.date, s.social_ms), (d("2026-10-24"), 12 * MIN));
        // The piece after midnight is its own visit (visits are per day).
        assert_eq!(s.visits, 3);
        assert_eq!(l.day(d("2026-10-24")), 5 * MIN);
        assert_eq!(l.day(d("2026-10-25")), 7 * MIN);
    }

    #[test]
    fn overlapping_spans_from_merged_databases_both_count() {
        let spans = vec![
            span(
                "2026-11-23T10:00:00Z",
                "2026-11-23T10:10:00Z",
                Some("a.com"),
            ),
            span(
                "2026-11-23T10:05:00Z",
                "2026-11-23T10:06:00Z",
                Some("b.com"),
            ),
        ];
        let l = Ledger::of(&spans, GAP, &Paris);
        assert_eq!(l.day(d("2026-11-23")), 11 * MIN);
        assert_eq!(l.streaks().len(), 1);
        assert_eq!(l.streaks()[0].clock_ms(), 10 * MIN);
    }

    #[test]
    fn the_open_span_counts_at_now() {
        let mut l = Ledger::new(GAP);
        l.add(
            &span(
                "2026-11-23T10:00:00Z",
                "2026-11-23T10:05:00Z",
                Some("a.com"),
            ),
            &Paris,
        );
        let at =
            |now: &str, open: Option<&str>| l.at(utc(now), open.map(utc), Weekday::Mon, &Paris);
        // Closed streak, still within the gap; then over.
        let u = at("2026-11-23T10:06:00Z", None);
        assert_eq!(u.today_ms, 5 * MIN);
        assert_eq!(u.streak.unwrap().social_ms, 5 * MIN);
        assert_eq!(at("2026-11-23T10:07:00Z", None).streak, None);
        // Back after a minute: the open span continues the streak.
        let u = at("2026-11-23T10:10:00Z", Some("2026-11-23T10:06:00Z"));
        assert_eq!(u.today_ms, 9 * MIN);
        assert_eq!(u.week_ms, 9 * MIN);
        let s = u.streak.unwrap();
        assert_eq!(
            (s.start, s.social_ms),
            (utc("2026-11-23T10:00:00Z"), 9 * MIN)
        );
        // Back after three: a new streak. Open since before midnight: only
        // today's part counts for today.
        let u = at("2026-11-23T10:10:00Z", Some("2026-11-23T10:08:00Z"));
        assert_eq!(u.streak.unwrap().social_ms, 2 * MIN);
        let u = at("2026-11-24T00:10:00Z", Some("2026-11-23T22:50:00Z"));
        assert_eq!(u.today_ms, 70 * MIN);
        assert_eq!(u.week_ms, 5 * MIN + 80 * MIN);
        // Just opened: a streak of nothing yet, so the next crossing can be timed.
        let u = at("2026-11-23T12:00:00Z", Some("2026-11-23T12:00:00Z"));
        assert_eq!(u.streak.unwrap().social_ms, 0);
    }

    #[test]
    fn forgetting_old_days_and_clearing() {
        let spans = vec![
            span(
                "2026-11-20T10:00:00Z",
                "2026-11-20T10:05:00Z",
                Some("a.com"),
            ),
            span(
                "2026-11-23T10:00:00Z",
                "2026-11-23T10:05:00Z",
                Some("a.com"),
            ),
        ];
        let mut l = Ledger::of(&spans, GAP, &Paris);
        l.forget_before(d("2026-11-21"));
        assert_eq!(l.day(d("2026-11-20")), 0);
        assert_eq!(l.day(d("2026-11-23")), 5 * MIN);
        assert_eq!(l.streaks().len(), 1);
        l.clear();
        assert_eq!(l.day(d("2026-11-23")), 0);
        assert!(l.streaks().is_empty());
    }

    /// The fixture's figures, as a report, `limits suggest` and the reminders
    /// (live, and replayed from the store as `status` does) count them, under the
    /// settings it was recorded with and under today's narrower ones.
    #[test]
    fn every_consumer_counts_the_fixture_alike() {
        use crate::calibrate::workday_totals;
        use crate::policy::Policy;
        let tz: chrono_tz::Tz = fixture::ZONE.parse().unwrap();
        let spans = fixture::spans();
        let days: Vec<NaiveDate> = (0..7)
            .map(|i| fixture::monday() + chrono::Days::new(i))
            .collect();
        for config in [fixture::config_then(), fixture::config_now()] {
            let gap = config.limits.streak_gap;
            let l = Ledger::of(&spans, gap, &tz);
            for (i, date) in days.iter().enumerate() {
                assert_eq!(l.day(*date) / 1000, fixture::DAY_SECONDS[i], "{date}");
                assert_eq!(l.other(*date) / 1000, fixture::OTHER_SECONDS[i], "{date}");
            }
            assert_eq!(
                l.week(fixture::monday(), config.week_start) / 1000,
                fixture::WEEK_SECONDS
            );
            let s = l.longest_streak().unwrap();
            assert_eq!(s.social_ms / 1000, fixture::STREAK_SECONDS);
            assert_eq!(s.clock_ms() / 1000, fixture::STREAK_CLOCK_SECONDS);
            assert_eq!(s.visits, fixture::STREAK_VISITS);
            assert_eq!(
                (s.start, s.end),
                (fixture::streak_start(), fixture::streak_end())
            );
            assert_eq!(s.date, days[6]);

            // `limits suggest`: each recorded work day.
            let totals = workday_totals(&spans, &days, &config.schedule.work_days, &tz);
            assert_eq!(totals.len(), 2);
            for (date, secs) in totals {
                let i = (date - fixture::monday()).num_days() as usize;
                assert_eq!(secs as i64, fixture::DAY_SECONDS[i]);
            }
            let all = workday_totals(&spans, &days, &[true; 7], &tz);
            let secs: Vec<i64> = all.iter().map(|x| x.1 as i64).collect();
            assert_eq!(secs, [1800, 720, 300, 1740]);

            for m in fixture::moments() {
                // Replayed from the store, as `status` does.
                let mut replay = Policy::from_config(&config);
                replay.record_stored(&spans, Policy::history_start(m.now, &tz), m.now, &tz);
                // Live: each span counted as the agent closes it.
                let mut live = Policy::from_config(&config);
                for span in spans.iter().filter(|s| s.end <= m.now) {
                    live.record_span(span, &tz);
                }
                for p in [&replay, &live] {
                    let f = p.figures(m.now, None, &tz);
                    assert_eq!(f.today.as_millis() as i64, m.today_seconds * 1000);
                    assert_eq!(f.week.as_millis() as i64, m.week_seconds * 1000);
                    assert_eq!(f.streak.as_millis() as i64, m.streak_seconds * 1000);
                }
            }
            // In the middle of the streak's second visit: live with the visit
            // open, and replayed with its last checkpoint stored.
            let now = utc("2026-10-25T01:03:00Z");
            let open = utc("2026-10-25T00:58:30Z");
            let mut live = Policy::from_config(&config);
            for span in spans.iter().filter(|s| s.end <= open) {
                live.record_span(span, &tz);
            }
            let mut replay = Policy::from_config(&config);
            let stored: Vec<Span> = spans
                .iter()
                .filter(|s| s.start < now)
                .map(|s| Span {
                    end: s.end.min(now),
                    ..s.clone()
                })
                .collect();
            replay.record_stored(&stored, Policy::history_start(now, &tz), now, &tz);
            let (a, b) = (
                live.figures(now, Some(open), &tz),
                replay.figures(now, None, &tz),
            );
            assert_eq!(a, b);
            assert_eq!(a.streak, Duration::from_secs(7 * 60 + 270));
            assert_eq!(a.today, Duration::from_secs(5 * 60 + 7 * 60 + 270));
        }
    }

    #[test]
    fn within_cuts_to_the_window() {
        let spans = vec![
            span(
                "2026-11-23T09:00:00Z",
                "2026-11-23T11:00:00Z",
                Some("a.com"),
            ),
            span("2026-11-23T12:00:00Z", "2026-11-23T13:00:00Z", None),
        ];
        let w = within(
            &spans,
            utc("2026-11-23T10:00:00Z"),
            utc("2026-11-23T12:00:00Z"),
        );
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].start, utc("2026-11-23T10:00:00Z"));
    }
}
