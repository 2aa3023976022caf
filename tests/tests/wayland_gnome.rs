//! End-to-end tests of the agent in a GNOME Shell session (focus from the agent's extension,
//! installed with `dwell-agent gnome-extension install` before the shell starts; idle from
//! Mutter's `IdleMonitor`), with `backend = "auto"`: focus, idle, title privacy and the
//! compositor going away, the harness test that proves the session itself (windows, focus,
//! input) without the agent, and what the agent says without its extension.
//! The scenarios are shared by every compositor (`dwell_tests::wayland_scenarios`).

use std::time::Duration;

use dwell_tests::{Child, Compositor, Session, WaylandOptions, WaylandSession};

const COMPOSITOR: Compositor = Compositor::Gnome;
/// Recording at any hour, and no idle cut within a test.
const ALWAYS: &str = "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"10m\"\n";

dwell_tests::wayland_tests!(COMPOSITOR);

/// GNOME Shell without dwell's extension: the agent says so once in its log and `status`
/// says what to do (the exact command, and that a log-out and log-in is needed), in words
/// and in `--json`.
#[test]
fn without_the_extension_status_says_what_to_do() {
    let session = WaylandSession::prepare(COMPOSITOR, WaylandOptions::default());
    let dwell = dwell_tests::Dwell::new(&session, ALWAYS);
    dwell.enable();
    session.start_compositor();
    let agent = dwell.start_watching_at("info");
    let hint_logged = |e: &str| e.contains("dwell-agent gnome-extension install");
    assert!(
        agent.wait_for_stderr(std::time::Duration::from_secs(10), hint_logged),
        "the agent did not say the extension is missing:\n{}",
        agent.stderr_text()
    );
    let st = scenario::status(&dwell);
    assert_eq!(st["backend"], "gnome", "{st:#}");
    let hint = st["watch_hint"].as_str().unwrap_or_default();
    assert!(
        hint.contains("dwell-agent gnome-extension install") && hint.contains("log out"),
        "status --json must say what to do: {st:#}"
    );
    assert_eq!(
        st["gnome_extension"],
        serde_json::json!({"state": "missing", "error": null}),
        "{st:#}"
    );
    let out = dwell.agent(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("gnome-extension install"),
        "status must say what to do:\n{text}"
    );
    let times = agent
        .stderr_text()
        .lines()
        .filter(|l| hint_logged(l))
        .count();
    assert_eq!(times, 1, "said more than once:\n{}", agent.stderr_text());
    scenario::stop(&agent);
}

/// Waits until the running agent's `status --json` reports the extension in `state`,
/// and returns the status.
fn wait_for_extension_state(
    dwell: &dwell_tests::Dwell<'_, WaylandSession>,
    agent: &Child,
    state: &str,
) -> serde_json::Value {
    let mut st = serde_json::Value::Null;
    let seen = dwell_tests::wait_until(Duration::from_secs(10), || {
        st = scenario::status(dwell);
        st["gnome_extension"]["state"] == state
    });
    assert!(
        seen,
        "status --json never said gnome_extension.state = {state:?}: {st:#}\nagent log:\n{}",
        agent.stderr_text()
    );
    st
}

/// dwell's extension installed for an older shell only (as after an upgrade of GNOME):
/// the shell does not load it and says nothing; the agent asks the shell and says so,
/// with what to do, and `gnome-extension install` writes a copy this shell loads.
#[test]
fn an_extension_out_of_date_for_this_shell_is_named_with_what_to_do() {
    let session = WaylandSession::prepare(COMPOSITOR, WaylandOptions::default());
    let dwell = dwell_tests::Dwell::new(&session, ALWAYS);
    dwell.enable();
    let out = dwell.agent(&["gnome-extension", "install"]);
    assert!(out.status.success(), "{out:?}");
    let metadata = session
        .data_home()
        .join("gnome-shell/extensions/dwell-focus@dwell/metadata.json");
    let text = std::fs::read_to_string(&metadata).expect("the installed metadata");
    let mut m: serde_json::Value = serde_json::from_str(&text).expect("JSON metadata");
    m["shell-version"] = serde_json::json!(["3.38"]);
    std::fs::write(&metadata, m.to_string()).expect("rewrite the metadata");
    session.start_compositor();
    let agent = dwell.start_watching_at("info");
    let st = wait_for_extension_state(&dwell, &agent, "out-of-date");
    assert_eq!(
        st["gnome_extension"]["error"],
        serde_json::Value::Null,
        "{st:#}"
    );
    let hint = st["watch_hint"].as_str().unwrap_or_default();
    assert!(
        hint.contains("does not name this version") && hint.contains("gnome-extension install"),
        "{st:#}"
    );
    // Installing again names this shell.
    let out = dwell.agent(&["gnome-extension", "install"]);
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&metadata).expect("the installed metadata");
    let major = format!("\"{}\"", session.version().major);
    assert!(text.contains(&major), "{major} not in {text}");
    scenario::stop(&agent);
}

/// Installed while the shell runs (before logging out and in): the agent says the shell
/// has not loaded it yet, not that it is missing.
#[test]
fn an_extension_installed_after_the_shell_started_is_not_loaded_yet() {
    let session = WaylandSession::prepare(COMPOSITOR, WaylandOptions::default());
    let dwell = dwell_tests::Dwell::new(&session, ALWAYS);
    dwell.enable();
    session.start_compositor();
    let out = dwell.agent(&["gnome-extension", "install"]);
    assert!(out.status.success(), "{out:?}");
    let agent = dwell.start_watching_at("info");
    let st = wait_for_extension_state(&dwell, &agent, "not-loaded");
    let hint = st["watch_hint"].as_str().unwrap_or_default();
    assert!(hint.contains("log out and back in"), "{st:#}");
    assert!(
        !hint.contains("run `dwell-agent gnome-extension install`"),
        "{st:#}"
    );
    scenario::stop(&agent);
}
