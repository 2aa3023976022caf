//! End-to-end tests of the foundation: the real `dwell-agent` binary under Xvfb + openbox in a
//! private session bus, windows with known classes and titles, focus switched on a script, and
//! the database, the report and the logs checked afterwards.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use dwell_tests::{sqlite_json, Desktop, DesktopOptions, Dwell, Signal};

const ALWAYS: &str = r#"
[tracking]
idle_timeout = "10m"
[schedule]
record = "always"
"#;

fn assert_near(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1.0,
        "{what}: recorded {got:.2} s, expected {want:.2} s (±1 s)"
    );
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[test]
fn focus_script_is_counted_per_site_and_sigterm_exits_cleanly() {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, ALWAYS);
    dwell.enable();
    let work = desktop.open_window("XTerm", "xterm", "cargo build — ~/src/dwell");
    let facebook = desktop.open_window("firefox", "Navigator", "(2) Facebook — Mozilla Firefox");
    let x = desktop.open_window("Chromium", "chromium", "Home / X - Chromium");
    work.activate();
    let agent = dwell.start();

    // Each switch is timed at the middle of the call that makes it.
    let origin = Instant::now();
    let switch = |action: &dyn Fn()| {
        let before = secs(origin.elapsed());
        action();
        (before + secs(origin.elapsed())) / 2.0
    };
    let t0 = switch(&|| facebook.activate());
    thread::sleep(Duration::from_millis(2500));
    let t1 = switch(&|| work.activate());
    thread::sleep(Duration::from_millis(1500));
    let t2 = switch(&|| x.activate());
    thread::sleep(Duration::from_millis(2000));
    // A title change inside the browser moves the time to another site.
    let t3 = switch(&|| x.set_title("Jane Doe | Facebook - Chromium"));
    thread::sleep(Duration::from_millis(1000));
    let status = agent.terminate();
    let t4 = secs(origin.elapsed());
    assert_eq!(status.code(), Some(0), "{}", agent.stderr_text());
    assert!(agent.stderr_text().contains("dwell-agent stopped"));

    let facebook_want = (t1 - t0) + (t4 - t3);
    let x_want = t3 - t2;
    let got = dwell.db_seconds();
    assert_near("facebook.com", got["facebook.com"], facebook_want);
    assert_near("x.com", got["x.com"], x_want);
    assert_near("other", got["(other)"], t2 - t1);

    let (report, total) = dwell.report_seconds();
    assert_near(
        "report facebook.com",
        report["facebook.com"],
        got["facebook.com"],
    );
    assert_near("report x.com", report["x.com"], got["x.com"]);
    assert!(!report.contains_key("(other)") && !report.contains_key("other"));
    assert_near("report total", total, got["facebook.com"] + got["x.com"]);
}

#[test]
fn idle_time_is_cut_back_to_the_last_input() {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(
        &desktop,
        "[tracking]\nidle_timeout = \"5s\"\n[schedule]\nrecord = \"always\"\n",
    );
    dwell.enable();
    let _reddit = desktop.open_window(
        "firefox",
        "Navigator",
        "Reddit - Dive into anything — Mozilla Firefox",
    );
    let agent = dwell.start();

    desktop.nudge_input();
    let start = Instant::now();
    thread::sleep(Duration::from_millis(1000));
    desktop.nudge_input();
    let last_input = Instant::now();
    // Away from the keyboard for well over the idle timeout.
    thread::sleep(Duration::from_millis(7500));
    assert!(desktop.idle_ms() >= 7000, "the idle counter did not grow");
    desktop.nudge_input();
    let back = Instant::now();
    thread::sleep(Duration::from_millis(1500));
    assert_eq!(agent.terminate().code(), Some(0));
    let end = Instant::now();

    let got = dwell.db_seconds();
    let want = secs(last_input - start) + secs(end - back);
    assert_near("reddit.com with the idle gap cut", got["reddit.com"], want);
    // Two pieces: before the idle period and after it.
    let pieces = sqlite_json(
        &dwell.db(),
        "SELECT count(*) AS n FROM spans WHERE site IS NOT NULL",
    );
    assert_eq!(pieces[0]["n"], 2, "{pieces}");
}

#[test]
fn a_document_titled_like_a_social_site_is_not_social_time() {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, ALWAYS);
    dwell.enable();
    let doc = desktop.open_window(
        "libreoffice-writer",
        "libreoffice",
        "Facebook privacy review.odt - LibreOffice Writer",
    );
    let agent = dwell.start();
    doc.activate();
    let t0 = Instant::now();
    thread::sleep(Duration::from_millis(2000));
    assert_eq!(agent.terminate().code(), Some(0));
    let elapsed = secs(t0.elapsed());

    let got = dwell.db_seconds();
    assert_eq!(got.keys().collect::<Vec<_>>(), ["(other)"], "{got:?}");
    assert_near("other active time", got["(other)"], elapsed);
    let (sites, total) = dwell.report_seconds();
    assert!(sites.is_empty(), "{sites:?}");
    assert_eq!(total, 0.0);
}

#[test]
fn run_without_consent_exits_2_and_records_nothing() {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, ALWAYS);
    let _fb = desktop.open_window("firefox", "Navigator", "Facebook — Mozilla Firefox");
    let out = dwell.agent(&["run"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("dwell-agent enable"), "{stderr}");
    assert!(
        !dwell.db().exists() || dwell.db_seconds().is_empty(),
        "something was recorded without consent"
    );

    // After opting out again, run is refused the same way.
    dwell.enable();
    let out = dwell.agent(&["disable"]);
    assert!(out.status.success(), "{out:?}");
    let out = dwell.agent(&["run"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn kill_9_loses_at_most_10_seconds_and_the_database_stays_intact() {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, ALWAYS);
    dwell.enable();
    let tiktok = desktop.open_window(
        "firefox",
        "Navigator",
        "TikTok - Make Your Day — Mozilla Firefox",
    );
    let agent = dwell.start();
    tiktok.activate();
    let t0 = Instant::now();
    thread::sleep(Duration::from_millis(12_500));
    agent.kill9();
    let crashed_after = secs(t0.elapsed());

    let agent = dwell.start();
    let t1 = Instant::now();
    thread::sleep(Duration::from_millis(1000));
    assert_eq!(agent.terminate().code(), Some(0));
    let after_restart = secs(t1.elapsed());

    let got = dwell.db_seconds()["tiktok.com"];
    assert!(
        got >= crashed_after - 10.0 + after_restart - 1.0,
        "lost more than 10 s: {got:.1} s recorded, {crashed_after:.1} + {after_restart:.1} s focused"
    );
    assert!(got <= crashed_after + after_restart + 1.0, "{got}");
    let check = sqlite_json(&dwell.db(), "PRAGMA integrity_check");
    assert_eq!(check[0]["integrity_check"], "ok", "{check}");
}

#[test]
fn titles_never_reach_the_database_or_the_logs() {
    const SECRET: &str = "zq7-unique-title-5c1e";
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, ALWAYS);
    dwell.enable();
    let social = desktop.open_window(
        "firefox",
        "Navigator",
        &format!("{SECRET} | Facebook — Mozilla Firefox"),
    );
    let other = desktop.open_window("XTerm", "xterm", &format!("vim {SECRET}.txt"));
    let agent = dwell.start();
    social.activate();
    thread::sleep(Duration::from_millis(700));
    other.activate();
    thread::sleep(Duration::from_millis(700));
    social.set_title(&format!("Home / X {SECRET} — Mozilla Firefox"));
    social.activate();
    thread::sleep(Duration::from_millis(700));
    assert_eq!(agent.terminate().code(), Some(0));
    assert!(dwell.db_seconds().contains_key("facebook.com"));

    let mut files: Vec<PathBuf> = fs::read_dir(&dwell.data_dir)
        .expect("data dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.push(agent.stderr_path().to_owned());
    files.push(agent.stdout_path().to_owned());
    for file in &files {
        let bytes = fs::read(file).unwrap_or_default();
        let found = bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes());
        assert!(!found, "the window title leaked into {}", file.display());
    }
}

#[test]
fn private_files_and_a_single_agent_per_data_dir() {
    use std::os::unix::fs::PermissionsExt;
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, ALWAYS);
    dwell.enable();
    let agent = dwell.start();

    let second = dwell.agent(&["run"]);
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("already running"), "{stderr}");

    let mode = |p: &Path| fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&dwell.data_dir), 0o700);
    for entry in fs::read_dir(&dwell.data_dir).expect("data dir") {
        let path = entry.expect("entry").path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }

    let status = dwell.agent(&["status", "--json"]);
    assert!(status.status.success(), "{status:?}");
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    assert_eq!(json["enabled"], true);
    assert_eq!(json["running"], true);
    assert_eq!(json["recording"], true);
    assert!(json["today_seconds"].is_number());
    assert!(json["daily_limit_seconds"].is_number());
    assert!(json["db_bytes"].is_number());

    // SIGINT stops it as cleanly as SIGTERM.
    assert!(agent.signal(Signal::INT));
    let code = agent.wait_exit(Duration::from_secs(10)).code();
    assert_eq!(code, Some(0), "{}", agent.stderr_text());
}

#[test]
fn losing_the_x_server_closes_the_span_and_the_agent_keeps_going() {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, ALWAYS);
    let (_fb, agent, t0) = dwell.start_on_facebook();
    thread::sleep(Duration::from_millis(1500));
    let (_, xvfb) = desktop
        .processes()
        .into_iter()
        .find(|(name, _)| name == "Xvfb")
        .expect("the desktop runs Xvfb");
    let pid = rustix::process::Pid::from_raw(i32::try_from(xvfb).expect("pid")).expect("pid");
    rustix::process::kill_process(pid, Signal::KILL).expect("kill Xvfb");
    let gone = secs(t0.elapsed());
    assert!(
        agent.wait_for_stderr(Duration::from_secs(5), |e| e.contains("lost the X server")),
        "{}",
        agent.stderr_text()
    );
    thread::sleep(Duration::from_millis(2000));
    assert!(agent.is_running(), "the agent died with the X server");
    assert_eq!(agent.terminate().code(), Some(0));
    assert_near(
        "facebook.com until the server went away",
        dwell.db_seconds()["facebook.com"],
        gone,
    );
}
