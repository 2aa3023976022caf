//! `dwell-agent forget` and `export`: the employee's data, erased for good or
//! taken away in an open format.
//!
//! `forget` deletes rows, drops labels no longer used and compacts the database
//! (VACUUM, WAL truncated) so nothing forgotten stays in the files.
//! `export` writes JSON or CSV (0600 when written to a file).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Local, NaiveDate, SecondsFormat, TimeZone, Utc};
use clap::{ArgGroup, Args, ValueEnum};
use dwell_core::model::ReminderRecord;
use dwell_core::{schedule, Source, Span, Store};
use serde::Serialize;

use crate::cli::{data_dir, refused, Cli};

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("what").required(true).args(["from", "site", "all"])))]
pub struct ForgetArgs {
    /// First day to forget (YYYY-MM-DD, "today" or "yesterday"; local time).
    #[arg(long, value_name = "DATE", requires = "to")]
    pub from: Option<String>,
    /// Last day to forget, included.
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Csv,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write to this file (created 0600) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
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

pub fn forget(cli: &Cli, args: &ForgetArgs) -> Result<()> {
    let dir = data_dir(cli)?;
    let today = Local::now().date_naive();
    // Check the arguments before touching anything.
    let range = match (&args.from, &args.to) {
        (Some(f), Some(t)) => {
            let from = parse_date(f, today).map_err(refused)?;
            let to = parse_date(t, today).map_err(refused)?;
            check_range(from, to, today).map_err(refused)?;
            Some((from, to))
        }
        _ => None,
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
                format!("known sites: {}", labels.join(", "))
            };
            return Err(refused(format!(
                "no site \"{site}\" in your data ({known})"
            )));
        };
        let mut store = store.context("the database vanished")?;
        let (count, secs) = store
            .spans(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC)
            .context("cannot read your data")?
            .iter()
            .filter(|s| s.activity.site() == Some(label.as_str()))
            .fold((0, 0.0), |(n, t), s| (n + 1, t + s.seconds()));
        let what = format!(
            "This deletes every span of {label} ({count} span(s), {}) for good.",
            crate::cli::fmt_minutes(secs)
        );
        if !crate::ask::confirm(&what, args.yes)? {
            return Ok(());
        }
        let n = store
            .forget_site(&label, Utc::now())
            .context("cannot forget the site")?
            .unwrap_or(0);
        println!("Forgot {label}: {n} span(s) deleted for good, and the database compacted.");
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
            .forget_range(start, end, Utc::now())
            .context("cannot forget that range")?;
        println!(
            "Forgot {from} to {to}: {n} span(s) deleted for good, and the database compacted."
        );
    } else {
        let what = "This deletes everything recorded (every span and reminder) for good; your consent and settings are kept.";
        if !crate::ask::confirm(what, args.yes)? {
            return Ok(());
        }
        store
            .erase_spans(Utc::now())
            .context("cannot erase your data")?;
        println!("Forgot everything recorded; the database is compacted. Your consent and settings are kept (`dwell-agent disable --erase` removes those too).");
    }
    tell_agent(&dir);
    Ok(())
}

/// A running agent still holds the open span in memory: ask it to drop what
/// was forgotten now rather than at its next checkpoint (it would anyway).
fn tell_agent(dir: &Path) {
    use crate::control::{notify_agent, told_note, Told};
    let told = notify_agent(dir);
    if told == Told::NotListening {
        println!("{}", told_note(told).unwrap_or_default());
    }
}

// ---------------------------------------------------------------------------

#[derive(Serialize, Debug, PartialEq)]
pub struct SpanRow {
    pub start: String,
    pub end: String,
    pub seconds: f64,
    pub site: String,
    pub source: &'static str,
}

#[derive(Serialize, Debug, PartialEq)]
pub struct ReminderRow {
    pub at: String,
    pub kind: String,
    pub outcome: String,
    pub left_social: Option<bool>,
    pub message: Option<String>,
}

#[derive(Serialize, Debug)]
pub struct Export {
    pub exported_at: String,
    pub spans: Vec<SpanRow>,
    pub reminders: Vec<ReminderRow>,
}

fn rfc3339<Tz: TimeZone>(t: DateTime<Utc>, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    t.with_timezone(tz)
        .to_rfc3339_opts(SecondsFormat::Millis, false)
}

fn source_name(s: Source) -> &'static str {
    match s {
        Source::X11 => "x11",
        Source::Extension => "extension",
        Source::Demo => "demo",
        Source::Wayland => "wayland",
    }
}

/// The export of `spans` and `reminders`, times in `tz`.
pub fn build_export<Tz: TimeZone>(
    spans: &[Span],
    reminders: &[ReminderRecord],
    now: DateTime<Utc>,
    tz: &Tz,
) -> Export
where
    Tz::Offset: std::fmt::Display,
{
    Export {
        exported_at: rfc3339(now, tz),
        spans: spans
            .iter()
            .map(|s| SpanRow {
                start: rfc3339(s.start, tz),
                end: rfc3339(s.end, tz),
                seconds: (s.seconds() * 1000.0).round() / 1000.0,
                site: s.activity.site().unwrap_or("other").to_owned(),
                source: source_name(s.source),
            })
            .collect(),
        reminders: reminders
            .iter()
            .map(|r| ReminderRow {
                at: rfc3339(r.at, tz),
                kind: r.kind.clone(),
                outcome: r.outcome.clone(),
                left_social: r.left_social,
                message: r.message.clone(),
            })
            .collect(),
    }
}

/// CSV: one row per span and per reminder; `record` says which.
pub fn to_csv(e: &Export) -> String {
    let mut csv = dwell_core::text::Csv::new(&[
        "record",
        "start",
        "end",
        "seconds",
        "site",
        "source",
        "kind",
        "outcome",
        "left_social",
        "message",
    ]);
    for s in &e.spans {
        csv.row([
            "span",
            &s.start,
            &s.end,
            &s.seconds.to_string(),
            &s.site,
            s.source,
            "",
            "",
            "",
            "",
        ]);
    }
    for r in &e.reminders {
        let left = match r.left_social {
            Some(true) => "true",
            Some(false) => "false",
            None => "",
        };
        csv.row([
            "reminder",
            &r.at,
            "",
            "",
            "",
            "",
            &r.kind,
            &r.outcome,
            left,
            r.message.as_deref().unwrap_or(""),
        ]);
    }
    csv.finish()
}

/// [`dwell_core::files::write_private`] (0600, whole or not at all), for anyhow code.
pub fn write_private(path: &Path, text: impl AsRef<[u8]>) -> Result<()> {
    Ok(dwell_core::files::write_private(path, text)?)
}

/// [`dwell_core::files::write_atomic`] (whole or not at all), for anyhow code.
pub fn write_atomic(path: &Path, text: impl AsRef<[u8]>, mode: u32) -> Result<()> {
    Ok(dwell_core::files::write_atomic(path, text, mode)?)
}

pub fn export(cli: &Cli, args: &ExportArgs) -> Result<()> {
    let dir = data_dir(cli)?;
    if let Some(out) = &args.output {
        if out.is_dir() {
            return Err(refused(format!(
                "{} is a directory: give a file name, like {}/dwell.{}",
                out.display(),
                out.display(),
                if args.format == Format::Csv {
                    "csv"
                } else {
                    "json"
                }
            )));
        }
    }
    let (spans, reminders) = match Store::open_existing(&dir)? {
        Some(store) => {
            let from = DateTime::<Utc>::UNIX_EPOCH;
            let to = Utc::now() + chrono::Duration::days(366 * 100);
            (store.spans(from, to)?, store.reminders(from, to)?)
        }
        None => (Vec::new(), Vec::new()),
    };
    let e = build_export(&spans, &reminders, Utc::now(), &Local);
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&e)? + "\n",
        Format::Csv => to_csv(&e),
    };
    match &args.output {
        Some(path) => {
            write_private(path, &text)?;
            eprintln!(
                "Exported {} span(s) and {} reminder(s) to {} (readable by you only).",
                e.spans.len(),
                e.reminders.len(),
                path.display()
            );
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .context("cannot write to standard output")?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use dwell_core::Activity;

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

    #[test]
    fn export_rows_and_csv() {
        let t = |s: i64| Utc.timestamp_opt(1_764_000_000 + s, 0).unwrap();
        let spans = vec![
            Span {
                start: t(0),
                end: t(90),
                activity: Activity::Social("we,ird\"site".into()),
                source: Source::X11,
            },
            Span {
                start: t(90),
                end: t(100),
                activity: Activity::Other,
                source: Source::Demo,
            },
        ];
        let reminders = vec![ReminderRecord {
            at: t(50),
            kind: "stage".into(),
            outcome: "shown".into(),
            left_social: Some(true),
            message: Some("en-time-03".into()),
        }];
        let e = build_export(&spans, &reminders, t(200), &Utc);
        assert_eq!(e.spans[0].start, "2025-11-24T16:00:00.000+00:00");
        assert_eq!(e.spans[0].seconds, 90.0);
        assert_eq!(e.spans[1].site, "other");
        assert_eq!(e.spans[1].source, "demo");
        let csv = to_csv(&e);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("record,start,end,seconds,site"));
        assert_eq!(
            lines[1],
            "span,2025-11-24T16:00:00.000+00:00,2025-11-24T16:01:30.000+00:00,90,\"we,ird\"\"site\",x11,,,,"
        );
        assert_eq!(
            lines[3],
            "reminder,2025-11-24T16:00:50.000+00:00,,,,,stage,shown,true,en-time-03"
        );
        for l in &lines[1..] {
            // Every row has as many fields as the header (quoted commas aside).
            assert_eq!(l.replace("\"we,ird\"\"site\"", "x").matches(',').count(), 9);
        }
    }
}
