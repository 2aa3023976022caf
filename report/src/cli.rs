//! The `dwell-report` command line.
//!
//! Exit codes: 0 done, 1 something failed, 2 refused (bad input, no data,
//! a merge file that is not a dwell database): the one-line message says why.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::{DateTime, Local, Utc};
use clap::{Args, CommandFactory, Parser, Subcommand};
use dwell_cli::refused;
use dwell_core::{Config, Store};

use crate::aggregate;
use crate::period::Period;
use crate::query::Sources;
use crate::render::{self, Format};
use crate::text::Lang;
use dwell_core::schedule::parse_date;

#[derive(Parser, Debug)]
#[command(
    name = "dwell-report",
    version,
    about = "Your week of social time at work, for your own review. Private: nothing leaves this computer.",
    long_about = None
)]
pub struct Cli {
    #[command(flatten)]
    global: dwell_cli::Global,
    /// Pretend the current time is this (RFC 3339), for reproducible reports.
    #[arg(
        long,
        global = true,
        env = "DWELL_NOW",
        value_name = "TIME",
        hide = true
    )]
    now: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// A week (this ISO week by default), or a range of dates.
    Week {
        #[command(flatten)]
        select: WeekSelect,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// One day (today by default).
    Day {
        /// The day: YYYY-MM-DD, "today", "yesterday" or a weekday name (the most recent one).
        date: Option<String>,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Keep a short reflection for this week; reports show it, and next week's too.
    Note {
        /// The note (up to 500 characters).
        text: String,
        /// The ISO week it is about [default: this week].
        #[arg(long, value_name = "YYYY-Www")]
        week: Option<String>,
    },
    /// Fill the data directory with a synthetic history to try dwell out.
    Demo {
        /// How many full weeks before this one (this week so far is added).
        #[arg(long, default_value_t = 8, value_name = "N")]
        weeks: u32,
        /// Seed of the generator: the same seed and date give the same data.
        #[arg(long, default_value_t = 1, value_name = "S")]
        seed: u64,
        /// Erase real recorded data in the data directory first.
        #[arg(long)]
        force: bool,
        /// Focus switches in a work day [default: about 1,500]; 4,000 makes a
        /// dense year for benchmarks.
        #[arg(long, value_name = "S")]
        switches_per_day: Option<u32>,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard output.
    Completions(dwell_clidoc::CompletionsArgs),
    /// For packaging: write man pages and completions into --out.
    #[command(hide = true)]
    GenerateAssets(dwell_clidoc::GenerateAssetsArgs),
}

#[derive(Args, Debug)]
struct WeekSelect {
    /// The ISO week, like 2026-W48.
    #[arg(long, value_name = "YYYY-Www", conflicts_with_all = ["last", "from", "to"])]
    week: Option<String>,
    /// Last week.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    last: bool,
    /// First day of a range: YYYY-MM-DD, "today", "yesterday" or a weekday name.
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Last day of the range, written the same way [default: today].
    #[arg(long, value_name = "DATE", requires = "from")]
    to: Option<String>,
}

#[derive(Args, Debug)]
struct OutputArgs {
    /// Output format [default: table; html with --open].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Same as --format json.
    #[arg(long)]
    json: bool,
    /// Write the report to FILE (private: 0600) instead of the terminal.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Open the written report with the desktop's default program.
    #[arg(long)]
    open: bool,
    /// Add another computer's dwell database (read-only); repeatable.
    #[arg(long, value_name = "DB")]
    merge: Vec<PathBuf>,
}

impl OutputArgs {
    fn format(&self) -> Format {
        match (self.json, self.format, self.open) {
            (true, _, _) => Format::Json,
            (false, Some(format), _) => format,
            // Opened, a report is a page.
            (false, None, true) => Format::Html,
            (false, None, false) => Format::Table,
        }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dwell-report: {}", dwell_core::exit::one_line(e.chain()));
            ExitCode::from(dwell_core::exit::code(e.chain()))
        }
    }
}

fn data_dir(cli: &Cli) -> Result<PathBuf> {
    Ok(cli.global.data_dir()?)
}

/// Loads the config: the file when it exists, else the built-in defaults.
fn load_config(cli: &Cli) -> Result<Config> {
    Ok(cli.global.load_config()?)
}

fn now(cli: &Cli) -> Result<DateTime<Utc>> {
    match &cli.now {
        None => Ok(Utc::now()),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                refused(format!(
                    "DWELL_NOW \"{s}\": expected a time like 2026-11-25T12:00:00Z"
                ))
            }),
    }
}

fn lang(config: &Config) -> Lang {
    Lang::resolve(&config.reminders.language, |k| std::env::var(k).ok())
}

/// The terminal table's width: the terminal's columns when standard output is
/// one, else `COLUMNS`, else 80; always within 60..=80.
fn table_width() -> usize {
    let columns = crate::platform::terminal_columns();
    render::table::fit_width(columns, std::env::var("COLUMNS").ok().as_deref())
}

fn dispatch(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Week { select, out } => {
            let today = now(&cli)?.with_timezone(&Local).date_naive();
            let week_start = load_config(&cli)?.week_start;
            let period = if let Some(w) = &select.week {
                Period::parse_week(w, week_start)
            } else if select.last {
                Period::week_of(today - chrono::TimeDelta::days(7), week_start)
            } else if let Some(f) = &select.from {
                Period::range(f, select.to.as_deref(), today)
            } else {
                Period::week_of(today, week_start)
            }
            .map_err(refused)?;
            report(&cli, &period, out)
        }
        Command::Day { date, out } => {
            let today = now(&cli)?.with_timezone(&Local).date_naive();
            let day = match date {
                Some(d) => parse_date(d, today).map_err(refused)?,
                None => today,
            };
            report(&cli, &Period::day(day), out)
        }
        Command::Note { text, week } => note(&cli, text, week.as_deref()),
        Command::Demo {
            weeks,
            seed,
            force,
            switches_per_day,
        } => demo(&cli, *weeks, *seed, *force, *switches_per_day),
        Command::Completions(args) => crate::assets::completions(Cli::command(), args),
        Command::GenerateAssets(args) => crate::assets::generate(Cli::command(), args),
    }
}

/// Longest reflection note, in characters.
const NOTE_MAX: usize = 500;

fn note(cli: &Cli, text: &str, week: Option<&str>) -> Result<()> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return Err(refused("the note is empty: write it in quotes, like dwell-report note \"Less scrolling after lunch\""));
    }
    if text.chars().any(char::is_control) {
        return Err(refused(
            "the note contains control characters (escape sequences, tabs, bells): write plain text",
        ));
    }
    if text.chars().count() > NOTE_MAX {
        return Err(refused(format!(
            "the note has {} characters: keep it under {NOTE_MAX}",
            text.chars().count()
        )));
    }
    let now = now(cli)?;
    let week_start = load_config(cli)?.week_start;
    let week = match week {
        Some(w) => Period::parse_week(w, week_start).map_err(refused)?,
        None => {
            Period::week_of(now.with_timezone(&Local).date_naive(), week_start).map_err(refused)?
        }
    };
    let label = week.week().unwrap_or_default().to_owned();
    let dir = data_dir(cli)?;
    let mut store = Store::open_existing(&dir)
        .map_err(|e| refused(format!("cannot open the dwell database: {e}")))?
        .ok_or_else(|| {
            refused(format!(
                "no dwell data in {}: notes go with recorded weeks; start with `dwell-agent enable`",
                dir.display()
            ))
        })?;
    store
        .put_note(&label, &text, now)
        .context("cannot store the note")?;
    println!("Kept your note for {label}. Reports of this week and the next one show it.");
    Ok(())
}

fn demo(
    cli: &Cli,
    weeks: u32,
    seed: u64,
    force: bool,
    switches_per_day: Option<u32>,
) -> Result<()> {
    let config = load_config(cli)?;
    let dir = data_dir(cli)?;
    let now = now(cli)?;
    let mut store = Store::open(&dir).map_err(|e| {
        refused(format!(
            "cannot open a dwell database in {}: {e}",
            dir.display()
        ))
    })?;
    // The rollups are kept in this zone as the days are written.
    store.keep_rollups(Local).map_err(|e| {
        refused(format!(
            "cannot prepare the dwell database in {}: {e}",
            dir.display()
        ))
    })?;
    let fr = lang(&config) == Lang::Fr;
    let opts = crate::demo::Options {
        weeks,
        seed,
        force,
        fr,
        switches_per_day,
    };
    let s = crate::demo::run(&mut store, &config, opts, now, &Local)?;
    println!(
        "Wrote demo data to {}: {} work days, {} focus switches, {} spans, {} reminders (seed {seed}).",
        dir.display(),
        s.days,
        s.switches,
        s.spans,
        s.reminders
    );
    println!("Nothing was recorded and recording was not enabled. Try: dwell-report --data-dir {} week --last", dir.display());
    Ok(())
}

fn report(cli: &Cli, period: &Period, out: &OutputArgs) -> Result<()> {
    let config = load_config(cli)?;
    let dir = data_dir(cli)?;
    // Opened from the desktop entry before opting in: a page that says how to
    // start, in the private runtime directory, rather than nothing at all.
    if out.open && out.output.is_none() && !dir.join(dwell_core::paths::DB_FILE).exists() {
        let lang = lang(&config);
        let page = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|d| d.is_absolute() && d.is_dir())
            .unwrap_or_else(std::env::temp_dir)
            .join("dwell-not-recording.html");
        write_private(&page, render::html::not_recording(lang).as_bytes())?;
        println!("Wrote {}", page.display());
        return crate::platform::open(&page);
    }
    let sources = Sources::open(&dir, &out.merge)?;
    for warning in sources.warnings() {
        eprintln!("dwell-report: {warning}");
    }
    let lang = lang(&config);
    let cx = aggregate::Context {
        config: &config,
        tz: &Local,
        now: now(cli)?,
        lang,
    };
    let report = aggregate::build(&cx, period, &sources)?;
    let format = out.format();
    let target = match (&out.output, out.open) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => Some(dir.join(format!(
            "report-{}.{}",
            period_file_word(period),
            format.extension()
        ))),
        (None, false) => None,
    };
    match target {
        None => {
            let color = format == Format::Table
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let width = if format == Format::Table {
                table_width()
            } else {
                render::table::WIDTH
            };
            let text = render::render(&report, lang, format, color, width);
            dwell_core::files::to_stdout(&text).context("cannot write the report")
        }
        Some(path) => {
            let text = render::render(&report, lang, format, false, render::table::WIDTH);
            write_private(&path, text.as_bytes())?;
            if out.open {
                println!("Wrote {}", path.display());
                crate::platform::open(&path)?;
            } else {
                eprintln!("dwell-report: wrote {}", path.display());
            }
            Ok(())
        }
    }
}

/// The word naming what `--open` writes, so that a day's report does not
/// overwrite the week's (`report-week.html`, `report-day.html`).
fn period_file_word(period: &Period) -> &'static str {
    match period.kind {
        crate::period::Kind::Week(_) => "week",
        crate::period::Kind::Range => "range",
        crate::period::Kind::Day => "day",
    }
}

/// Writes `bytes` to `path`, readable by the owner only (0600), whole or not
/// at all (`dwell_core::files`); a failure is refused (exit 2).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    dwell_core::files::write_private(path, bytes).map_err(|e| refused(e.to_string()))
}
