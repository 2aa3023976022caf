//! Limits that fit a person: the one definition of the **daily limit in force
//! on a day**, and the per-site limits. The reminders ([`crate::policy`]),
//! `dwell-agent status`, the tray and every report ask [`daily_on`] (through
//! [`crate::config::Limits::daily_on`] or [`crate::policy::PolicyConfig`]), so
//! for the same day they all use the same number.
//!
//! The daily limit on a local day is, in this order:
//! 1. `limits.daily`;
//! 2. replaced by that weekday's value in `[limits.days]` (`fri = "45m"`), if any;
//! 3. replaced by the step of the gradual plan `[limits.plan]` once it has
//!    started: from `start`, week *k* of *n* (`weeks`) allows
//!    `from − (from − to) × k / n` (whole seconds), so the first week is
//!    already one step down from where the person was and the last reaches
//!    `to`; after the plan's last week the limit stays at `to`.
//!
//! The plan's weeks count from its `start` date, seven days each (not from
//! `[schedule] week_start`): "week 2 of 4" is the same on every screen.

use std::time::Duration;

use chrono::{Datelike, NaiveDate};

/// `[limits.plan]`: step the daily limit down from `from` to `to` over `weeks`
/// weeks starting on `start`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub from: Duration,
    pub to: Duration,
    pub start: NaiveDate,
    pub weeks: u32,
}

/// The most weeks a plan may have (a year).
pub const MAX_PLAN_WEEKS: u32 = 52;

/// Where a plan stands on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanStep {
    /// 1-based week of the plan; 0 before it starts; `weeks` after its end.
    pub week: u32,
    pub weeks: u32,
    /// The daily limit of that week (the base limit before the start).
    pub daily: Duration,
    pub to: Duration,
    /// Whether the plan's last week is over (the goal holds from now on).
    pub done: bool,
}

impl Plan {
    /// The daily limit of plan week `week` (1-based, at most `weeks`).
    pub fn limit_of_week(&self, week: u32) -> Duration {
        let weeks = self.weeks.max(1);
        let week = week.min(weeks);
        let from = self.from.as_secs();
        let to = self.to.as_secs().min(from);
        let down = (from - to) * u64::from(week) / u64::from(weeks);
        Duration::from_secs(from - down)
    }

    /// The 1-based week of the plan `date` falls in (0 before the start;
    /// more than `weeks` after the end).
    pub fn week_of(&self, date: NaiveDate) -> u32 {
        let days = (date - self.start).num_days();
        if days < 0 {
            return 0;
        }
        u32::try_from(days / 7 + 1).unwrap_or(u32::MAX)
    }

    /// Where the plan stands on `date`; `base` is the limit without the plan
    /// (what holds before it starts).
    pub fn step(&self, date: NaiveDate, base: Duration) -> PlanStep {
        let week = self.week_of(date);
        PlanStep {
            week: week.min(self.weeks),
            weeks: self.weeks,
            daily: if week == 0 {
                base
            } else {
                self.limit_of_week(week)
            },
            to: self.to,
            done: week > self.weeks,
        }
    }
}

/// The daily limit in force on local day `date` (see the module doc): `daily`,
/// then the weekday's override in `days` (Monday first), then the plan's step.
pub fn daily_on(
    daily: Duration,
    days: &[Option<Duration>; 7],
    plan: Option<&Plan>,
    date: NaiveDate,
) -> Duration {
    let base = days[date.weekday().num_days_from_monday() as usize].unwrap_or(daily);
    match plan {
        Some(p) => p.step(date, base).daily,
        None => base,
    }
}

/// `[limits.sites]`: one site's own daily limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteLimit {
    /// The site label, as the rules give it (and reports show it).
    pub site: String,
    pub limit: Duration,
}

/// The limit of `site` among `sites`, if it has one.
pub fn site_limit<'a>(sites: &'a [SiteLimit], site: &str) -> Option<&'a SiteLimit> {
    sites.iter().find(|s| s.site.eq_ignore_ascii_case(site))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    const M: u64 = 60;

    fn plan() -> Plan {
        Plan {
            from: Duration::from_secs(45 * M),
            to: Duration::from_secs(15 * M),
            start: d("2026-12-07"),
            weeks: 4,
        }
    }

    #[test]
    fn a_plan_steps_down_in_equal_weekly_steps_and_stays_at_the_goal() {
        let p = plan();
        let mins = |date: &str| p.step(d(date), Duration::from_secs(30 * M)).daily.as_secs() / M;
        assert_eq!(mins("2026-12-06"), 30, "before the start: the base limit");
        assert_eq!(mins("2026-12-07"), 37); // 37m30s
        assert_eq!(p.limit_of_week(1).as_secs(), 37 * M + 30);
        assert_eq!(mins("2026-12-14"), 30);
        assert_eq!(mins("2026-12-20"), 30);
        assert_eq!(mins("2026-12-21"), 22);
        assert_eq!(mins("2026-12-28"), 15);
        assert_eq!(mins("2027-03-01"), 15, "after the end: the goal");
        let s = p.step(d("2026-12-15"), Duration::ZERO);
        assert_eq!((s.week, s.weeks, s.done), (2, 4, false));
        let s = p.step(d("2027-01-04"), Duration::ZERO);
        assert_eq!((s.week, s.weeks, s.done), (4, 4, true));
        assert_eq!(p.step(d("2026-01-01"), Duration::ZERO).week, 0);
    }

    #[test]
    fn the_weekday_then_the_plan() {
        let mut days = [None; 7];
        days[4] = Some(Duration::from_secs(45 * M)); // Friday
        let daily = Duration::from_secs(30 * M);
        // 2026-12-11 is a Friday, 2026-12-10 a Thursday.
        assert_eq!(
            daily_on(daily, &days, None, d("2026-12-11")).as_secs(),
            45 * M
        );
        assert_eq!(
            daily_on(daily, &days, None, d("2026-12-10")).as_secs(),
            30 * M
        );
        let p = plan();
        // Plan week 2 (from 14 December): 30m, whatever the weekday.
        assert_eq!(
            daily_on(daily, &days, Some(&p), d("2026-12-18")).as_secs(),
            30 * M
        );
        // Before the plan's start the weekday holds.
        let later = Plan {
            start: d("2027-01-04"),
            ..p
        };
        assert_eq!(
            daily_on(daily, &days, Some(&later), d("2026-12-11")).as_secs(),
            45 * M
        );
    }

    proptest::proptest! {
        #[test]
        fn plan_steps_go_down_from_from_to_to(
            from in 1u64..100_000, to in 1u64..100_000, weeks in 1u32..=MAX_PLAN_WEEKS,
        ) {
            proptest::prop_assume!(to < from);
            let p = Plan {
                from: Duration::from_secs(from),
                to: Duration::from_secs(to),
                start: d("2026-12-07"),
                weeks,
            };
            let mut last = from;
            for w in 1..=weeks {
                let l = p.limit_of_week(w).as_secs();
                proptest::prop_assert!(l <= last && l >= to, "{w}: {l}");
                last = l;
            }
            proptest::prop_assert_eq!(p.limit_of_week(weeks).as_secs(), to);
        }
    }
}
