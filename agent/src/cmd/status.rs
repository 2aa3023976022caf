//! `dwell-agent status [--json]`: whether dwell is enabled and running, what
//! it watches with, today's, the streak's and the week's figures (the usage
//! ledger's, as the reminders count them), the reminders' outlook, and what
//! went wrong (config, database, writes, notifications).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use chrono::{Local, TimeZone, Utc};
use dwell_core::paths::DB_FILE;
use dwell_core::policy::{self, Policy};
use dwell_core::{schedule, Config, Store};
use serde::Serialize;

use super::{config_path, data_dir, fmt_minutes, load_config, local_moment, local_rfc3339, Global};
use crate::lock::{self, AgentLock};

#[derive(Serialize)]
struct Status {
    enabled: bool,
    enabled_at: Option<String>,
    running: bool,
    recording: bool,
    /// Why nothing is recorded at this moment (outside work hours, a break,
    /// not a work day), once opted in and not paused; `None` otherwise.
    not_recording_because: Option<String>,
    paused_until: Option<String>,
    today_seconds: f64,
    daily_limit_seconds: u64,
    weekly_limit_seconds: u64,
    /// The current streak (visits closer than `limits.streak_gap`), and its limit.
    streak_seconds: f64,
    streak_limit_seconds: u64,
    /// This week's social time (from `[schedule] week_start`).
    week_seconds: f64,
    reminders_enabled: bool,
    /// The next reminder stage not yet reached today, as a fraction of the daily
    /// limit, and the social time at which it comes.
    next_stage: Option<f64>,
    next_stage_seconds: Option<u64>,
    snoozes_left: u32,
    snoozed_until: Option<String>,
    done_for_today: bool,
    data_dir: PathBuf,
    db_bytes: u64,
    config_file: Option<PathBuf>,
    /// Why the running agent refused the config file as it is now (it keeps
    /// the previous one in force); `None` when it took it.
    config_error: Option<String>,
    /// What the running agent watches focus with (`x11`, `wlroots`, `kwin`,
    /// `gnome`, `windows`); `None` when no agent runs.
    backend: Option<String>,
    /// Where it learns how long you have been away from the keyboard
    /// (`x11-sync`, `x11-screensaver`, `ext-idle-notify`, `kde-idle`, `mutter`); `None` when
    /// no agent runs or the desktop offers none.
    idle_source: Option<String>,
    /// What to do for the agent to see focus or idle time, when something is missing.
    watch_hint: Option<String>,
    /// What GNOME Shell says of dwell's focus extension (`None` off GNOME).
    gnome_extension: Option<crate::watch::ExtensionReport>,
    /// What happened to a damaged database (moved aside, salvaged), with its path.
    database_note: Option<String>,
    /// The end of the calibration period (recording without reminders), while it lasts.
    calibrating_until: Option<String>,
    /// Since when the running agent cannot write to the database (it keeps
    /// what it sees in memory and retries); `None` while writes work.
    writes_failing_since: Option<String>,
    /// Why the running agent sends no notifications, when it knows.
    notifications_off: Option<String>,
    /// Browsers whose dwell extension reported to the running agent.
    browsers: Vec<crate::browser::BrowserStatus>,
}

pub fn status(cli: &Global, json: bool) -> Result<()> {
    print!("{}", status_at(cli, json, Utc::now())?);
    Ok(())
}

/// What `status` prints at `now` (JSON or text).
pub fn status_at(cli: &Global, json: bool, now: chrono::DateTime<Utc>) -> Result<String> {
    let (st, at) = gather(cli, now)?;
    let mut out = String::new();
    if json {
        out.push_str(&serde_json::to_string_pretty(&st)?);
        out.push('\n');
        return Ok(out);
    }
    let pause = at.pause;
    let writes_failing_since = at.writes_failing_since;
    agent_lines(&mut out, &st, pause, writes_failing_since, now)?;
    figure_lines(&mut out, &st)?;
    let reminders = reminders_line(&st, at.calibrating_until, at.snoozed_until, now);
    writeln!(out, "reminders:  {reminders}")?;
    writeln!(
        out,
        "data:       {} ({} KB)",
        st.data_dir.display(),
        st.db_bytes / 1024
    )?;
    if let Some(config) = &st.config_file {
        writeln!(out, "config:     {}", config.display())?;
    }
    if let Some(err) = &st.config_error {
        writeln!(out, "\nThe config file has a problem; the agent keeps the previous settings until it is fixed:\n  {err}")?;
    }
    if !st.enabled {
        writeln!(
            out,
            "\nNothing is recorded until you opt in: `dwell-agent setup`."
        )?;
    }
    Ok(out)
}

/// The moments behind [`Status`]'s formatted ones, for the text.
struct Moments {
    pause: Option<dwell_core::control::Pause>,
    writes_failing_since: Option<chrono::DateTime<Utc>>,
    calibrating_until: Option<chrono::DateTime<Utc>>,
    snoozed_until: Option<chrono::DateTime<Utc>>,
}

/// What the running agent noted for `status` (nothing when none runs).
struct Noted {
    agent_error: Option<String>,
    backend: Option<String>,
    idle_source: Option<String>,
    watch_hint: Option<String>,
    gnome_extension: Option<crate::watch::ExtensionReport>,
    browsers: Vec<crate::browser::BrowserStatus>,
    notifications_off: Option<String>,
    snoozed_until: Option<chrono::DateTime<Utc>>,
}

fn noted(store: Option<&Store>, running: bool) -> Result<Noted> {
    let running_meta = |key: &str| -> Result<Option<String>> {
        Ok(match (store, running) {
            (Some(s), true) => s.meta_get(key)?,
            _ => None,
        })
    };
    Ok(Noted {
        agent_error: running_meta(crate::run::CONFIG_ERROR_KEY)?,
        backend: running_meta(crate::run::BACKEND_KEY)?,
        idle_source: running_meta(crate::run::IDLE_SOURCE_KEY)?,
        watch_hint: running_meta(crate::run::HINT_KEY)?,
        gnome_extension: running_meta(crate::run::GNOME_EXTENSION_KEY)?
            .and_then(|j| serde_json::from_str(&j).ok()),
        browsers: running_meta(crate::run::BROWSERS_KEY)?
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default(),
        notifications_off: running_meta(crate::run::NOTIFY_OFF_KEY)?,
        // The running agent notes when a snooze ends; the policy, rebuilt
        // from the store, cannot know it.
        snoozed_until: running_meta(crate::remind::SNOOZED_UNTIL_KEY)?
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)),
    })
}

/// Everything `status` says, read from the config, the store, the lock and
/// what the running agent noted.
fn gather(cli: &Global, now: chrono::DateTime<Utc>) -> Result<(Status, Moments)> {
    let dir = data_dir(cli)?;
    // A broken config file does not hide the status: it is shown as the error.
    let (config, file_error) = match load_config(cli) {
        Ok(c) => (c, None),
        Err(e) => (Config::default(), Some(format!("{e:#}"))),
    };
    let db = dir.join(DB_FILE);
    // What `run` refuses (a link planted as the database) is said here too.
    if let Some(why) = dwell_core::paths::not_own_file(&db) {
        return Err(super::refused(why));
    }
    let store = if db.exists() {
        Some(Store::open_read_only(&db)?)
    } else {
        None
    };
    let consent = match &store {
        Some(s) => s.consent()?,
        None => None,
    };
    let running = AgentLock::is_held(&dir);
    let Noted {
        agent_error,
        backend,
        idle_source,
        watch_hint,
        gnome_extension,
        browsers,
        notifications_off,
        snoozed_until,
    } = noted(store.as_ref(), running)?;
    let writes_failing_since = lock::holder(&dir).and_then(|h| h.writes_failing_since);
    let pause = match &store {
        Some(s) => dwell_core::control::paused(s, now)?,
        None => None,
    };
    let outlook = reminder_outlook(store.as_ref(), &config, now, &Local)?;
    let snoozed_until = snoozed_until.or(outlook.snoozed_until).filter(|t| *t > now);
    // While calibrating, the agent records but does not remind.
    let calibrating_until =
        dwell_core::calibrate::calibrating_until(consent, config.tracking.calibrate, now);
    let st = Status {
        enabled: consent.is_some(),
        enabled_at: consent.map(|c| c.to_rfc3339()),
        running,
        recording: running
            && consent.is_some()
            && pause.is_none()
            && config.schedule.is_recording(now, &Local),
        not_recording_because: consent.filter(|_| pause.is_none()).and_then(|_| {
            super::advice::not_recording_now(&config, now.with_timezone(&Local).naive_local())
        }),
        paused_until: pause.map(|p| match p.until() {
            Some(t) => local_rfc3339(t),
            None => p.to_value(),
        }),
        today_seconds: outlook.figures.today.as_secs_f64().round(),
        daily_limit_seconds: config.limits.daily.as_secs(),
        weekly_limit_seconds: config.limits.weekly.as_secs(),
        streak_seconds: outlook.figures.streak.as_secs_f64().round(),
        streak_limit_seconds: config.limits.streak.as_secs(),
        week_seconds: outlook.figures.week.as_secs_f64().round(),
        reminders_enabled: config.reminders.enabled,
        // Before opt-in no reminder is ahead.
        next_stage: outlook.next_stage.filter(|_| consent.is_some()),
        next_stage_seconds: outlook
            .next_stage_at
            .filter(|_| consent.is_some())
            .map(|d| d.as_secs()),
        snoozes_left: outlook.snoozes_left,
        snoozed_until: snoozed_until.map(local_rfc3339),
        calibrating_until: calibrating_until.map(local_rfc3339),
        done_for_today: outlook.done_for_today,
        data_dir: dir.clone(),
        db_bytes: store.as_ref().map(|s| s.size_bytes()).unwrap_or(0),
        config_file: config_path(cli).filter(|p| p.exists()),
        config_error: agent_error.or(file_error),
        backend,
        idle_source,
        watch_hint,
        gnome_extension,
        database_note: match &store {
            Some(s) => s.database_note()?,
            None => None,
        },
        writes_failing_since: writes_failing_since.map(local_rfc3339),
        notifications_off,
        browsers: browsers
            .into_iter()
            .map(|mut b| {
                if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&b.last_seen) {
                    b.last_seen = local_rfc3339(t.with_timezone(&Utc));
                }
                b
            })
            .collect(),
    };
    let at = Moments {
        pause,
        writes_failing_since,
        calibrating_until,
        snoozed_until,
    };
    Ok((st, at))
}

/// Whether the agent runs, how it watches, and what stands in its way.
fn agent_lines(
    out: &mut String,
    st: &Status,
    pause: Option<dwell_core::control::Pause>,
    writes_failing_since: Option<chrono::DateTime<Utc>>,
    now: chrono::DateTime<Utc>,
) -> Result<()> {
    let yn = |b: bool| if b { "yes" } else { "no" };
    writeln!(out, "enabled:    {}", yn(st.enabled))?;
    writeln!(
        out,
        "agent:      {}",
        if !st.running {
            "not running"
        } else if pause.is_some() {
            "running, paused"
        } else if st.recording {
            "running, recording"
        } else {
            "running, outside recording hours"
        }
    )?;
    if let Some(why) = &st.not_recording_because {
        writeln!(out, "recording:  not now: {why}")?;
    }
    if st.running {
        let backend = match st.backend.as_deref() {
            Some("x11") => "X11",
            Some("wlroots") => "Wayland (wlroots foreign-toplevel)",
            Some("kwin") => "KDE Plasma (KWin script)",
            Some("gnome") => "GNOME Shell (dwell's extension)",
            Some("windows") => "Windows (the foreground window)",
            Some(other) => other,
            None => "unknown (an older agent?)",
        };
        let idle = match st.idle_source.as_deref() {
            Some("x11-sync") => "X11 SYNC idle counter",
            Some("x11-screensaver") => "X11 screen saver extension",
            Some("ext-idle-notify") => "Wayland ext-idle-notify",
            Some("kde-idle") => "Wayland org_kde_kwin_idle",
            Some("mutter") => "GNOME Mutter idle monitor",
            Some(other) => other,
            None => "none: time away from the keyboard is not cut",
        };
        writeln!(
            out,
            "watching:   focus through {backend}; idle through {idle}"
        )?;
    }
    if let Some(hint) = &st.watch_hint {
        writeln!(out, "note:       {hint}")?;
    }
    for b in &st.browsers {
        let state = if b.connected {
            "extension connected: counted by host name"
        } else {
            "extension not connected: counted by window title"
        };
        writeln!(out, "browser:    {} ({state})", b.browser)?;
    }
    if let Some(note) = &st.database_note {
        writeln!(out, "database:   {note}")?;
    }
    if let Some(since) = writes_failing_since {
        writeln!(
        out,
            "writes:     failing since {} (the agent keeps what it sees in memory and retries; see its log for why)",
            local_moment(since, now)
        )?;
    }
    if let Some(p) = pause {
        let until = match p.until() {
            Some(t) => format!("until {}", local_moment(t, now)),
            None => "until you resume".to_owned(),
        };
        writeln!(out, "paused:     {until} (`dwell-agent resume` ends it)")?;
    }
    Ok(())
}

/// Today, the streak and the week against the limits.
fn figure_lines(out: &mut String, st: &Status) -> Result<()> {
    writeln!(
        out,
        "today:      {} of your {} daily limit",
        fmt_minutes(st.today_seconds),
        fmt_minutes(st.daily_limit_seconds as f64)
    )?;
    writeln!(
        out,
        "streak:     {} now, your streak limit is {}",
        fmt_minutes(st.streak_seconds),
        fmt_minutes(st.streak_limit_seconds as f64)
    )?;
    writeln!(
        out,
        "this week:  {} of your {} weekly limit",
        fmt_minutes(st.week_seconds),
        fmt_minutes(st.weekly_limit_seconds as f64)
    )?;
    Ok(())
}

/// What the reminders will do next.
fn reminders_line(
    st: &Status,
    calibrating_until: Option<chrono::DateTime<Utc>>,
    snoozed_until: Option<chrono::DateTime<Utc>>,
    now: chrono::DateTime<Utc>,
) -> String {
    if !st.reminders_enabled {
        "off (reminders.enabled = false)".to_owned()
    } else if !st.enabled {
        "none until you opt in".to_owned()
    } else if let Some(why) = &st.notifications_off {
        why.clone()
    } else if let Some(end) = calibrating_until {
        format!(
            "calibrating until {}: no reminders yet (then `dwell-agent limits suggest`)",
            local_moment(end, now)
        )
    } else if st.done_for_today {
        "done for today".to_owned()
    } else {
        let next = match (st.next_stage, st.next_stage_seconds) {
            (Some(f), Some(secs)) => format!(
                "next at {:.0}% of your daily limit ({})",
                f * 100.0,
                fmt_minutes(secs as f64)
            ),
            _ => "all of today's stages reached".to_owned(),
        };
        let snoozed = match snoozed_until {
            Some(t) => format!(", snoozed until {}", local_moment(t, now)),
            None => String::new(),
        };
        format!("{next}; {} snooze(s) left today{snoozed}", st.snoozes_left)
    }
}

/// Today's standing against the limits at `now`, as the agent's reminder policy
/// sees it: the stored spans of the week counted by the usage ledger, today's
/// reminders replayed.
fn reminder_outlook<Tz: TimeZone>(
    store: Option<&Store>,
    config: &Config,
    now: chrono::DateTime<Utc>,
    tz: &Tz,
) -> Result<policy::Outlook> {
    let mut policy = Policy::from_config(config);
    if let Some(s) = store {
        let from = Policy::history_start(now, tz);
        policy.record_stored(&s.spans(from, now)?, from, now, tz);
        let (day_start, _) = schedule::local_day_bounds(schedule::local_date(now, tz), tz);
        let todays = s.reminders(day_start, now + chrono::Duration::seconds(1))?;
        policy.restore(now, tz, &todays);
        let today = schedule::local_date(now, tz);
        policy.restore_asked(now, tz, &dwell_core::control::asked(s, today)?);
    }
    Ok(policy.outlook(now, None, tz))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use dwell_core::ledger::fixture;
    use dwell_core::Span;
    use std::time::Duration;

    /// A data directory and this config file, for `status_at`.
    fn with_config(config: &str) -> (tempfile::TempDir, Global) {
        let tmp = tempfile::tempdir().unwrap();
        let g = Global {
            data_dir: Some(tmp.path().join("data")),
            config: Some(tmp.path().join("config.toml")),
        };
        std::fs::write(tmp.path().join("config.toml"), config).unwrap();
        (tmp, g)
    }

    /// 25 November 2026 at `h:m`, local time.
    fn at(h: u32, m: u32) -> chrono::DateTime<Utc> {
        use chrono::TimeZone;
        Local
            .with_ymd_and_hms(2026, 11, 25, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// `status` at an injected moment: today's figure, the pause in local
    /// time, calibration, and nothing running.
    #[test]
    fn status_at_an_injected_moment() {
        let (tmp, g) =
            with_config("[tracking]\ncalibrate = \"7d\"\n[schedule]\nrecord = \"always\"\n");
        let now = at(12, 0);
        let out = status_at(&g, false, now).unwrap();
        assert!(out.contains("enabled:    no"), "{out}");
        // Before opt-in: the way in is `setup`, and no reminder is ahead.
        assert!(out.contains("opt in: `dwell-agent setup`"), "{out}");
        assert!(!out.contains("enable`"), "{out}");
        assert!(!out.contains("next at"), "{out}");
        let json: serde_json::Value =
            serde_json::from_str(&status_at(&g, true, now).unwrap()).unwrap();
        assert!(json["next_stage"].is_null(), "{json}");
        assert!(json["next_stage_seconds"].is_null(), "{json}");
        assert!(json["snoozed_until"].is_null(), "{json}");

        let mut store = Store::open(&tmp.path().join("data")).unwrap();
        store.set_consent(at(9, 0)).unwrap();
        store
            .put_spans(&[Span {
                start: at(11, 0),
                end: at(11, 10),
                activity: dwell_core::Activity::Social("reddit.com".into()),
                source: dwell_core::Source::X11,
            }])
            .unwrap();
        dwell_core::control::set_pause(&store, dwell_core::control::Pause::Until(at(13, 30)))
            .unwrap();
        drop(store);
        let json: serde_json::Value =
            serde_json::from_str(&status_at(&g, true, now).unwrap()).unwrap();
        assert_eq!(json["enabled"], true);
        assert_eq!(json["running"], false);
        assert_eq!(json["today_seconds"], 600.0);
        let paused = json["paused_until"].as_str().unwrap();
        assert_eq!(
            chrono::DateTime::parse_from_rfc3339(paused).unwrap(),
            at(13, 30),
            "{paused}"
        );
        assert!(json["calibrating_until"].is_string(), "{json}");
        let text = status_at(&g, false, now).unwrap();
        assert!(text.contains("paused:     until 13:30"), "{text}");
        assert!(
            text.contains("today:      10m of your 30m daily limit"),
            "{text}"
        );
        assert!(text.contains("calibrating until"), "{text}");
    }

    /// Trying dwell over the lunch break: `status` says nothing is recorded now,
    /// and why (JSON `not_recording_because`, null while recording).
    #[test]
    fn status_says_why_nothing_is_recorded_now() {
        let (tmp, g) = with_config("[schedule]\nwork_hours = [\"09:00-12:00\", \"13:00-17:00\"]\n");
        let store = Store::open(&tmp.path().join("data")).unwrap();
        store.set_consent(at(9, 0)).unwrap();
        drop(store);
        let json: serde_json::Value =
            serde_json::from_str(&status_at(&g, true, at(12, 30)).unwrap()).unwrap();
        let why = json["not_recording_because"].as_str().unwrap_or_default();
        assert!(why.contains("12:00 to 13:00"), "{json}");
        let text = status_at(&g, false, at(12, 30)).unwrap();
        assert!(
            text.contains("recording:  not now: it is a break"),
            "{text}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&status_at(&g, true, at(10, 0)).unwrap()).unwrap();
        assert!(json["not_recording_because"].is_null(), "{json}");
        let text = status_at(&g, false, at(10, 0)).unwrap();
        assert!(!text.contains("not now"), "{text}");
    }

    /// While a snooze runs, `status` shows when it ends (JSON
    /// `snoozed_until`, and the reminders line); `null` otherwise.
    #[test]
    fn status_shows_an_active_snooze() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let g = Global {
            data_dir: Some(dir.clone()),
            config: Some(tmp.path().join("config.toml")),
        };
        std::fs::write(
            tmp.path().join("config.toml"),
            "[schedule]\nrecord = \"always\"\n",
        )
        .unwrap();
        let now = Utc::now();
        let store = Store::open(&dir).unwrap();
        store.set_consent(now - chrono::Duration::days(30)).unwrap();
        let until = now + chrono::Duration::minutes(20);
        store
            .meta_set(crate::remind::SNOOZED_UNTIL_KEY, &until.to_rfc3339())
            .unwrap();
        drop(store);
        let _agent = crate::lock::AgentLock::acquire(&dir).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&status_at(&g, true, now).unwrap()).unwrap();
        let shown = json["snoozed_until"].as_str().unwrap();
        assert_eq!(
            chrono::DateTime::parse_from_rfc3339(shown)
                .unwrap()
                .timestamp(),
            until.timestamp(),
            "{shown}"
        );
        let text = status_at(&g, false, now).unwrap();
        assert!(text.contains("snoozed until"), "{text}");
        // Over: not shown.
        let later = until + chrono::Duration::minutes(1);
        let json: serde_json::Value =
            serde_json::from_str(&status_at(&g, true, later).unwrap()).unwrap();
        assert!(json["snoozed_until"].is_null(), "{json}");
        assert!(!status_at(&g, false, later).unwrap().contains("snoozed"));
    }

    /// `status` shows, for the stored fixture, the figures every other consumer
    /// shows (see `dwell_core::ledger`'s tests and the report's).
    #[test]
    fn status_counts_the_fixture_like_everyone() {
        let tz: chrono_tz::Tz = fixture::ZONE.parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.put_spans(&fixture::spans()).unwrap();
        for config in [fixture::config_then(), fixture::config_now()] {
            for m in fixture::moments() {
                let o = reminder_outlook(Some(&store), &config, m.now, &tz).unwrap();
                let secs = |d: Duration| d.as_secs_f64().round() as i64;
                assert_eq!(secs(o.figures.today), m.today_seconds, "{}", m.now);
                assert_eq!(secs(o.figures.week), m.week_seconds, "{}", m.now);
                assert_eq!(secs(o.figures.streak), m.streak_seconds, "{}", m.now);
            }
        }
        let o = reminder_outlook(None, &fixture::config_now(), fixture::moments()[0].now, &tz);
        assert_eq!(o.unwrap().figures.today, Duration::ZERO);
    }
}
