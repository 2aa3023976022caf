//! End-to-end tests of the tray icon: the real `dwell-agent` on a private desktop whose
//! session bus has a StatusNotifierWatcher stand-in (`tests/data/sni-watcher.py`), which
//! records what registers and, like a tray host, reads the item's properties and clicks its
//! `com.canonical.dbusmenu` menu.

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dwell_tests::{sqlite_json, wait_until, Child, Desktop, DesktopOptions, Dwell, Session};

const PYTHON: &str = "/usr/bin/python3";

/// Counting always, a 30-minute daily limit.
const CONFIG: &str = "[tracking]\nidle_timeout = \"10m\"\n\
                      [limits]\ndaily = \"30m\"\nstreak = \"1h\"\nweekly = \"5h\"\n\
                      [schedule]\nrecord = \"always\"\n";

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/sni-watcher.py")
}

/// Starts the watcher stand-in and waits until it owns its name.
fn start_watcher(desktop: &Desktop) -> Child {
    let watcher = desktop.spawn(PYTHON, [script().as_os_str(), "serve".as_ref()]);
    assert!(
        watcher.wait_for_stdout(Duration::from_secs(10), |o| o.contains("watching")),
        "the watcher stand-in did not start:\n{}",
        desktop.diagnostics()
    );
    watcher
}

/// The bus name of the first item that registered with `watcher`, waiting up to `timeout`.
fn registered(watcher: &Child, timeout: Duration) -> Option<String> {
    let mut name = None;
    wait_until(timeout, || {
        name = watcher
            .stdout_text()
            .lines()
            .find_map(|l| l.strip_prefix("registered ").map(str::to_owned));
        name.is_some()
    });
    name
}

/// Runs the stand-in as a tray host would act: `tooltip NAME`, `menu NAME`, `click NAME LABEL`.
fn host(desktop: &Desktop, args: &[&str]) -> String {
    let mut all = vec![script().display().to_string()];
    all.extend(args.iter().map(|s| s.to_string()));
    desktop.run_ok(PYTHON, all)
}

/// The item's icon name and tooltip text.
fn tooltip(desktop: &Desktop, item: &str) -> (String, String) {
    let out = host(desktop, &["tooltip", item]);
    let mut lines = out.lines();
    let icon = lines.next().unwrap_or_default().to_owned();
    let _title = lines.next();
    (icon, lines.collect::<Vec<_>>().join("\n"))
}

fn epoch_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Stores `minutes` of facebook.com that ended a minute ago, as a recording agent would have.
fn seed_social_time(dwell: &Dwell, minutes: i64) {
    let end = epoch_ms() - 60_000;
    let start = end - minutes * 60_000;
    sqlite_json(
        &dwell.db(),
        &format!(
            "INSERT OR IGNORE INTO sites (label) VALUES ('facebook.com');
             INSERT INTO spans (start, end, site, source)
             VALUES ({start}, {end}, (SELECT id FROM sites WHERE label = 'facebook.com'), 1)"
        ),
    );
}

/// Whether the menu (as `sni-watcher.py menu` prints it) offers Resume.
fn resume_enabled(menu: &str) -> Option<bool> {
    entry_enabled(menu, "Resume")
}

fn entry_enabled(menu: &str, label: &str) -> Option<bool> {
    menu.lines().find_map(|l| {
        let mut cols = l.split('\t').skip(1);
        (cols.next() == Some(label)).then(|| cols.next() == Some("True"))
    })
}

fn status_json(dwell: &Dwell) -> serde_json::Value {
    let out = dwell.agent(&["status", "--json"]);
    assert!(out.status.success(), "status --json failed: {out:?}");
    serde_json::from_slice(&out.stdout).expect("status --json is JSON")
}

/// What `status` says on its `today:` line, e.g. "12m of your 30m daily limit".
fn status_today(dwell: &Dwell) -> String {
    let out = dwell.agent(&["status"]);
    assert!(out.status.success(), "status failed: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("today:").map(|t| t.trim().to_owned()))
        .expect("status has a today: line")
}

#[test]
fn the_item_registers_shows_today_and_pauses_from_its_menu() {
    let desktop = Desktop::start(DesktopOptions::default());
    let watcher = start_watcher(&desktop);
    let dwell = Dwell::new(&desktop, CONFIG);
    dwell.enable();
    seed_social_time(&dwell, 12);
    let agent = dwell.start();

    let item = registered(&watcher, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("the tray item did not register:\n{}", desktop.diagnostics()));
    assert!(item.starts_with("org.kde.StatusNotifierItem-"), "{item}");

    // The tooltip carries today's figure, as `status` counts and writes it.
    let today = status_today(&dwell);
    assert!(today.starts_with("12m of your 30m"), "{today}");
    let mut shown = (String::new(), String::new());
    let carried = wait_until(Duration::from_secs(5), || {
        shown = tooltip(&desktop, &item);
        shown.1.contains(&today)
    });
    assert!(carried, "tooltip {shown:?}, status today: {today}");
    assert_eq!(shown.0, "appointment-soon", "the icon under the limit");

    // The menu a tray host shows.
    let menu = host(&desktop, &["menu", &item]);
    let labels: Vec<&str> = menu.lines().filter_map(|l| l.split('\t').nth(1)).collect();
    assert_eq!(
        labels,
        [
            "Pause 1 hour",
            "Pause until tomorrow",
            "Resume",
            "Today's report",
            "This week's report",
            "Open settings",
            "Snooze",
            "Done for today"
        ],
        "{menu}"
    );
    assert_eq!(resume_enabled(&menu), Some(false), "{menu}");

    // Pause 1 hour, clicked through com.canonical.dbusmenu, really pauses.
    assert!(status_json(&dwell)["paused_until"].is_null());
    host(&desktop, &["click", &item, "Pause 1 hour"]);
    let mut json = serde_json::Value::Null;
    let paused = wait_until(Duration::from_secs(5), || {
        json = status_json(&dwell);
        json["paused_until"].is_string()
    });
    assert!(
        paused,
        "status after the click: {json}\n{}",
        agent.stderr_text()
    );
    let paused = wait_until(Duration::from_secs(5), || {
        shown = tooltip(&desktop, &item);
        shown.0 == "media-playback-pause" && shown.1.contains("Paused until")
    });
    assert!(paused, "the tray after pausing: {shown:?}");
    // Hosts were told: the icon, the tooltip and the menu (Resume is offered now).
    for signal in ["NewIcon", "NewToolTip", "LayoutUpdated"] {
        assert!(
            watcher.wait_for_stdout(Duration::from_secs(5), |o| o
                .lines()
                .any(|l| l.starts_with(&format!("signal {signal}")))),
            "no {signal} signal:\n{}",
            watcher.stdout_text()
        );
    }
    let menu = host(&desktop, &["menu", &item]);
    assert_eq!(resume_enabled(&menu), Some(true), "{menu}");

    // Resume from the menu too.
    host(&desktop, &["click", &item, "Resume"]);
    let resumed = wait_until(Duration::from_secs(5), || {
        status_json(&dwell)["paused_until"].is_null()
    });
    assert!(resumed, "{}", agent.stderr_text());

    // Under the limit with no reminder on screen: Snooze is not offered.
    let menu = host(&desktop, &["menu", &item]);
    assert_eq!(entry_enabled(&menu, "Snooze"), Some(false), "{menu}");
    // The buttons' choices from a terminal reach the running agent, which
    // answers with the day's snoozes left (3 a day by default).
    let out = dwell.agent(&["snooze", "20m"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}\n{out:?}");
    assert!(said.contains("(2 snooze(s) left today)"), "{said}");
    let out = dwell.agent(&["done-for-today"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.starts_with("Done for today"), "{said}\n{out:?}");
    assert_eq!(status_json(&dwell)["done_for_today"], true);

    let status = agent.terminate();
    assert!(status.success(), "{status}\n{}", agent.stderr_text());
}

#[test]
fn with_the_tray_off_nothing_registers() {
    let desktop = Desktop::start(DesktopOptions::default());
    let watcher = start_watcher(&desktop);
    let dwell = Dwell::new(&desktop, &format!("{CONFIG}[ui]\ntray = false\n"));
    dwell.enable();
    let agent = dwell.start();
    assert_eq!(registered(&watcher, Duration::from_secs(3)), None);
    assert!(agent.is_running(), "{}", agent.stderr_text());
    assert!(agent.terminate().success(), "{}", agent.stderr_text());
}

#[test]
fn without_a_watcher_the_agent_says_so_once_keeps_tracking_and_registers_later() {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, CONFIG);
    let (_fb, agent, _focused) = dwell.start_on_facebook();
    let said = "no tray on this desktop";
    assert!(
        agent.wait_for_stderr(Duration::from_secs(5), |e| e.contains(said)),
        "{}",
        agent.stderr_text()
    );
    thread::sleep(Duration::from_secs(3));
    let log = agent.stderr_text();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(said)).collect();
    assert_eq!(lines.len(), 1, "said once:\n{log}");
    assert!(lines[0].contains("INFO"), "at info level: {}", lines[0]);

    // A tray that starts later gets the item.
    let watcher = start_watcher(&desktop);
    let item = registered(&watcher, Duration::from_secs(10));
    assert!(item.is_some(), "{}", agent.stderr_text());

    assert!(agent.is_running(), "{}", agent.stderr_text());
    assert!(agent.terminate().success(), "{}", agent.stderr_text());
    let fb = dwell
        .db_seconds()
        .get("facebook.com")
        .copied()
        .unwrap_or(0.0);
    assert!(fb >= 3.0, "tracking went on without a tray: {fb} s");
}

#[test]
fn a_tray_that_restarts_gets_the_item_again() {
    let desktop = Desktop::start(DesktopOptions::default());
    let watcher = start_watcher(&desktop);
    let dwell = Dwell::new(&desktop, CONFIG);
    dwell.enable();
    let agent = dwell.start();
    let first = registered(&watcher, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("the tray item did not register:\n{}", agent.stderr_text()));
    watcher.terminate();
    assert!(
        wait_until(Duration::from_secs(5), || !desktop
            .name_has_owner("org.kde.StatusNotifierWatcher")),
        "the watcher stand-in did not leave the bus"
    );

    let again = start_watcher(&desktop);
    let second = registered(&again, Duration::from_secs(10));
    assert_eq!(
        second.as_deref(),
        Some(first.as_str()),
        "{}",
        agent.stderr_text()
    );
    // The item still answers the new tray.
    let (icon, _) = tooltip(&desktop, &first);
    assert_eq!(icon, "appointment-soon");
    // Said at info when there was no tray from the start only.
    assert!(
        !agent.stderr_text().contains("no tray on this desktop"),
        "{}",
        agent.stderr_text()
    );
    assert!(agent.terminate().success(), "{}", agent.stderr_text());
}

#[test]
fn turning_the_tray_off_in_the_saved_config_takes_the_item_off_the_bus() {
    let desktop = Desktop::start(DesktopOptions::default());
    let watcher = start_watcher(&desktop);
    let dwell = Dwell::new(&desktop, CONFIG);
    dwell.enable();
    let agent = dwell.start();
    let item = registered(&watcher, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("the tray item did not register:\n{}", agent.stderr_text()));
    assert!(desktop.name_has_owner(&item));

    std::fs::write(&dwell.config, format!("{CONFIG}[ui]\ntray = false\n")).expect("write config");
    assert!(
        agent.wait_for_stderr(Duration::from_secs(5), |e| e.contains("config reloaded")),
        "{}",
        agent.stderr_text()
    );
    assert!(
        wait_until(Duration::from_secs(5), || !desktop.name_has_owner(&item)),
        "the item is still on the bus:\n{}",
        agent.stderr_text()
    );
    assert!(agent.is_running(), "{}", agent.stderr_text());
    assert!(agent.terminate().success(), "{}", agent.stderr_text());
}

/// A session bus that takes connections and never answers (a hung bus).
fn silent_bus(dir: &std::path::Path) -> String {
    let path = dir.join("silent-bus");
    let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind the silent bus");
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    format!("unix:path={}", path.display())
}

#[test]
fn a_session_bus_that_never_answers_does_not_hold_up_the_agent() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let desktop = Desktop::start(DesktopOptions {
        extra_env: vec![("DBUS_SESSION_BUS_ADDRESS".into(), silent_bus(dir.path()))],
        ..DesktopOptions::default()
    });
    let dwell = Dwell::new(&desktop, CONFIG);
    // `start` waits for "dwell-agent running": the tray must not wait for the bus.
    let (_fb, agent, _focused) = dwell.start_on_facebook();
    thread::sleep(Duration::from_secs(3));
    assert!(agent.is_running(), "{}", agent.stderr_text());
    assert!(agent.terminate().success(), "{}", agent.stderr_text());
    let fb = dwell
        .db_seconds()
        .get("facebook.com")
        .copied()
        .unwrap_or(0.0);
    assert!(fb >= 2.0, "tracking went on: {fb} s");
}
