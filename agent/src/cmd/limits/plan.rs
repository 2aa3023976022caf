//! `dwell-agent limits plan --to 15m --weeks 4`: a gradual plan that steps
//! the daily limit down in equal weekly steps, from where the employee is
//! (the calibration suggestion from their own recorded days, or the limit in
//! force today) to their goal, written into the config file as
//! `[limits.plan]` with `toml_edit` (their comments stay); `--off` takes it
//! away. What a plan means for each day is `dwell_core::limits`'s.

use std::path::Path;

use anyhow::Result;
use chrono::{DateTime, Local, NaiveDate, Utc};
use dwell_core::limits::{Plan, MAX_PLAN_WEEKS};
use dwell_core::{config::parse_duration, Config};
use toml_edit::{DocumentMut, Item, Table, Value};

use crate::cmd::setup::{fmt_duration, write_config};
use crate::cmd::{config_to_edit, data_dir, load_config, refused, Global};
use crate::words::fmt_minutes;

/// `limits plan`'s options.
#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    /// Your goal: the daily limit to reach, e.g. "15m".
    #[arg(long, required_unless_present = "off")]
    pub to: Option<String>,
    /// Over how many weeks, in equal weekly steps.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PLAN_WEEKS)))]
    pub weeks: u32,
    /// Where to start from (default: the suggestion from your recorded days, or your limit today).
    #[arg(long)]
    pub from: Option<String>,
    /// Do not ask: write the plan.
    #[arg(long)]
    pub yes: bool,
    /// Remove the plan: your daily limit is limits.daily again.
    #[arg(long, conflicts_with_all = ["to", "from"])]
    pub off: bool,
}

/// `limits plan` at `now`.
pub fn plan_at(cli: &Global, args: &PlanArgs, now: DateTime<Utc>) -> Result<()> {
    let (path, existing) = config_to_edit(cli)?;
    let base = existing.as_deref().unwrap_or(Config::example());
    if args.off {
        let Some(text) = without_plan(base, &path)? else {
            println!("There is no plan in {} to remove.", path.display());
            return Ok(());
        };
        write_config(&path, &text)?;
        println!(
            "The plan is removed: your daily limit is limits.daily again ({}){}.",
            path.display(),
            told(cli)
        );
        return Ok(());
    }
    let config = load_config(cli)?;
    let today = now.with_timezone(&Local).date_naive();
    let to = parse_duration(args.to.as_deref().unwrap_or_default()).map_err(refused)?;
    let from = match &args.from {
        Some(f) => parse_duration(f).map_err(refused)?,
        None => super::suggested_daily(cli, &config, today)?
            .unwrap_or_else(|| config.limits.daily_on(today)),
    };
    if to.is_zero() {
        return Err(refused("--to must be more than zero, e.g. \"15m\""));
    }
    if from <= to {
        return Err(refused(format!(
            "your goal ({}) is not below where you are ({}): a plan steps down; choose a smaller --to, or set --from",
            fmt_minutes(to.as_secs_f64()),
            fmt_minutes(from.as_secs_f64())
        )));
    }
    let plan = Plan {
        from,
        to,
        start: today,
        weeks: args.weeks,
    };
    let text = with_plan(base, &plan, &path)?;
    println!("{}", steps(&plan));
    if !crate::ask::confirm_with(
        "Write this plan into your config?",
        args.yes,
        "No plan was written.",
    )? {
        return Ok(());
    }
    write_config(&path, &text)?;
    println!(
        "Your plan is in {}{}. `dwell-agent status` shows this week's step.",
        path.display(),
        told(cli)
    );
    Ok(())
}

fn told(cli: &Global) -> &'static str {
    match data_dir(cli).map(|d| crate::cmd::notify_agent(&d)) {
        Ok(crate::cmd::Told::Yes) => "; the running agent was told",
        _ => "",
    }
}

/// The plan in words, week by week.
fn steps(plan: &Plan) -> String {
    let mut out = format!(
        "From {} a day to {} a day over {} week(s), starting {}:",
        fmt_minutes(plan.from.as_secs_f64()),
        fmt_minutes(plan.to.as_secs_f64()),
        plan.weeks,
        plan.start.format("%a %-d %b")
    );
    for w in 1..=plan.weeks {
        let start = plan.start + chrono::Days::new(u64::from(w - 1) * 7);
        out.push_str(&format!(
            "\n  week {w} (from {}): {} a day",
            start.format("%a %-d %b"),
            fmt_minutes(plan.limit_of_week(w).as_secs_f64())
        ));
    }
    out
}

fn parse_doc(text: &str, path: &Path) -> Result<DocumentMut> {
    text.parse()
        .map_err(|e| refused(format!("{}: {e}", path.display())))
}

/// `text` with `[limits.plan]` set to `plan` (everything else as it was),
/// checked by [`Config::parse`].
pub fn with_plan(text: &str, plan: &Plan, path: &Path) -> Result<String> {
    let mut doc = parse_doc(text, path)?;
    let limits = doc
        .as_table_mut()
        .entry("limits")
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_mut()
        .ok_or_else(|| refused(format!("{}: [limits] is not a table", path.display())))?;
    let mut table = Table::new();
    table.insert("from", toml_edit::value(fmt_duration(plan.from)));
    table.insert("to", toml_edit::value(fmt_duration(plan.to)));
    table.insert("start", toml_edit::value(date_text(plan.start)));
    table.insert("weeks", toml_edit::value(i64::from(plan.weeks)));
    match limits.get_mut("plan").and_then(Item::as_table_mut) {
        // Keep the table's place and the comment above it.
        Some(old) => {
            for (k, v) in table.iter() {
                old.insert(k, v.clone());
            }
        }
        None => {
            limits.insert("plan", Item::Table(table));
        }
    }
    checked(doc.to_string(), path)
}

/// `text` without `[limits.plan]`, or `None` when it has none.
pub fn without_plan(text: &str, path: &Path) -> Result<Option<String>> {
    let mut doc = parse_doc(text, path)?;
    let removed = doc
        .get_mut("limits")
        .and_then(Item::as_table_like_mut)
        .and_then(|l| l.remove("plan"));
    if removed.is_none() {
        return Ok(None);
    }
    checked(doc.to_string(), path).map(Some)
}

fn checked(text: String, path: &Path) -> Result<String> {
    Config::parse(&text, path).map_err(|e| refused(format!("the plan cannot be written: {e}")))?;
    Ok(text)
}

fn date_text(d: NaiveDate) -> Value {
    Value::from(d.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn plan() -> Plan {
        Plan {
            from: Duration::from_secs(45 * 60),
            to: Duration::from_secs(15 * 60),
            start: "2026-12-07".parse().unwrap(),
            weeks: 4,
        }
    }

    #[test]
    fn the_plan_is_written_keeping_comments_and_taken_away() {
        let p = Path::new("c.toml");
        let mine =
            "# my limits\n[limits]\ndaily = \"40m\" # mine\n\n[reminders]\n# hush\nquiet = []\n";
        let with = with_plan(mine, &plan(), p).unwrap();
        assert!(
            with.contains("# my limits") && with.contains("# mine") && with.contains("# hush"),
            "{with}"
        );
        let c = Config::parse(&with, p).unwrap();
        assert_eq!(c.limits.plan, Some(plan()));
        // Again: replaced, not added.
        let again = with_plan(&with, &Plan { weeks: 2, ..plan() }, p).unwrap();
        assert_eq!(again.matches("[limits.plan]").count(), 1, "{again}");
        assert_eq!(
            Config::parse(&again, p).unwrap().limits.plan.unwrap().weeks,
            2
        );
        let off = without_plan(&again, p).unwrap().unwrap();
        assert!(Config::parse(&off, p).unwrap().limits.plan.is_none());
        assert!(off.contains("# mine"), "{off}");
        assert_eq!(without_plan(&off, p).unwrap(), None);
        // Into the commented example (no config file yet).
        let ex = with_plan(Config::example(), &plan(), p).unwrap();
        assert_eq!(Config::parse(&ex, p).unwrap().limits.plan, Some(plan()));
    }

    #[test]
    fn the_steps_read_week_by_week() {
        let s = steps(&plan());
        assert!(
            s.starts_with("From 45m a day to 15m a day over 4 week(s), starting Mon 7 Dec:"),
            "{s}"
        );
        assert!(s.contains("week 2 (from Mon 14 Dec): 30m a day"), "{s}");
        assert!(s.contains("week 4 (from Mon 28 Dec): 15m a day"), "{s}");
    }
}
