//! `dwell-agent forget`: the employee's data erased for good. It deletes rows,
//! drops labels no longer used and compacts the database (VACUUM, WAL
//! truncated) so nothing forgotten stays in the files; on a terminal, `--site`
//! and `--all` say what they delete and ask first.

use dwell_core::text::for_terminal;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Local, NaiveDate, Utc};
use clap::{ArgGroup, Args};
use dwell_core::{schedule, Store};

use super::{data_dir, refused, Global};

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("what").required(true).args(["from", "site", "all"])))]
pub struct ForgetArgs {
    /// First day to forget (YYYY-MM-DD, "today", "yesterday" or a weekday
    /// name, the most recent one; local time).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last day to forget, included [default: today].
    #[arg(long, value_name = "DATE", requires = "from")]
    pub to: Option<String>,
    /// Forget every span of this site or app label (as shown by `dwell-report`).
    #[arg(long, value_name = "SITE", conflicts_with_all = ["from", "all"])]
    pub site: Option<String>,
    /// Forget everything recorded (consent and settings are kept).
    #[arg(long, conflicts_with_all = ["from", "site"])]
    pub all: bool,
    /// Do not ask first (on a terminal, `--site` and `--all` say what they
    /// delete and ask).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

pub use dwell_core::schedule::parse_date;

/// Checks a `--from`/`--to` range against `today`.
pub fn check_range(from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if from > to {
        return Err(format!(
            "--from {from} is after --to {to}: give the earlier day first"
        ));
    }
    if from > today {
        return Err(format!(
            "{from} to {to} is in the future: nothing has been recorded then"
        ));
    }
    Ok(())
}

pub fn forget(cli: &Global, args: &ForgetArgs) -> Result<()> {
    forget_at(cli, args, Utc::now())
}

/// `forget` at `now`: dates are read against its local day.
pub fn forget_at(cli: &Global, args: &ForgetArgs, now: DateTime<Utc>) -> Result<()> {
    let dir = data_dir(cli)?;
    let today = now.with_timezone(&Local).date_naive();
    // Check the arguments before touching anything.
    let range = match &args.from {
        Some(f) => {
            let from = parse_date(f, today).map_err(refused)?;
            let to = match &args.to {
                Some(t) => parse_date(t, today).map_err(refused)?,
                None => today,
            };
            check_range(from, to, today).map_err(refused)?;
            Some((from, to))
        }
        None => None,
    };
    let store = Store::open_existing(&dir)?;
    if let Some(site) = &args.site {
        let labels = match &store {
            Some(s) => s.site_labels()?,
            None => Vec::new(),
        };
        let Some(label) = labels
            .iter()
            .find(|l| *l == site)
            .or_else(|| labels.iter().find(|l| l.eq_ignore_ascii_case(site)))
            .cloned()
        else {
            let known = if labels.is_empty() {
                "none has been recorded".to_owned()
            } else {
                let shown: Vec<String> = labels.iter().map(|l| for_terminal(l)).collect();
                format!("known sites: {}", shown.join(", "))
            };
            return Err(refused(format!(
                "no site \"{}\" in your data ({known})",
                for_terminal(site)
            )));
        };
        let mut store = store.context("the database vanished")?;
        let (count, secs) = store
            .spans(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC)
            .context("cannot read your data")?
            .iter()
            .filter(|s| s.activity.site() == Some(label.as_str()))
            .fold((0, 0.0), |(n, t), s| (n + 1, t + s.seconds()));
        let shown = for_terminal(&label);
        let what = format!(
            "This deletes every span of {shown} ({count} span(s), {}) for good.",
            crate::cmd::fmt_minutes(secs)
        );
        if !crate::ask::confirm(&what, args.yes)? {
            return Ok(());
        }
        let n = store
            .forget_site(&label, now)
            .context("cannot forget the site")?
            .unwrap_or(0);
        println!("Forgot {shown}: {n} span(s) deleted for good, and the database compacted.");
        tell_agent(&dir);
        return Ok(());
    }
    let Some(mut store) = store else {
        println!(
            "Nothing recorded here ({}): nothing to forget.",
            dir.display()
        );
        return Ok(());
    };
    if let Some((from, to)) = range {
        let (start, _) = schedule::local_day_bounds(from, &Local);
        let (_, end) = schedule::local_day_bounds(to, &Local);
        let n = store
            .forget_range(start, end, now)
            .context("cannot forget that range")?;
        println!(
            "Forgot {from} to {to}: {n} span(s) deleted for good, and the database compacted."
        );
    } else {
        let what = "This deletes everything recorded (every span and reminder) for good; your consent and settings are kept.";
        if !crate::ask::confirm(what, args.yes)? {
            return Ok(());
        }
        store.erase_spans(now).context("cannot erase your data")?;
        println!("Forgot everything recorded; the database is compacted. Your consent and settings are kept (`dwell-agent disable --erase` removes those too).");
    }
    tell_agent(&dir);
    Ok(())
}

/// A running agent still holds the open span in memory: ask it to drop what
/// was forgotten now rather than at its next checkpoint (it would anyway).
fn tell_agent(dir: &Path) {
    use crate::cmd::{notify_agent, told_note, Told};
    let told = notify_agent(dir);
    if told == Told::NotListening {
        println!("{}", told_note(told).unwrap_or_default());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn dates_and_ranges() {
        let today = d("2026-11-25");
        assert_eq!(parse_date("today", today), Ok(today));
        assert_eq!(parse_date("yesterday", today), Ok(d("2026-11-24")));
        assert_eq!(parse_date("2026-11-01", today), Ok(d("2026-11-01")));
        assert!(parse_date("1/11/2026", today)
            .unwrap_err()
            .contains("1/11/2026"));
        assert!(check_range(d("2026-11-01"), d("2026-11-25"), today).is_ok());
        assert!(check_range(d("2026-11-01"), d("2026-12-25"), today).is_ok());
        assert!(check_range(d("2026-11-26"), d("2026-11-27"), today)
            .unwrap_err()
            .contains("future"));
        assert!(check_range(d("2026-11-20"), d("2026-11-10"), today)
            .unwrap_err()
            .contains("after"));
    }

    /// `forget --from <weekday>` alone, at an injected moment: from that day
    /// (the most recent one) to today, nothing before.
    #[test]
    fn from_alone_runs_to_the_injected_today() {
        use chrono::TimeZone;
        let tmp = tempfile::tempdir().unwrap();
        let g = Global {
            data_dir: Some(tmp.path().join("data")),
            config: Some(tmp.path().join("none.toml")),
        };
        let at = |day, h| {
            Local
                .with_ymd_and_hms(2026, 11, day, h, 0, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        let span = |day| dwell_core::Span {
            start: at(day, 10),
            end: at(day, 11),
            activity: dwell_core::Activity::Social(format!("day{day}.example")),
            source: dwell_core::Source::X11,
        };
        let mut store = Store::open(&tmp.path().join("data")).unwrap();
        store.set_consent(at(20, 9)).unwrap();
        // Mon 23 .. Wed 25 November 2026.
        store.put_spans(&[span(23), span(24), span(25)]).unwrap();
        drop(store);
        let args = ForgetArgs {
            from: Some("tue".into()),
            to: None,
            site: None,
            all: false,
            yes: true,
        };
        // "Now" is Wednesday 25th at noon: Tuesday and today go.
        forget_at(&g, &args, at(25, 12)).unwrap();
        let store = Store::open_read_only(&tmp.path().join("data/dwell.db")).unwrap();
        assert_eq!(store.site_labels().unwrap(), ["day23.example"]);
    }
}
