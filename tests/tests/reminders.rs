//! End-to-end tests of gentle reminders: the real `dwell-agent` on a private desktop (Xvfb,
//! openbox, session bus, dunst), with tiny limits so a day's policy runs in seconds.

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dwell_tests::{
    bin_path, sqlite_json, wait_until, Child, Desktop, DesktopOptions, Notification,
    NotificationWatcher, Session,
};

/// A running agent with its data directory.
struct Agent {
    child: Child,
    data: PathBuf,
    /// `--data-dir DIR --config FILE`, for the commands run beside it.
    global: Vec<String>,
}

impl Agent {
    fn start(desktop: &Desktop, config: &str) -> Agent {
        let data = desktop.tempdir().join("data");
        let config_path = desktop.tempdir().join("config.toml");
        std::fs::write(&config_path, config).expect("write the config");
        let agent = bin_path("dwell-agent");
        let args = |cmd: &[&str]| -> Vec<String> {
            let mut v = vec![
                "--data-dir".to_owned(),
                data.display().to_string(),
                "--config".to_owned(),
                config_path.display().to_string(),
            ];
            v.extend(cmd.iter().map(|s| s.to_string()));
            v
        };
        desktop.run_ok(&agent, args(&["enable", "--yes"]));
        let mut cmd = desktop.command(&agent);
        cmd.args(args(&["run"])).env("DWELL_LOG", "info");
        let child = desktop.spawn_command(cmd);
        assert!(
            child.wait_for_stderr(Duration::from_secs(10), |e| e
                .contains("dwell-agent running")),
            "the agent did not start:\n{}",
            desktop.diagnostics()
        );
        Agent {
            child,
            data: data.clone(),
            global: args(&[]),
        }
    }

    /// Runs `dwell-agent` `cmd` on this agent's data and config; its output.
    fn cli(&self, desktop: &Desktop, cmd: &[&str]) -> String {
        let mut args = self.global.clone();
        args.extend(cmd.iter().map(|s| s.to_string()));
        desktop.run_ok(bin_path("dwell-agent"), args)
    }

    /// Stops the agent (SIGTERM) and returns the reminders it stored, oldest first.
    fn stop(&self) -> Vec<serde_json::Value> {
        let status = self.child.terminate();
        assert!(
            status.success(),
            "agent exit: {status}\n{}",
            self.child.stderr_text()
        );
        self.reminders()
    }

    fn reminders(&self) -> Vec<serde_json::Value> {
        let rows = sqlite_json(
            &self.data.join("dwell.db"),
            "SELECT at, kind, outcome, left_social, message FROM reminders ORDER BY at",
        );
        rows.as_array().cloned().unwrap_or_default()
    }

    /// Waits until the reminder due `n`-th today has `outcome`; returns whether it did.
    fn wait_outcome(&self, n: usize, outcome: &str) -> bool {
        wait_until(Duration::from_secs(5), || {
            self.reminders()
                .get(n)
                .is_some_and(|r| r["outcome"] == outcome)
        })
    }

    fn social_seconds(&self) -> f64 {
        let rows = sqlite_json(
            &self.data.join("dwell.db"),
            "SELECT coalesce(sum(end - start), 0) / 1000.0 AS s FROM spans WHERE site IS NOT NULL",
        );
        rows[0]["s"].as_f64().unwrap_or(0.0)
    }
}

fn epoch_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Tiny limits: a day's budget of `daily`, stages at `at`, always recording.
fn config(daily: &str, at: &str, extra: &str) -> String {
    format!(
        "[tracking]\nidle_timeout = \"10m\"\n\
         [limits]\ndaily = \"{daily}\"\nstreak = \"1h\"\nweekly = \"2h\"\n\
         [schedule]\nrecord = \"always\"\n\
         [reminders]\nat = {at}\nmin_gap = \"1s\"\nrepeat_over = \"1h\"\nmax_per_hour = 10\nlanguage = \"en\"\n{extra}"
    )
}

fn dwell_notes(watcher: &NotificationWatcher) -> Vec<Notification> {
    watcher
        .notifications()
        .into_iter()
        .filter(|n| n.app_name == "dwell")
        .collect()
}

fn wait_dwell(watcher: &NotificationWatcher, count: usize, timeout: Duration) -> Vec<Notification> {
    let mut all = Vec::new();
    wait_until(timeout, || {
        all = dwell_notes(watcher);
        all.len() >= count
    });
    all
}

fn social_window(desktop: &Desktop) -> dwell_tests::Window<'_> {
    desktop.open_window("Chromium", "chromium", "Home / X - Chromium")
}

#[test]
fn first_reminder_within_a_second_and_stages_replace_each_other() {
    let desktop = Desktop::start(DesktopOptions::with_dunst());
    let watcher = desktop.watch_notifications();
    let agent = Agent::start(&desktop, &config("6s", "[0.5, 0.8, 1.0]", ""));
    let _window = social_window(&desktop);
    let focused = epoch_now();

    let notes = wait_dwell(&watcher, 3, Duration::from_secs(15));
    assert_eq!(notes.len(), 3, "{notes:#?}\n{}", desktop.diagnostics());
    // 50 % of 6 s: 3 s after the social window took focus.
    let late = notes[0].time - (focused + 3.0);
    assert!(
        late.abs() < 1.0,
        "first reminder {late:+.3} s from its crossing"
    );
    let late = notes[1].time - (focused + 4.8);
    assert!(
        late.abs() < 1.0,
        "second reminder {late:+.3} s from its crossing"
    );
    let late = notes[2].time - (focused + 6.0);
    assert!(
        late.abs() < 1.0,
        "third reminder {late:+.3} s from its crossing"
    );
    assert!(notes[0].time < notes[1].time && notes[1].time < notes[2].time);

    // Each replaces the previous one: no stack.
    assert_eq!(notes[0].replaces_id, 0);
    assert_ne!(notes[1].replaces_id, 0);
    assert_eq!(notes[2].replaces_id, notes[1].replaces_id);
    require_dunstctl();
    let shown = desktop.run_ok("dunstctl", ["count", "displayed"]);
    assert_eq!(shown.trim(), "1", "notifications on screen");
    for n in &notes {
        assert_eq!(n.hint("urgency"), Some("byte 0"), "{n:#?}");
        assert!(n.expire_timeout > 0, "{n:#?}");
        assert!(n.actions.contains(&"snooze".to_owned()), "{n:#?}");
        assert!(n.actions.contains(&"done".to_owned()), "{n:#?}");
        assert!(!n.body.is_empty());
    }
    assert!(
        notes[0].summary.contains("3s of your 6s"),
        "{}",
        notes[0].summary
    );

    let recs = agent.stop();
    assert_eq!(recs.len(), 3, "{recs:?}");
    for r in &recs {
        assert_eq!(r["kind"], "stage");
        assert_eq!(r["outcome"], "shown");
        assert!(
            r["message"].as_str().is_some_and(|m| m.starts_with("en-")),
            "{r}"
        );
    }
    // The log says which kind of reminder went out, never the site.
    let log = agent.child.stderr_text();
    assert!(log.contains("reminder"), "{log}");
    assert!(!log.contains("x.com") && !log.contains("Home / X"), "{log}");
}

#[test]
fn nothing_is_sent_while_on_a_work_window() {
    let desktop = Desktop::start(DesktopOptions::with_dunst());
    let watcher = desktop.watch_notifications();
    let agent = Agent::start(&desktop, &config("4s", "[0.5, 1.0]", ""));
    let _editor = desktop.open_window("XTerm", "xterm", "cargo build");
    thread::sleep(Duration::from_secs(7));
    assert!(
        dwell_notes(&watcher).is_empty(),
        "{:#?}",
        dwell_notes(&watcher)
    );
    // Then on a social site, the first stage comes 2 s later: the agent was listening.
    let social = social_window(&desktop);
    let notes = wait_dwell(&watcher, 1, Duration::from_secs(6));
    assert_eq!(notes.len(), 1, "{}", desktop.diagnostics());
    drop(social);
    let recs = agent.stop();
    assert!(!recs.is_empty());
}

#[test]
fn snooze_silences_reminders_for_the_snooze_time() {
    require_dunstctl();
    let desktop = Desktop::start(DesktopOptions::with_dunst());
    let watcher = desktop.watch_notifications();
    let agent = Agent::start(
        &desktop,
        &config("10s", "[0.3, 0.6, 1.0]", "snooze = \"8s\"\n"),
    );
    let _window = social_window(&desktop);
    let first = wait_dwell(&watcher, 1, Duration::from_secs(8));
    assert_eq!(first.len(), 1, "{}", desktop.diagnostics());
    // Picked from dunst's own menu: dunst sends ActionInvoked itself.
    assert!(
        desktop.choose_notification_action("snooze"),
        "dunst did not offer the Snooze action"
    );
    let snoozed = epoch_now();
    // The 60 % (6 s) and 100 % (10 s) crossings fall in the snooze: nothing until it ends.
    thread::sleep(Duration::from_secs(7));
    assert_eq!(
        dwell_notes(&watcher).len(),
        1,
        "{:#?}",
        dwell_notes(&watcher)
    );
    let notes = wait_dwell(&watcher, 2, Duration::from_secs(4));
    assert_eq!(notes.len(), 2, "{}", desktop.diagnostics());
    let after = notes[1].time - snoozed;
    assert!(
        (7.0..9.5).contains(&after),
        "next reminder {after:.2} s after snoozing"
    );
    assert!(
        notes[1].summary.contains("of your 10s"),
        "{}",
        notes[1].summary
    );
    // Only the latest stage, not a backlog.
    thread::sleep(Duration::from_secs(1));
    assert_eq!(dwell_notes(&watcher).len(), 2);
    let recs = agent.stop();
    assert_eq!(recs[0]["outcome"], "snoozed", "{recs:?}");
    assert_eq!(
        recs.last().map(|r| r["outcome"].clone()),
        Some("shown".into())
    );
}

/// `dwell-agent snooze 2h` while a reminder is on screen (the way where the server draws no
/// buttons): the reminder is settled as snoozed, and `status --json` shows when the snooze
/// ends (issue 19's contract).
#[test]
fn the_snooze_command_over_a_reminder_shows_in_status() {
    let desktop = Desktop::start(DesktopOptions::with_dunst());
    let watcher = desktop.watch_notifications();
    let agent = Agent::start(&desktop, &config("10s", "[0.3, 0.6, 1.0]", ""));
    let _window = social_window(&desktop);
    let first = wait_dwell(&watcher, 1, Duration::from_secs(8));
    assert_eq!(first.len(), 1, "{}", desktop.diagnostics());
    let said = agent.cli(&desktop, &["snooze", "2h"]);
    let asked = epoch_now();
    assert!(said.contains("Snoozed"), "{said}");
    let status: serde_json::Value =
        serde_json::from_str(&agent.cli(&desktop, &["status", "--json"])).expect("JSON");
    // RFC 3339 read by date(1) (the tests crate has no date library).
    let until = status["snoozed_until"].as_str().and_then(|t| {
        let out = std::process::Command::new("date")
            .args(["+%s", "-d", t])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<f64>()
            .ok()
    });
    assert!(
        until.is_some_and(|u| (u - (asked + 7200.0)).abs() < 30.0),
        "snoozed_until {} (asked at {asked:.0} for 2h)",
        status["snoozed_until"]
    );
    let recs = agent.stop();
    assert_eq!(recs[0]["outcome"], "snoozed", "{recs:?}");
}

#[test]
fn a_fullscreen_window_holds_reminders_back() {
    let desktop = Desktop::start(DesktopOptions::with_dunst());
    let watcher = desktop.watch_notifications();
    let agent = Agent::start(&desktop, &config("6s", "[0.5, 1.0]", ""));
    let window = desktop.open_window("Chromium", "chromium", "Watch - YouTube - Chromium");
    window.fullscreen(true);
    thread::sleep(Duration::from_secs(8));
    assert!(
        dwell_notes(&watcher).is_empty(),
        "{:#?}",
        dwell_notes(&watcher)
    );
    window.fullscreen(false);
    let back = epoch_now();
    let notes = wait_dwell(&watcher, 1, Duration::from_secs(3));
    assert_eq!(notes.len(), 1, "{}", desktop.diagnostics());
    assert!(notes[0].time - back < 1.0);
    assert!(
        notes[0].summary.contains("of your 6s"),
        "{}",
        notes[0].summary
    );
    thread::sleep(Duration::from_secs(1));
    assert_eq!(dwell_notes(&watcher).len(), 1, "a backlog was sent");
    let recs = agent.stop();
    let outcomes: Vec<&str> = recs.iter().filter_map(|r| r["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["held", "shown"], "{recs:?}");
}

#[test]
fn do_not_disturb_holds_reminders_until_it_ends() {
    require_dunstctl();
    let desktop = Desktop::start(DesktopOptions::with_dunst());
    let watcher = desktop.watch_notifications();
    desktop.run_ok("dunstctl", ["set-paused", "true"]);
    let agent = Agent::start(&desktop, &config("4s", "[0.5, 1.0]", ""));
    let _window = social_window(&desktop);
    thread::sleep(Duration::from_secs(6));
    // dwell holds its own back instead of letting dunst queue a pile.
    assert!(
        dwell_notes(&watcher).is_empty(),
        "{:#?}",
        dwell_notes(&watcher)
    );
    assert!(
        wait_until(Duration::from_secs(3), || agent
            .reminders()
            .iter()
            .any(|r| r["outcome"] == "held")),
        "{:?}",
        agent.reminders()
    );
    desktop.run_ok("dunstctl", ["set-paused", "false"]);
    // Looked at again every 10 s while a reminder is held.
    let notes = wait_dwell(&watcher, 1, Duration::from_secs(12));
    assert_eq!(notes.len(), 1, "{}", desktop.diagnostics());
    assert!(
        notes[0].summary.contains("of your 4s"),
        "{}",
        notes[0].summary
    );
    thread::sleep(Duration::from_secs(1));
    assert_eq!(dwell_notes(&watcher).len(), 1, "a backlog was sent");
    let recs = agent.stop();
    assert_eq!(
        recs.last().map(|r| r["outcome"].clone()),
        Some("shown".into()),
        "{recs:?}"
    );
}

#[test]
fn without_a_notification_daemon_tracking_goes_on() {
    let desktop = Desktop::start(DesktopOptions::default());
    let agent = Agent::start(&desktop, &config("4s", "[0.5]", ""));
    let _window = social_window(&desktop);
    thread::sleep(Duration::from_secs(5));
    let recs = agent.stop();
    assert!(!recs.is_empty(), "no reminder stored");
    assert_eq!(recs[0]["outcome"], "undelivered", "{recs:?}");
    let secs = agent.social_seconds();
    assert!(secs >= 4.0, "tracked {secs} s");
    let log = agent.child.stderr_text();
    assert_eq!(
        log.matches("cannot show reminders").count(),
        1,
        "logged once: {log}"
    );
}

fn require_dunstctl() {
    dwell_tests::require_tool("dunstctl");
}

#[test]
fn done_for_today_chosen_in_dunst_ends_reminders_for_the_day() {
    require_dunstctl();
    let desktop = Desktop::start(DesktopOptions::with_dunst());
    let watcher = desktop.watch_notifications();
    let agent = Agent::start(&desktop, &config("6s", "[0.3, 0.6, 1.0]", ""));
    let _window = social_window(&desktop);
    let first = wait_dwell(&watcher, 1, Duration::from_secs(8));
    assert_eq!(first.len(), 1, "{}", desktop.diagnostics());
    // Picked from dunst's own menu: dunst sends ActionInvoked itself.
    assert!(
        desktop.choose_notification_action("done"),
        "dunst did not offer \"Done for today\""
    );
    assert!(
        agent.wait_outcome(0, "done_for_today"),
        "{:?}\n{}",
        agent.reminders(),
        agent.child.stderr_text()
    );
    // The 60 % and 100 % crossings (3.6 s, 6 s) and the over-budget repeat pass in silence.
    thread::sleep(Duration::from_secs(6));
    assert_eq!(
        dwell_notes(&watcher).len(),
        1,
        "{:#?}",
        dwell_notes(&watcher)
    );
    let recs = agent.stop();
    assert_eq!(recs.len(), 1, "{recs:?}");
    // Counting went on: "done" silences reminders, not the record.
    assert!(agent.social_seconds() > 6.0);
}

#[test]
fn a_click_when_nothing_can_open_the_report_says_where_it_is_saved() {
    require_dunstctl();
    let desktop = Desktop::start(DesktopOptions::with_dunst());
    desktop.break_opener();
    let watcher = desktop.watch_notifications();
    let agent = Agent::start(&desktop, &config("10s", "[0.2]", ""));
    let _window = social_window(&desktop);
    let first = wait_dwell(&watcher, 1, Duration::from_secs(8));
    assert_eq!(first.len(), 1, "{}", desktop.diagnostics());
    desktop.run_ok("dunstctl", ["action", "0"]);
    assert!(
        agent.wait_outcome(0, "open_failed"),
        "a click that opened nothing is not `opened`: {:?}",
        agent.reminders()
    );
    let notes = wait_dwell(&watcher, 2, Duration::from_secs(8));
    let saved = agent.data.join("report-today.html");
    assert!(
        notes.len() == 2 && notes[1].body.contains(&saved.display().to_string()),
        "a note must say where the report is saved: {notes:#?}"
    );
    let page = std::fs::read_to_string(&saved).expect("the report was saved");
    assert!(page.contains("<html"));
    agent.stop();
}

#[test]
fn clicking_a_reminder_opens_the_report_and_closing_one_is_dismissed() {
    require_dunstctl();
    let desktop = Desktop::start(DesktopOptions::with_dunst());
    let watcher = desktop.watch_notifications();
    let agent = Agent::start(&desktop, &config("10s", "[0.2, 0.6]", ""));
    let _window = social_window(&desktop);
    let first = wait_dwell(&watcher, 1, Duration::from_secs(8));
    assert_eq!(first.len(), 1, "{}", desktop.diagnostics());
    assert!(
        first[0].actions.contains(&"default".to_owned()),
        "{first:#?}"
    );

    // A click: dunst invokes the default action.
    desktop.run_ok("dunstctl", ["action", "0"]);
    assert!(agent.wait_outcome(0, "opened"), "{:?}", agent.reminders());
    let mut opened = Vec::new();
    assert!(
        wait_until(Duration::from_secs(10), || {
            opened = desktop.opened();
            !opened.is_empty()
        }),
        "nothing was opened:\n{}",
        agent.child.stderr_text()
    );
    let page = std::fs::read_to_string(&opened[0]).expect("the opened report exists");
    assert!(page.contains("<html"), "{}", opened[0].display());
    let mode = std::fs::metadata(&opened[0])
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
        .expect("stat the report");
    assert_eq!(mode, 0o600, "the opened report is private");

    // The next stage, closed by hand.
    let second = wait_dwell(&watcher, 2, Duration::from_secs(8));
    assert_eq!(second.len(), 2, "{}", desktop.diagnostics());
    desktop.run_ok("dunstctl", ["close"]);
    assert!(
        agent.wait_outcome(1, "dismissed"),
        "{:?}",
        agent.reminders()
    );
    let recs = agent.stop();
    assert_eq!(recs.len(), 2, "{recs:?}");
}

/// `[limits.sites]`: x.com (the window's site) crosses its own 3 s limit and one reminder
/// names it, stored as kind `site`; the daily stage (6 s) then replaces it on screen, never
/// beside it.
#[test]
fn a_site_over_its_own_limit_is_named_and_the_daily_reminder_replaces_it() {
    let desktop = Desktop::start(DesktopOptions::with_dunst());
    let watcher = desktop.watch_notifications();
    let agent = Agent::start(
        &desktop,
        &config("6s", "[1.0]", "[limits.sites]\n\"x.com\" = \"3s\"\n"),
    );
    let _window = social_window(&desktop);
    let focused = epoch_now();

    let notes = wait_dwell(&watcher, 1, Duration::from_secs(10));
    assert_eq!(notes.len(), 1, "{notes:#?}\n{}", desktop.diagnostics());
    let site = &notes[0];
    assert!(
        site.summary.contains("x.com") || site.body.contains("x.com"),
        "the site is not named: {site:#?}"
    );
    let late = site.time - (focused + 3.0);
    assert!(
        late.abs() < 1.0,
        "site reminder {late:+.3} s from its crossing"
    );
    assert_eq!(site.replaces_id, 0, "{site:#?}");
    require_dunstctl();
    assert_eq!(
        desktop.run_ok("dunstctl", ["count", "displayed"]).trim(),
        "1"
    );

    let notes = wait_dwell(&watcher, 2, Duration::from_secs(10));
    assert_eq!(notes.len(), 2, "{notes:#?}\n{}", desktop.diagnostics());
    let daily = &notes[1];
    assert!(daily.summary.contains("6s"), "{daily:#?}");
    assert_ne!(
        daily.replaces_id, 0,
        "the daily reminder stacked: {daily:#?}"
    );
    assert_eq!(
        desktop.run_ok("dunstctl", ["count", "displayed"]).trim(),
        "1",
        "notifications on screen"
    );
    // No third one: each limit's reminder once.
    thread::sleep(Duration::from_millis(1500));
    assert_eq!(dwell_notes(&watcher).len(), 2);

    let recs = agent.stop();
    let kinds: Vec<&str> = recs.iter().filter_map(|r| r["kind"].as_str()).collect();
    assert_eq!(kinds, ["site", "stage"], "{recs:?}");
    assert!(
        recs[0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("en-")),
        "{recs:?}"
    );
    // The log says which kind went out, never the site.
    let log = agent.child.stderr_text();
    assert!(log.contains("reminder"), "{log}");
    assert!(!log.contains("x.com"), "{log}");
}
