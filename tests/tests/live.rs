//! End-to-end tests of controlling a running agent: pause and resume while a social window keeps
//! focus, a config edit applied live and a broken one refused (the previous config stays in
//! force), and retention deleting what is older than `[data] keep` when the agent starts.

use std::fs;
use std::thread;
use std::time::{Duration, Instant};

use dwell_tests::{sqlite_json, wait_until, Desktop, DesktopOptions, Dwell};

const ALWAYS: &str = "[tracking]\nidle_timeout = \"10m\"\n[schedule]\nrecord = \"always\"\n";

fn status(dwell: &Dwell) -> serde_json::Value {
    let out = dwell.agent(&["status", "--json"]);
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("status is JSON")
}

#[test]
fn pause_stops_recording_and_resume_restarts_it_while_focus_stays() {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, ALWAYS);
    let (_fb, agent, t0) = dwell.start_on_facebook();
    thread::sleep(Duration::from_millis(1500));

    let out = dwell.agent(&["pause", "10m"]);
    assert!(out.status.success(), "{out:?}");
    let paused_at = t0.elapsed().as_secs_f64();
    assert!(
        agent.wait_for_stderr(Duration::from_secs(5), |e| e.contains("paused")),
        "{}",
        agent.stderr_text()
    );
    let st = status(&dwell);
    assert_eq!(st["recording"], false, "{st}");
    assert!(st["paused_until"].is_string(), "{st}");
    thread::sleep(Duration::from_millis(3000));

    let out = dwell.agent(&["resume"]);
    assert!(out.status.success(), "{out:?}");
    let resumed_at = t0.elapsed().as_secs_f64();
    assert!(agent.wait_for_stderr(Duration::from_secs(5), |e| e.contains("resumed")));
    thread::sleep(Duration::from_millis(1500));
    assert_eq!(agent.terminate().code(), Some(0));
    let end = t0.elapsed().as_secs_f64();

    let got = dwell.db_seconds()["facebook.com"];
    let want = paused_at + (end - resumed_at);
    assert!(
        (got - want).abs() <= 1.0,
        "recorded {got:.2} s, expected {want:.2} s: the pause was not off the record"
    );
}

#[test]
fn a_config_edit_applies_live_and_a_broken_one_is_refused() {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, ALWAYS);
    dwell.enable();
    let forum = desktop.open_window(
        "firefox",
        "Navigator",
        "Example Forum — new posts — Mozilla Firefox",
    );
    let agent = dwell.start();
    forum.activate();
    thread::sleep(Duration::from_millis(1000));
    assert!(!dwell.db_seconds().contains_key("forum.example.org"));

    // A broken edit: refused, shown in status, the agent keeps going.
    fs::write(
        &dwell.config,
        format!("{ALWAYS}[limits]\ndaily = \"a while\"\n"),
    )
    .expect("write config");
    assert!(
        wait_until(Duration::from_secs(5), || status(&dwell)["config_error"]
            .as_str()
            .is_some_and(|e| e.contains(":6:"))),
        "status does not show the config error: {}",
        status(&dwell)
    );
    assert!(agent.is_running());

    // A good edit that adds a site: the focused window counts from now on.
    let rule = "[[rules]]\nsite = \"forum.example.org\"\ntitle = \"Example Forum\"\n";
    fs::write(&dwell.config, format!("{ALWAYS}{rule}")).expect("write config");
    assert!(
        agent.wait_for_stderr(Duration::from_secs(5), |e| e.contains("config reloaded")),
        "{}",
        agent.stderr_text()
    );
    let applied = Instant::now();
    assert!(status(&dwell)["config_error"].is_null());
    thread::sleep(Duration::from_millis(1500));
    assert_eq!(agent.terminate().code(), Some(0));
    let got = dwell.db_seconds()["forum.example.org"];
    let want = applied.elapsed().as_secs_f64();
    assert!(
        (got - want).abs() <= 1.0,
        "recorded {got:.2} s, expected {want:.2} s"
    );
}

#[test]
fn retention_deletes_what_is_older_than_keep() {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, &format!("{ALWAYS}[data]\nkeep = \"30d\"\n"));
    dwell.enable();
    // Seed one old span (400 days ago) and one recent (1 day ago), as the agent stores them.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let day = 86_400_000_i64;
    let old = now_ms - 400 * day;
    let recent = now_ms - day;
    sqlite_json(
        &dwell.db(),
        &format!(
            "INSERT INTO sites (label) VALUES ('reddit.com');
             INSERT INTO spans (start, end, site, source)
               VALUES ({old}, {old} + 60000, (SELECT id FROM sites WHERE label = 'reddit.com'), 1),
                      ({recent}, {recent} + 60000, (SELECT id FROM sites WHERE label = 'reddit.com'), 1);"
        ),
    );
    let agent = dwell.start();
    assert!(agent.wait_for_stderr(Duration::from_secs(5), |e| e.contains("retention ran")));
    assert_eq!(agent.terminate().code(), Some(0));
    let rows = sqlite_json(
        &dwell.db(),
        "SELECT start FROM spans WHERE site IS NOT NULL",
    );
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    assert_eq!(rows[0]["start"], recent);
}

#[test]
fn forgetting_today_while_the_agent_runs_is_not_written_back() {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, ALWAYS);
    let (_fb, agent, _) = dwell.start_on_facebook();
    thread::sleep(Duration::from_millis(1500));

    // The open span is in memory only (no checkpoint yet) when today goes.
    let out = dwell.agent(&["forget", "--from", "today", "--to", "today"]);
    assert!(out.status.success(), "{out:?}");
    let forgot = Instant::now();
    let forgot_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    assert!(
        agent.wait_for_stderr(Duration::from_secs(5), |e| e
            .contains("dropped it from memory")),
        "{}",
        agent.stderr_text()
    );
    thread::sleep(Duration::from_millis(1500));
    assert_eq!(agent.terminate().code(), Some(0));

    let got = dwell.db_seconds()["facebook.com"];
    let want = forgot.elapsed().as_secs_f64();
    assert!(
        (got - want).abs() <= 1.0,
        "recorded {got:.2} s, expected {want:.2} s: time from before the forget came back"
    );
    let first = sqlite_json(&dwell.db(), "SELECT min(start) AS start FROM spans");
    let first = first[0]["start"].as_i64().expect("a span was recorded");
    assert!(first >= forgot_ms - 1000, "a span starts before the forget");
}
