//! The report's part of limits that fit a person (`[limits.sites]`,
//! `[limits.plan]`, the pause page's breath): each limited site against its
//! own daily limit with the days it went over, this week's step of the plan
//! and how the week went against it, and how often the pause page ended in
//! Continue or Close. Figures come from the report's own days (the usage
//! ledger's) and stored reminders, so they agree with the rest of the report;
//! what a day's limit is comes from `dwell_core::limits`.

use std::time::Duration;

use chrono::NaiveDate;
use dwell_core::config::Limits;
use dwell_core::model::ReminderRecord;
use serde::Serialize;

/// What the report says of one day, as this module needs it.
pub struct DayFigures<'a> {
    pub date: NaiveDate,
    /// Over that day's own limit.
    pub over: bool,
    /// The day has recording hours.
    pub recorded: bool,
    /// Social seconds per site that day.
    pub sites: Vec<(&'a str, i64)>,
}

/// One site with a limit of its own, over the period.
#[derive(Debug, Serialize)]
pub struct SiteLimit {
    pub site: String,
    /// Its daily limit.
    pub limit_seconds: i64,
    /// Its social time in the period.
    pub seconds: i64,
    /// Days of the period on which it went over its limit.
    pub days_over: i64,
}

/// The plan's step in the period's last day (or today, if sooner), and how
/// the days of that plan week in the period went against it.
#[derive(Debug, Serialize)]
pub struct PlanWeek {
    /// 1-based; 0 before the plan starts.
    pub week: u32,
    pub weeks: u32,
    pub daily_limit_seconds: i64,
    pub to_seconds: i64,
    /// Days of that plan week in the period with recording hours.
    pub days: usize,
    /// Of those, the days over the step.
    pub days_over: usize,
}

/// The pause page's outcomes in the period.
#[derive(Debug, Serialize, Default)]
pub struct PausePage {
    pub shown: usize,
    /// Continue (after the breath, if there was one).
    pub continued: usize,
    pub closed: usize,
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Each limited site: its time in the period and the days over its limit.
/// `sites`: the period's social seconds per site.
pub fn site_limits(
    limits: &Limits,
    days: &[DayFigures<'_>],
    sites: &[(&str, i64)],
) -> Vec<SiteLimit> {
    limits
        .sites
        .iter()
        .map(|l| {
            let limit = secs(l.limit);
            let same = |s: &str| s.eq_ignore_ascii_case(&l.site);
            SiteLimit {
                site: l.site.clone(),
                limit_seconds: limit,
                seconds: sites.iter().filter(|s| same(s.0)).map(|s| s.1).sum(),
                days_over: days
                    .iter()
                    .filter(|d| d.sites.iter().any(|s| same(s.0) && s.1 > limit))
                    .count() as i64,
            }
        })
        .collect()
}

/// The plan week of `on` and how the period's days of that week went.
pub fn plan_week(limits: &Limits, days: &[DayFigures<'_>], on: NaiveDate) -> Option<PlanWeek> {
    let plan = limits.plan.as_ref()?;
    let step = limits.plan_step(on)?;
    let week = plan.week_of(on);
    let same_week: Vec<&DayFigures<'_>> = days
        .iter()
        .filter(|d| week > 0 && plan.week_of(d.date) == week && d.recorded)
        .collect();
    Some(PlanWeek {
        week: step.week,
        weeks: step.weeks,
        daily_limit_seconds: secs(step.daily),
        to_seconds: secs(step.to),
        days: same_week.len(),
        days_over: same_week.iter().filter(|d| d.over).count(),
    })
}

/// The pause page's outcomes among `reminders`; `None` when it never showed.
pub fn pause_page(reminders: &[ReminderRecord]) -> Option<PausePage> {
    let mut p = PausePage::default();
    for r in reminders.iter().filter(|r| r.kind == "pause_page") {
        p.shown += 1;
        match r.outcome.as_str() {
            "continued" => p.continued += 1,
            "closed" => p.closed += 1,
            _ => {}
        }
    }
    (p.shown > 0).then_some(p)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn rec(kind: &str, outcome: &str) -> ReminderRecord {
        ReminderRecord {
            at: Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap(),
            kind: kind.into(),
            outcome: outcome.into(),
            left_social: None,
            message: None,
        }
    }

    #[test]
    fn the_pause_pages_outcomes_are_counted_and_nothing_else() {
        assert!(pause_page(&[rec("stage", "shown")]).is_none());
        let p = pause_page(&[
            rec("pause_page", "continued"),
            rec("pause_page", "closed"),
            rec("pause_page", "closed"),
            rec("pause_page", "shown"),
            rec("over", "closed"),
        ])
        .unwrap();
        assert_eq!((p.shown, p.continued, p.closed), (4, 1, 2));
    }
}
