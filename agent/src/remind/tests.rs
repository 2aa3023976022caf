//! The reminders with the run loop: replayed days, notifications answered.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::clock::TokioClock;
use crate::run::{run_while, Outlets, Sources};
use crate::watch::{IdleSource, WatchEvent};
use dwell_core::WindowInfo;
use std::sync::{Arc, Mutex};

/// Never idle.
struct Busy;
impl IdleSource for Busy {
    fn idle_for(&mut self) -> Option<Duration> {
        Some(Duration::ZERO)
    }
}

use crate::windows_for_tests::chromium as window;

fn social() -> Option<WindowInfo> {
    window("Home / X - Chromium", false)
}

use crate::windows_for_tests::editor as work;

fn config(extra: &str) -> Config {
    Config::parse(
        &format!(
            "[schedule]\nrecord = \"always\"\n[limits]\ndaily = \"60s\"\nstreak = \"1h\"\nweekly = \"10h\"\n{extra}"
        ),
        std::path::Path::new("t.toml"),
    )
    .unwrap()
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap()
}

/// What the fake notification server saw: (seconds since start, note).
type Shown = Arc<Mutex<Vec<(f64, Note)>>>;

/// A fake server: answers every Show with `answer` (given the count so far).
fn fake_server(
    mut requests: mpsc::Receiver<Request>,
    events: mpsc::Sender<NotifyEvent>,
    t0: Instant,
    answer: impl Fn(usize) -> NotifyEvent + 'static,
    dnd: Arc<Mutex<bool>>,
) -> (Shown, tokio::task::JoinHandle<()>) {
    let shown: Shown = Arc::default();
    let seen = shown.clone();
    let task = tokio::task::spawn_local(async move {
        while let Some(req) = requests.recv().await {
            match req {
                Request::Show(note) => {
                    let n = {
                        let mut s = seen.lock().unwrap();
                        s.push(((Instant::now() - t0).as_secs_f64(), note));
                        s.len()
                    };
                    let _ = events.send(answer(n)).await;
                }
                Request::QueryDnd => {
                    let on = *dnd.lock().unwrap();
                    let _ = events.send(NotifyEvent::Dnd(on)).await;
                }
                Request::Close | Request::Inform(_) => {}
                Request::Opened { at, ok } => {
                    let _ = events.send(NotifyEvent::Opened { at, ok }).await;
                }
            }
        }
    });
    (shown, task)
}

struct Run {
    dir: tempfile::TempDir,
    shown: Shown,
}

impl Run {
    fn records(&self) -> Vec<ReminderRecord> {
        let store = Store::open(self.dir.path()).unwrap();
        store
            .reminders(
                start() - chrono::Duration::days(1),
                start() + chrono::Duration::days(2),
            )
            .unwrap()
    }
    fn shown_at(&self) -> Vec<f64> {
        self.shown.lock().unwrap().iter().map(|s| s.0).collect()
    }
}

/// Runs the loop with a fake server and a script of watch and server events.
async fn replay(
    config: Config,
    with_server: bool,
    answer: impl Fn(usize) -> NotifyEvent + 'static,
    dnd: Arc<Mutex<bool>>,
    script: impl FnOnce(
        mpsc::Sender<WatchEvent>,
        mpsc::Sender<NotifyEvent>,
        Instant,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
) -> Run {
    replay_in(
        tempfile::tempdir().unwrap(),
        None,
        config,
        with_server,
        answer,
        dnd,
        script,
    )
    .await
}

/// [`replay`] in `dir`, with `control` as the loop's "look again" channel
/// (a `SIGUSR1` from `dwell-agent snooze`, say).
async fn replay_in(
    dir: tempfile::TempDir,
    control: Option<mpsc::Receiver<()>>,
    config: Config,
    with_server: bool,
    answer: impl Fn(usize) -> NotifyEvent + 'static,
    dnd: Arc<Mutex<bool>>,
    script: impl FnOnce(
        mpsc::Sender<WatchEvent>,
        mpsc::Sender<NotifyEvent>,
        Instant,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
) -> Run {
    let store = Store::open(dir.path()).unwrap();
    let (wtx, wrx) = mpsc::channel(16);
    let (req_tx, req_rx) = mpsc::channel(16);
    let (ev_tx, ev_rx) = mpsc::channel(16);
    let t0 = Instant::now();
    let clock = TokioClock::starting_at(start());
    let (shown, server) = if with_server {
        fake_server(req_rx, ev_tx.clone(), t0, answer, dnd)
    } else {
        drop(req_rx);
        (Arc::default(), tokio::task::spawn_local(async {}))
    };
    let notifications = with_server.then_some(Notifications {
        requests: req_tx,
        events: ev_rx,
    });
    let script = script(wtx, ev_tx, t0);
    let mut sources = Sources::watching(wrx, Box::new(Busy));
    sources.control = control;
    let outlets = Outlets {
        notifications,
        tray: None,
    };
    run_while(config, store, sources, outlets, &clock, &Utc, script)
        .await
        .unwrap();
    server.abort();
    Run { dir, shown }
}

async fn at(t0: Instant, secs: f64) {
    tokio::time::sleep_until(t0 + Duration::from_secs_f64(secs)).await;
}

fn shown(n: usize) -> NotifyEvent {
    NotifyEvent::Shown {
        id: n as u32,
        actions: true,
    }
}

fn local<F: std::future::Future<Output = ()>>(f: F) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&rt, f);
}

/// Stopped while a reminder is on its way to the screen (the server has it
/// and has not answered yet): the agent waits a little for the answer, so
/// what was shown is recorded.
#[test]
fn a_reminder_shown_just_before_a_stop_is_recorded() {
    local(async {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (wtx, wrx) = mpsc::channel(16);
        let (req_tx, mut req_rx) = mpsc::channel(16);
        let (ev_tx, ev_rx) = mpsc::channel(16);
        let clock = TokioClock::starting_at(start());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        // A server that answers 300 ms after it shows a notification; the
        // agent is asked to stop 100 ms after the first one is shown.
        let server = tokio::task::spawn_local(async move {
            let mut stop_tx = Some(stop_tx);
            while let Some(req) = req_rx.recv().await {
                if let Request::Show(_) = req {
                    if let Some(stop) = stop_tx.take() {
                        tokio::spawn(async move {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            let _ = stop.send(());
                        });
                    }
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    let _ = ev_tx.send(shown(1)).await;
                }
            }
        });
        let sources = Sources::watching(wrx, Box::new(Busy));
        let outlets = Outlets {
            notifications: Some(Notifications {
                requests: req_tx,
                events: ev_rx,
            }),
            tray: None,
        };
        wtx.send(WatchEvent::Connected).await.unwrap();
        wtx.send(WatchEvent::Focus(social())).await.unwrap();
        crate::run::run_with(
            config("[reminders]\nat = [0.5, 1.0]\nmin_gap = \"1s\"\n"),
            store,
            sources,
            outlets,
            &clock,
            &Utc,
            async {
                let _ = stop_rx.await;
            },
        )
        .await
        .unwrap();
        server.abort();
        drop(wtx);
        let run = Run {
            dir,
            shown: Arc::default(),
        };
        let recs = run.records();
        assert_eq!(recs.len(), 1, "{recs:?}");
        assert_eq!(recs[0].outcome, "shown");
    });
}

#[test]
fn stages_arrive_at_the_crossing_and_are_stored() {
    local(async {
        let run = replay(
            config("[reminders]\nat = [0.5, 1.0]\nmin_gap = \"1s\"\nrepeat_over = \"1h\"\n"),
            true,
            shown,
            Arc::default(),
            |w, _ev, t0| {
                Box::pin(async move {
                    w.send(WatchEvent::Connected).await.unwrap();
                    w.send(WatchEvent::Focus(social())).await.unwrap();
                    at(t0, 20.0).await;
                    w.send(WatchEvent::Focus(work())).await.unwrap();
                    at(t0, 100.0).await;
                    w.send(WatchEvent::Focus(social())).await.unwrap();
                    at(t0, 200.0).await;
                })
            },
        )
        .await;
        // 20 s social, a break, back at 100: 50 % at 110, 100 % at 140.
        let times = run.shown_at();
        assert_eq!(times.len(), 2, "{times:?}");
        assert!((times[0] - 110.0).abs() < 0.01, "{times:?}");
        assert!((times[1] - 140.0).abs() < 0.01, "{times:?}");
        let notes = run.shown.lock().unwrap().clone();
        assert!(notes[0].1.summary.contains("30s"), "{:?}", notes[0].1);
        assert!(notes[0].1.actions.iter().any(|a| a.0 == "snooze"));
        // Said in the body where the server draws no buttons (mako).
        let hint = notes[0].1.without_buttons.as_deref().unwrap_or_default();
        assert!(hint.contains("`dwell-agent snooze`"), "{hint}");
        let recs = run.records();
        assert_eq!(recs.len(), 2);
        assert!(recs
            .iter()
            .all(|r| r.outcome == "shown" && r.kind == "stage"));
        assert!(recs.iter().all(|r| r.message.is_some()));
        // Stayed on social for 2 min after each: did not leave.
        assert_eq!(recs[0].left_social, Some(false));
    });
}

#[test]
fn snooze_silences_and_leaving_is_recorded() {
    local(async {
        let run = replay(
            config("[reminders]\nat = [0.5, 0.8, 1.0]\nmin_gap = \"1s\"\nrepeat_over = \"20s\"\nsnooze = \"60s\"\n"),
            true,
            shown,
            Arc::default(),
            |w, ev, t0| {
                Box::pin(async move {
                    w.send(WatchEvent::Connected).await.unwrap();
                    w.send(WatchEvent::Focus(social())).await.unwrap();
                    at(t0, 31.0).await;
                    ev.send(NotifyEvent::Action {
                        id: 1,
                        key: "snooze".into(),
                    })
                    .await
                    .unwrap();
                    ev.send(NotifyEvent::Closed { id: 1, reason: 2 }).await.unwrap();
                    at(t0, 95.0).await;
                    w.send(WatchEvent::Focus(work())).await.unwrap();
                    at(t0, 300.0).await;
                })
            },
        )
        .await;
        let times = run.shown_at();
        // 50 % at 30; snoozed at 31 until 91: 80 % (48) and 100 % (60) wait;
        // at 91 the highest (100 %) goes out alone.
        assert_eq!(times.len(), 2, "{times:?}");
        assert!((times[0] - 30.0).abs() < 0.01);
        assert!((times[1] - 91.0).abs() < 0.01, "{times:?}");
        let recs = run.records();
        assert_eq!(recs[0].outcome, "snoozed");
        assert_eq!(recs[1].outcome, "shown");
        assert_eq!(recs[1].left_social, Some(true));
    });
}

/// `dwell-agent snooze 2h` while a reminder is on screen (a server like
/// mako, which draws no buttons): the reminder is settled as snoozed, and
/// `status` (which reads the running agent's note) shows when the snooze
/// ends, as it does for the reminder's own "Snooze".
#[test]
fn a_snooze_command_over_a_reminder_on_screen_is_shown_by_status() {
    local(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_owned();
        let (control_tx, control_rx) = mpsc::channel(4);
        let noted: Arc<Mutex<Option<String>>> = Arc::default();
        let seen = noted.clone();
        let run = replay_in(
            dir,
            Some(control_rx),
            config("[reminders]\nat = [0.5, 1.0]\nmin_gap = \"1s\"\n"),
            true,
            |n| NotifyEvent::Shown {
                id: n as u32,
                actions: false,
            },
            Arc::default(),
            |w, _ev, t0| {
                Box::pin(async move {
                    w.send(WatchEvent::Connected).await.unwrap();
                    w.send(WatchEvent::Focus(social())).await.unwrap();
                    at(t0, 31.0).await;
                    let store = Store::open(&path).unwrap();
                    dwell_core::control::set_request(
                        &store,
                        dwell_core::control::Request::Snooze(Some(Duration::from_secs(7200))),
                    )
                    .unwrap();
                    control_tx.send(()).await.unwrap();
                    at(t0, 32.0).await;
                    *seen.lock().unwrap() = store.meta_get(SNOOZED_UNTIL_KEY).unwrap();
                })
            },
        )
        .await;
        let recs = run.records();
        assert_eq!(recs[0].outcome, "snoozed", "{recs:?}");
        let noted = noted.lock().unwrap().clone();
        let until = noted
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        assert_eq!(
            until,
            Some(start() + chrono::Duration::seconds(31 + 7200)),
            "{noted:?}"
        );
    });
}

#[test]
fn fullscreen_holds_then_the_latest_goes_out_once() {
    local(async {
        let run = replay(
            config("[reminders]\nat = [0.5, 1.0]\nmin_gap = \"1s\"\nrepeat_over = \"1h\"\n"),
            true,
            shown,
            Arc::default(),
            |w, _ev, t0| {
                Box::pin(async move {
                    w.send(WatchEvent::Connected).await.unwrap();
                    w.send(WatchEvent::Focus(window(
                        "Watch - YouTube - Chromium",
                        true,
                    )))
                    .await
                    .unwrap();
                    at(t0, 70.0).await;
                    w.send(WatchEvent::Focus(window(
                        "Watch - YouTube - Chromium",
                        false,
                    )))
                    .await
                    .unwrap();
                    at(t0, 80.0).await;
                })
            },
        )
        .await;
        let times = run.shown_at();
        assert_eq!(times.len(), 1, "{times:?}");
        assert!((times[0] - 70.0).abs() < 0.01);
        let recs = run.records();
        // 50 % held for good; 100 % held, then shown.
        let outcomes: Vec<&str> = recs.iter().map(|r| r.outcome.as_str()).collect();
        assert_eq!(outcomes, ["held", "shown"], "{recs:?}");
    });
}

#[test]
fn do_not_disturb_holds_until_it_ends() {
    local(async {
        let dnd = Arc::new(Mutex::new(true));
        let flag = dnd.clone();
        let run = replay(
            config("[reminders]\nat = [0.5]\nmin_gap = \"1s\"\nrepeat_over = \"1h\"\n"),
            true,
            move |n| {
                if *flag.lock().unwrap() {
                    NotifyEvent::HeldDnd
                } else {
                    shown(n)
                }
            },
            dnd.clone(),
            |w, _ev, t0| {
                let dnd = dnd.clone();
                Box::pin(async move {
                    w.send(WatchEvent::Connected).await.unwrap();
                    w.send(WatchEvent::Focus(social())).await.unwrap();
                    at(t0, 45.0).await;
                    *dnd.lock().unwrap() = false;
                    at(t0, 70.0).await;
                })
            },
        )
        .await;
        // Asked at 30 (held: dnd), polled every 10 s: seen off at 50, shown.
        let times = run.shown_at();
        assert_eq!(times.len(), 2, "{times:?}");
        assert!((times[1] - 50.0).abs() < 0.01, "{times:?}");
        let recs = run.records();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].outcome, "shown");
    });
}

#[test]
fn without_a_server_tracking_goes_on_and_reminders_are_undelivered() {
    local(async {
        let run = replay(
            config("[reminders]\nat = [0.5]\n"),
            false,
            shown,
            Arc::default(),
            |w, _ev, t0| {
                Box::pin(async move {
                    w.send(WatchEvent::Connected).await.unwrap();
                    w.send(WatchEvent::Focus(social())).await.unwrap();
                    at(t0, 100.0).await;
                })
            },
        )
        .await;
        let recs = run.records();
        assert!(!recs.is_empty());
        assert_eq!(recs[0].outcome, "undelivered");
        let store = Store::open(run.dir.path()).unwrap();
        let spans = store
            .spans(start(), start() + chrono::Duration::hours(1))
            .unwrap();
        let secs: f64 = spans.iter().map(|s| s.seconds()).sum();
        assert_eq!(secs, 100.0);
    });
}

/// `[limits.sites]` in the run loop: x.com (the window's site) reaches its own
/// 20-second limit, and one notification names it, before the daily stage
/// (60s) and never beside another one.
#[test]
fn a_site_over_its_own_limit_is_named_once() {
    local(async {
        let run = replay(
            config(
                "[limits.sites]\n\"x.com\" = \"20s\"\n[reminders]\nat = [1.0]\nmin_gap = \"5s\"\nrepeat_over = \"1h\"\n",
            ),
            true,
            shown,
            Arc::default(),
            |w, _ev, t0| {
                Box::pin(async move {
                    w.send(WatchEvent::Connected).await.unwrap();
                    w.send(WatchEvent::Focus(social())).await.unwrap();
                    at(t0, 90.0).await;
                })
            },
        )
        .await;
        let shown = run.shown.lock().unwrap().clone();
        assert_eq!(shown.len(), 2, "{shown:?}");
        let (t, site) = &shown[0];
        assert!((*t - 20.0).abs() < 1.5, "at {t}");
        assert!(site.summary.contains("x.com"), "{}", site.summary);
        assert!(shown[1].0 >= 59.0, "the daily stage after it: {shown:?}");
        let kinds: Vec<String> = run.records().iter().map(|r| r.kind.clone()).collect();
        assert_eq!(kinds, ["site", "stage"]);
    });
}

/// What the store holds of the pause pages: (seconds since start, outcome).
fn pause_outcomes(store: &Store) -> Vec<(i64, String)> {
    store
        .reminders(start(), start() + chrono::Duration::hours(1))
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == "pause_page")
        .map(|r| ((r.at - start()).num_seconds(), r.outcome))
        .collect()
}

/// Two pause pages open, answered oldest-first (the employee went back to
/// the older tab first, then to the newer one): each page's record gets the
/// answer given on it, not the other's.
#[test]
fn two_pause_pages_answered_oldest_first_keep_their_own_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut r = Reminding::new(&config(""), None);
    // Social since the start: over the 60 s limit at 90 s.
    let open = Some(start());
    let at = |s| start() + chrono::Duration::seconds(s);
    let older = r.pause_page(&mut store, at(90), "facebook.com", open, &Utc);
    let newer = r.pause_page(&mut store, at(95), "reddit.com", open, &Utc);
    let id = |p: &Option<Pause>| p.as_ref().and_then(|p| PageId::parse(&p.page));
    let (older, newer) = (id(&older).unwrap(), id(&newer).unwrap());
    assert_ne!(older, newer);
    r.pause_result(&mut store, PauseOutcome::Closed, Some(older));
    r.pause_result(&mut store, PauseOutcome::Continued, Some(newer));
    assert_eq!(
        pause_outcomes(&store),
        [(90, "closed".to_owned()), (95, "continued".to_owned())]
    );
}

/// A choice without a page (an extension or host from before page ids)
/// goes to the newest open page, as before; a choice for a page not open
/// (answered already, pushed out by 16 newer ones, or unknown) takes
/// nothing, and no other page takes it.
#[test]
fn a_choice_without_a_page_goes_to_the_newest_and_one_for_no_open_page_to_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut r = Reminding::new(&config(""), None);
    let open = Some(start());
    let at = |s| start() + chrono::Duration::seconds(s);
    let sites: Vec<String> = (0..18).map(|i| format!("site{i}.example.com")).collect();
    let pages: Vec<PageId> = sites
        .iter()
        .zip(90..)
        .map(|(site, s)| {
            let p = r.pause_page(&mut store, at(s), site, open, &Utc).unwrap();
            PageId::parse(&p.page).unwrap()
        })
        .collect();
    // The two oldest were pushed out (16 kept): their choices take nothing.
    r.pause_result(&mut store, PauseOutcome::Closed, Some(pages[0]));
    r.pause_result(&mut store, PauseOutcome::Closed, Some(pages[1]));
    // An old extension: the newest takes it.
    r.pause_result(&mut store, PauseOutcome::Continued, None);
    // A page answered twice, and a page never shown: nothing more.
    r.pause_result(&mut store, PauseOutcome::Closed, Some(pages[17]));
    r.pause_result(&mut store, PauseOutcome::Closed, PageId::parse("42"));
    // The third oldest, by its id.
    r.pause_result(&mut store, PauseOutcome::Closed, Some(pages[2]));
    let got = pause_outcomes(&store);
    let outcome = |s: i64| got.iter().find(|g| g.0 == s).map(|g| g.1.as_str());
    assert_eq!(got.len(), 18, "{got:?}");
    assert_eq!(outcome(107), Some("continued"), "{got:?}");
    assert_eq!(outcome(92), Some("closed"), "{got:?}");
    let shown = got.iter().filter(|g| g.1 == "shown").count();
    assert_eq!(shown, 16, "{got:?}");
}
