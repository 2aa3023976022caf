//! The run loop replayed: days of focus, idleness, clock steps, reloads and
//! forgets, under paused tokio time.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use dwell_core::{Config, Span, Store, WindowInfo};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::writer::WRITE_SLACK;
use super::*;
use crate::clock::TokioClock;
use crate::notify::NotifyEvent;
use crate::remind::Notifications;
use dwell_core::{control, Source};

/// Idle source driven by the test: the time of the last input.
#[derive(Clone)]
struct FakeIdle {
    last_input: Arc<Mutex<Instant>>,
}
impl IdleSource for FakeIdle {
    fn idle_for(&mut self) -> Option<Duration> {
        Some(Instant::now() - *self.last_input.lock().unwrap())
    }
}

fn browser(title: &str) -> Option<WindowInfo> {
    Some(WindowInfo {
        class: "Chromium".into(),
        instance: "chromium".into(),
        title: title.into(),
        process: None,
        fullscreen: false,
    })
}

fn editor() -> Option<WindowInfo> {
    Some(WindowInfo {
        class: "Code".into(),
        instance: "code".into(),
        title: "main.rs".into(),
        process: None,
        fullscreen: false,
    })
}

fn always() -> Config {
    Config::parse(
        "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"2m\"\n",
        std::path::Path::new("t.toml"),
    )
    .unwrap()
}

/// 2026-11-24 10:00 UTC, a Tuesday.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap()
}

async fn replay(
    config: Config,
    script: impl FnOnce(mpsc::Sender<WatchEvent>, FakeIdle) -> futures_like::BoxFut,
) -> (tempfile::TempDir, Vec<Span>) {
    replay_in(tempfile::tempdir().unwrap(), config, script).await
}

async fn replay_in(
    dir: tempfile::TempDir,
    config: Config,
    script: impl FnOnce(mpsc::Sender<WatchEvent>, FakeIdle) -> futures_like::BoxFut,
) -> (tempfile::TempDir, Vec<Span>) {
    replay_from(start(), dir, config, script).await
}

async fn replay_from(
    wall: DateTime<Utc>,
    dir: tempfile::TempDir,
    config: Config,
    script: impl FnOnce(mpsc::Sender<WatchEvent>, FakeIdle) -> futures_like::BoxFut,
) -> (tempfile::TempDir, Vec<Span>) {
    let store = Store::open(dir.path()).unwrap();
    let (tx, rx) = mpsc::channel(16);
    let idle = FakeIdle {
        last_input: Arc::new(Mutex::new(Instant::now())),
    };
    let clock = TokioClock::starting_at(wall);
    let sources = Sources::watching(rx, Box::new(idle.clone()));
    let script = script(tx, idle);
    run_while(
        config,
        store,
        sources,
        Outlets::default(),
        &clock,
        &Utc,
        script,
    )
    .await
    .unwrap();
    let store = Store::open(dir.path()).unwrap();
    let spans = store
        .spans(
            wall - chrono::Duration::days(1),
            wall + chrono::Duration::days(3),
        )
        .unwrap();
    (dir, spans)
}

mod futures_like {
    pub type BoxFut = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;
}

fn secs(spans: &[Span], site: Option<&str>) -> f64 {
    spans
        .iter()
        .filter(|s| s.activity.site() == site)
        .map(|s| s.seconds())
        .sum()
}

async fn at(t0: Instant, secs: u64) {
    tokio::time::sleep_until(t0 + Duration::from_secs(secs)).await;
}

#[tokio::test(start_paused = true)]
async fn counts_switches_to_the_second() {
    let (_d, spans) = replay(always(), |tx, idle| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Home / X - Chromium")))
                .await
                .unwrap();
            at(t0, 50).await;
            *idle.last_input.lock().unwrap() = Instant::now();
            tx.send(WatchEvent::Focus(editor())).await.unwrap();
            at(t0, 100).await;
            *idle.last_input.lock().unwrap() = Instant::now();
            tx.send(WatchEvent::Focus(browser("r/rust - Reddit - Chromium")))
                .await
                .unwrap();
            at(t0, 130).await;
        })
    })
    .await;
    assert_eq!(secs(&spans, Some("x.com")), 50.0);
    assert_eq!(secs(&spans, None), 50.0);
    assert_eq!(secs(&spans, Some("reddit.com")), 30.0);
}

#[tokio::test(start_paused = true)]
async fn idle_is_cut_back_to_the_last_input() {
    let (_d, spans) = replay(always(), |tx, idle| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            at(t0, 30).await;
            *idle.last_input.lock().unwrap() = Instant::now(); // last input at 30
            at(t0, 600).await; // away for ages
            *idle.last_input.lock().unwrap() = Instant::now(); // back at 600
            at(t0, 660).await;
        })
    })
    .await;
    // 0..30, then 600..660 (input noticed within the 1 s poll, dated exactly).
    assert_eq!(secs(&spans, Some("facebook.com")), 90.0, "{spans:?}");
}

fn tab(host: Option<&str>, private: bool, audible: bool) -> WatchEvent {
    WatchEvent::Tab {
        browser: "chromium".into(),
        sender: ":1.7".into(),
        facts: crate::door::TabFacts {
            host: host.map(str::to_owned),
            private,
            audible,
            focused: true,
        },
        reply: Default::default(),
    }
}

/// A tab report on `host` and the run loop's answer to it.
async fn tab_answer(tx: &mpsc::Sender<WatchEvent>, host: &str) -> Option<crate::door::Pause> {
    let (reply, answer) = crate::door::Answer::new();
    let WatchEvent::Tab {
        browser,
        sender,
        facts,
        ..
    } = tab(Some(host), false, false)
    else {
        unreachable!()
    };
    tx.send(WatchEvent::Tab {
        browser,
        sender,
        facts,
        reply,
    })
    .await
    .unwrap();
    answer.await.unwrap_or(None)
}

type Answers = Arc<Mutex<Vec<(u64, &'static str, bool)>>>;

/// Over a 20 s daily limit, a switch to a social tab gets the pause page
/// once per site per `repeat_over`; the choice is stored.
async fn pause_replay(extra: &str) -> (Vec<dwell_core::model::ReminderRecord>, Answers) {
    let config = Config::parse(
        &format!(
            "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"1h\"\n\
             [limits]\ndaily = \"20s\"\nstreak = \"1h\"\nweekly = \"10h\"\n\
             [reminders]\nlanguage = \"fr\"\nmin_gap = \"1s\"\nrepeat_over = \"2m\"\n{extra}"
        ),
        std::path::Path::new("t.toml"),
    )
    .unwrap();
    let answers: Answers = Arc::default();
    let seen = answers.clone();
    let (dir, _spans) = replay(config, move |tx, _idle| {
        Box::pin(async move {
            let t0 = Instant::now();
            let ask = |s: u64, host: &'static str, pause: Option<crate::door::Pause>| {
                if let Some(p) = &pause {
                    assert_eq!(
                        (p.limit.as_str(), p.lang.as_str(), p.continue_label.as_str()),
                        ("20\u{a0}s", "fr", "Continuer"),
                        "{p:?}"
                    );
                    assert!(!p.line.is_empty() && !p.line.contains(host), "{p:?}");
                }
                seen.lock().unwrap().push((s, host, pause.is_some()));
            };
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("New Tab")))
                .await
                .unwrap();
            ask(
                0,
                "www.facebook.com",
                tab_answer(&tx, "www.facebook.com").await,
            );
            at(t0, 30).await;
            ask(
                30,
                "docs.example.com",
                tab_answer(&tx, "docs.example.com").await,
            );
            ask(
                30,
                "www.facebook.com",
                tab_answer(&tx, "www.facebook.com").await,
            );
            tx.send(WatchEvent::PauseResult(crate::door::PauseOutcome::Closed))
                .await
                .unwrap();
            at(t0, 40).await;
            ask(
                40,
                "docs.example.com",
                tab_answer(&tx, "docs.example.com").await,
            );
            ask(
                40,
                "m.facebook.com",
                tab_answer(&tx, "m.facebook.com").await,
            );
            ask(
                40,
                "old.reddit.com",
                tab_answer(&tx, "old.reddit.com").await,
            );
            tx.send(WatchEvent::PauseResult(
                crate::door::PauseOutcome::Continued,
            ))
            .await
            .unwrap();
            at(t0, 200).await;
            ask(
                200,
                "docs.example.com",
                tab_answer(&tx, "docs.example.com").await,
            );
            ask(
                200,
                "www.facebook.com",
                tab_answer(&tx, "www.facebook.com").await,
            );
            at(t0, 201).await;
        })
    })
    .await;
    let recs = Store::open(dir.path())
        .unwrap()
        .reminders(start(), start() + chrono::Duration::hours(1))
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == "pause_page")
        .collect();
    (recs, answers)
}

#[tokio::test(start_paused = true)]
async fn over_the_limit_a_social_tab_gets_the_pause_page_once_per_site() {
    let (recs, answers) = pause_replay("pause_page = true\n").await;
    let shown: Vec<(u64, &str)> = answers
        .lock()
        .unwrap()
        .iter()
        .filter(|a| a.2)
        .map(|a| (a.0, a.1))
        .collect();
    // Under the limit at 0; at 30 Facebook; at 40 not Facebook again (same
    // site, another host), Reddit yes; after repeat_over Facebook again.
    assert_eq!(
        shown,
        vec![
            (30, "www.facebook.com"),
            (40, "old.reddit.com"),
            (200, "www.facebook.com")
        ]
    );
    let outcomes: Vec<(i64, &str)> = recs
        .iter()
        .map(|r| ((r.at - start()).num_seconds(), r.outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        vec![(30, "closed"), (40, "continued"), (200, "shown")]
    );
    assert!(recs
        .iter()
        .all(|r| r.message.as_deref().is_some_and(|m| m.starts_with("fr-"))));
}

#[tokio::test(start_paused = true)]
async fn no_pause_page_unless_asked_for() {
    let (recs, answers) = pause_replay("").await;
    assert!(answers.lock().unwrap().iter().all(|a| !a.2));
    assert!(recs.is_empty(), "{recs:?}");
    let (recs, answers) = pause_replay("pause_page = true\nenabled = false\n").await;
    assert!(answers.lock().unwrap().iter().all(|a| !a.2));
    assert!(recs.is_empty(), "{recs:?}");
}

#[tokio::test(start_paused = true)]
async fn a_connected_extension_counts_by_host_not_title() {
    let (_d, spans) = replay(always(), |tx, _idle| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            // The title names Facebook, but the tab is on old.reddit.com.
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            at(t0, 10).await;
            tx.send(tab(Some("old.reddit.com"), false, false))
                .await
                .unwrap();
            at(t0, 30).await;
            // A page whose title names no site: counted by its host.
            tx.send(tab(Some("mastodon.social"), false, false))
                .await
                .unwrap();
            at(t0, 45).await;
            tx.send(tab(Some("docs.example.com"), false, false))
                .await
                .unwrap();
            at(t0, 50).await;
            // A private window: not counted at all.
            tx.send(tab(None, true, false)).await.unwrap();
            at(t0, 70).await;
            // The host left: the title counts again.
            tx.send(WatchEvent::TabGone {
                sender: ":1.7".into(),
            })
            .await
            .unwrap();
            at(t0, 80).await;
        })
    })
    .await;
    assert_eq!(secs(&spans, Some("facebook.com")), 20.0, "{spans:?}");
    assert_eq!(secs(&spans, Some("reddit.com")), 20.0, "{spans:?}");
    assert_eq!(secs(&spans, Some("mastodon")), 15.0, "{spans:?}");
    assert_eq!(secs(&spans, None), 5.0, "{spans:?}");
    // Seen through the extension, or through the window's title.
    for s in &spans {
        let want = match s.activity.site() {
            Some("facebook.com") => Source::X11,
            _ => Source::Extension,
        };
        assert_eq!(s.source, want, "{s:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn an_audible_social_tab_counts_through_idleness_up_to_the_media_timeout() {
    let mut config = always();
    config.tracking.idle_timeout = Duration::from_secs(60);
    config.tracking.media_idle_timeout = Duration::from_secs(600);
    let (_d, spans) = replay(config, |tx, idle| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("New Tab")))
                .await
                .unwrap();
            tx.send(tab(Some("www.youtube.com"), false, true))
                .await
                .unwrap();
            *idle.last_input.lock().unwrap() = Instant::now();
            // No input from here on: counted for 600 s, then cut back.
            at(t0, 1000).await;
        })
    })
    .await;
    // Counted up to the media timeout after the last input, not beyond.
    assert_eq!(secs(&spans, Some("youtube.com")), 600.0, "{spans:?}");
}

/// Replays `script` with a wall clock the script can step, and the
/// notification channels (nothing shows: events are the script's).
async fn replay_stepped(
    script: impl FnOnce(
        mpsc::Sender<WatchEvent>,
        mpsc::Sender<NotifyEvent>,
        crate::clock::SteppedClock,
    ) -> futures_like::BoxFut,
) -> Vec<Span> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (tx, rx) = mpsc::channel(16);
    let (ev_tx, ev_rx) = mpsc::channel(16);
    let (req_tx, mut req_rx) = mpsc::channel(16);
    // Answer nothing: requests are dropped.
    tokio::spawn(async move { while req_rx.recv().await.is_some() {} });
    let idle = FakeIdle {
        last_input: Arc::new(Mutex::new(Instant::now())),
    };
    let clock = crate::clock::SteppedClock::starting_at(start());
    let sources = Sources::watching(rx, Box::new(idle));
    let script = script(tx, ev_tx, clock.clone());
    let config = Config::parse(
        "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"1h\"\n",
        std::path::Path::new("t.toml"),
    )
    .unwrap();
    let notifications = Notifications {
        requests: req_tx,
        events: ev_rx,
    };
    let outlets = Outlets {
        notifications: Some(notifications),
        tray: None,
    };
    run_while(config, store, sources, outlets, &clock, &Utc, script)
        .await
        .unwrap();
    Store::open(dir.path())
        .unwrap()
        .spans(
            start() - chrono::Duration::days(1),
            start() + chrono::Duration::days(1),
        )
        .unwrap()
}

fn no_empty_or_negative(spans: &[Span]) {
    for s in spans {
        assert!(s.end > s.start, "an empty or negative span: {spans:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_clock_stepped_back_loses_nothing() {
    let spans = replay_stepped(|tx, _ev, clock| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            at(t0, 25).await;
            clock.step(-chrono::Duration::seconds(3625));
            at(t0, 60).await;
        })
    })
    .await;
    no_empty_or_negative(&spans);
    let got = secs(&spans, Some("facebook.com"));
    assert!((59.0..=60.0).contains(&got), "{got} s: {spans:?}");
}

#[tokio::test(start_paused = true)]
async fn a_clock_stepped_forward_loses_at_most_a_second() {
    let spans = replay_stepped(|tx, _ev, clock| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            at(t0, 25).await;
            clock.step(chrono::Duration::hours(1));
            at(t0, 60).await;
        })
    })
    .await;
    no_empty_or_negative(&spans);
    let got = secs(&spans, Some("facebook.com"));
    assert!((59.0..=60.0).contains(&got), "{got} s: {spans:?}");
}

/// A suspend first noticed through a notification event (the reminder
/// expiring) is not counted.
#[tokio::test(start_paused = true)]
async fn a_suspend_seen_first_by_a_notification_is_not_counted() {
    let spans = replay_stepped(|tx, ev, clock| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            at(t0, 5).await;
            clock.step(chrono::Duration::hours(2));
            ev.send(NotifyEvent::Closed { id: 1, reason: 1 })
                .await
                .unwrap();
            at(t0, 6).await;
        })
    })
    .await;
    no_empty_or_negative(&spans);
    let got = secs(&spans, Some("facebook.com"));
    assert!((5.0..=6.0).contains(&got), "{got} s: {spans:?}");
}

/// A suspend, then the agent is stopped before anything else wakes it.
#[tokio::test(start_paused = true)]
async fn a_suspend_right_before_shutdown_is_not_counted() {
    let spans = replay_stepped(|tx, _ev, clock| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            at(t0, 5).await;
            clock.step(chrono::Duration::hours(2));
        })
    })
    .await;
    no_empty_or_negative(&spans);
    let got = secs(&spans, Some("facebook.com"));
    assert!((4.0..=5.0).contains(&got), "{got} s: {spans:?}");
}

/// A span written across midnight by checkpoints, then cut back by
/// idleness to before midnight, leaves nothing after midnight.
#[tokio::test(start_paused = true)]
async fn idle_cut_back_across_midnight_leaves_no_phantom() {
    let config = Config::parse(
        "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"1m\"\n",
        std::path::Path::new("t.toml"),
    )
    .unwrap();
    let wall = Utc.with_ymd_and_hms(2026, 11, 24, 23, 59, 30).unwrap();
    let (_d, spans) = replay_from(wall, tempfile::tempdir().unwrap(), config, |tx, idle| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            at(t0, 10).await;
            *idle.last_input.lock().unwrap() = Instant::now(); // the last input: 23:59:40
            at(t0, 100).await;
        })
    })
    .await;
    assert_eq!(secs(&spans, Some("facebook.com")), 10.0, "{spans:?}");
}

#[tokio::test(start_paused = true)]
async fn a_blink_of_no_window_is_not_a_change() {
    let (_d, spans) = replay(always(), |tx, idle| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            at(t0, 10).await;
            // A switch reported as "none" then the same window, 100 ms apart.
            tx.send(WatchEvent::Focus(None)).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            at(t0, 20).await;
            // A real "no window" for 5 s.
            *idle.last_input.lock().unwrap() = Instant::now();
            tx.send(WatchEvent::Focus(None)).await.unwrap();
            at(t0, 25).await;
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            at(t0, 30).await;
        })
    })
    .await;
    assert_eq!(
        spans
            .iter()
            .map(|s| (
                (s.start - start()).num_seconds(),
                (s.end - start()).num_seconds()
            ))
            .collect::<Vec<_>>(),
        vec![(0, 20), (25, 30)],
        "{spans:?}"
    );
}

/// Every value `config check` accepts runs: the longest durations too.
#[tokio::test(start_paused = true)]
async fn the_longest_durations_the_config_accepts_run() {
    let config = Config::parse(
        "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"3650d\"\ncalibrate = \"3650d\"\n\
         [limits]\ndaily = \"3650d\"\nstreak = \"3650d\"\nweekly = \"3650d\"\nstreak_gap = \"3650d\"\n\
         [reminders]\nrepeat_over = \"3650d\"\nmin_gap = \"3650d\"\nsnooze = \"3650d\"\n[data]\nkeep = \"3650d\"\n",
        std::path::Path::new("t.toml"),
    )
    .unwrap();
    let (_d, spans) = replay(config, |tx, _idle| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            at(t0, 60).await;
        })
    })
    .await;
    assert_eq!(secs(&spans, Some("facebook.com")), 60.0, "{spans:?}");
}

#[tokio::test(start_paused = true)]
async fn locked_and_suspended_time_is_not_counted() {
    let (_d, spans) = replay(always(), |tx, idle| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            at(t0, 30).await;
            tx.send(WatchEvent::Locked(true)).await.unwrap();
            at(t0, 90).await;
            *idle.last_input.lock().unwrap() = Instant::now();
            tx.send(WatchEvent::Locked(false)).await.unwrap();
            at(t0, 100).await;
            tx.send(WatchEvent::Sleeping(true)).await.unwrap();
            at(t0, 400).await;
            *idle.last_input.lock().unwrap() = Instant::now();
            tx.send(WatchEvent::Sleeping(false)).await.unwrap();
            at(t0, 420).await;
        })
    })
    .await;
    // 0..30, 90..100, 400..420.
    assert_eq!(secs(&spans, Some("facebook.com")), 60.0, "{spans:?}");
}

/// An idle source that pushes (Wayland idle protocols, Mutter's watches):
/// idle is cut back to the last input without polling.
#[tokio::test(start_paused = true)]
async fn a_pushing_idle_source_cuts_back_to_the_last_input() {
    let config = Config::parse(
        "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"10s\"\n",
        std::path::Path::new("t.toml"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (tx, rx) = mpsc::channel(16);
    let pushed = crate::watch::PushedIdle::new();
    pushed.connected();
    let sources = Sources::watching(rx, Box::new(pushed.clone()));
    let clock = TokioClock::starting_at(start());
    let driver = async move {
        let t0 = Instant::now();
        tx.send(WatchEvent::Connected).await.unwrap();
        tx.send(WatchEvent::Focus(browser("Facebook")))
            .await
            .unwrap();
        // The last input at 30 s; the source says "idle" 5 s later.
        at(t0, 35).await;
        pushed.idled();
        tx.send(WatchEvent::IdleChanged).await.unwrap();
        at(t0, 100).await;
        pushed.resumed();
        tx.send(WatchEvent::IdleChanged).await.unwrap();
        at(t0, 130).await;
    };
    run_while(
        config,
        store,
        sources,
        Outlets::default(),
        &clock,
        &Utc,
        driver,
    )
    .await
    .unwrap();
    let spans = Store::open(dir.path())
        .unwrap()
        .spans(start(), start() + chrono::Duration::days(1))
        .unwrap();
    assert_eq!(secs(&spans, Some("facebook.com")), 60.0, "{spans:?}");
}

#[tokio::test(start_paused = true)]
async fn x_server_gone_closes_at_that_moment() {
    let (_d, spans) = replay(always(), |tx, idle| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Instagram")))
                .await
                .unwrap();
            at(t0, 40).await;
            tx.send(WatchEvent::Gone).await.unwrap();
            at(t0, 100).await;
            *idle.last_input.lock().unwrap() = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Instagram")))
                .await
                .unwrap();
            at(t0, 110).await;
        })
    })
    .await;
    assert_eq!(secs(&spans, Some("instagram.com")), 50.0, "{spans:?}");
}

#[tokio::test(start_paused = true)]
async fn untrackable_stops_the_agent_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (tx, rx) = mpsc::channel(16);
    let idle = FakeIdle {
        last_input: Arc::new(Mutex::new(Instant::now())),
    };
    let sources = Sources::watching(rx, Box::new(idle));
    let clock = TokioClock::starting_at(start());
    tx.send(WatchEvent::Untrackable("no door".into()))
        .await
        .unwrap();
    let res = run_with(
        always(),
        store,
        sources,
        Outlets::default(),
        &clock,
        &Utc,
        std::future::pending(),
    )
    .await;
    let e = res.unwrap_err();
    assert_eq!(format!("{e:#}"), "no door");
    assert_eq!(dwell_core::exit::code(e.chain()), 2);
}

#[tokio::test(start_paused = true)]
async fn nothing_outside_work_hours() {
    // Work hours end at 10:01 on this Tuesday.
    let config = Config::parse(
        "[schedule]\nwork_hours = [\"09:00-10:01\"]\n",
        std::path::Path::new("t.toml"),
    )
    .unwrap();
    let (_d, spans) = replay(config, |tx, idle| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            for s in (10..=180).step_by(10) {
                at(t0, s).await;
                *idle.last_input.lock().unwrap() = Instant::now();
            }
        })
    })
    .await;
    assert_eq!(secs(&spans, Some("facebook.com")), 60.0, "{spans:?}");
}

/// Runs `forget` on a second connection at `secs` into the replay, as
/// `dwell-agent forget` does from another process, and returns what is
/// stored at the end.
async fn forget_at(
    secs: u64,
    focus: Vec<(u64, Option<WindowInfo>)>,
    end: u64,
    forget: impl FnOnce(&mut Store, DateTime<Utc>) + 'static,
) -> Vec<Span> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let (_d, spans) = replay_in(dir, always(), move |tx, idle| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            let mut forget = Some(forget);
            for (s, window) in focus {
                if s > secs {
                    if let Some(f) = forget.take() {
                        at(t0, secs).await;
                        f(
                            &mut Store::open(&path).unwrap(),
                            start() + chrono::Duration::seconds(secs as i64),
                        );
                    }
                }
                at(t0, s).await;
                *idle.last_input.lock().unwrap() = Instant::now();
                tx.send(WatchEvent::Focus(window)).await.unwrap();
            }
            if let Some(f) = forget.take() {
                at(t0, secs).await;
                f(
                    &mut Store::open(&path).unwrap(),
                    start() + chrono::Duration::seconds(secs as i64),
                );
            }
            for s in (secs..=end).step_by(30) {
                at(t0, s).await;
                *idle.last_input.lock().unwrap() = Instant::now();
            }
            at(t0, end).await;
        })
    })
    .await;
    spans
}

/// What a `kill -9` at any moment would find: at every moment, the
/// committed data reaches no further back than [`MAX_LOSS`], with
/// [`WRITE_SLACK`] left for the checkpoint's wake-up and its commit
/// (under paused time both take no time; on a desktop they take a few ms).
#[tokio::test(start_paused = true)]
async fn the_committed_end_is_never_more_than_the_promised_loss_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let worst = Arc::new(Mutex::new(Duration::ZERO));
    let seen = worst.clone();
    replay_in(dir, always(), move |tx, idle| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            let reader = Store::open(&path).unwrap();
            for tick in 1..=600u64 {
                tokio::time::sleep_until(t0 + Duration::from_millis(100 * tick)).await;
                *idle.last_input.lock().unwrap() = Instant::now();
                let now = start() + chrono::Duration::milliseconds(100 * tick as i64);
                let committed = reader
                    .spans(start(), now + chrono::Duration::days(1))
                    .unwrap()
                    .iter()
                    .map(|s| s.end)
                    .max()
                    .unwrap_or(start());
                let lag = (now - committed).to_std().unwrap_or_default();
                let mut worst = seen.lock().unwrap();
                *worst = (*worst).max(lag);
            }
        })
    })
    .await;
    let worst = *worst.lock().unwrap();
    assert!(
        worst + WRITE_SLACK <= MAX_LOSS,
        "the committed data was {worst:?} old at worst; with {WRITE_SLACK:?} for the wake-up \
         and the commit, a kill -9 could lose more than {MAX_LOSS:?}"
    );
}

/// Replays `script` with live reload: the config is read from a file in
/// the data directory (`config` is its first text), and the script gets
/// the control channel (a save or a `SIGUSR1`) and the file's path.
async fn replay_live(
    config: &str,
    script: impl FnOnce(
        mpsc::Sender<WatchEvent>,
        mpsc::Sender<()>,
        PathBuf,
        FakeIdle,
    ) -> futures_like::BoxFut,
) -> (tempfile::TempDir, Vec<Span>) {
    replay_live_in(&Utc, config, script).await
}

/// [`replay_live`] in the time zone `tz`.
async fn replay_live_in<Tz: TimeZone>(
    tz: &Tz,
    config: &str,
    script: impl FnOnce(
        mpsc::Sender<WatchEvent>,
        mpsc::Sender<()>,
        PathBuf,
        FakeIdle,
    ) -> futures_like::BoxFut,
) -> (tempfile::TempDir, Vec<Span>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (tx, rx) = mpsc::channel(16);
    let (control_tx, control_rx) = mpsc::channel(4);
    let idle = FakeIdle {
        last_input: Arc::new(Mutex::new(Instant::now())),
    };
    let clock = TokioClock::starting_at(start());
    let sources = Sources {
        watch: rx,
        idle: Box::new(idle.clone()),
        control: Some(control_rx),
        config_path: Some(path.clone()),
        about: Default::default(),
    };
    let script = script(tx, control_tx, path.clone(), idle);
    let config = crate::reload::reload(&path).unwrap();
    run_while(
        config,
        store,
        sources,
        Outlets::default(),
        &clock,
        tz,
        script,
    )
    .await
    .unwrap();
    let spans = Store::open(dir.path())
        .unwrap()
        .spans(
            start() - chrono::Duration::days(1),
            start() + chrono::Duration::days(3),
        )
        .unwrap();
    (dir, spans)
}

thread_local! {
    static CAPTURED: std::cell::RefCell<Option<Arc<Mutex<Vec<u8>>>>> =
        const { std::cell::RefCell::new(None) };
}

/// Writes into this thread's capture buffer, if one is set.
struct Captured;
impl std::io::Write for Captured {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        CAPTURED.with(|c| {
            if let Some(buf) = c.borrow().as_ref() {
                buf.lock().unwrap().extend_from_slice(data);
            }
        });
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Clears this thread's capture buffer when dropped.
struct CaptureGuard;
impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURED.with(|c| c.borrow_mut().take());
    }
}

/// Captures what this thread logs (the loop runs on the test's thread)
/// while the guard lives. One global subscriber at every level writes to
/// the thread's buffer: a subscriber per test thread (`set_default`)
/// loses events when tests run in parallel.
fn capture_logs() -> (Arc<Mutex<Vec<u8>>>, CaptureGuard) {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| Captured)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    let buf = Arc::new(Mutex::new(Vec::new()));
    CAPTURED.with(|c| *c.borrow_mut() = Some(buf.clone()));
    (buf, CaptureGuard)
}

/// The captured lines at `level` and above (a message's continuation
/// lines go with it).
fn logged(buf: &Arc<Mutex<Vec<u8>>>, level: tracing::Level) -> String {
    let text = String::from_utf8_lossy(&buf.lock().unwrap()).into_owned();
    let mut keep = false;
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with(|c: char| c.is_ascii_digit()) {
            keep = line
                .split_whitespace()
                .nth(1)
                .and_then(|l| l.parse::<tracing::Level>().ok())
                .is_some_and(|l| l <= level);
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A refused config's source line (and the value quoted in its message)
/// may name a site: above debug the log names only the file, line and key.
#[tokio::test(start_paused = true)]
async fn a_refused_config_names_no_site_in_the_log_above_debug() {
    for (level, shows_site) in [(tracing::Level::INFO, false), (tracing::Level::DEBUG, true)] {
        let (buf, guard) = capture_logs();
        let (dir, _) = replay_live(
            "[schedule]\nrecord = \"always\"\n",
            |_tx, control, path, _idle| {
                Box::pin(async move {
                    std::fs::write(&path, "[limits]\ndaily = \"secret-site.example\"\n").unwrap();
                    control.send(()).await.unwrap();
                    tokio::time::sleep(Duration::from_secs(1)).await;
                })
            },
        )
        .await;
        drop(guard);
        let log = logged(&buf, level);
        assert!(log.contains("refused"), "{log}");
        assert!(
            log.contains("config.toml") && log.contains("line=2"),
            "{log}"
        );
        assert!(log.contains("limits.daily"), "{log}");
        assert_eq!(log.contains("secret-site"), shows_site, "{level}: {log}");
        // `status` still shows the whole message.
        let stored = Store::open(dir.path())
            .unwrap()
            .meta_get(CONFIG_ERROR_KEY)
            .unwrap()
            .unwrap_or_default();
        assert!(stored.contains("secret-site.example"), "{stored}");
    }
}

/// Facebook does not count under this config; it does under the defaults.
const NO_FACEBOOK: &str =
    "[schedule]\nrecord = \"always\"\n[sites]\ndisable = [\"facebook.com\"]\n";

/// A save that rewrites the file in place empties it for a moment: a
/// look at that moment must not put the built-in defaults in force.
#[tokio::test(start_paused = true)]
async fn a_config_read_empty_in_the_middle_of_an_in_place_save_is_not_taken() {
    let (_d, spans) = replay_live(NO_FACEBOOK, |tx, control, path, _idle| {
        Box::pin(async move {
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            // The burst: truncated (and looked at), then written again.
            let file = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&path);
            drop(file.unwrap());
            control.send(()).await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            std::fs::write(&path, NO_FACEBOOK).unwrap();
            tokio::time::sleep(Duration::from_secs(20)).await;
        })
    })
    .await;
    assert_eq!(secs(&spans, Some("facebook.com")), 0.0, "{spans:?}");
}

/// A file that stays empty is taken (the built-in defaults), once settled.
#[tokio::test(start_paused = true)]
async fn a_config_emptied_for_good_is_taken_once_settled() {
    let (_d, spans) = replay_live(NO_FACEBOOK, |tx, control, path, _idle| {
        Box::pin(async move {
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            std::fs::write(&path, "").unwrap();
            control.send(()).await.unwrap();
            tokio::time::sleep(Duration::from_secs(20)).await;
        })
    })
    .await;
    let counted = secs(&spans, Some("facebook.com"));
    assert!((19.0..=20.0).contains(&counted), "{counted}: {spans:?}");
}

/// Makes the store's settings unreadable for a moment (as a transient
/// error would), sends a control event (the loop reads them all again),
/// and makes them readable again.
async fn settings_unreadable_for_a_moment(dir: &std::path::Path, control: &mpsc::Sender<()>) {
    let other = Store::open(dir).unwrap();
    other
        .raw_for_tests()
        .execute_batch("ALTER TABLE meta RENAME TO meta_gone")
        .unwrap();
    control.send(()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    control.send(()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    other
        .raw_for_tests()
        .execute_batch("ALTER TABLE meta_gone RENAME TO meta")
        .unwrap();
}

/// A transient error reading the pause leaves the pause in force, and is
/// logged once.
#[tokio::test(start_paused = true)]
async fn a_transient_error_reading_the_pause_keeps_it() {
    let (buf, guard) = capture_logs();
    let (_d, spans) = replay_live(
        "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"1h\"\n",
        |tx, control, path, _idle| {
            Box::pin(async move {
                let dir = path.parent().unwrap().to_owned();
                control::set_pause(&Store::open(&dir).unwrap(), control::Pause::Indefinite)
                    .unwrap();
                control.send(()).await.unwrap();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_secs(5)).await;
                settings_unreadable_for_a_moment(&dir, &control).await;
                tokio::time::sleep(Duration::from_secs(60)).await;
            })
        },
    )
    .await;
    drop(guard);
    assert_eq!(secs(&spans, Some("facebook.com")), 0.0, "{spans:?}");
    let log = logged(&buf, tracing::Level::INFO);
    assert_eq!(
        log.matches("cannot read the pause state").count(),
        1,
        "{log}"
    );
}

/// A transient error reading the consent does not end the calibration
/// period: no reminder.
#[tokio::test(start_paused = true)]
async fn a_transient_error_reading_the_consent_keeps_calibrating() {
    let (dir, _spans) = replay_live(
        "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"1h\"\ncalibrate = \"7d\"\n\
         [limits]\ndaily = \"20s\"\n[reminders]\nmin_gap = \"1s\"\n",
        |tx, control, path, _idle| {
            Box::pin(async move {
                let dir = path.parent().unwrap().to_owned();
                Store::open(&dir)
                    .unwrap()
                    .set_consent(start() - chrono::Duration::days(1))
                    .unwrap();
                control.send(()).await.unwrap();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_secs(5)).await;
                settings_unreadable_for_a_moment(&dir, &control).await;
                tokio::time::sleep(Duration::from_secs(120)).await;
            })
        },
    )
    .await;
    let store = Store::open(dir.path()).unwrap();
    let reminders = store
        .reminders(start(), start() + chrono::Duration::days(1))
        .unwrap();
    assert!(reminders.is_empty(), "{reminders:?}");
}

/// A time zone the test can change, as `/etc/localtime` can be changed
/// under `chrono::Local`.
#[derive(Clone, Debug)]
struct ChangingTz(Arc<Mutex<chrono::FixedOffset>>);

impl ChangingTz {
    fn east(hours: i32) -> ChangingTz {
        ChangingTz(Arc::new(Mutex::new(
            chrono::FixedOffset::east_opt(hours * 3600).unwrap(),
        )))
    }
    fn set(&self, hours: i32) {
        *self.0.lock().unwrap() = chrono::FixedOffset::east_opt(hours * 3600).unwrap();
    }
}

impl TimeZone for ChangingTz {
    type Offset = chrono::FixedOffset;
    fn from_offset(offset: &chrono::FixedOffset) -> ChangingTz {
        ChangingTz(Arc::new(Mutex::new(*offset)))
    }
    fn offset_from_local_date(
        &self,
        _: &chrono::NaiveDate,
    ) -> chrono::LocalResult<chrono::FixedOffset> {
        chrono::LocalResult::Single(*self.0.lock().unwrap())
    }
    fn offset_from_local_datetime(
        &self,
        _: &chrono::NaiveDateTime,
    ) -> chrono::LocalResult<chrono::FixedOffset> {
        chrono::LocalResult::Single(*self.0.lock().unwrap())
    }
    fn offset_from_utc_date(&self, _: &chrono::NaiveDate) -> chrono::FixedOffset {
        *self.0.lock().unwrap()
    }
    fn offset_from_utc_datetime(&self, _: &chrono::NaiveDateTime) -> chrono::FixedOffset {
        *self.0.lock().unwrap()
    }
}

/// Tokyo → UTC on Tuesday at 10:00 UTC: from 19:00 (after work hours) to
/// 10:00 (in them). The zone watcher's event makes the loop look at once:
/// recording starts within a second, not at the next edge timer.
#[tokio::test(start_paused = true)]
async fn a_time_zone_change_into_work_hours_is_seen_within_a_second() {
    let tz = ChangingTz::east(9);
    let zone = tz.clone();
    let (_d, spans) = replay_live_in(
        &tz,
        "[tracking]\nidle_timeout = \"1h\"\n",
        |tx, control, _path, _idle| {
            Box::pin(async move {
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_secs(100)).await;
                zone.set(0);
                control.send(()).await.unwrap();
                tokio::time::sleep(Duration::from_secs(200)).await;
            })
        },
    )
    .await;
    let counted = secs(&spans, Some("facebook.com"));
    assert!((199.0..=200.0).contains(&counted), "{counted}: {spans:?}");
}

#[tokio::test(start_paused = true)]
async fn a_site_forgotten_while_open_is_not_written_back() {
    let spans = forget_at(35, vec![(0, browser("Facebook"))], 60, |store, at| {
        store.forget_site("facebook.com", at).unwrap();
    })
    .await;
    // Checkpoints at 9, 18 and 27 s had written 0..27; only 35..60 is left.
    assert_eq!(
        spans
            .iter()
            .map(|s| (s.start, s.activity.site()))
            .collect::<Vec<_>>(),
        vec![(
            start() + chrono::Duration::seconds(35),
            Some("facebook.com")
        )],
        "{spans:?}"
    );
    assert_eq!(secs(&spans, Some("facebook.com")), 25.0);
}

#[tokio::test(start_paused = true)]
async fn another_site_forgotten_leaves_the_open_span_alone() {
    let spans = forget_at(
        35,
        vec![(0, browser("Reddit")), (5, browser("Facebook"))],
        60,
        |store, at| {
            store.forget_site("reddit.com", at).unwrap();
        },
    )
    .await;
    assert_eq!(secs(&spans, Some("reddit.com")), 0.0, "{spans:?}");
    assert_eq!(secs(&spans, Some("facebook.com")), 55.0, "{spans:?}");
    assert_eq!(spans.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn forgetting_today_while_running_keeps_only_what_came_after() {
    let spans = forget_at(
        45,
        vec![(0, browser("Facebook")), (20, editor())],
        70,
        |store, at| {
            let day = start().date_naive();
            let (from, to) = dwell_core::schedule::local_day_bounds(day, &Utc);
            store.forget_range(from, to, at).unwrap();
        },
    )
    .await;
    assert_eq!(secs(&spans, Some("facebook.com")), 0.0, "{spans:?}");
    assert_eq!(secs(&spans, None), 25.0, "{spans:?}");
}

#[tokio::test(start_paused = true)]
async fn forgetting_everything_before_the_first_checkpoint_still_works() {
    // The open span is 4 s old and was never written when everything goes.
    let spans = forget_at(4, vec![(0, browser("Facebook"))], 30, |store, at| {
        store.erase_spans(at).unwrap();
    })
    .await;
    assert_eq!(secs(&spans, Some("facebook.com")), 26.0, "{spans:?}");
    assert_eq!(spans[0].start, start() + chrono::Duration::seconds(4));
}

/// Saving the settings (a change that does not touch the site in focus)
/// loses no time: the open span closes and opens again at the same moment,
/// through the browser extension as through a window's title.
#[tokio::test(start_paused = true)]
async fn a_config_reload_loses_no_tracking() {
    const BEFORE: &str = "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"1h\"\n";
    for through_extension in [false, true] {
        let (_d, spans) = replay_live(BEFORE, move |tx, control, path, _idle| {
            Box::pin(async move {
                tx.send(WatchEvent::Connected).await.unwrap();
                if through_extension {
                    tx.send(WatchEvent::Focus(browser("New Tab")))
                        .await
                        .unwrap();
                    tx.send(tab(Some("www.facebook.com"), false, false))
                        .await
                        .unwrap();
                } else {
                    tx.send(WatchEvent::Focus(browser("Facebook")))
                        .await
                        .unwrap();
                }
                tokio::time::sleep(Duration::from_millis(10_400)).await;
                std::fs::write(&path, format!("{BEFORE}[limits]\ndaily = \"40m\"\n")).unwrap();
                control.send(()).await.unwrap();
                // A second look (an editor's save fires several events).
                tokio::time::sleep(Duration::from_millis(150)).await;
                control.send(()).await.unwrap();
                tokio::time::sleep(Duration::from_millis(19_450)).await;
            })
        })
        .await;
        assert_eq!(secs(&spans, Some("facebook.com")), 30.0, "{spans:?}");
        assert_eq!(spans.len(), 2, "closed and opened again: {spans:?}");
        assert_eq!(spans[0].end, spans[1].start, "{spans:?}");
    }
}

/// The pause page in one tab, then in a second social tab while the first
/// still shows it, then the first one again: a tab on the pause page reports
/// no host, and counts as other time. Every second the browser had focus is
/// social or other, so the ledger's figures add up.
#[tokio::test(start_paused = true)]
async fn pause_pages_one_after_another_count_as_other_time() {
    let config = Config::parse(
        "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"1h\"\n\
         [limits]\ndaily = \"20s\"\nstreak = \"1h\"\nweekly = \"10h\"\n\
         [reminders]\nmin_gap = \"1s\"\nrepeat_over = \"2m\"\npause_page = true\n",
        std::path::Path::new("t.toml"),
    )
    .unwrap();
    let (_d, spans) = replay(config, |tx, _idle| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("New Tab")))
                .await
                .unwrap();
            assert!(tab_answer(&tx, "www.facebook.com").await.is_none());
            at(t0, 30).await;
            assert!(tab_answer(&tx, "docs.example.com").await.is_none());
            at(t0, 35).await;
            assert!(tab_answer(&tx, "www.facebook.com").await.is_some());
            // The first pause page: an extension page, no host.
            tx.send(tab(None, false, false)).await.unwrap();
            at(t0, 40).await;
            // A second social tab while the first page shows: its own page.
            assert!(tab_answer(&tx, "old.reddit.com").await.is_some());
            tx.send(tab(None, false, false)).await.unwrap();
            at(t0, 50).await;
            // Back to the first tab, still on its page (the same facts).
            tx.send(tab(None, false, false)).await.unwrap();
            at(t0, 55).await;
            // "Continue": back on Facebook, no third page.
            tx.send(WatchEvent::PauseResult(
                crate::door::PauseOutcome::Continued,
            ))
            .await
            .unwrap();
            assert!(tab_answer(&tx, "www.facebook.com").await.is_none());
            at(t0, 60).await;
        })
    })
    .await;
    let social: f64 = spans
        .iter()
        .filter(|s| s.activity.is_social())
        .map(|s| s.seconds())
        .sum();
    let other = secs(&spans, None);
    assert_eq!(social, 35.0, "{spans:?}");
    assert_eq!(other, 25.0, "{spans:?}");
}

/// A second pause page while the first is unanswered, then both answered
/// (the newer first, the page in front of the employee, then the older
/// one's tab): each page's record gets its own outcome, none stays
/// "shown", so the reminders' figures add up.
#[tokio::test(start_paused = true)]
async fn two_pause_pages_answered_each_keep_their_outcome() {
    let config = Config::parse(
        "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"1h\"\n\
         [limits]\ndaily = \"20s\"\nstreak = \"1h\"\nweekly = \"10h\"\n\
         [reminders]\nmin_gap = \"1s\"\nrepeat_over = \"2m\"\npause_page = true\n",
        std::path::Path::new("t.toml"),
    )
    .unwrap();
    let (dir, _spans) = replay(config, |tx, _idle| {
        Box::pin(async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("New Tab")))
                .await
                .unwrap();
            assert!(tab_answer(&tx, "www.facebook.com").await.is_none());
            at(t0, 30).await;
            assert!(tab_answer(&tx, "docs.example.com").await.is_none());
            at(t0, 35).await;
            assert!(tab_answer(&tx, "www.facebook.com").await.is_some());
            tx.send(tab(None, false, false)).await.unwrap();
            at(t0, 40).await;
            assert!(tab_answer(&tx, "old.reddit.com").await.is_some());
            tx.send(tab(None, false, false)).await.unwrap();
            at(t0, 45).await;
            // The newer page: "Close tab"; back on the older one: "Continue".
            tx.send(WatchEvent::PauseResult(crate::door::PauseOutcome::Closed))
                .await
                .unwrap();
            at(t0, 50).await;
            tx.send(WatchEvent::PauseResult(
                crate::door::PauseOutcome::Continued,
            ))
            .await
            .unwrap();
            at(t0, 55).await;
        })
    })
    .await;
    let outcomes: Vec<(i64, String)> = Store::open(dir.path())
        .unwrap()
        .reminders(start(), start() + chrono::Duration::hours(1))
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == "pause_page")
        .map(|r| ((r.at - start()).num_seconds(), r.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [(35, "continued".to_owned()), (40, "closed".to_owned())]
    );
}
