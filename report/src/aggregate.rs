//! Turns the stored spans, reminders and notes of a period into a [`Report`]:
//! the one structure every renderer reads, and exactly what `--format json`
//! prints (documented in `docs/report-schema.md`). Day totals and streaks are
//! the usage ledger's (`dwell_core::ledger`), from the spans as stored: the
//! current schedule never cuts them again. The days come from the store's
//! per-day rollups (totals, and the period's visits, which give the streaks,
//! sites, median visit and hour pattern through the same ledger and stats
//! functions) when they apply, otherwise from the spans: the same figures.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use dwell_core::ledger::{self, Ledger, Piece, Visit};
use dwell_core::model::{Activity, Span};
use dwell_core::stats::{self, DayWindow};
use dwell_core::store::StoredDay;
use dwell_core::Config;
use serde::Serialize;

use crate::period::{week_label, week_label_of, Period};
use crate::query::Sources;
use crate::text::{self, Lang, Mood, Words};

/// Version of the JSON schema; bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;
/// Earlier weeks the trend compares with.
pub const TREND_WEEKS: i64 = 4;

#[derive(Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub privacy: String,
    /// How many databases the report combines (1, or more with `--merge`).
    pub databases: usize,
    /// `week`, `range` or `day`.
    pub period: &'static str,
    /// ISO week (`2026-W48`) when the period is a week, else null.
    pub week: Option<String>,
    pub from: String,
    pub to: String,
    pub language: &'static str,
    pub total_seconds: i64,
    pub weekly_threshold_seconds: i64,
    pub daily_threshold_seconds: i64,
    pub streak_threshold_seconds: i64,
    /// Whether the week total is over the weekly limit (null unless a week).
    pub over_weekly: Option<bool>,
    pub days_over: usize,
    pub active_seconds: i64,
    pub other_seconds: i64,
    /// Social share of active time, 0..1 (3 decimals), null without active time.
    pub social_share: Option<f64>,
    pub empty: bool,
    pub days: Vec<Day>,
    pub sites: Vec<Site>,
    pub visits: Visits,
    pub longest_streak: Option<Streak>,
    /// Social seconds by weekday (Monday first) × local hour 0..23.
    pub heatmap: Vec<Vec<i64>>,
    pub trend: Option<Trend>,
    pub reminders: Option<Reminders>,
    /// Each site with a limit of its own (`[limits.sites]`) against it.
    pub site_limits: Vec<crate::fit::SiteLimit>,
    /// The gradual plan's step this period, and how it went (`[limits.plan]`).
    pub plan: Option<crate::fit::PlanWeek>,
    pub reflection: Reflection,
    pub note: Option<Note>,
    pub previous_note: Option<Note>,
}

#[derive(Debug, Serialize)]
pub struct Day {
    pub date: String,
    pub weekday: String,
    pub seconds: i64,
    pub threshold_seconds: i64,
    pub over: bool,
    pub other_seconds: i64,
    pub recorded_hours_seconds: i64,
    pub visits: usize,
    /// Social time per site that day, most first.
    pub sites: Vec<DaySite>,
}

#[derive(Debug, Serialize)]
pub struct DaySite {
    pub site: String,
    pub seconds: i64,
    pub visits: usize,
}

#[derive(Debug, Serialize)]
pub struct Site {
    pub site: String,
    pub seconds: i64,
    /// Share of the period's social time, 0..1.
    pub share: f64,
    pub visits: usize,
}

#[derive(Debug, Serialize)]
pub struct Visits {
    pub count: usize,
    pub median_seconds: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct Streak {
    pub date: String,
    /// Local time, RFC 3339 with offset.
    pub start: String,
    pub end: String,
    /// Clock time from the start of the first visit to the end of the last.
    pub seconds: i64,
    /// The streak's length: time actually on social sites in it.
    pub social_seconds: i64,
    pub visits: usize,
    /// `social_seconds` over the streak limit.
    pub over: bool,
}

#[derive(Debug, Serialize)]
pub struct Trend {
    pub weeks: i64,
    /// Average social seconds per recorded day of each earlier week, oldest first
    /// (null for a week without recording hours).
    pub weekly_daily_seconds: Vec<Option<i64>>,
    pub daily_seconds: i64,
    pub recent_daily_seconds: i64,
    pub difference_seconds_per_day: i64,
    /// `less`, `more` or `same` (within half a minute).
    pub direction: &'static str,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct Reminders {
    pub count: usize,
    /// Outcome → count (`shown`, `snoozed`, `done_for_today`, ...).
    pub outcomes: BTreeMap<String, usize>,
    pub kinds: BTreeMap<String, usize>,
    /// Reminders after which social sites were left within 2 minutes.
    pub left_social_within_2_minutes: usize,
    /// Reminders for which that is known.
    pub left_social_known: usize,
    /// How the browser extension's pause page ended (null if it never showed).
    pub pause_page: Option<crate::fit::PausePage>,
}

#[derive(Debug, Serialize)]
pub struct Reflection {
    pub language: &'static str,
    pub question: String,
}

#[derive(Debug, Serialize)]
pub struct Note {
    pub week: String,
    pub text: String,
}

fn secs(ms: i64) -> i64 {
    (ms + 500).div_euclid(1000)
}

fn dur_secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Everything a report needs besides the data.
pub struct Context<'a, Tz: TimeZone> {
    pub config: &'a Config,
    pub tz: &'a Tz,
    pub now: DateTime<Utc>,
    pub lang: Lang,
}

/// Builds the report of `period`.
pub fn build<Tz: TimeZone>(
    cx: &Context<'_, Tz>,
    period: &Period,
    sources: &Sources,
) -> Result<Report>
where
    Tz::Offset: std::fmt::Display,
{
    let lang = cx.lang;
    let limits = &cx.config.limits;
    let daily_limit = dur_secs(limits.daily_on(period.to));
    let mut held = Held::default();
    let c = load(cx, period, sources, &mut held)?;
    let here = &c.windows[c.first..];

    let visits = stats::visits(&c.pieces);
    let mut tally = Tally::of(&visits, &c.pieces, period.from, here.len());
    let days = days(here, &c.ledger, lang, limits, &mut tally);
    let social_ms: i64 = here.iter().map(|w| c.ledger.day(w.date)).sum();
    let other_ms: i64 = here.iter().map(|w| c.ledger.other(w.date)).sum();
    let total_seconds = secs(social_ms);
    let weekly = dur_secs(limits.weekly);
    let mut lengths: Vec<i64> = visits.iter().map(|v| v.ms()).collect();
    let median = stats::median(&mut lengths).map(secs);
    let trend = trend(&c, lang);
    let reminders = reminders(sources, here[0].bounds.0, c.to)?;
    let (note, previous_note) = notes(cx.config, period, sources)?;

    let days_over = days.iter().filter(|d| d.over).count();
    let sites = sites(&c.pieces, &tally.per_site, social_ms);
    let (site_limits, plan) = fit(limits, &days, &sites, period.to.min(c.today));
    let empty = social_ms == 0 && other_ms == 0;
    let over_weekly = period.week().map(|_| total_seconds > weekly);
    let mood = if empty {
        Mood::Empty
    } else if days_over > 0 || over_weekly == Some(true) {
        Mood::Over
    } else if median.is_some_and(|m| m < 60) && visits.len() >= 5 * here.len().min(5) {
        Mood::Fragmented
    } else {
        Mood::Calm
    };

    Ok(Report {
        schema_version: SCHEMA_VERSION,
        privacy: lang.privacy().to_owned(),
        databases: sources.count(),
        period: period.kind_name(),
        week: period.week().map(str::to_owned),
        from: period.from.to_string(),
        to: period.to.to_string(),
        language: lang.tag(),
        total_seconds,
        weekly_threshold_seconds: weekly,
        daily_threshold_seconds: daily_limit,
        streak_threshold_seconds: dur_secs(limits.streak),
        over_weekly,
        days_over,
        active_seconds: secs(social_ms + other_ms),
        other_seconds: secs(other_ms),
        social_share: share(social_ms, social_ms + other_ms),
        empty,
        days,
        sites,
        visits: Visits {
            count: visits.len(),
            median_seconds: median,
        },
        longest_streak: streak(&c.ledger, cx.tz, dur_secs(limits.streak)),
        heatmap: heatmap(&c.pieces, cx.tz),
        trend,
        reminders,
        site_limits,
        plan,
        reflection: reflection(lang, period, mood),
        note,
        previous_note,
    })
}

/// What the pieces of a report borrow from: the spans, or the rollups' sites.
#[derive(Default)]
struct Held {
    spans: Vec<Span>,
    sites: Vec<Activity>,
}

/// What the ledger counted: the period and the weeks before it.
struct Counts<'s> {
    /// The days of the weeks before (for the trend), then of the period.
    windows: Vec<DayWindow>,
    /// The period's first day in `windows`.
    first: usize,
    /// The weeks before the period.
    before: Ledger,
    /// The period on its own.
    ledger: Ledger,
    /// The period's pieces.
    pieces: Vec<Piece<'s>>,
    /// The end of the last day.
    to: DateTime<Utc>,
    /// Today, in the report's zone.
    today: NaiveDate,
}

/// Counts the period and the weeks before it, from the rollups or the spans.
fn load<'s, Tz: TimeZone>(
    cx: &Context<'_, Tz>,
    period: &Period,
    sources: &Sources,
    held: &'s mut Held,
) -> Result<Counts<'s>> {
    let today = cx.now.with_timezone(cx.tz).date_naive();
    // The period plus the four weeks before it, for the trend: one query.
    let earliest = period.from - TimeDelta::days(7 * TREND_WEEKS);
    let windows = stats::day_windows(&cx.config.schedule, earliest, period.to, cx.tz);
    let first = windows
        .iter()
        .position(|w| w.date >= period.from)
        .unwrap_or(0);
    let (Some(lo), Some(hi)) = (windows.first(), windows.last()) else {
        anyhow::bail!("empty period {}..{}", period.from, period.to);
    };
    let (from, to) = (lo.bounds.0, hi.bounds.1);
    let gap = cx.config.limits.streak_gap;
    // The weeks before, for the trend; the period on its own (a streak that
    // began before the period counts from the period's start). From the
    // store's rollups when they hold these days as this zone cuts them.
    let (before, ledger, pieces) = match rolled_up(sources, &windows, first)? {
        Some(r) => {
            held.sites = r
                .sites
                .iter()
                .map(|(_, l)| Activity::Social(l.clone()))
                .collect();
            let held: &'s Held = held;
            from_rollups(r, &held.sites, gap)?
        }
        None => {
            held.spans = ledger::within(&sources.spans(from, to)?, from, to);
            let held: &'s Held = held;
            let all_pieces = ledger::pieces(&held.spans, cx.tz);
            let (earlier, pieces): (Vec<_>, Vec<_>) =
                all_pieces.into_iter().partition(|p| p.date < period.from);
            (
                Ledger::from_pieces(&earlier, gap),
                Ledger::from_pieces(&pieces, gap),
                pieces,
            )
        }
    };
    Ok(Counts {
        windows,
        first,
        before,
        ledger,
        pieces,
        to,
        today,
    })
}

/// The ledgers of the weeks before and of the period, and the period's pieces,
/// from the rollups `r`; `sites` are `r`'s sites as activities.
fn from_rollups<'s>(
    r: RolledUp,
    sites: &'s [Activity],
    gap: Duration,
) -> Result<(Ledger, Ledger, Vec<Piece<'s>>)> {
    let index: HashMap<i64, &Activity> = r
        .sites
        .iter()
        .map(|(id, _)| *id)
        .zip(sites.iter())
        .collect();
    let mut before = Ledger::new(gap);
    for d in &r.earlier {
        before.add_totals(d.date, d.social_ms, d.other_ms);
    }
    // Each day's visits are dropped once they are pieces.
    let mut pieces = Vec::with_capacity(r.days.iter().map(|d| d.visits.len()).sum());
    let mut other = Vec::with_capacity(r.days.len());
    for d in r.days {
        for v in d.visits {
            let Some(activity) = index.get(&v.site) else {
                anyhow::bail!("the rollup of {} names a site the database lacks", d.date);
            };
            pieces.push(Piece {
                date: d.date,
                start: v.start,
                end: v.end,
                activity,
            });
        }
        other.push((d.date, d.other_ms));
    }
    let mut ledger = Ledger::from_pieces(&pieces, gap);
    for (date, ms) in other {
        ledger.add_totals(date, 0, ms);
    }
    Ok((before, ledger, pieces))
}

/// The period's visits counted by day, by site, and by day and site.
struct Tally<'a> {
    per_day: Vec<usize>,
    per_site: BTreeMap<&'a str, usize>,
    /// Each day's sites, most time first.
    day_sites: Vec<Vec<DaySite>>,
}

impl<'a> Tally<'a> {
    /// Counts `visits` and `pieces` over the `days` days from `start`.
    fn of(visits: &[Visit<'a>], pieces: &[Piece<'_>], start: NaiveDate, days: usize) -> Self {
        let index = |date: NaiveDate| usize::try_from((date - start).num_days()).unwrap_or(0);
        let mut per_day = vec![0usize; days];
        let mut per_site: BTreeMap<&str, usize> = BTreeMap::new();
        let mut day_sites: BTreeMap<(usize, &str), (i64, usize)> = BTreeMap::new();
        for v in visits {
            let day = index(v.date);
            if let Some(n) = per_day.get_mut(day) {
                *n += 1;
            }
            *per_site.entry(v.site).or_default() += 1;
            day_sites.entry((day, v.site)).or_default().1 += 1;
        }
        for p in pieces {
            if let Some(site) = p.activity.site() {
                day_sites.entry((index(p.date), site)).or_default().0 += p.ms();
            }
        }
        let mut per_day_sites: Vec<Vec<DaySite>> = (0..days).map(|_| Vec::new()).collect();
        for ((day, site), (ms, n)) in day_sites {
            if let Some(list) = per_day_sites.get_mut(day) {
                list.push(DaySite {
                    site: site.to_owned(),
                    seconds: secs(ms),
                    visits: n,
                });
            }
        }
        for list in &mut per_day_sites {
            list.sort_by(|a, b| b.seconds.cmp(&a.seconds).then_with(|| a.site.cmp(&b.site)));
        }
        Tally {
            per_day,
            per_site,
            day_sites: per_day_sites,
        }
    }
}

/// The period's days, each with its sites (taken from `tally`).
fn days(
    here: &[DayWindow],
    ledger: &Ledger,
    lang: Lang,
    limits: &dwell_core::config::Limits,
    tally: &mut Tally<'_>,
) -> Vec<Day> {
    here.iter()
        .enumerate()
        .map(|(i, w)| {
            let seconds = secs(ledger.day(w.date));
            // The limit of that day: weekday, then plan.
            let daily_limit = dur_secs(limits.daily_on(w.date));
            Day {
                date: w.date.to_string(),
                weekday: lang.weekday(w.date.weekday()).to_owned(),
                seconds,
                threshold_seconds: daily_limit,
                over: seconds > daily_limit,
                other_seconds: secs(ledger.other(w.date)),
                recorded_hours_seconds: secs(w.recording_ms()),
                visits: tally.per_day[i],
                sites: std::mem::take(&mut tally.day_sites[i]),
            }
        })
        .collect()
}

/// The site limits and the plan's week (see [`crate::fit`]), on `on`.
fn fit(
    limits: &dwell_core::config::Limits,
    days: &[Day],
    sites: &[Site],
    on: NaiveDate,
) -> (Vec<crate::fit::SiteLimit>, Option<crate::fit::PlanWeek>) {
    let figures: Vec<crate::fit::DayFigures<'_>> = days
        .iter()
        .filter_map(|d| {
            Some(crate::fit::DayFigures {
                date: d.date.parse().ok()?,
                over: d.over,
                recorded: d.recorded_hours_seconds > 0,
                sites: d
                    .sites
                    .iter()
                    .map(|s| (s.site.as_str(), s.seconds))
                    .collect(),
            })
        })
        .collect();
    let totals: Vec<(&str, i64)> = sites.iter().map(|s| (s.site.as_str(), s.seconds)).collect();
    (
        crate::fit::site_limits(limits, &figures, &totals),
        crate::fit::plan_week(limits, &figures, on),
    )
}

/// The period's sites, most time first, with their share of `social_ms`.
fn sites(pieces: &[Piece<'_>], visits: &BTreeMap<&str, usize>, social_ms: i64) -> Vec<Site> {
    stats::site_totals(pieces)
        .into_iter()
        .map(|(site, ms)| Site {
            visits: visits.get(site.as_str()).copied().unwrap_or(0),
            share: share(ms, social_ms).unwrap_or(0.0),
            seconds: secs(ms),
            site,
        })
        .collect()
}

/// The longest streak, in `tz`, against the streak limit `limit` (seconds).
fn streak<Tz: TimeZone>(ledger: &Ledger, tz: &Tz, limit: i64) -> Option<Streak>
where
    Tz::Offset: std::fmt::Display,
{
    ledger.longest_streak().map(|s| {
        let local = |t: DateTime<Utc>| t.with_timezone(tz).to_rfc3339();
        Streak {
            date: s.date.to_string(),
            start: local(s.start),
            end: local(s.end),
            seconds: secs(s.clock_ms()),
            social_seconds: secs(s.social_ms),
            visits: s.visits,
            over: secs(s.social_ms) > limit,
        }
    })
}

/// Social seconds by weekday and local hour.
fn heatmap<Tz: TimeZone>(pieces: &[Piece<'_>], tz: &Tz) -> Vec<Vec<i64>> {
    stats::heatmap(pieces, tz)
        .iter()
        .map(|row| row.iter().map(|&ms| secs(ms)).collect())
        .collect()
}

/// The period against the weeks before it.
fn trend(c: &Counts<'_>, lang: Lang) -> Option<Trend> {
    let (windows, first, today) = (&c.windows, c.first, c.today);
    let here = &windows[first..];
    // Trend: recorded days (anything recorded, social or not), not after today.
    let counted = |ws: &[DayWindow], l: &Ledger| -> Vec<i64> {
        ws.iter()
            .filter(|w| l.recorded(w.date) && w.date <= today)
            .map(|w| l.day(w.date))
            .collect()
    };
    stats::trend(
        &counted(here, &c.ledger),
        &counted(&windows[..first], &c.before),
    )
    .map(|t| {
        let diff = secs(t.difference_ms);
        let weekly_daily_seconds = windows[..first]
            .chunks(7)
            .map(|ws| {
                let v = counted(ws, &c.before);
                (!v.is_empty()).then(|| secs(v.iter().sum::<i64>() / v.len() as i64))
            })
            .collect();
        Trend {
            weeks: TREND_WEEKS,
            weekly_daily_seconds,
            daily_seconds: secs(t.current_per_day_ms),
            recent_daily_seconds: secs(t.recent_per_day_ms),
            difference_seconds_per_day: diff,
            direction: if diff.abs() < 30 {
                "same"
            } else if diff < 0 {
                "less"
            } else {
                "more"
            },
            text: lang.trend(diff),
        }
    })
}

/// The reminders from `from` to `to`, by outcome and kind; `None` without any.
fn reminders(
    sources: &Sources,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Option<Reminders>> {
    let list = sources.reminders(from, to)?;
    Ok((!list.is_empty()).then(|| {
        let mut outcomes = BTreeMap::new();
        let mut kinds = BTreeMap::new();
        for r in &list {
            *outcomes.entry(r.outcome.clone()).or_default() += 1;
            *kinds.entry(r.kind.clone()).or_default() += 1;
        }
        Reminders {
            count: list.len(),
            outcomes,
            kinds,
            left_social_within_2_minutes: list
                .iter()
                .filter(|r| r.left_social == Some(true))
                .count(),
            left_social_known: list.iter().filter(|r| r.left_social.is_some()).count(),
            pause_page: crate::fit::pause_page(&list),
        }
    }))
}

/// The note of the period's week and of the week before.
fn notes(
    config: &Config,
    period: &Period,
    sources: &Sources,
) -> Result<(Option<Note>, Option<Note>)> {
    let note_week = period
        .week()
        .map(str::to_owned)
        .unwrap_or_else(|| week_label_of(period.to, config.week_start));
    let prev_week = week_label(monday_of(&note_week, period.to) - TimeDelta::days(7));
    let note = sources.note(&note_week)?.map(|text| Note {
        week: note_week.clone(),
        text,
    });
    let previous_note = sources.note(&prev_week)?.map(|text| Note {
        week: prev_week.clone(),
        text,
    });
    Ok((note, previous_note))
}

/// The reflection question for `mood`, stable for the period.
fn reflection(lang: Lang, period: &Period, mood: Mood) -> Reflection {
    let seed = period.from.iso_week().week() + period.from.year().unsigned_abs();
    Reflection {
        language: lang.tag(),
        question: text::question(lang, mood, seed, period.kind == crate::period::Kind::Day)
            .to_owned(),
    }
}

/// A period's days as the store's rollups keep them.
struct RolledUp {
    /// The days before the period (totals only).
    earlier: Vec<StoredDay>,
    /// The period's days, with their visits.
    days: Vec<StoredDay>,
    sites: Vec<(i64, String)>,
}

/// The rollups of `windows` (the period from `windows[first]`), when the store
/// has them and they apply: made in the zone that cut `windows`, and with
/// no overlapping spans in the period. `None`: count from the spans.
fn rolled_up(sources: &Sources, windows: &[DayWindow], first: usize) -> Result<Option<RolledUp>> {
    let (Some(lo), Some(start), Some(hi)) = (windows.first(), windows.get(first), windows.last())
    else {
        return Ok(None);
    };
    let earlier = if first > 0 {
        match sources.rollups(lo.date, windows[first - 1].date, false)? {
            Some(d) => d,
            None => return Ok(None),
        }
    } else {
        Vec::new()
    };
    let Some(days) = sources.rollups(start.date, hi.date, true)? else {
        return Ok(None);
    };
    let bounds: HashMap<NaiveDate, (DateTime<Utc>, DateTime<Utc>)> =
        windows.iter().map(|w| (w.date, w.bounds)).collect();
    let same_zone = |d: &StoredDay| bounds.get(&d.date) == Some(&(d.start, d.end));
    if !earlier.iter().all(same_zone) || !days.iter().all(|d| same_zone(d) && d.exact) {
        return Ok(None);
    }
    Ok(Some(RolledUp {
        earlier,
        days,
        sites: sources.sites()?,
    }))
}

/// Monday of ISO week `label`, or of the week holding `fallback`.
fn monday_of(label: &str, fallback: NaiveDate) -> NaiveDate {
    dwell_core::schedule::parse_iso_week(label)
        .ok()
        .and_then(|(y, w)| dwell_core::schedule::iso_week_bounds(y, w))
        .map(|(m, _)| m)
        .unwrap_or_else(|| {
            fallback - TimeDelta::days(i64::from(fallback.weekday().num_days_from_monday()))
        })
}

/// `part / whole` rounded to 3 decimals; `None` when `whole` is 0.
fn share(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 1000.0).round() / 1000.0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use dwell_core::ledger::fixture;
    use dwell_core::Store;

    /// The report of `period` over the stored fixture, read in its zone.
    fn report(config: &Config, period: &Period) -> Report {
        let tz: chrono_tz::Tz = fixture::ZONE.parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.put_spans(&fixture::spans()).unwrap();
        drop(store);
        let sources = Sources::open(dir.path(), &[]).unwrap();
        let cx = Context {
            config,
            tz: &tz,
            now: fixture::utc("2026-11-25T12:00:00Z"),
            lang: Lang::En,
        };
        build(&cx, period, &sources).unwrap()
    }

    fn week(config: &Config) -> Period {
        Period::parse_week(fixture::WEEK, config.week_start).unwrap()
    }

    /// The week and day reports show, for the fixture, the figures every other
    /// consumer shows (see `dwell_core::ledger`'s tests, `status` and `limits`).
    #[test]
    fn the_report_counts_the_fixture_like_everyone() {
        for config in [fixture::config_then(), fixture::config_now()] {
            let r = report(&config, &week(&config));
            let days: Vec<i64> = r.days.iter().map(|d| d.seconds).collect();
            assert_eq!(days, fixture::DAY_SECONDS);
            let other: Vec<i64> = r.days.iter().map(|d| d.other_seconds).collect();
            assert_eq!(other, fixture::OTHER_SECONDS);
            assert_eq!(r.total_seconds, fixture::WEEK_SECONDS);
            let s = r.longest_streak.as_ref().unwrap();
            assert_eq!(s.social_seconds, fixture::STREAK_SECONDS);
            assert_eq!(s.seconds, fixture::STREAK_CLOCK_SECONDS);
            assert_eq!(s.visits, fixture::STREAK_VISITS);
            assert!(!s.over, "14 min of social time is under the 15 min limit");
            assert_eq!(s.date, "2026-10-25");
            // Across the change to winter time.
            assert_eq!(s.start, "2026-10-25T02:50:00+02:00");
            assert_eq!(s.end, "2026-10-25T02:05:30+01:00");
            let sites: i64 = r.sites.iter().map(|s| s.seconds).sum();
            assert_eq!(sites, fixture::WEEK_SECONDS);
            let heat: i64 = r.heatmap.iter().flatten().sum();
            assert_eq!(heat, fixture::WEEK_SECONDS);
            // Each day's own report says the same as the week's.
            for (i, want) in fixture::DAY_SECONDS.iter().enumerate() {
                let date = fixture::monday() + chrono::Days::new(i as u64);
                let day = report(&config, &Period::day(date));
                assert_eq!(day.total_seconds, *want, "{date}");
            }
            // Saturday alone: only its part of the streak across midnight.
            let saturday = report(
                &config,
                &Period::day(fixture::monday() + chrono::Days::new(5)),
            );
            let s = saturday.longest_streak.unwrap();
            assert_eq!((s.social_seconds, s.seconds), (300, 300));
        }
    }

    /// A note is found under the week it was stored under (`dwell-report
    /// note`: the week beginning on `week_start` that holds today), whatever
    /// the report covers, also when weeks begin on Sunday.
    #[test]
    fn a_note_is_found_under_the_week_it_was_kept_when_weeks_begin_on_sunday() {
        let mut config = fixture::config_now();
        config.week_start = chrono::Weekday::Sun;
        let tz: chrono_tz::Tz = fixture::ZONE.parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        // Sunday 29 November 2026 begins the week labelled by its Monday: W49.
        let sunday = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let kept = Period::week_of(sunday, config.week_start).unwrap();
        let label = kept.week().unwrap().to_owned();
        store
            .put_note(
                &label,
                "less scrolling",
                fixture::utc("2026-11-29T12:00:00Z"),
            )
            .unwrap();
        drop(store);
        let sources = Sources::open(dir.path(), &[]).unwrap();
        let cx = Context {
            config: &config,
            tz: &tz,
            now: fixture::utc("2026-11-29T12:00:00Z"),
            lang: Lang::En,
        };
        for period in [kept.clone(), Period::day(sunday)] {
            let r = build(&cx, &period, &sources).unwrap();
            let note = r.note.as_ref().map(|n| (n.week.as_str(), n.text.as_str()));
            assert_eq!(note, Some((label.as_str(), "less scrolling")), "{period:?}");
        }
    }

    /// One change to a database, as the agent, `forget` and expiry make them.
    #[derive(Clone, Debug)]
    enum Op {
        /// Spans `first..first + n` of the generated ones, in one write.
        Put {
            first: usize,
            n: usize,
        },
        /// A write that first retracts the spans starting in `[at, at + len)`.
        Retract {
            at: i64,
            len: i64,
            first: usize,
            n: usize,
        },
        ForgetRange {
            at: i64,
            len: i64,
        },
        ForgetSite(usize),
        Expire {
            at: i64,
        },
    }

    const SITES: [&str; 3] = ["a.com", "b.com", "=c.com"];

    /// Seconds from 2026-10-19 00:00 Paris (a week holding the change to
    /// winter time, two weeks before and after).
    fn at(s: i64) -> DateTime<Utc> {
        fixture::utc("2026-10-18T22:00:00Z") + TimeDelta::seconds(s)
    }

    /// Spans from (gap before, length, site or other, overlapping the one before).
    fn spans_of(raw: &[(i64, i64, Option<usize>, bool)]) -> Vec<dwell_core::Span> {
        let mut t = -15 * 86_400;
        let mut out: Vec<dwell_core::Span> = Vec::new();
        for &(gap, len, site, overlap) in raw {
            let start = if overlap { t - len / 2 - 1 } else { t + gap };
            let end = start + len;
            if out.iter().any(|s| s.start == at(start)) {
                continue;
            }
            out.push(dwell_core::Span {
                start: at(start),
                end: at(end),
                activity: site.map_or(Activity::Other, |i| Activity::Social(SITES[i].to_owned())),
                source: dwell_core::Source::X11,
            });
            t = t.max(end);
        }
        out
    }

    fn apply(store: &mut Store, spans: &[dwell_core::Span], op: &Op) {
        let pick = |first: usize, n: usize| {
            let a = first.min(spans.len());
            &spans[a..(a + n).min(spans.len())]
        };
        match *op {
            Op::Put { first, n } => store.put_spans(pick(first, n)).unwrap(),
            Op::Retract {
                at: a,
                len,
                first,
                n,
            } => {
                let seen = store.forget_seq().unwrap();
                store
                    .put_spans_retracting(seen, pick(first, n), Some((at(a), at(a + len))))
                    .unwrap();
            }
            Op::ForgetRange { at: a, len } => {
                store.forget_range(at(a), at(a + len), at(0)).unwrap();
            }
            Op::ForgetSite(i) => {
                store.forget_site(SITES[i], at(0)).unwrap();
            }
            Op::Expire { at: a } => {
                store.delete_before(at(a)).unwrap();
            }
        }
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        let t = -16 * 86_400i64..16 * 86_400;
        prop_oneof![
            6 => (0usize..120, 1usize..60).prop_map(|(first, n)| Op::Put { first, n }),
            2 => (t.clone(), 1i64..30_000, 0usize..120, 0usize..4)
                .prop_map(|(at, len, first, n)| Op::Retract { at, len, first, n }),
            1 => (t.clone(), 1i64..200_000).prop_map(|(at, len)| Op::ForgetRange { at, len }),
            1 => (0usize..3).prop_map(Op::ForgetSite),
            1 => t.prop_map(|at| Op::Expire { at }),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Whatever was written, forgotten, retracted or expired, a report
        /// read from the rollups says exactly what one read from the spans says.
        #[test]
        fn rollups_give_the_figures_of_the_spans(
            raw in proptest::collection::vec(
                (
                    proptest::prop_oneof![0i64..10, 0i64..200, 0i64..20_000],
                    proptest::prop_oneof![1i64..60, 1i64..2_000, 1i64..100_000],
                    proptest::option::of(0usize..3),
                    proptest::bool::weighted(0.03),
                ),
                0..120,
            ),
            ops in proptest::collection::vec(op(), 1..8),
            gap in 0u64..600,
        ) {
            let tz: chrono_tz::Tz = fixture::ZONE.parse().unwrap();
            let spans = spans_of(&raw);
            let (kept, plain) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            let mut with = Store::open(kept.path()).unwrap();
            with.keep_rollups(tz).unwrap();
            let mut without = Store::open(plain.path()).unwrap();
            for op in &ops {
                apply(&mut with, &spans, op);
                apply(&mut without, &spans, op);
            }
            drop((with, without));
            let mut config = fixture::config_then();
            config.limits.streak_gap = std::time::Duration::from_secs(gap);
            let cx = Context {
                config: &config,
                tz: &tz,
                now: at(40 * 86_400),
                lang: Lang::En,
            };
            let a = Sources::open(kept.path(), &[]).unwrap();
            let b = Sources::open(plain.path(), &[]).unwrap();
            let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
            let periods = [
                Period::parse_week("2026-W43", config.week_start).unwrap(),
                Period::parse_week("2026-W44", config.week_start).unwrap(),
                Period::day(d("2026-10-25")),
                Period::range("2026-10-04", Some("2026-11-03"), d("2026-11-25")).unwrap(),
            ];
            for p in &periods {
                let x = serde_json::to_value(build(&cx, p, &a).unwrap()).unwrap();
                let y = serde_json::to_value(build(&cx, p, &b).unwrap()).unwrap();
                proptest::prop_assert_eq!(x, y, "{:?}", p);
            }
        }
    }

    #[test]
    fn a_week_is_read_from_the_rollups_when_they_apply() {
        let tz: chrono_tz::Tz = fixture::ZONE.parse().unwrap();
        let config = fixture::config_then();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.keep_rollups(tz).unwrap();
        store.put_spans(&fixture::spans()).unwrap();
        drop(store);
        let sources = Sources::open(dir.path(), &[]).unwrap();
        let windows = stats::day_windows(
            &config.schedule,
            fixture::monday() - TimeDelta::days(28),
            fixture::monday() + TimeDelta::days(6),
            &tz,
        );
        assert!(rolled_up(&sources, &windows, 28).unwrap().is_some());
        // Cut in another zone, they do not apply.
        let utc_windows = stats::day_windows(
            &config.schedule,
            fixture::monday() - TimeDelta::days(28),
            fixture::monday() + TimeDelta::days(6),
            &Utc,
        );
        assert!(rolled_up(&sources, &utc_windows, 28).unwrap().is_none());
    }

    #[test]
    fn changing_work_hours_does_not_change_a_past_week() {
        let then = fixture::config_then();
        let now = fixture::config_now();
        let json = |config: &Config| serde_json::to_value(report(config, &week(config))).unwrap();
        let (mut a, mut b) = (json(&then), json(&now));
        // Only the description of the settings follows them: each day's
        // recording hours under the current schedule.
        let hours = |v: &mut serde_json::Value| -> Vec<serde_json::Value> {
            v["days"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .map(|d| {
                    d.as_object_mut()
                        .unwrap()
                        .remove("recorded_hours_seconds")
                        .unwrap()
                })
                .collect()
        };
        assert_ne!(hours(&mut a), hours(&mut b));
        assert_eq!(a, b);
    }
}
