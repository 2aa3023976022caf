//! `dwell-agent export`: the employee's data taken away in an open format,
//! JSON or CSV (0600 when written to a file), times with milliseconds.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{DateTime, Local, SecondsFormat, TimeZone, Utc};
use clap::{Args, ValueEnum};
use dwell_core::model::ReminderRecord;
use dwell_core::{Source, Span, Store};
use serde::Serialize;

use super::{data_dir, refused, write_private, Global};

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
        Source::Windows => "windows",
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

pub fn export(cli: &Global, args: &ExportArgs) -> Result<()> {
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
            dwell_core::files::to_stdout(&text).context("cannot write to standard output")?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use dwell_core::Activity;

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
