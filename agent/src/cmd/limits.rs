//! `dwell-agent limits suggest`: a daily budget from the employee's own
//! recorded workdays (the maths is `dwell_core::calibrate`), with the numbers
//! behind it; `--apply` writes it into the config file. `limits plan` (in
//! [`plan`]): a gradual plan from there to a goal.

mod plan;

use anyhow::Result;
use chrono::{DateTime, Datelike, Local, NaiveDate, TimeZone, Utc};
use clap::Subcommand;
use dwell_core::calibrate::{self, Suggestion};
use dwell_core::ledger;
use dwell_core::paths::DB_FILE;
use dwell_core::{schedule, Config, Store};
use serde::Serialize;

use super::{config_to_edit, data_dir, load_config, refused, Global};
use crate::cmd::setup::{fmt_duration, save_config, Answers};

#[derive(Subcommand, Debug)]
pub enum LimitsAction {
    /// Suggest a daily limit a little below your typical workday, with the numbers behind it.
    Suggest {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// How many days back to look (today not included).
        #[arg(long, default_value_t = 28, value_parser = clap::value_parser!(u32).range(1..=366))]
        days: u32,
        /// Write the suggestion into your config file as `[limits] daily`.
        #[arg(long)]
        apply: bool,
    },
    /// A gradual plan: step your daily limit down each week to a goal (e.g. --to 15m --weeks 4).
    Plan(plan::PlanArgs),
}

#[derive(Serialize, Debug)]
struct Report {
    days_looked_at: u32,
    days_used: usize,
    needed_days: usize,
    enough_data: bool,
    median_seconds: Option<f64>,
    min_seconds: Option<f64>,
    max_seconds: Option<f64>,
    suggested_daily_seconds: Option<u64>,
    suggested_daily: Option<String>,
    current_daily_seconds: u64,
    calibrating_until: Option<String>,
    /// Without enough data: the first day a suggestion can be made, if dwell
    /// records each work day from today (`YYYY-MM-DD`).
    ready_on: Option<String>,
}

/// The first day on which `need` more work days (today included, if it is
/// one) will be complete; `None` when the week has no work day.
fn ready_on(today: NaiveDate, need: usize, work_days: &[bool; 7]) -> Option<NaiveDate> {
    if need == 0 {
        return Some(today);
    }
    let mut left = need;
    for ahead in 0..=(7 * need as u64) {
        let day = today.checked_add_days(chrono::Days::new(ahead))?;
        if work_days[day.weekday().num_days_from_monday() as usize] {
            left -= 1;
            if left == 0 {
                return day.succ_opt();
            }
        }
    }
    None
}

use crate::words::fmt_minutes as minutes;

pub fn limits(cli: &Global, action: &LimitsAction) -> Result<()> {
    limits_at(cli, action, Utc::now())
}

/// `limits suggest` at `now`: the work days before its local day.
pub fn limits_at(cli: &Global, action: &LimitsAction, now: DateTime<Utc>) -> Result<()> {
    let (json, days, apply) = match action {
        LimitsAction::Suggest { json, days, apply } => (json, days, apply),
        LimitsAction::Plan(args) => return plan::plan_at(cli, args, now),
    };
    let dir = data_dir(cli)?;
    let config = load_config(cli)?;
    let today = now.with_timezone(&Local).date_naive();
    let db = dir.join(DB_FILE);
    let (totals, consent) = if db.exists() {
        let store = Store::open_read_only(&db)?;
        let totals = workday_totals(&store, &config, today, *days, &Local)?;
        (totals, store.consent()?)
    } else {
        (Vec::new(), None)
    };
    let seconds: Vec<f64> = totals.iter().map(|(_, s)| *s).collect();
    let result = calibrate::suggest_daily(&seconds);
    let calibrating_until = calibrate::calibrating_until(consent, config.tracking.calibrate, now);
    let s = result.as_ref().ok();
    let report = Report {
        days_looked_at: *days,
        days_used: seconds.len(),
        needed_days: calibrate::MIN_DAYS,
        enough_data: s.is_some(),
        median_seconds: s.map(|s| s.median_seconds.round()),
        min_seconds: s.map(|s| s.min_seconds.round()),
        max_seconds: s.map(|s| s.max_seconds.round()),
        suggested_daily_seconds: s.map(|s| s.daily.as_secs()),
        suggested_daily: s.map(|s| fmt_duration(s.daily)),
        current_daily_seconds: config.limits.daily.as_secs(),
        calibrating_until: calibrating_until.map(crate::cmd::local_rfc3339),
        ready_on: match s {
            Some(_) => None,
            None => ready_on(
                today,
                calibrate::MIN_DAYS.saturating_sub(seconds.len()),
                &config.schedule.work_days,
            )
            .map(|d| d.to_string()),
        },
    };
    if *json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, s, &config);
    }
    if *apply {
        let Some(s) = s else {
            return Err(refused(
                "no suggestion to apply yet: dwell needs more recorded work days",
            ));
        };
        apply_daily(cli, &config, s)?;
    }
    Ok(())
}

/// The daily limit the calibration suggests from the last four weeks, when
/// there is enough recorded data (for `limits plan`'s starting point).
fn suggested_daily(
    cli: &Global,
    config: &Config,
    today: NaiveDate,
) -> Result<Option<std::time::Duration>> {
    let db = data_dir(cli)?.join(DB_FILE);
    if !db.exists() {
        return Ok(None);
    }
    let store = Store::open_read_only(&db)?;
    let totals = workday_totals(&store, config, today, 28, &Local)?;
    let seconds: Vec<f64> = totals.iter().map(|(_, s)| *s).collect();
    Ok(calibrate::suggest_daily(&seconds).ok().map(|s| s.daily))
}

/// Social seconds of each work day with recorded time among the `days` days
/// before `today`, as the usage ledger counts them.
fn workday_totals<Tz: TimeZone>(
    store: &Store,
    config: &Config,
    today: NaiveDate,
    days: u32,
    tz: &Tz,
) -> Result<Vec<(NaiveDate, f64)>> {
    let dates: Vec<NaiveDate> = (1..=days)
        .rev()
        .filter_map(|back| today.checked_sub_days(chrono::Days::new(back.into())))
        .collect();
    let Some(first) = dates.first() else {
        return Ok(Vec::new());
    };
    let (from, _) = schedule::local_day_bounds(*first, tz);
    let (to, _) = schedule::local_day_bounds(today, tz);
    let spans = ledger::within(&store.spans(from, to)?, from, to);
    Ok(calibrate::workday_totals(
        &spans,
        &dates,
        &config.schedule.work_days,
        tz,
    ))
}

fn print_report(r: &Report, s: Option<&Suggestion>, config: &Config) {
    if let Some(until) = &r.calibrating_until {
        let until = chrono::DateTime::parse_from_rfc3339(until)
            .map(|t| t.format("%a %-d %b %H:%M").to_string())
            .unwrap_or_else(|_| until.clone());
        println!("Calibrating until {until}: dwell records without reminders until then.");
    }
    match s {
        None => {
            println!(
                "Not enough data yet: {} work day(s) with recorded time in the last {} days; at least {} are needed for a suggestion.",
                r.days_used, r.days_looked_at, r.needed_days
            );
            match r
                .ready_on
                .as_deref()
                .and_then(|d| d.parse::<NaiveDate>().ok())
            {
                Some(d) => println!(
                    "With dwell recording each work day from today, ask again on {}.",
                    d.format("%a %-d %b")
                ),
                None => println!("Keep dwell running through a normal week and ask again."),
            }
        }
        Some(s) => {
            println!(
                "From {} work day(s) with recorded time in the last {} days:",
                s.days_used, r.days_looked_at
            );
            println!(
                "  social time per work day: median {}, lowest {}, highest {}",
                minutes(s.median_seconds),
                minutes(s.min_seconds),
                minutes(s.max_seconds)
            );
            println!(
                "Suggested daily limit: {} (a little below your median; currently {}).",
                minutes(s.daily.as_secs_f64()),
                minutes(config.limits.daily.as_secs_f64())
            );
            println!("Accept it with `dwell-agent limits suggest --apply`, or choose your own with `dwell-agent setup`.");
        }
    }
}

fn apply_daily(cli: &Global, config: &Config, s: &Suggestion) -> Result<()> {
    let (path, existing) = config_to_edit(cli)?;
    let mut a = Answers::from_config(config, false);
    a.daily = s.daily;
    if a.weekly < a.daily {
        a.weekly = a.daily * 5;
    }
    save_config(existing.as_deref(), &a, &path)?;
    let dir = data_dir(cli)?;
    let told = crate::cmd::notify_agent(&dir);
    println!(
        "Your daily limit is now {} ({}){}.",
        fmt_duration(s.daily),
        path.display(),
        if told == crate::cmd::Told::Yes {
            "; the running agent was told"
        } else {
            ""
        }
    );
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use dwell_core::ledger::fixture;

    #[test]
    fn without_enough_days_it_says_when_a_suggestion_is_ready() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let weekdays = [true, true, true, true, true, false, false];
        // Tuesday 1 Dec 2026, 3 days needed: Tue, Wed, Thu complete on Friday.
        assert_eq!(
            ready_on(d("2026-12-01"), 3, &weekdays),
            Some(d("2026-12-04"))
        );
        // From a Saturday: Mon, Tue, Wed; ready on Thursday.
        assert_eq!(
            ready_on(d("2026-12-05"), 3, &weekdays),
            Some(d("2026-12-10"))
        );
        assert_eq!(
            ready_on(d("2026-12-05"), 0, &weekdays),
            Some(d("2026-12-05"))
        );
        assert_eq!(ready_on(d("2026-12-05"), 3, &[false; 7]), None);
    }

    /// `limits suggest` counts the stored fixture's days as everyone does.
    #[test]
    fn suggest_counts_the_fixture_like_everyone() {
        let tz: chrono_tz::Tz = fixture::ZONE.parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.put_spans(&fixture::spans()).unwrap();
        let next_monday = fixture::monday() + chrono::Days::new(7);
        let mut config = fixture::config_now();
        config.schedule.work_days = [true; 7];
        let got = workday_totals(&store, &config, next_monday, 7, &tz).unwrap();
        let days: Vec<(i64, i64)> = got
            .iter()
            .map(|(d, s)| ((*d - fixture::monday()).num_days(), *s as i64))
            .collect();
        let want: Vec<(i64, i64)> = fixture::DAY_SECONDS
            .iter()
            .enumerate()
            .filter(|(_, s)| **s > 0)
            .map(|(i, s)| (i as i64, *s))
            .collect();
        assert_eq!(days, want);
        // Today is not looked at; a day before the window is not either.
        let got = workday_totals(
            &store,
            &config,
            fixture::monday() + chrono::Days::new(6),
            5,
            &tz,
        );
        let dates: Vec<i64> = got
            .unwrap()
            .iter()
            .map(|(d, _)| (*d - fixture::monday()).num_days())
            .collect();
        assert_eq!(dates, [1, 5]);
    }
}
