//! `dwell-report demo`: a realistic, deterministic synthetic history, so that a
//! newcomer sees a full report at once and benchmarks have data.
//!
//! Each work day is simulated as about 1,500 focus switches between ordinary
//! windows and a plausible mix of social sites, with pauses for idleness, fed
//! through core's real [`Tracker`] (so spans look exactly like the agent's) and
//! clipped to the configured recording hours. Some reminders with outcomes and
//! two reflection notes are added. Spans are marked [`Source::Demo`]; consent is
//! never granted.

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, TimeDelta, TimeZone, Timelike, Utc};
use dwell_cli::refused;
use dwell_core::model::{Activity, ReminderRecord, Source, Span};
use dwell_core::schedule::{RecordMode, Schedule};
use dwell_core::stats;
use dwell_core::tracker::{Event, Tracker};
use dwell_core::{Config, Store};

use crate::period::week_label;

/// Longest history `demo` writes (about ten years).
pub const MAX_WEEKS: u32 = 520;

/// SplitMix64: tiny, fast, deterministic; plenty for synthetic data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Exponentially distributed with the given mean.
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f64()).ln()
    }

    /// Log-normal with the given median and spread (sigma).
    fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        // Box–Muller.
        let (u1, u2) = (1.0 - self.f64(), self.f64());
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        median * (sigma * z).exp()
    }

    fn pick<'a, T>(&mut self, weighted: &'a [(T, f64)]) -> &'a T {
        let total: f64 = weighted.iter().map(|(_, w)| w).sum();
        let mut x = self.f64() * total;
        for (item, w) in weighted {
            if x < *w {
                return item;
            }
            x -= w;
        }
        &weighted[weighted.len() - 1].0
    }
}

const SITES: &[(&str, f64)] = &[
    ("reddit.com", 0.22),
    ("youtube.com", 0.17),
    ("linkedin.com", 0.13),
    ("x.com", 0.11),
    ("instagram.com", 0.08),
    ("facebook.com", 0.08),
    ("web.whatsapp.com", 0.08),
    ("discord.com", 0.05),
    ("bsky.app", 0.04),
    ("tiktok.com", 0.02),
    ("news.ycombinator.com", 0.02),
];

const OUTCOMES: &[(&str, f64)] = &[
    ("shown", 0.30),
    ("dismissed", 0.25),
    ("snoozed", 0.2),
    ("done_for_today", 0.15),
    ("expired", 0.1),
];

/// How many switches a work day has, on average.
pub const SWITCHES_PER_DAY: f64 = 1_500.0;

/// What was written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub days: usize,
    pub switches: usize,
    pub spans: usize,
    pub reminders: usize,
}

/// The schedule the demo simulates: the configured work hours, or the default
/// ones when the config records all the time.
fn demo_schedule(config: &Config) -> Schedule {
    match config.schedule.record {
        RecordMode::WorkHours => config.schedule.clone(),
        RecordMode::Always => {
            let mut s = Config::default().schedule;
            s.record = RecordMode::WorkHours;
            s
        }
    }
}

/// How busy a simulated day is.
#[derive(Debug, Clone, Copy)]
struct Density {
    /// Focus switches in a work day, on average.
    switches: f64,
    /// How much likelier a switch goes to a social site than on a normal day.
    social: f64,
    /// How much shorter a social visit is than on a normal day.
    pace: f64,
    /// The mean time on other windows, against the even share of the day.
    other: f64,
}

impl Density {
    const NORMAL: Density = Density {
        switches: SWITCHES_PER_DAY,
        social: 1.0,
        pace: 1.0,
        other: 0.82,
    };

    /// `switches` a day; a dense day also goes to social sites more often, so
    /// that 4,000 switches a day make about 1,000 spans.
    fn with_switches(switches: u32) -> Density {
        let s = f64::from(switches.max(1));
        Density {
            switches: s,
            social: (s / SWITCHES_PER_DAY).powf(1.6).max(1.0),
            pace: (SWITCHES_PER_DAY / s).min(1.0),
            // Pauses and social visits take their share of the day.
            other: if s > SWITCHES_PER_DAY { 0.55 } else { 0.82 },
        }
    }
}

/// Simulates one day's recorded intervals; returns the spans and the number of switches.
fn simulate_day(
    rng: &mut Rng,
    intervals: &[(DateTime<Utc>, DateTime<Utc>)],
    appetite: f64,
    density: Density,
    hour_of: impl Fn(DateTime<Utc>) -> u32,
) -> (Vec<Span>, usize) {
    let recorded: f64 = intervals
        .iter()
        .map(|&(a, b)| (b - a).num_seconds() as f64)
        .sum();
    // Mean seconds per window so that the day has about that many switches.
    let mean = recorded / density.switches;
    let mut tracker = Tracker::new(Source::Demo);
    let mut spans = Vec::new();
    let mut switches = 0;
    for &(a, b) in intervals {
        let mut t = a;
        tracker.apply(Event::Back { at: t });
        let mut next_idle = t + secs(rng.exp(50.0 * 60.0));
        let mut favourite = rng.pick(SITES);
        while t < b {
            if t >= next_idle {
                // A pause away from the keyboard: cut back to the last input.
                spans.extend(tracker.apply(Event::Idle { last_input: t }));
                t += secs(120.0 + rng.exp(360.0));
                if t >= b {
                    break;
                }
                tracker.apply(Event::Input { at: t });
                next_idle = t + secs(rng.exp(50.0 * 60.0));
            }
            let h = hour_of(t);
            let pull = match h {
                11 | 13 => 1.6,
                16 => 1.4,
                9 => 0.7,
                _ => 1.0,
            };
            let social = rng.f64() < 0.027 * appetite * pull * density.social;
            let (activity, len) = if social {
                if rng.f64() < 0.5 {
                    favourite = rng.pick(SITES);
                }
                let long = rng.f64() < 0.035;
                let len = if long {
                    rng.lognormal(420.0, 0.5)
                } else {
                    rng.lognormal(22.0, 0.9)
                };
                (
                    Activity::Social((*favourite).to_owned()),
                    len * density.pace,
                )
            } else {
                (Activity::Other, rng.exp(mean * density.other))
            };
            spans.extend(tracker.apply(Event::Focus {
                at: t,
                activity: Some(activity),
            }));
            switches += 1;
            t += secs(len.max(1.0));
        }
        spans.extend(tracker.apply(Event::Away { at: b }));
    }
    // Clip to the recorded intervals (the last window may run past the end).
    let mut out = Vec::with_capacity(spans.len());
    for s in spans {
        for &(a, b) in intervals {
            let (x, y) = (s.start.max(a), s.end.min(b));
            if x < y {
                out.push(Span {
                    start: x,
                    end: y,
                    ..s.clone()
                });
            }
        }
    }
    (out, switches)
}

fn secs(s: f64) -> TimeDelta {
    TimeDelta::seconds(s.round().max(0.0) as i64)
}

/// Reminders at the moments the day's social time crossed 50 %, 80 % and 100 %
/// of the daily limit, and every 15 minutes of social time past it.
fn reminders_for(
    rng: &mut Rng,
    spans: &[Span],
    daily_limit_s: i64,
    fr: bool,
) -> Vec<ReminderRecord> {
    let limit = daily_limit_s.max(60) as f64;
    let mut marks: Vec<(f64, &str)> = vec![(0.5 * limit, "stage"), (0.8 * limit, "stage")];
    marks.push((limit, "over"));
    for k in 1..8 {
        marks.push((limit + f64::from(k) * 900.0, "over"));
    }
    let mut out = Vec::new();
    let mut total = 0.0;
    let mut next = 0;
    for s in spans.iter().filter(|s| s.activity.is_social()) {
        let len = s.seconds();
        while next < marks.len() && total + len >= marks[next].0 {
            let into = (marks[next].0 - total).max(0.0);
            let at = s.start + secs(into);
            let outcome = *rng.pick(OUTCOMES);
            let left = rng.f64()
                < if outcome == "done_for_today" {
                    0.85
                } else {
                    0.5
                };
            let lang = if fr { "fr" } else { "en" };
            out.push(ReminderRecord {
                at,
                kind: marks[next].1.to_owned(),
                outcome: outcome.to_owned(),
                left_social: Some(left),
                message: Some(format!("{lang}-time-{:02}", 1 + rng.next_u64() % 12)),
            });
            next += 1;
        }
        total += len;
    }
    out
}

/// Fills `store` with `weeks` full ISO weeks before the week of `now`, plus the
/// current week up to `now`.
pub fn fill<Tz: TimeZone>(
    store: &mut Store,
    config: &Config,
    opts: Options,
    now: DateTime<Utc>,
    tz: &Tz,
) -> Result<Summary> {
    let Options {
        weeks, seed, fr, ..
    } = opts;
    let density = opts
        .switches_per_day
        .map_or(Density::NORMAL, Density::with_switches);
    let schedule = demo_schedule(config);
    let today = now.with_timezone(tz).date_naive();
    let monday = today - TimeDelta::days(i64::from(today.weekday().num_days_from_monday()));
    let first = monday - TimeDelta::days(7 * i64::from(weeks));
    let mut rng = Rng::new(seed);
    let mut summary = Summary::default();
    let daily = i64::try_from(config.limits.daily.as_secs()).unwrap_or(1800);
    let hour_of = |t: DateTime<Utc>| t.with_timezone(tz).hour();
    let mut week_start = first;
    while week_start <= today {
        let week_end = week_start + TimeDelta::days(6);
        let weeks_ago = (monday - week_start).num_days() / 7;
        // Someone who started paying attention: a little less social time as
        // the weeks go by, with good and bad weeks.
        let week_mood = 0.75 + 0.015 * weeks_ago.min(20) as f64 + 0.35 * rng.f64();
        let windows = stats::day_windows(&schedule, week_start, week_end, tz);
        let mut spans = Vec::new();
        for w in windows
            .iter()
            .filter(|w| !w.recording.is_empty() && w.date <= today)
        {
            let intervals: Vec<_> = w
                .recording
                .iter()
                .map(|&(a, b)| (a, b.min(now)))
                .filter(|&(a, b)| a < b)
                .collect();
            if intervals.is_empty() {
                continue;
            }
            let appetite = week_mood * rng.lognormal(1.0, 0.35);
            let (day, n) = simulate_day(&mut rng, &intervals, appetite, density, hour_of);
            for r in reminders_for(&mut rng, &day, daily, fr) {
                store
                    .put_reminder(&r)
                    .context("cannot write demo reminders")?;
                summary.reminders += 1;
            }
            summary.days += 1;
            summary.switches += n;
            spans.extend(day);
        }
        summary.spans += spans.len();
        store.put_spans(&spans).context("cannot write demo spans")?;
        week_start += TimeDelta::days(7);
    }
    // Two reflection notes, so reports show how notes look.
    let notes: [&str; 2] = if fr {
        [
            "Moins de petits coups d'œil avant le dîner : le téléphone reste dans le sac.",
            "Je garde Reddit pour la pause de l'après-midi, pas entre deux courriels.",
        ]
    } else {
        [
            "Fewer quick checks before lunch: the phone stays in my bag.",
            "Keeping Reddit for the afternoon break, not between two e-mails.",
        ]
    };
    for (i, text) in notes.iter().enumerate() {
        let week_monday = monday - TimeDelta::days(7 * (2 - i as i64));
        if week_monday >= first {
            store
                .put_note(&week_label(week_monday), text, now)
                .context("cannot write demo notes")?;
        }
    }
    Ok(summary)
}

/// What `dwell-report demo` was asked for.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub weeks: u32,
    pub seed: u64,
    pub force: bool,
    /// Notes and reminder ids in French.
    pub fr: bool,
    /// Focus switches in a work day (about 1,500 when `None`).
    pub switches_per_day: Option<u32>,
}

/// Most focus switches a demo day can have.
pub const MAX_SWITCHES_PER_DAY: u32 = 20_000;

/// `dwell-report demo`: refuses real data unless `force`, then replaces
/// everything recorded in `store` with the demo history.
pub fn run<Tz: TimeZone>(
    store: &mut Store,
    config: &Config,
    opts: Options,
    now: DateTime<Utc>,
    tz: &Tz,
) -> Result<Summary> {
    let Options { weeks, force, .. } = opts;
    if weeks == 0 || weeks > MAX_WEEKS {
        return Err(refused(format!(
            "--weeks {weeks}: choose between 1 and {MAX_WEEKS}"
        )));
    }
    if let Some(s) = opts.switches_per_day {
        if s == 0 || s > MAX_SWITCHES_PER_DAY {
            return Err(refused(format!(
                "--switches-per-day {s}: choose between 1 and {MAX_SWITCHES_PER_DAY}"
            )));
        }
    }
    if store
        .has_recorded_data()
        .context("cannot read the database")?
        && !force
    {
        return Err(refused(format!(
            "{} holds real recorded data: demo data would replace it; use another --data-dir, or --force to erase it",
            store.path().display()
        )));
    }
    store
        .erase_spans(now)
        .context("cannot clear the database before writing demo data")?;
    let summary = fill(store, config, opts, now, tz)?;
    store.compact().context("cannot compact the database")?;
    Ok(summary)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_uniform_enough() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let mean: f64 = (0..10_000).map(|_| a.f64()).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }

    #[test]
    fn a_demo_day_looks_like_a_heavy_day() {
        let mut rng = Rng::new(3);
        let a = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
        let intervals = [
            (a, a + TimeDelta::hours(3)),
            (a + TimeDelta::hours(4), a + TimeDelta::hours(8)),
        ];
        let (spans, switches) =
            simulate_day(&mut rng, &intervals, 1.0, Density::NORMAL, |t| t.hour());
        assert!((1_200..1_800).contains(&switches), "{switches}");
        assert!(spans.windows(2).all(|w| w[0].end <= w[1].start));
        assert!(spans
            .iter()
            .all(|s| intervals.iter().any(|&(x, y)| s.start >= x && s.end <= y)));
        let social: f64 = spans
            .iter()
            .filter(|s| s.activity.is_social())
            .map(Span::seconds)
            .sum();
        assert!((300.0..7_200.0).contains(&social), "{social}");
    }
}
