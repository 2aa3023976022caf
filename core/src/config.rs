//! Configuration: the TOML file the employee edits, layered over built-in defaults,
//! validated with errors that name the file, line and key and say what is allowed.
//!
//! Parsing is pure ([`Config::parse`] takes the text); reading the file is the
//! callers' business ([`Config::load`] is a thin convenience over `std::fs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

pub use crate::limits::{Plan, SiteLimit};
use crate::rules::{Classifier, RuleError, UserRule};
use crate::schedule::{self, RecordMode, Schedule, TimeRange};

mod limits;
mod validate;
use limits::{RawDays, RawPlan, RawSiteLimits};
use validate::check_messages;

/// A configuration problem, with enough context for the employee to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}{snippet}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        snippet: String,
    },
}

impl ConfigError {
    /// The line (1-based) the error is about, where known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Invalid { line, .. } => Some(*line),
            ConfigError::Read { .. } => None,
        }
    }
}

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub tracking: Tracking,
    pub limits: Limits,
    pub schedule: Schedule,
    pub rules: Vec<UserRule>,
    pub disabled_sites: Vec<String>,
    pub reminders: Reminders,
    pub data: Data,
    pub ui: Ui,
    /// The first day of a week, for the weekly limit and weekly reports
    /// (`[schedule] week_start`, Monday by default: ISO weeks).
    pub week_start: chrono::Weekday,
    /// Compiled site rules (built-ins + user rules − disabled).
    pub classifier: Classifier,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tracking {
    /// After this long without input, the current span ends at the last input.
    pub idle_timeout: Duration,
    /// An audible social tab in focus (a video, seen through the browser
    /// extension) keeps counting through input idleness up to this long.
    pub media_idle_timeout: Duration,
    /// Record without reminders for this long after opting in, then suggest limits.
    pub calibrate: Option<Duration>,
    /// Which desktop backend watches focus (`auto` picks from the session).
    pub backend: BackendChoice,
}

/// `[tracking] backend`: which watcher sees focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// Picked from the session: GNOME Shell, KWin, a wlroots compositor, or X11.
    #[default]
    Auto,
    X11,
    Wlroots,
    Kwin,
    Gnome,
}

impl BackendChoice {
    /// The accepted spellings, in the order the docs list them.
    pub const NAMES: [&'static str; 5] = ["auto", "x11", "wlroots", "kwin", "gnome"];

    pub fn parse(s: &str) -> Option<BackendChoice> {
        Some(match s {
            "auto" => BackendChoice::Auto,
            "x11" => BackendChoice::X11,
            "wlroots" => BackendChoice::Wlroots,
            "kwin" => BackendChoice::Kwin,
            "gnome" => BackendChoice::Gnome,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    pub daily: Duration,
    pub streak: Duration,
    pub weekly: Duration,
    /// Visits separated by less than this form one streak.
    pub streak_gap: Duration,
    /// `[limits.days]`: the daily limit of some weekdays instead of `daily`
    /// (Monday first).
    pub days: [Option<Duration>; 7],
    /// `[limits.sites]`: each limited site's own daily limit, by label.
    pub sites: Vec<SiteLimit>,
    /// `[limits.plan]`: a gradual plan from `from` to `to`.
    pub plan: Option<Plan>,
}

impl Limits {
    /// The daily limit in force on local day `date` (weekday, then plan): the
    /// one definition in [`crate::limits`].
    pub fn daily_on(&self, date: chrono::NaiveDate) -> Duration {
        crate::limits::daily_on(self.daily, &self.days, self.plan.as_ref(), date)
    }

    /// Where the plan stands on `date`, if there is one.
    pub fn plan_step(&self, date: chrono::NaiveDate) -> Option<crate::limits::PlanStep> {
        let base = crate::limits::daily_on(self.daily, &self.days, None, date);
        self.plan.as_ref().map(|p| p.step(date, base))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reminders {
    pub enabled: bool,
    /// Fractions of `limits.daily`, ascending.
    pub at: Vec<f64>,
    pub repeat_over: Duration,
    pub min_gap: Duration,
    pub max_per_hour: u32,
    pub snooze: Duration,
    pub snoozes_per_day: u32,
    /// `auto`, `en` or `fr`.
    pub language: String,
    pub quiet: Vec<TimeRange>,
    /// Which kinds of message may be shown: `time`, `reflection`, `back`.
    pub kinds: Vec<String>,
    /// The employee's own messages, added to the catalogue (including those read
    /// from `messages_file`).
    pub messages: Vec<String>,
    /// A TOML file with more of the employee's own messages (`messages = [...]`),
    /// relative to the config file's directory.
    pub messages_file: Option<PathBuf>,
    /// With the browser extension: over the daily limit, opening or switching
    /// to a social tab shows a calm page (Continue / Close tab). Off by default.
    pub pause_page: bool,
    /// How long the pause page waits before its Continue button works (a
    /// breath); zero: at once. Close works at once either way.
    pub pause_breath: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// Spans older than this are deleted.
    pub keep: Duration,
}

/// `[ui]`: what the agent shows on the desktop besides reminders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ui {
    /// A tray icon (StatusNotifierItem) with today's time and a menu.
    pub tray: bool,
}

/// The kinds of reminder message.
pub const MESSAGE_KINDS: &[&str] = &["time", "reflection", "back"];
/// The languages dwell speaks.
pub const LANGUAGES: &[&str] = &["auto", "en", "fr"];

impl Default for Config {
    fn default() -> Self {
        // The built-in defaults are the example file: one source of truth.
        match Config::parse(EXAMPLE, Path::new("<built-in defaults>")) {
            Ok(c) => c,
            // The example is covered by a unit test; this cannot be reached.
            Err(e) => panic!("built-in default config is invalid: {e}"),
        }
    }
}

impl Config {
    /// Reads and validates `path` (and the messages file it names). A missing file
    /// is not an error here: callers decide (a missing default config means
    /// built-in defaults).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = read_text_file(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Config::parse(&text, path)?;
        if let Some(file) = &config.reminders.messages_file {
            let file = match path.parent() {
                Some(dir) if file.is_relative() => dir.join(file),
                _ => file.clone(),
            };
            let text = read_text_file(&file).map_err(|source| ConfigError::Read {
                path: file.clone(),
                source,
            })?;
            let more = parse_messages_file(&text, &file)?;
            config.reminders.messages.extend(more);
            config.reminders.messages_file = Some(file);
        }
        Ok(config)
    }

    /// Loads `path` if it exists, else the built-in defaults.
    pub fn load_or_default(path: &Path) -> Result<Config, ConfigError> {
        if path.exists() {
            Config::load(path)
        } else {
            Ok(Config::default())
        }
    }

    /// Parses and validates config text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            invalid(path, text, offset, e.message().trim_end().to_owned())
        })?;
        raw.validate(text, path)
    }

    /// A fully commented configuration file holding the defaults.
    pub fn example() -> &'static str {
        EXAMPLE
    }
}

fn invalid(path: &Path, text: &str, offset: usize, message: String) -> ConfigError {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    let src_line = text[line_start..].lines().next().unwrap_or("").trim_end();
    let snippet = if src_line.is_empty() {
        String::new()
    } else {
        format!("\n  {line} | {src_line}")
    };
    ConfigError::Invalid {
        path: path.to_owned(),
        line,
        column,
        message,
        snippet,
    }
}

/// Makes the error for a span of the file and a message (for the checks in
/// `validate` and `limits`).
type Fail<'a> = &'a dyn Fn(std::ops::Range<usize>, String) -> ConfigError;

// ---------------------------------------------------------------------------
// Raw, as written in the file. Every section and key is optional; unknown keys
// are refused so a typo does not silently fall back to a default.

type Sp<T> = toml::Spanned<T>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawConfig {
    tracking: RawTracking,
    limits: RawLimits,
    schedule: RawSchedule,
    rules: Vec<Sp<RawRule>>,
    sites: RawSites,
    reminders: RawReminders,
    data: RawData,
    ui: RawUi,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawTracking {
    #[serde(deserialize_with = "duration")]
    idle_timeout: Sp<Duration>,
    #[serde(deserialize_with = "duration")]
    media_idle_timeout: Sp<Duration>,
    #[serde(deserialize_with = "opt_duration")]
    calibrate: Option<Sp<Duration>>,
    backend: Sp<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawLimits {
    #[serde(deserialize_with = "duration")]
    daily: Sp<Duration>,
    #[serde(deserialize_with = "duration")]
    streak: Sp<Duration>,
    #[serde(deserialize_with = "duration")]
    weekly: Sp<Duration>,
    #[serde(deserialize_with = "duration")]
    streak_gap: Sp<Duration>,
    sites: RawSiteLimits,
    days: RawDays,
    plan: Option<Sp<RawPlan>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawSchedule {
    record: Sp<String>,
    work_days: Sp<Vec<String>>,
    work_hours: Sp<Vec<String>>,
    week_start: Sp<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    site: String,
    title: Option<String>,
    app: Option<String>,
    #[serde(default)]
    host: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawSites {
    disable: Sp<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawReminders {
    enabled: bool,
    at: Sp<Vec<f64>>,
    #[serde(deserialize_with = "duration")]
    repeat_over: Sp<Duration>,
    #[serde(deserialize_with = "duration")]
    min_gap: Sp<Duration>,
    max_per_hour: Sp<u32>,
    #[serde(deserialize_with = "duration")]
    snooze: Sp<Duration>,
    snoozes_per_day: u32,
    language: Sp<String>,
    quiet: Sp<Vec<String>>,
    kinds: Sp<Vec<String>>,
    messages: Sp<Vec<String>>,
    messages_file: Option<Sp<String>>,
    pause_page: bool,
    #[serde(deserialize_with = "duration")]
    pause_breath: Sp<Duration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawUi {
    tray: bool,
}

impl Default for RawUi {
    fn default() -> Self {
        RawUi { tray: true }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawData {
    #[serde(deserialize_with = "duration")]
    keep: Sp<Duration>,
}

fn sp<T>(v: T) -> Sp<T> {
    Sp::new(0..0, v)
}

fn mins(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

impl Default for RawTracking {
    fn default() -> Self {
        RawTracking {
            idle_timeout: sp(mins(2)),
            media_idle_timeout: sp(mins(30)),
            calibrate: None,
            backend: sp("auto".into()),
        }
    }
}

impl Default for RawLimits {
    fn default() -> Self {
        RawLimits {
            daily: sp(mins(30)),
            streak: sp(mins(15)),
            weekly: sp(mins(150)),
            streak_gap: sp(mins(2)),
            sites: RawSiteLimits::default(),
            days: RawDays::default(),
            plan: None,
        }
    }
}

impl Default for RawSchedule {
    fn default() -> Self {
        RawSchedule {
            record: sp("work_hours".into()),
            work_days: sp(["mon", "tue", "wed", "thu", "fri"]
                .iter()
                .map(|s| s.to_string())
                .collect()),
            work_hours: sp(vec!["09:00-12:00".into(), "13:00-17:00".into()]),
            week_start: sp("mon".into()),
        }
    }
}

impl Default for RawSites {
    fn default() -> Self {
        RawSites {
            disable: sp(vec![]),
        }
    }
}

impl Default for RawReminders {
    fn default() -> Self {
        RawReminders {
            enabled: true,
            at: sp(vec![0.5, 0.8, 1.0]),
            repeat_over: sp(mins(15)),
            min_gap: sp(mins(5)),
            max_per_hour: sp(4),
            snooze: sp(mins(15)),
            snoozes_per_day: 3,
            language: sp("auto".into()),
            quiet: sp(vec![]),
            kinds: sp(MESSAGE_KINDS.iter().map(|s| s.to_string()).collect()),
            messages: sp(vec![]),
            messages_file: None,
            pause_page: false,
            pause_breath: sp(Duration::from_secs(5)),
        }
    }
}

impl Default for RawData {
    fn default() -> Self {
        RawData {
            keep: sp(Duration::from_secs(365 * 86_400)),
        }
    }
}

/// The largest config or messages file dwell reads.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a config or messages file: a regular file (a symlink to one is fine)
/// of at most [`MAX_FILE_BYTES`], read with that limit — a device or a FIFO
/// (`/dev/zero`) is refused instead of read forever.
pub fn read_text_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file: name a text file",
        ));
    }
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "larger than 1 MB: that cannot be a dwell config or messages file",
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// The longest duration dwell accepts anywhere (ten years): every sum of
/// times and durations stays far from overflowing.
pub const MAX_DURATION: Duration = Duration::from_secs(3650 * 86_400);

/// Parses a duration such as `"90s"`, `"15m"`, `"2h30m"`, `"7d"`, at most
/// [`MAX_DURATION`]. Each unit is named at most once, the largest first:
/// humantime adds up `"1h1h"` (2 hours) or `"30m1h"`, which no one means.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    units_once_in_order(s.trim()).map_err(|unit| {
        format!(
            "invalid duration \"{s}\": name each unit once, the largest first (\"{unit}\" comes again or too late), like \"2h30m\""
        )
    })?;
    let d = humantime::parse_duration(s.trim()).map_err(|_| {
        format!("invalid duration \"{s}\": write it like \"90s\", \"15m\", \"2h30m\" or \"7d\"")
    })?;
    if d > MAX_DURATION {
        return Err(format!(
            "duration \"{s}\" is too long: at most \"3650d\" (ten years)"
        ));
    }
    Ok(d)
}

/// The size of a humantime unit (larger is longer); `None` for a word it
/// does not know (humantime refuses it then).
fn unit_rank(unit: &str) -> Option<u8> {
    Some(match unit {
        "nanos" | "nsec" | "ns" => 0,
        "usec" | "us" | "µs" => 1,
        "millis" | "msec" | "ms" => 2,
        "seconds" | "second" | "secs" | "sec" | "s" => 3,
        "minutes" | "minute" | "mins" | "min" | "m" => 4,
        "hours" | "hour" | "hrs" | "hr" | "h" => 5,
        "days" | "day" | "d" => 6,
        "weeks" | "week" | "w" => 7,
        "months" | "month" | "M" => 8,
        "years" | "year" | "y" => 9,
        _ => return None,
    })
}

/// `Err(unit)` when a unit of `s` (`"1h1h"`) is as small as or smaller than
/// one before it; anything that is not numbers and units is left to humantime.
fn units_once_in_order(s: &str) -> Result<(), String> {
    let mut rest = s;
    let mut last: Option<u8> = None;
    loop {
        rest = rest.trim_start();
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Ok(());
        }
        rest = rest[digits..].trim_start();
        let len = rest
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..len];
        rest = &rest[len..];
        let Some(rank) = unit_rank(unit) else {
            return Ok(());
        };
        if last.is_some_and(|l| rank >= l) {
            return Err(unit.to_owned());
        }
        last = Some(rank);
    }
}

/// A duration as written in the file: text like `"30m"`, or a bare number,
/// which is refused with the quoted form to write instead.
#[derive(Deserialize)]
#[serde(untagged)]
enum DurationText {
    Text(String),
    Integer(i64),
    Float(f64),
}

impl DurationText {
    fn text<E: serde::de::Error>(self) -> Result<String, E> {
        let n = match self {
            DurationText::Text(s) => return Ok(s),
            // Nothing to get wrong about nothing ("off" where that is allowed).
            DurationText::Integer(0) => return Ok("0".into()),
            DurationText::Integer(n) => n.to_string(),
            DurationText::Float(f) => {
                return Err(E::custom(format!(
                "{f} has no unit: write it in quotes with whole units, like \"2m30s\" or \"90s\""
            )))
            }
        };
        Err(E::custom(format!(
            "{n} has no unit: write \"{n}m\" for {n} minutes (or \"{n}s\", \"{n}h\", \"{n}d\"), in quotes"
        )))
    }
}

fn spanned_text<'de, D: Deserializer<'de>>(d: D) -> Result<Sp<String>, D::Error> {
    let s = Sp::<DurationText>::deserialize(d)?;
    let span = s.span();
    Ok(Sp::new(span, s.into_inner().text()?))
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Sp<Duration>, D::Error> {
    let s = spanned_text(d)?;
    let span = s.span();
    parse_duration(s.get_ref())
        .map(|v| Sp::new(span, v))
        .map_err(serde::de::Error::custom)
}

fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Sp<Duration>>, D::Error> {
    let s = spanned_text(d)?;
    let span = s.span();
    let text = s.get_ref().trim();
    if text.is_empty() || text == "off" || text == "0" {
        return Ok(None);
    }
    parse_duration(text)
        .map(|v| Some(Sp::new(span, v)))
        .map_err(serde::de::Error::custom)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMessagesFile {
    messages: Sp<Vec<String>>,
}

/// Parses a messages file: `messages = ["...", ...]`; `path` is for errors.
pub fn parse_messages_file(text: &str, path: &Path) -> Result<Vec<String>, ConfigError> {
    let raw: RawMessagesFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        invalid(
            path,
            text,
            offset,
            format!(
                "{} (a messages file holds one key: messages = [\"...\", \"...\"])",
                e.message().trim_end()
            ),
        )
    })?;
    check_messages(raw.messages.get_ref(), "messages")
        .map_err(|m| invalid(path, text, raw.messages.span().start, m))?;
    Ok(raw
        .messages
        .get_ref()
        .iter()
        .map(|m| m.trim().to_owned())
        .collect())
}

fn parse_ranges(items: &[String]) -> Result<Vec<TimeRange>, String> {
    items.iter().map(|s| TimeRange::parse(s)).collect()
}

/// The commented default configuration (`dwell-agent config example`).
const EXAMPLE: &str = r#"# dwell configuration. Every key is optional: what you leave out keeps the
# default shown here. Durations are written like "90s", "15m", "2h30m", "7d".
# Check your edits with `dwell-agent config check`.

[tracking]
# After this long without keyboard or mouse input, dwell stops counting; the
# time is cut back to your last input. Counting resumes at your next input.
idle_timeout = "2m"
# With dwell's browser extension, an audible social tab in focus (a video)
# keeps counting through keyboard and mouse idleness up to this long.
media_idle_timeout = "30m"
# Record without sending reminders for this long after you opt in, then
# suggest a daily limit from your own typical day. "off" to skip.
# calibrate = "7d"
# Which part of your desktop tells dwell what has focus: "auto" picks from
# your session (GNOME Shell, KDE Plasma's KWin, a wlroots compositor such as
# sway, or X11). Or name one: "x11", "wlroots", "kwin", "gnome".
backend = "auto"

[limits]
# Your own threshold of excessive personal use, counted in recording hours.
daily = "30m"      # social time per day
streak = "15m"     # longest continuous stretch on social sites
weekly = "2h30m"   # social time per week
# Visits closer together than this count as one streak.
streak_gap = "2m"

# A daily limit of its own for the one site that gets away from you, by its
# label as the reports show it. Its reminder names the site.
[limits.sites]
# "youtube.com" = "20m"

# Another daily limit on some days of the week (mon, tue, ... sun).
[limits.days]
# fri = "45m"

# A gradual plan: from `start`, the daily limit steps down each week, in
# equal steps, from `from` to `to` over `weeks` weeks, then stays at `to`.
# `dwell-agent limits plan --to 15m --weeks 4` writes it for you, and
# `dwell-agent limits plan --off` takes it away.
# [limits.plan]
# from = "45m"
# to = "15m"
# start = "2026-12-07"
# weeks = 4

[schedule]
# "work_hours": record only on work days during work hours; nothing at all is
# stored outside them. "always": record at any time.
record = "work_hours"
work_days = ["mon", "tue", "wed", "thu", "fri"]
# Local time ranges; leave gaps for breaks (here, lunch from 12:00 to 13:00).
work_hours = ["09:00-12:00", "13:00-17:00"]
# The first day of your week, for the weekly limit and weekly reports.
week_start = "mon"

# Your own sites and apps. `title` is a regular expression matched against
# browser window titles only; `app` matches a desktop program's WM_CLASS or
# process name; `host` lists host names the browser extension reports, each
# with its subdomains (the site label, when it is a host name, is one too:
# "reddit.com" covers "old.reddit.com"). A rule with the site label of a
# built-in one replaces it.
# [[rules]]
# site = "forum.example.org"
# title = "Example Forum"
# [[rules]]
# site = "example-chat"
# app = "example-chat"
# [[rules]]
# site = "fediverse"
# host = ["mastodon.social", "fosstodon.org"]

[sites]
# Built-in sites that should not count, e.g. ["youtube.com", "linkedin.com"].
disable = []

[reminders]
enabled = true
# Remind at these fractions of the daily limit (once each per day).
at = [0.5, 0.8, 1.0]
# While over the daily limit, remind at most this often.
repeat_over = "15m"
# Never two reminders closer than this, and never more than max_per_hour.
min_gap = "5m"
max_per_hour = 4
# "Snooze" silences reminders for this long, at most snoozes_per_day times.
snooze = "15m"
snoozes_per_day = 3
# "auto" follows your locale; or "en", "fr".
language = "auto"
# No reminders during these local times (reminders also wait while a window
# is fullscreen or the notification server is in do-not-disturb).
quiet = []
# Kinds of message: "time" (your figures), "reflection" (think twice),
# "back" (an easy way back to work).
kinds = ["time", "reflection", "back"]
# Your own messages, added to the built-in ones. They may use {today},
# {limit}, {percent}, {streak}, {streak_limit}, {week} and {weekly}.
messages = []
# More of your own messages in a file of their own (messages = ["..."]),
# relative to this file.
# messages_file = "messages.toml"
# With dwell's browser extension: when you are over your daily limit and open
# (or switch to) a social site, show a calm page in that tab with two buttons,
# Continue and Close tab. Nothing is ever blocked. At most once per site per
# repeat_over.
pause_page = false
# On that page, Continue works after this short breath (a calm countdown
# shows it); Close tab works at once. "0" for no breath.
pause_breath = "5s"

[data]
# Spans older than this are deleted.
keep = "365d"

[ui]
# A tray icon with today's time and a menu (pause, resume, reports, settings),
# where the desktop has a StatusNotifierItem tray.
tray = true
"#;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Config, ConfigError> {
        Config::parse(s, Path::new("test.toml"))
    }

    #[test]
    fn example_is_valid_and_is_the_default() {
        let c = parse(Config::example()).unwrap();
        assert_eq!(c.tracking.idle_timeout, Duration::from_secs(120));
        assert_eq!(c.limits.daily, Duration::from_secs(1800));
        assert_eq!(c.limits.weekly, Duration::from_secs(9000));
        assert_eq!(c.schedule.work_hours.len(), 2);
        assert_eq!(
            c.schedule.work_days,
            [true, true, true, true, true, false, false]
        );
        let empty = parse("").unwrap();
        assert_eq!(empty.limits, c.limits);
        assert_eq!(empty.tracking, c.tracking);
        assert_eq!(empty.reminders, c.reminders);
        assert_eq!(empty.schedule, c.schedule);
        assert_eq!(empty.data, c.data);
        assert_eq!(empty.ui, c.ui);
        assert!(c.ui.tray, "the tray is on by default");
    }

    #[test]
    fn the_pause_page_is_off_by_default_and_only_a_boolean() {
        assert!(!Config::default().reminders.pause_page);
        assert!(!parse(Config::example()).unwrap().reminders.pause_page);
        assert!(
            parse("[reminders]\npause_page = true\n")
                .unwrap()
                .reminders
                .pause_page
        );
        let e = err_of("[reminders]\npause_page = \"yes\"\n");
        assert!(e.starts_with("test.toml:2:"), "{e}");
    }

    #[test]
    fn limits_that_fit_a_person_parse_and_apply() {
        let c = parse(
            "[limits]\ndaily = \"30m\"\n[limits.sites]\n\"YouTube.com\" = \"20m\"\n\"reddit.com\" = \"10m\"\n\
             [limits.days]\nfri = \"45m\"\n[limits.plan]\nfrom = \"45m\"\nto = \"15m\"\nstart = \"2026-12-07\"\nweeks = 4\n\
             [reminders]\npause_breath = \"8s\"\n",
        )
        .unwrap();
        let labels: Vec<&str> = c.limits.sites.iter().map(|s| s.site.as_str()).collect();
        assert_eq!(
            labels,
            ["reddit.com", "youtube.com"],
            "the label as dwell writes it"
        );
        assert_eq!(c.limits.days[4], Some(Duration::from_secs(45 * 60)));
        let plan = c.limits.plan.unwrap();
        assert_eq!(
            (plan.weeks, plan.start.to_string()),
            (4, "2026-12-07".into())
        );
        assert_eq!(c.reminders.pause_breath, Duration::from_secs(8));
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // Friday 4 December, before the plan: the weekday's limit.
        assert_eq!(
            c.limits.daily_on(day("2026-12-04")),
            Duration::from_secs(45 * 60)
        );
        assert_eq!(
            c.limits.daily_on(day("2026-12-03")),
            Duration::from_secs(30 * 60)
        );
        // Week 2 of the plan.
        assert_eq!(
            c.limits.daily_on(day("2026-12-15")),
            Duration::from_secs(30 * 60)
        );
        // A native TOML date is a date too.
        let native =
            parse("[limits.plan]\nfrom = \"45m\"\nto = \"15m\"\nstart = 2026-12-07\nweeks = 2\n")
                .unwrap();
        assert_eq!(native.limits.plan.unwrap().start, day("2026-12-07"));
        // The defaults: none of it, and a 5-second breath.
        let d = Config::default();
        assert!(d.limits.sites.is_empty() && d.limits.plan.is_none());
        assert_eq!(d.limits.days, [None; 7]);
        assert_eq!(d.reminders.pause_breath, Duration::from_secs(5));
        assert_eq!(
            parse("[reminders]\npause_breath = 0\n")
                .unwrap()
                .reminders
                .pause_breath,
            Duration::ZERO
        );
        // A site of the user's own rules can have a limit.
        let own = parse(
            "[[rules]]\nsite = \"forum\"\ntitle = \"Forum\"\n[limits.sites]\nforum = \"5m\"\n",
        )
        .unwrap();
        assert_eq!(own.limits.sites[0].site, "forum");
    }

    #[test]
    fn limits_that_fit_a_person_refuse_what_cannot_run() {
        for (text, line, says) in [
            (
                "[limits.sites]\n\"youtube.con\" = \"20m\"\n",
                2,
                "not a site dwell counts",
            ),
            (
                "[limits.sites]\n\"youtube.com\" = \"0m\"\n",
                2,
                "more than zero",
            ),
            ("[limits.sites]\n\"youtube.com\" = 20\n", 2, "\"20m\""),
            ("[limits.days]\nfriday = \"45m\"\n", 2, "unknown field"),
            (
                "[limits.days]\nfri = \"0s\"\n",
                2,
                "limits.days.fri must be more than zero",
            ),
            (
                "[limits.plan]\nfrom = \"15m\"\nto = \"45m\"\nstart = \"2026-12-07\"\nweeks = 4\n",
                2,
                "more than limits.plan.to",
            ),
            (
                "[limits.plan]\nfrom = \"45m\"\nto = \"0m\"\nstart = \"2026-12-07\"\nweeks = 4\n",
                3,
                "limits.plan.to must be more than zero",
            ),
            (
                "[limits.plan]\nfrom = \"45m\"\nto = \"15m\"\nstart = \"2026-12-07\"\nweeks = 0\n",
                5,
                "1 to 52 weeks",
            ),
            (
                "[limits.plan]\nfrom = \"45m\"\nto = \"15m\"\nstart = \"2026-13-07\"\nweeks = 4\n",
                4,
                "written like \"2026-12-07\"",
            ),
            (
                "[limits.plan]\nfrom = \"45m\"\nto = \"15m\"\nweeks = 4\n",
                1,
                "start",
            ),
            ("[reminders]\npause_breath = \"2m\"\n", 2, "at most \"60s\""),
        ] {
            let e = err_of(text);
            assert!(e.starts_with(&format!("test.toml:{line}:")), "{text}: {e}");
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn the_tray_can_be_turned_off_and_only_with_a_boolean() {
        assert!(!parse("[ui]\ntray = false\n").unwrap().ui.tray);
        assert!(parse("[ui]\n").unwrap().ui.tray);
        let e = err_of("[ui]\ntray = \"no\"\n");
        assert!(e.starts_with("test.toml:2:"), "{e}");
        assert!(e.contains("boolean") || e.contains("bool"), "{e}");
        let e = err_of("[ui]\ntrey = false\n");
        assert!(e.starts_with("test.toml:2:") && e.contains("trey"), "{e}");
    }

    #[test]
    fn contract_example_parses() {
        let c = parse(
            r#"
[tracking]
idle_timeout = "2m"
[limits]
daily = "30m"
streak = "15m"
weekly = "2h30m"
[schedule]
record = "work_hours"
work_days = ["mon", "tue", "wed", "thu", "fri"]
work_hours = ["09:00-12:00", "13:00-17:00"]
[[rules]]
site = "forum.example.org"
title = "Example Forum"
[sites]
disable = ["youtube.com"]
[reminders]
enabled = true
at = [0.5, 0.8, 1.0]
repeat_over = "15m"
min_gap = "5m"
max_per_hour = 4
snooze = "15m"
snoozes_per_day = 3
language = "auto"
quiet = ["12:00-13:00"]
"#,
        )
        .unwrap();
        assert_eq!(c.rules.len(), 1);
        assert_eq!(c.disabled_sites, vec!["youtube.com".to_string()]);
        assert_eq!(c.reminders.quiet.len(), 1);
    }

    fn err_of(s: &str) -> String {
        parse(s).unwrap_err().to_string()
    }

    /// `s` as a TOML basic string, every control character escaped.
    fn toml_quote(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' | '\\' => {
                    out.push('\\');
                    out.push(c);
                }
                c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn site_labels_without_control_characters_and_not_too_long() {
        let e = err_of("\n[[rules]]\nsite = \"a\\u001B[31mb\"\napp = \"x\"\n");
        assert!(e.starts_with("test.toml:2:"), "{e}");
        assert!(
            e.contains("control character") && !e.contains('\u{1b}'),
            "{e}"
        );
        let long = "x".repeat(crate::rules::MAX_LABEL + 1);
        let e = err_of(&format!("[[rules]]\nsite = \"{long}\"\napp = \"x\"\n"));
        assert!(e.starts_with("test.toml:1:") && e.contains("100"), "{e}");
        assert!(e.len() < 400, "the label is not repeated whole: {e}");
        let ok = "y".repeat(crate::rules::MAX_LABEL);
        parse(&format!("[[rules]]\nsite = \"{ok}\"\napp = \"x\"\n")).unwrap();
        let e = err_of("[sites]\ndisable = [\"a\\u0007\"]\n");
        assert!(e.contains("control character"), "{e}");
    }

    #[test]
    fn a_bare_number_as_a_duration_says_what_to_write() {
        let e = err_of("[limits]\ndaily = 30\n");
        assert!(e.starts_with("test.toml:2:"), "{e}");
        assert!(e.contains("write \"30m\""), "{e}");
        let e = err_of("[tracking]\nidle_timeout = 2.5\n");
        assert!(e.contains("like \"2m30s\""), "{e}");
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = err_of("[limits]\ndaily = \"30x\"\n");
        assert!(e.starts_with("test.toml:2:"), "{e}");
        assert!(e.contains("invalid duration \"30x\""), "{e}");

        let e = err_of("[limits]\ndayly = \"30m\"\n");
        assert!(e.starts_with("test.toml:2:"), "{e}");
        assert!(e.contains("dayly"), "{e}");

        let e = err_of("[schedule]\nrecord = \"sometimes\"\n");
        assert!(
            e.contains("test.toml:2:") && e.contains("\"always\""),
            "{e}"
        );

        let e = err_of("[schedule]\nwork_days = [\"mon\", \"funday\"]\n");
        assert!(e.contains("test.toml:2:") && e.contains("funday"), "{e}");

        let e = err_of("[schedule]\nwork_hours = [\"9-1200\"]\n");
        assert!(e.contains("test.toml:2:") && e.contains("9-1200"), "{e}");

        let e = err_of("\n\n[[rules]]\nsite = \"a\"\ntitle = \"(\"\n");
        assert!(e.contains("test.toml:3:") && e.contains("regex"), "{e}");

        let e = err_of("[[rules]]\nsite = \"a\"\n");
        assert!(e.contains("test.toml:1:"), "{e}");
    }

    #[test]
    fn reminder_bad_input() {
        for (src, needle) in [
            ("[reminders]\nat = []\n", "at least one"),
            ("[reminders]\nat = [0.0]\n", "more than 0"),
            ("[reminders]\nat = [10.5]\n", "at most 10"),
            ("[reminders]\nmin_gap = \"20m\"\n", "min_gap"),
            ("[reminders]\nlanguage = \"de\"\n", "\"fr\""),
            ("[reminders]\nkinds = [\"nag\"]\n", "nag"),
            ("[reminders]\nmax_per_hour = 0\n", "max_per_hour"),
            ("[reminders]\nat = [-0.5]\n", "more than 0"),
            (
                "[reminders]\nrepeat_over = \"0s\"\nmin_gap = \"0s\"\n",
                "repeat_over",
            ),
            ("[reminders]\nmessages = [\"  \"]\n", "must not be empty"),
            ("[reminders]\nmessages = [\"{nope} left\"]\n", "{today}"),
            ("[reminders]\nmessages_file = \"\"\n", "messages_file"),
        ] {
            let e = err_of(src);
            assert!(e.contains("test.toml:2:"), "{src}: {e}");
            assert!(e.contains(needle), "{src}: {e}");
        }
    }

    #[test]
    fn host_rules_and_media_idle_timeout() {
        let c = parse(
            "[tracking]\nmedia_idle_timeout = \"10m\"\n[[rules]]\nsite = \"fediverse\"\nhost = [\"mastodon.social\", \"fosstodon.org\"]\n",
        )
        .unwrap();
        assert_eq!(c.tracking.media_idle_timeout, Duration::from_secs(600));
        assert_eq!(
            c.classifier.classify_host("fosstodon.org"),
            crate::Activity::Social("fediverse".into())
        );
        assert_eq!(
            Config::default().tracking.media_idle_timeout,
            Duration::from_secs(1800)
        );
        let e = err_of("\n[[rules]]\nsite = \"a\"\nhost = [\"a.com/path\"]\n");
        assert!(e.contains(":2:") && e.contains("not a host name"), "{e}");
        let e = err_of("[tracking]\nmedia_idle_timeout = \"1s\"\n");
        assert!(e.contains("media_idle_timeout"), "{e}");
    }

    #[test]
    fn seconds_are_allowed_for_tests() {
        let c = parse(
            "[limits]\ndaily = \"10s\"\nstreak = \"6s\"\nweekly = \"1m\"\n[reminders]\nrepeat_over = \"6s\"\nmin_gap = \"2s\"\n",
        )
        .unwrap();
        assert_eq!(c.limits.streak, Duration::from_secs(6));
    }

    #[test]
    fn messages_file_must_be_a_small_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        // A file that is not a regular one: a device where there are any in
        // the file system, else a directory.
        #[cfg(unix)]
        let (special_name, special) = ("/dev/zero", std::path::PathBuf::from("/dev/zero"));
        #[cfg(not(unix))]
        let (special_name, special) = ("special", dir.path().join("special"));
        std::fs::create_dir_all(dir.path().join("special")).unwrap();
        for (target, why) in [
            (special_name, "not a regular file"),
            ("big.toml", "larger than 1 MB"),
        ] {
            std::fs::write(&cfg, format!("[reminders]\nmessages_file = \"{target}\"\n")).unwrap();
            if target == "big.toml" {
                std::fs::write(dir.path().join(target), vec![b'#'; 1024 * 1024 + 1]).unwrap();
            }
            let e = Config::load(&cfg).unwrap_err();
            let msg = format!("{e:#}");
            let src = std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_default();
            assert!(
                msg.contains(target) && (msg.contains(why) || src.contains(why)),
                "{msg} / {src}"
            );
        }
        // The config file itself too.
        let e = Config::load(&special).unwrap_err();
        assert!(
            format!("{e}").contains(&special.display().to_string()),
            "{e}"
        );
    }

    #[test]
    fn durations_have_an_upper_bound() {
        assert!(parse_duration("3650d").is_ok());
        let e = parse_duration("3651d").unwrap_err();
        assert!(e.contains("3650d"), "{e}");
        let e = err_of("[limits]\nstreak = \"100000000d\"\n");
        assert!(e.contains("test.toml:2:") && e.contains("too long"), "{e}");
        let e = err_of("[tracking]\nidle_timeout = \"18446744073709551615s\"\n");
        assert!(e.contains("test.toml:2:"), "{e}");
    }

    #[test]
    fn a_duration_names_each_unit_once_largest_first() {
        assert_eq!(parse_duration("2h30m"), Ok(Duration::from_secs(9000)));
        assert_eq!(parse_duration("1h 30min"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2 hours"), Ok(Duration::from_secs(7200)));
        for bad in ["1h1h", "30m30m", "1h 1hour", "2m1h", "1d1d", "5s5sec"] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.contains(bad) && e.contains("once"), "{bad}: {e}");
        }
        let e = err_of("[limits]\nstreak = \"10m10m\"\n");
        assert!(e.contains("test.toml:2:") && e.contains("once"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn parse_duration_never_panics(s in "\\PC{0,40}") {
            let _ = parse_duration(&s);
        }

        /// Each unit once, largest first: read as written.
        #[test]
        fn a_duration_in_order_reads_as_written(
            d in 0u64..100, h in 0u64..100, m in 0u64..100, s in 0u64..100,
            spaced in proptest::bool::ANY,
        ) {
            let sep = if spaced { " " } else { "" };
            let text = [(d, "d"), (h, "h"), (m, "m"), (s, "s")]
                .iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, u)| format!("{n}{u}"))
                .collect::<Vec<_>>()
                .join(sep);
            proptest::prop_assume!(!text.is_empty());
            let want = Duration::from_secs(((d * 24 + h) * 60 + m) * 60 + s);
            proptest::prop_assert_eq!(parse_duration(&text), Ok(want));
        }

        /// A unit named twice, in any spelling, is refused (`1h1h` is not 2 hours).
        #[test]
        fn a_repeated_unit_is_refused(
            a in 1u64..1000, b in 1u64..1000,
            unit in proptest::sample::select(vec![
                ("s", "sec"), ("m", "min"), ("h", "hours"), ("d", "day"), ("w", "weeks"),
            ]),
            long_second in proptest::bool::ANY,
        ) {
            let second = if long_second { unit.1 } else { unit.0 };
            let text = format!("{a}{}{b}{second}", unit.0);
            proptest::prop_assert!(parse_duration(&text).is_err(), "{}", text);
        }

        /// Whatever a rule's `site` holds, what the config accepts is a label
        /// safe to print: no control character, at most `MAX_LABEL` characters;
        /// what it refuses is said without the label's control characters.
        #[test]
        fn accepted_site_labels_are_safe_to_print(site in "(\\PC|\\p{Cc}){0,120}") {
            let quoted = toml_quote(&site);
            match Config::parse(
                &format!("[[rules]]\nsite = {quoted}\napp = \"x\"\n"),
                Path::new("p.toml"),
            ) {
                Ok(c) => {
                    for rule in &c.rules {
                        proptest::prop_assert!(!rule.site.chars().any(char::is_control));
                        proptest::prop_assert!(rule.site.chars().count() <= crate::rules::MAX_LABEL);
                    }
                }
                Err(e) => {
                    proptest::prop_assert!(!e.to_string().chars().any(|c| c.is_control() && c != '\n'));
                }
            }
        }

        #[test]
        fn config_parse_never_panics(s in "\\PC{0,200}") {
            let _ = Config::parse(&s, Path::new("p.toml"));
        }

        #[test]
        fn config_limit_tables_never_panic_and_accepted_values_run(
            site in "\\PC{0,20}", fri in "[0-9]{1,12}[smhd]", from in "[0-9]{1,8}[smh]",
            to in "[0-9]{1,8}[smh]", weeks in -3i64..80, start in "[0-9]{4}-[0-9]{2}-[0-9]{2}",
            breath in "[0-9]{1,4}[sm]",
        ) {
            let text = format!(
                "[limits.sites]\n{} = {}\n[limits.days]\nfri = \"{fri}\"\n[limits.plan]\nfrom = \"{from}\"\nto = \"{to}\"\nstart = \"{start}\"\nweeks = {weeks}\n[reminders]\npause_breath = \"{breath}\"\n",
                toml_quote(&site), toml_quote(&fri),
            );
            if let Ok(c) = parse(&text) {
                let plan = c.limits.plan.unwrap();
                proptest::prop_assert!(plan.to < plan.from && !plan.to.is_zero());
                proptest::prop_assert!((1..=52).contains(&plan.weeks));
                proptest::prop_assert!(c.reminders.pause_breath <= Duration::from_secs(60));
                for s in &c.limits.sites {
                    proptest::prop_assert!(!s.limit.is_zero());
                }
                // Every day of the plan and around it has a limit above zero.
                for w in 0..60 {
                    let day = plan.start + chrono::Days::new(w * 7) - chrono::Days::new(7);
                    proptest::prop_assert!(!c.limits.daily_on(day).is_zero());
                }
            }
        }

        #[test]
        fn config_tracking_values_never_panic(idle in "[0-9]{1,25}[smhd]", backend in "\\PC{0,12}") {
            let _ = Config::parse(
                &format!("[tracking]\nidle_timeout = \"{idle}\"\nbackend = \"{backend}\"\n"),
                Path::new("p.toml"),
            );
        }
    }

    #[test]
    fn backend_is_one_of_five_names() {
        assert_eq!(parse("").unwrap().tracking.backend, BackendChoice::Auto);
        for (name, want) in [
            ("x11", BackendChoice::X11),
            ("wlroots", BackendChoice::Wlroots),
            ("kwin", BackendChoice::Kwin),
            ("gnome", BackendChoice::Gnome),
        ] {
            let c = parse(&format!("[tracking]\nbackend = \"{name}\"\n")).unwrap();
            assert_eq!(c.tracking.backend, want);
        }
        let e = err_of("[tracking]\nbackend = \"wayland\"\n");
        assert!(
            e.contains("test.toml:2:") && e.contains("\"wlroots\""),
            "{e}"
        );
    }

    #[test]
    fn calibrate_off_and_on() {
        assert_eq!(
            parse("[tracking]\ncalibrate = \"7d\"\n")
                .unwrap()
                .tracking
                .calibrate,
            Some(Duration::from_secs(7 * 86400))
        );
        assert_eq!(
            parse("[tracking]\ncalibrate = \"off\"\n")
                .unwrap()
                .tracking
                .calibrate,
            None
        );
    }

    #[test]
    fn messages_file_is_read_next_to_the_config_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        std::fs::write(
            &cfg,
            "[reminders]\nmessages = [\"One.\"]\nmessages_file = \"mine.toml\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("mine.toml"),
            "messages = [\"Two: {today}.\"]\n",
        )
        .unwrap();
        let c = Config::load(&cfg).unwrap();
        assert_eq!(c.reminders.messages, vec!["One.", "Two: {today}."]);

        std::fs::write(
            dir.path().join("mine.toml"),
            "\nmessages = \"not a list\"\n",
        )
        .unwrap();
        let e = Config::load(&cfg).unwrap_err().to_string();
        assert!(e.contains("mine.toml:2:"), "{e}");
        assert!(e.contains("messages = ["), "{e}");

        std::fs::write(dir.path().join("mine.toml"), "messages = [\"{oops}\"]\n").unwrap();
        let e = Config::load(&cfg).unwrap_err().to_string();
        assert!(
            e.contains("mine.toml:1:") && e.contains("placeholder"),
            "{e}"
        );

        std::fs::remove_file(dir.path().join("mine.toml")).unwrap();
        let e = Config::load(&cfg).unwrap_err().to_string();
        assert!(e.contains("mine.toml"), "{e}");
    }
}
