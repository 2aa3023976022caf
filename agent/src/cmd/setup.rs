//! `dwell-agent setup [--yes]`: a walk-through in the terminal. It explains what
//! is and is not recorded, asks for consent and the employee's own limits and
//! hours, writes a commented config file (0600) and offers autostart.
//!
//! Re-running edits the existing file with `toml_edit`, so the employee's own
//! `[[rules]]`, messages and comments stay as they were. Every question has a
//! default (the current value); `--yes` takes them all.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use chrono::{Local, Utc};
use clap::Args;
use dwell_core::config::{parse_duration, LANGUAGES};
use dwell_core::schedule::{self, TimeRange};
use dwell_core::{Config, Store};
use toml_edit::{Array, DocumentMut, Item, Table, Value};

use super::{config_to_edit, data_dir, refused, Global, EXPLAIN};
use crate::cmd::install;
use crate::cmd::write_private;

/// Calibration period offered by setup.
pub const CALIBRATE: &str = "7d";
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Args, Debug)]
pub struct SetupArgs {
    /// Accept every default without asking (consent included), for scripts.
    #[arg(long)]
    pub yes: bool,
    /// With --yes: also start dwell at login (`dwell-agent install`).
    #[arg(long)]
    pub autostart: bool,
}

/// What setup asks.
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    pub daily: Duration,
    pub streak: Duration,
    pub weekly: Duration,
    pub work_days: Vec<String>,
    pub work_hours: Vec<String>,
    pub reminders: bool,
    /// `[reminders] pause_page`: the browser extension's calm page over the limit.
    pub pause_page: bool,
    /// `[reminders] pause_breath`: how long before the pause page's Continue works.
    pub pause_breath: Duration,
    pub language: String,
    pub calibrate: bool,
}

impl Answers {
    /// The current values of `config` as defaults. `fresh`: there is no file
    /// yet, so calibration is suggested.
    pub fn from_config(config: &Config, fresh: bool) -> Answers {
        Answers {
            daily: config.limits.daily,
            streak: config.limits.streak,
            weekly: config.limits.weekly,
            work_days: DAYS
                .iter()
                .zip(config.schedule.work_days)
                .filter(|(_, on)| *on)
                .map(|(d, _)| d.to_string())
                .collect(),
            work_hours: config
                .schedule
                .work_hours
                .iter()
                .map(TimeRange::to_string)
                .collect(),
            reminders: config.reminders.enabled,
            pause_page: config.reminders.pause_page,
            pause_breath: config.reminders.pause_breath,
            language: config.reminders.language.clone(),
            calibrate: fresh || config.tracking.calibrate.is_some(),
        }
    }
}

/// A duration as written in the config: `"2h30m"`, `"45s"`, `"7d"`.
pub fn fmt_duration(d: Duration) -> String {
    let mut s = d.as_secs();
    if s == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, len) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if s >= len {
            out.push_str(&format!("{}{unit}", s / len));
            s %= len;
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Editing the file.

fn set_value(doc: &mut DocumentMut, section: &str, key: &str, value: Value) -> Result<(), String> {
    let item = doc
        .as_table_mut()
        .entry(section)
        .or_insert_with(|| Item::Table(Table::new()));
    let table = item
        .as_table_like_mut()
        .ok_or_else(|| format!("[{section}] is not a table"))?;
    match table.get_mut(key) {
        Some(Item::Value(old)) => {
            let mut new = value;
            *new.decor_mut() = old.decor().clone();
            *old = new;
        }
        _ => {
            table.insert(key, Item::Value(value));
        }
    }
    Ok(())
}

fn str_array(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| s.as_str()).collect::<Array>())
}

/// Applies `a` to the config text `existing` (or, when `None`, to the commented
/// example), keeping everything else — comments, rules, messages — as it was.
/// The result is validated with [`Config::parse`].
pub fn edit_config(existing: Option<&str>, a: &Answers, path: &Path) -> Result<String, String> {
    let base = match existing {
        Some(t) => t.to_owned(),
        None if a.calibrate => Config::example().replacen(
            "# calibrate = \"7d\"",
            &format!("calibrate = \"{CALIBRATE}\""),
            1,
        ),
        None => Config::example().to_owned(),
    };
    let mut doc: DocumentMut = base
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let d = |d: Duration| Value::from(fmt_duration(d));
    set_value(&mut doc, "limits", "daily", d(a.daily))?;
    set_value(&mut doc, "limits", "streak", d(a.streak))?;
    set_value(&mut doc, "limits", "weekly", d(a.weekly))?;
    set_value(&mut doc, "schedule", "work_days", str_array(&a.work_days))?;
    set_value(&mut doc, "schedule", "work_hours", str_array(&a.work_hours))?;
    update_breaks_comment(&mut doc, &a.work_hours);
    set_value(&mut doc, "reminders", "enabled", Value::from(a.reminders))?;
    set_value(
        &mut doc,
        "reminders",
        "pause_page",
        Value::from(a.pause_page),
    )?;
    set_value(&mut doc, "reminders", "pause_breath", d(a.pause_breath))?;
    set_value(
        &mut doc,
        "reminders",
        "language",
        Value::from(a.language.as_str()),
    )?;
    let has_calibrate = doc
        .get("tracking")
        .and_then(|t| t.as_table_like())
        .is_some_and(|t| t.contains_key("calibrate"));
    if a.calibrate {
        let keep = doc
            .get("tracking")
            .and_then(|t| t.get("calibrate"))
            .and_then(|v| v.as_str())
            .filter(|v| !matches!(v.trim(), "" | "off" | "0"))
            .is_some();
        if !keep {
            set_value(&mut doc, "tracking", "calibrate", Value::from(CALIBRATE))?;
        }
    } else if has_calibrate {
        set_value(&mut doc, "tracking", "calibrate", Value::from("off"))?;
    }
    let text = doc.to_string();
    Config::parse(&text, path).map_err(|e| e.to_string())?;
    Ok(text)
}

/// The example's comment above `work_hours` names its lunch break: once the
/// hours change, it names the breaks the new hours leave. A comment of the
/// employee's own is left alone.
fn update_breaks_comment(doc: &mut DocumentMut, hours: &[String]) {
    let Some(table) = doc.get_mut("schedule").and_then(|t| t.as_table_like_mut()) else {
        return;
    };
    let Some(mut key) = table.key_mut("work_hours") else {
        return;
    };
    let decor = key.leaf_decor_mut();
    let Some(prefix) = decor.prefix().and_then(|p| p.as_str()).map(str::to_owned) else {
        return;
    };
    let ours = "# Local time ranges; leave gaps for breaks";
    let lines: Vec<String> = prefix
        .lines()
        .map(|l| {
            if l.trim_start().starts_with(ours) {
                super::advice::breaks_comment(hours)
            } else {
                l.to_owned()
            }
        })
        .collect();
    let mut text = lines.join("\n");
    if prefix.ends_with('\n') {
        text.push('\n');
    }
    decor.set_prefix(text);
}

/// Writes the config file whole (0600), through a symlink if it is one (a
/// dotfiles manager's link stays a link).
pub fn write_config(path: &Path, text: &str) -> Result<()> {
    let target = if path.is_symlink() {
        std::fs::canonicalize(path)
            .with_context(|| format!("cannot follow the link {}", path.display()))?
    } else {
        path.to_owned()
    };
    write_private(&target, text)
}

// ---------------------------------------------------------------------------
// Asking.

/// Questions on any reader and writer (the terminal, or a test's buffers).
pub struct Prompter<R, W> {
    input: R,
    output: W,
}

impl<R: BufRead, W: Write> Prompter<R, W> {
    pub fn new(input: R, output: W) -> Self {
        Prompter { input, output }
    }

    /// Asks until `parse` accepts the answer; an empty answer is `default`.
    pub fn ask<T>(
        &mut self,
        question: &str,
        default: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T> {
        self.ask_shown(question, default, default, parse)
    }

    fn ask_shown<T>(
        &mut self,
        question: &str,
        shown: &str,
        default: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T> {
        loop {
            write!(self.output, "{question} [{shown}] ")?;
            self.output.flush()?;
            let mut line = String::new();
            if self
                .input
                .read_line(&mut line)
                .context("cannot read your answer")?
                == 0
            {
                return Err(refused("no answer (end of input): nothing was changed"));
            }
            let answer = match line.trim() {
                "" => default,
                a => a,
            };
            match parse(answer) {
                Ok(v) => return Ok(v),
                Err(e) => writeln!(self.output, "  {e}")?,
            }
        }
    }

    pub fn yes_no(&mut self, question: &str, default: bool) -> Result<bool> {
        let hint = if default { "Y/n" } else { "y/N" };
        let d = if default { "y" } else { "n" };
        self.ask_shown(question, hint, d, |a| match a.to_lowercase().as_str() {
            "y" | "yes" | "o" | "oui" => Ok(true),
            "n" | "no" | "non" => Ok(false),
            _ => Err("please answer y or n".into()),
        })
    }

    pub fn say(&mut self, text: &str) -> Result<()> {
        writeln!(self.output, "{text}")?;
        Ok(())
    }
}

/// A duration as answered: like the config's (`"1h15m"`), or a bare number of minutes.
fn answer_duration(a: &str) -> Result<Duration, String> {
    let a = a.trim();
    if !a.is_empty() && a.bytes().all(|c| c.is_ascii_digit()) {
        return parse_duration(&format!("{a}m"));
    }
    parse_duration(a)
}

fn nonzero(a: &str) -> Result<Duration, String> {
    let d = answer_duration(a)?;
    if d.is_zero() {
        return Err("it must be more than zero, like \"30m\"".into());
    }
    Ok(d)
}

fn parse_days(a: &str) -> Result<Vec<String>, String> {
    let mut on = [false; 7];
    for d in a.split([',', ' ']).filter(|d| !d.trim().is_empty()) {
        // `mon-fri`, and round the week's end: `sat-mon`.
        match d.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (schedule::parse_weekday(from)?, schedule::parse_weekday(to)?);
                let mut i = from;
                loop {
                    on[i] = true;
                    if i == to {
                        break;
                    }
                    i = (i + 1) % 7;
                }
            }
            None => on[schedule::parse_weekday(d)?] = true,
        }
    }
    if !on.contains(&true) {
        return Err("give at least one day, like mon,tue,wed,thu,fri".into());
    }
    Ok(DAYS
        .iter()
        .zip(on)
        .filter(|(_, o)| *o)
        .map(|(d, _)| d.to_string())
        .collect())
}

fn parse_hours(a: &str) -> Result<Vec<String>, String> {
    let texts: Vec<String> = a
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let mut ranges = texts
        .iter()
        .map(|s| TimeRange::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    if ranges.is_empty() {
        return Err("give at least one range, like 09:00-12:00, 13:00-17:00".into());
    }
    schedule::validate_ranges(&mut ranges)?;
    Ok(ranges.iter().map(TimeRange::to_string).collect())
}

/// A language as answered: `fr`, `FR`, or a locale like `fr-CA` / `fr_CA.UTF-8`.
fn answer_language(a: &str) -> Result<String, String> {
    let a = a.trim().to_lowercase();
    let base = a.split(['-', '_', '.']).next().unwrap_or_default();
    if LANGUAGES.contains(&base) {
        Ok(base.to_owned())
    } else {
        Err("use auto, en or fr (fr-CA and en-US are fine too)".into())
    }
}

/// Asks every question, with `d` as the defaults.
pub fn ask_all<R: BufRead, W: Write>(p: &mut Prompter<R, W>, d: &Answers) -> Result<Answers> {
    p.say("\nYour own limits (durations like \"30m\", \"1h15m\"):")?;
    let daily = p.ask(
        "  Social time per work day before reminders:",
        &fmt_duration(d.daily),
        nonzero,
    )?;
    let streak = p.ask(
        "  Longest continuous stretch on social sites:",
        &fmt_duration(d.streak),
        nonzero,
    )?;
    let weekly_default = if d.weekly >= daily {
        d.weekly
    } else {
        daily * 5
    };
    let weekly = p.ask(
        "  Social time per week:",
        &fmt_duration(weekly_default),
        |a| {
            let w = nonzero(a)?;
            if w < daily {
                return Err(format!(
                    "the week should allow at least one day's {}",
                    fmt_duration(daily)
                ));
            }
            Ok(w)
        },
    )?;
    let mut chosen = Config::default();
    chosen.limits.daily = daily;
    chosen.limits.streak = streak;
    chosen.limits.weekly = weekly;
    for w in super::advice::limit_warnings(&chosen) {
        p.say(&format!("  Note: {w} (kept as you wrote it)."))?;
    }
    p.say("\nWhen dwell records (nothing at all is stored outside these hours):")?;
    let work_days = p.ask("  Work days:", &d.work_days.join(","), parse_days)?;
    let work_hours = p.ask(
        "  Work hours (gaps are breaks):",
        &d.work_hours.join(", "),
        parse_hours,
    )?;
    p.say("")?;
    let reminders = p.yes_no("Gentle reminders when you near your limits?", d.reminders)?;
    let pause_page = if reminders {
        p.say(
            "  With dwell's browser extension, dwell can also show a pause page: when you are over\n  \
             your daily limit and open a social site, show a calm page with two buttons,\n  \
             Continue and Close tab; nothing is ever blocked.",
        )?;
        let on = p.yes_no("  Show the pause page?", d.pause_page)?;
        if on {
            p.say("  It needs dwell's browser extension: run `dwell-agent browser install` after setup.")?;
        }
        on
    } else {
        d.pause_page
    };
    let pause_breath = if pause_page {
        p.ask(
            "  A breath before Continue works, e.g. 5s (0: none; Close tab works at once):",
            &fmt_duration(d.pause_breath),
            answer_breath,
        )?
    } else {
        d.pause_breath
    };
    let language = p.ask(
        "Language of the reminders (auto, en, fr):",
        &d.language,
        answer_language,
    )?;
    p.say(&format!(
        "\nCalibration: for a first week ({CALIBRATE}) dwell only records, without reminders;\nthen `dwell-agent limits suggest` proposes a daily limit from your own typical day."
    ))?;
    // Suggested only to someone who took the default limits and reminders:
    // a week of calibration would switch off what was just chosen.
    let chose = (daily, streak, weekly, reminders, pause_page)
        != (d.daily, d.streak, d.weekly, d.reminders, d.pause_page);
    let calibrate = p.yes_no(
        &format!(
            "Start with a calibration week? (Yes: no reminders at all for the first {CALIBRATE}; no: reminders from today)"
        ),
        d.calibrate && !chose,
    )?;
    Ok(Answers {
        daily,
        streak,
        weekly,
        work_days,
        work_hours,
        reminders,
        pause_page,
        pause_breath,
        language,
        calibrate,
    })
}

/// The pause page's breath: a duration up to a minute (a bare number is seconds).
fn answer_breath(a: &str) -> Result<Duration, String> {
    let a = a.trim();
    let d = match a.parse::<u64>() {
        Ok(n) => Duration::from_secs(n),
        Err(_) => dwell_core::config::parse_duration(a)?,
    };
    if d > Duration::from_secs(60) {
        return Err("at most a minute, e.g. 5s".into());
    }
    Ok(d)
}

// ---------------------------------------------------------------------------

pub fn setup(cli: &Global, args: &SetupArgs) -> Result<()> {
    let dir = data_dir(cli)?;
    let (path, existing) = config_to_edit(cli)?;
    let current = match &existing {
        Some(t) => Config::parse(t, &path).map_err(|e| {
            refused(format!(
                "{e}\nFix your config first (`dwell-agent config check` shows the problem), then run setup again."
            ))
        })?,
        None => Config::default(),
    };
    let interactive = !args.yes;
    if interactive && !std::io::stdin().is_terminal() {
        return Err(refused(
            "not asking without a terminal: run `dwell-agent setup --yes` to accept the defaults from a script",
        ));
    }
    let stdin = std::io::stdin();
    let mut p = Prompter::new(stdin.lock(), std::io::stdout());
    p.say(EXPLAIN)?;
    p.say(&format!("Data directory: {}", dir.display()))?;

    let store = Store::open_existing(&dir)?;
    let consented_at = match &store {
        Some(s) => s.consent()?,
        None => None,
    };
    drop(store);
    let consent = match consented_at {
        Some(at) => {
            p.say(&format!(
                "\nYou opted in on {}.",
                at.with_timezone(&Local).format("%Y-%m-%d %H:%M")
            ))?;
            true
        }
        None if interactive => p.yes_no("\nStart recording, as explained above?", false)?,
        None => true,
    };

    let defaults = Answers::from_config(&current, existing.is_none());
    let answers = if interactive {
        ask_all(&mut p, &defaults)?
    } else {
        defaults
    };
    save_config(existing.as_deref(), &answers, &path)?;
    let told = crate::cmd::notify_agent(&dir);
    p.say(&format!(
        "\nWrote {} (yours to edit; check it with `dwell-agent config check`).",
        path.display()
    ))?;

    match told {
        crate::cmd::Told::Yes => p.say("The running agent was told to re-read it.")?,
        crate::cmd::Told::NotListening => {
            p.say("Restart the running agent for the new settings to apply.")?
        }
        crate::cmd::Told::NotRunning => {}
    }
    if consent && consented_at.is_none() {
        let store = Store::open(&dir).context("cannot create the dwell database")?;
        store
            .set_consent(Utc::now())
            .context("cannot record your consent")?;
        p.say("Enabled: dwell records from now on, during your recording hours.")?;
        let saved = Config::parse(&std::fs::read_to_string(&path)?, &path).ok();
        if let Some(why) =
            saved.and_then(|c| super::advice::not_recording_now(&c, Local::now().naive_local()))
        {
            p.say(&format!(
                "Right now nothing is recorded: {why}. Recording starts by itself in your work hours (`[schedule]` in the config)."
            ))?;
        }
    } else if !consent {
        p.say("Not enabled: nothing is recorded. Opt in later with `dwell-agent enable`.")?;
    }

    let autostart = if !consent {
        false
    } else if interactive {
        p.yes_no("\nStart dwell automatically when you log in?", true)?
    } else {
        args.autostart
    };
    drop(p);
    if autostart {
        let install_args = install::InstallArgs {
            method: install::Method::Auto,
            no_start: false,
        };
        if let Err(e) = install::install(cli, &install_args) {
            eprintln!(
                "dwell-agent: could not set up autostart: {e:#}\n(try `dwell-agent install` later)"
            );
        }
    } else if consent {
        println!(
            "Start the agent with `dwell-agent run`, or at every login with `dwell-agent install`."
        );
    }
    println!("Pause any time with `dwell-agent pause`; see your week with `dwell-report week`.");
    Ok(())
}

/// Edits `existing` (or the commented example) with `answers`, checks the
/// result parses, and writes it to `path` (0600), creating a private directory.
pub(crate) fn save_config(existing: Option<&str>, answers: &Answers, path: &Path) -> Result<()> {
    let text = edit_config(existing, answers, path)
        .map_err(|e| anyhow!("cannot write a valid config: {e}"))?;
    if let Some(parent) = path.parent() {
        if !parent.exists() {
            dwell_core::store::ensure_private_dir(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
    }
    write_config(path, &text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn p() -> &'static Path {
        Path::new("test.toml")
    }

    #[test]
    fn durations_are_written_compactly() {
        assert_eq!(fmt_duration(Duration::from_secs(1800)), "30m");
        assert_eq!(fmt_duration(Duration::from_secs(9000)), "2h30m");
        assert_eq!(fmt_duration(Duration::from_secs(7 * 86_400)), "7d");
        assert_eq!(fmt_duration(Duration::from_secs(45)), "45s");
        for s in [1u64, 59, 61, 3_601, 90_061] {
            let d = Duration::from_secs(s);
            assert_eq!(parse_duration(&fmt_duration(d)).unwrap(), d);
        }
    }

    #[test]
    fn answers_are_taken_as_people_write_them() {
        assert_eq!(nonzero("45").unwrap(), Duration::from_secs(45 * 60));
        assert_eq!(nonzero(" 1h15m ").unwrap(), Duration::from_secs(75 * 60));
        assert!(nonzero("0").is_err());
        assert_eq!(
            parse_days("Mon-Fri").unwrap(),
            ["mon", "tue", "wed", "thu", "fri"]
        );
        assert_eq!(
            parse_days("mon-wed, fri").unwrap(),
            ["mon", "tue", "wed", "fri"]
        );
        assert_eq!(parse_days("sat-mon").unwrap(), ["mon", "sat", "sun"]);
        assert!(parse_days("mon-funday").is_err());
        assert_eq!(parse_hours("8:30-12").unwrap(), ["08:30-12:00"]);
        assert_eq!(
            parse_hours("8:30-12, 13-17").unwrap(),
            ["08:30-12:00", "13:00-17:00"]
        );
        assert_eq!(answer_language("fr-CA").unwrap(), "fr");
        assert_eq!(answer_language("en_US.UTF-8").unwrap(), "en");
        assert_eq!(answer_language("Auto").unwrap(), "auto");
        assert!(answer_language("de").is_err());
    }

    #[test]
    fn defaults_give_a_valid_commented_config_with_calibration() {
        let a = Answers::from_config(&Config::default(), true);
        let text = edit_config(None, &a, p()).unwrap();
        let c = Config::parse(&text, p()).unwrap();
        assert_eq!(c.tracking.calibrate, Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(c.limits, Config::default().limits);
        assert!(text.contains("# Your own threshold of excessive personal use"));
        assert!(
            text.contains("daily = \"30m\"      # social time per day"),
            "{text}"
        );
    }

    #[test]
    fn rerun_keeps_rules_messages_and_comments() {
        let mine = r#"# my own note at the top
[limits]
daily = "45m" # generous on purpose
weekly = "4h"

[[rules]]
site = "forum.example.org"
title = "Example Forum"

[reminders]
# my messages
messages = ["Go for a walk."]
"#;
        let mut a = Answers::from_config(&Config::parse(mine, p()).unwrap(), false);
        assert_eq!(a.daily, Duration::from_secs(45 * 60));
        assert!(!a.calibrate);
        a.daily = Duration::from_secs(20 * 60);
        a.language = "fr".into();
        a.work_days = vec!["mon".into(), "tue".into()];
        let text = edit_config(Some(mine), &a, p()).unwrap();
        assert!(text.starts_with("# my own note at the top\n"), "{text}");
        assert!(
            text.contains("daily = \"20m\" # generous on purpose"),
            "{text}"
        );
        assert!(text.contains("site = \"forum.example.org\""));
        assert!(
            text.contains("# my messages\nmessages = [\"Go for a walk.\"]"),
            "{text}"
        );
        assert!(!text.contains("calibrate"), "{text}");
        let c = Config::parse(&text, p()).unwrap();
        assert_eq!(c.rules.len(), 1);
        assert_eq!(c.reminders.messages, vec!["Go for a walk.".to_string()]);
        assert_eq!(c.reminders.language, "fr");
        assert_eq!(
            c.schedule.work_days,
            [true, true, false, false, false, false, false]
        );
        // Turning calibration on adds the key; off again writes "off".
        a.calibrate = true;
        let on = edit_config(Some(&text), &a, p()).unwrap();
        assert_eq!(
            Config::parse(&on, p()).unwrap().tracking.calibrate,
            Some(Duration::from_secs(7 * 86_400))
        );
        a.calibrate = false;
        let off = edit_config(Some(&on), &a, p()).unwrap();
        assert_eq!(Config::parse(&off, p()).unwrap().tracking.calibrate, None);
    }

    #[test]
    fn interactive_answers_with_retries() {
        let input = "45m\n\n10m\n\nfunday\nmon, wed fri\n08:00-12:00,12:30-16:30\nn\nde\nfr\nn\n";
        let mut out = Vec::new();
        let d = Answers::from_config(&Config::default(), true);
        let a = ask_all(&mut Prompter::new(Cursor::new(input), &mut out), &d).unwrap();
        let shown = String::from_utf8(out).unwrap();
        assert_eq!(a.daily, Duration::from_secs(45 * 60));
        assert_eq!(a.streak, Duration::from_secs(15 * 60));
        assert!(shown.contains("[30m]"));
        // 10m is less than the daily 45m: asked again, the default is fine then.
        assert!(shown.contains("at least one day's 45m"), "{shown}");
        assert_eq!(a.weekly, Duration::from_secs(150 * 60));
        assert!(shown.contains("funday"));
        assert_eq!(a.work_days, vec!["mon", "wed", "fri"]);
        assert_eq!(a.work_hours, vec!["08:00-12:00", "12:30-16:30"]);
        assert!(!a.reminders);
        assert_eq!(a.language, "fr");
        assert!(!a.calibrate);
        let text = edit_config(None, &a, p()).unwrap();
        assert!(Config::parse(&text, p()).is_ok());
    }

    #[test]
    fn the_pause_page_is_asked_about_plainly_and_off_by_default() {
        let d = Answers::from_config(&Config::default(), true);
        assert!(!d.pause_page);
        // Reminders on, then the pause page: the default (Enter) is no.
        let input = "\n\n\n\n\ny\n\n\nn\n";
        let mut out = Vec::new();
        let a = ask_all(&mut Prompter::new(Cursor::new(input), &mut out), &d).unwrap();
        let shown = String::from_utf8(out).unwrap();
        assert!(
            shown.contains("Continue and Close tab; nothing is ever blocked"),
            "{shown}"
        );
        assert!(shown.contains("Show the pause page? [y/N]"), "{shown}");
        assert!(a.reminders && !a.pause_page);
        let text = edit_config(None, &a, p()).unwrap();
        assert!(!Config::parse(&text, p()).unwrap().reminders.pause_page);
        // Yes: written, and kept as the default next time; then the breath (8s).
        let input = "\n\n\n\n\ny\ny\n8\n\nn\n";
        let mut out = Vec::new();
        let a = ask_all(&mut Prompter::new(Cursor::new(input), &mut out), &d).unwrap();
        let shown = String::from_utf8(out).unwrap();
        assert!(a.pause_page);
        let text = edit_config(None, &a, p()).unwrap();
        let c = Config::parse(&text, p()).unwrap();
        assert!(c.reminders.pause_page);
        assert_eq!(c.reminders.pause_breath, Duration::from_secs(8));
        assert!(shown.contains("A breath before Continue works"), "{shown}");
        assert!(Answers::from_config(&c, false).pause_page);
        assert!(text.contains("\npause_page = true\n"), "{text}");
    }

    #[test]
    fn setup_works_with_the_choices_just_made() {
        let d = Answers::from_config(&Config::default(), true);
        // Defaults kept everywhere: calibration is suggested (Yes).
        let mut out = Vec::new();
        let input = "\n\n\n\n\n\n\n\n\n";
        let a = ask_all(&mut Prompter::new(Cursor::new(input), &mut out), &d).unwrap();
        assert!(a.calibrate);
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("from today) [Y/n]"));
        // Own limits, reminders and the pause page: calibration would turn
        // them off for a week, so the default is no.
        let mut out = Vec::new();
        let input = "20m\n45m\n1h\n\n\ny\ny\n\n\n\n";
        let a = ask_all(&mut Prompter::new(Cursor::new(input), &mut out), &d).unwrap();
        let shown = String::from_utf8(out).unwrap();
        assert!(!a.calibrate, "{shown}");
        assert!(shown.contains("from today) [y/N]"), "{shown}");
        // Warned, not refused: a streak above the day, a week below five days.
        assert!(
            shown.contains("streak limit (45m) is above your daily limit (20m)"),
            "{shown}"
        );
        assert!(
            shown.contains("weekly limit (1h) is below 5 days"),
            "{shown}"
        );
        assert_eq!(a.streak, Duration::from_secs(45 * 60));
        // The pause page needs the extension: said.
        assert!(shown.contains("`dwell-agent browser install`"), "{shown}");
    }

    #[test]
    fn the_lunch_comment_follows_the_new_hours() {
        let mut a = Answers::from_config(&Config::default(), true);
        let text = edit_config(None, &a, p()).unwrap();
        assert!(text.contains("lunch from 12:00 to 13:00"), "{text}");
        a.work_hours = vec!["08:00-12:30".into(), "13:00-16:30".into()];
        let text = edit_config(None, &a, p()).unwrap();
        assert!(!text.contains("lunch from 12:00"), "{text}");
        assert!(
            text.contains("(here, a break from 12:30 to 13:00).\nwork_hours = [\"08:00-12:30\", \"13:00-16:30\"]"),
            "{text}"
        );
        // An own comment stays.
        let mine = "[schedule]\n# my hours\nwork_hours = [\"09:00-17:00\"]\n";
        let text = edit_config(Some(mine), &a, p()).unwrap();
        assert!(text.contains("# my hours\nwork_hours"), "{text}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_linked_config_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles.toml");
        std::fs::write(&real, "").unwrap();
        let link = dir.path().join("config.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_config(&link, "[limits]\n").unwrap();
        assert!(link.is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "[limits]\n");
    }

    #[test]
    fn end_of_input_changes_nothing() {
        let mut out = Vec::new();
        let mut pr = Prompter::new(Cursor::new("45m\n"), &mut out);
        let d = Answers::from_config(&Config::default(), true);
        assert!(ask_all(&mut pr, &d).is_err());
    }
}
