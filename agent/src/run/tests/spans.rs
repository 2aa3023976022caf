//! What is counted: switches to the second, idleness cut back to the last
//! input (polled or pushed, across midnight, from a span's start), a blink
//! of no window, work hours, the longest durations, the watcher gone or
//! untrackable, and how far behind the committed data may be.

use super::*;
use crate::run::writer::WRITE_SLACK;

#[tokio::test(start_paused = true)]
async fn counts_switches_to_the_second() {
    let (_d, spans) = replay(always(), |desk| async move {
        desk.connect(browser("Home / X - Chromium")).await;
        desk.at(50).await;
        desk.input();
        desk.focus(editor()).await;
        desk.at(100).await;
        desk.input();
        desk.focus(browser("r/rust - Reddit - Chromium")).await;
        desk.at(130).await;
    })
    .await;
    assert_eq!(secs(&spans, Some("x.com")), 50.0);
    assert_eq!(secs(&spans, None), 50.0);
    assert_eq!(secs(&spans, Some("reddit.com")), 30.0);
}

#[tokio::test(start_paused = true)]
async fn idle_is_cut_back_to_the_last_input() {
    let (_d, spans) = replay(always(), |desk| async move {
        desk.connect(browser("Facebook")).await;
        desk.at(30).await;
        desk.input(); // last input at 30
        desk.at(600).await; // away for ages
        desk.input(); // back at 600
        desk.at(660).await;
    })
    .await;
    // 0..30, then 600..660 (input noticed within the 1 s poll, dated exactly).
    assert_eq!(secs(&spans, Some("facebook.com")), 90.0, "{spans:?}");
}

/// A span written across midnight by checkpoints, then cut back by
/// idleness to before midnight, leaves nothing after midnight.
#[tokio::test(start_paused = true)]
async fn idle_cut_back_across_midnight_leaves_no_phantom() {
    let wall = Utc.with_ymd_and_hms(2026, 11, 24, 23, 59, 30).unwrap();
    let (_d, spans) = Replay::new(config(&recorded_always("1m")))
        .from(wall)
        .run(|desk| async move {
            desk.connect(browser("Facebook")).await;
            desk.at(10).await;
            desk.input(); // the last input: 23:59:40
            desk.at(100).await;
        })
        .await;
    assert_eq!(secs(&spans, Some("facebook.com")), 10.0, "{spans:?}");
}

/// Focus that moves to a window with no input since before it opened: idleness
/// cuts the new span back to nothing, and its checkpoints go too.
#[tokio::test(start_paused = true)]
async fn a_span_idle_from_its_start_leaves_no_checkpoint_behind() {
    let (_d, spans) = replay(always(), |desk| async move {
        desk.connect(browser("Facebook")).await;
        desk.at(60).await;
        // A window takes the focus by itself; no input since 0 s.
        desk.focus(editor()).await;
        desk.at(300).await;
    })
    .await;
    assert_eq!(secs(&spans, Some("facebook.com")), 60.0, "{spans:?}");
    assert_eq!(secs(&spans, None), 0.0, "{spans:?}");
}

/// An idle source that pushes (Wayland idle protocols, Mutter's watches):
/// idle is cut back to the last input without polling.
#[tokio::test(start_paused = true)]
async fn a_pushing_idle_source_cuts_back_to_the_last_input() {
    let pushed = crate::watch::PushedIdle::new();
    pushed.connected();
    let (_d, spans) = Replay::new(config(&recorded_always("10s")))
        .idle(Box::new(pushed.clone()))
        .run(|desk| async move {
            desk.connect(browser("Facebook")).await;
            // The last input at 30 s; the source says "idle" 5 s later.
            desk.at(35).await;
            pushed.idled();
            desk.send(WatchEvent::IdleChanged).await;
            desk.at(100).await;
            pushed.resumed();
            desk.send(WatchEvent::IdleChanged).await;
            desk.at(130).await;
        })
        .await;
    assert_eq!(secs(&spans, Some("facebook.com")), 60.0, "{spans:?}");
}

#[tokio::test(start_paused = true)]
async fn a_blink_of_no_window_is_not_a_change() {
    let (_d, spans) = replay(always(), |desk| async move {
        desk.connect(browser("Facebook")).await;
        desk.at(10).await;
        // A switch reported as "none" then the same window, 100 ms apart.
        desk.focus(None).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        desk.focus(browser("Facebook")).await;
        desk.at(20).await;
        // A real "no window" for 5 s.
        desk.input();
        desk.focus(None).await;
        desk.at(25).await;
        desk.focus(browser("Facebook")).await;
        desk.at(30).await;
    })
    .await;
    assert_eq!(
        spans
            .iter()
            .map(|s| (since_start(s.start), since_start(s.end)))
            .collect::<Vec<_>>(),
        vec![(0, 20), (25, 30)],
        "{spans:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn nothing_outside_work_hours() {
    // Work hours end at 10:01 on this Tuesday.
    let config = config("[schedule]\nwork_hours = [\"09:00-10:01\"]\n");
    let (_d, spans) = replay(config, |desk| async move {
        desk.connect(browser("Facebook")).await;
        for s in (10..=180).step_by(10) {
            desk.at(s).await;
            desk.input();
        }
    })
    .await;
    assert_eq!(secs(&spans, Some("facebook.com")), 60.0, "{spans:?}");
}

/// Every value `config check` accepts runs: the longest durations too.
#[tokio::test(start_paused = true)]
async fn the_longest_durations_the_config_accepts_run() {
    let config = config(
        "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"3650d\"\ncalibrate = \"3650d\"\n\
         [limits]\ndaily = \"3650d\"\nstreak = \"3650d\"\nweekly = \"3650d\"\nstreak_gap = \"3650d\"\n\
         [reminders]\nrepeat_over = \"3650d\"\nmin_gap = \"3650d\"\nsnooze = \"3650d\"\n[data]\nkeep = \"3650d\"\n",
    );
    let (_d, spans) = replay(config, |desk| async move {
        desk.connect(browser("Facebook")).await;
        desk.at(60).await;
    })
    .await;
    assert_eq!(secs(&spans, Some("facebook.com")), 60.0, "{spans:?}");
}

#[tokio::test(start_paused = true)]
async fn x_server_gone_closes_at_that_moment() {
    let (_d, spans) = replay(always(), |desk| async move {
        desk.connect(browser("Instagram")).await;
        desk.at(40).await;
        desk.send(WatchEvent::Gone).await;
        desk.at(100).await;
        desk.input();
        desk.connect(browser("Instagram")).await;
        desk.at(110).await;
    })
    .await;
    assert_eq!(secs(&spans, Some("instagram.com")), 50.0, "{spans:?}");
}

#[tokio::test(start_paused = true)]
async fn untrackable_stops_the_agent_with_exit_code_2() {
    let rig = Replay::new(always()).rig();
    rig.desk
        .send(WatchEvent::Untrackable("no door".into()))
        .await;
    let res = run_with(
        rig.config,
        rig.store,
        rig.sources,
        rig.outlets,
        &rig.desk.clock,
        &Utc,
        std::future::pending(),
    )
    .await;
    let e = res.unwrap_err();
    assert_eq!(format!("{e:#}"), "no door");
    assert_eq!(dwell_core::exit::code(e.chain()), 2);
}

/// What a `kill -9` at any moment would find: at every moment, the
/// committed data reaches no further back than [`MAX_LOSS`], with
/// [`WRITE_SLACK`] left for the checkpoint's wake-up and its commit
/// (under paused time both take no time; on a desktop they take a few ms).
#[tokio::test(start_paused = true)]
async fn the_committed_end_is_never_more_than_the_promised_loss_behind() {
    let worst = Arc::new(Mutex::new(Duration::ZERO));
    let seen = worst.clone();
    replay(always(), |desk| async move {
        desk.connect(browser("Facebook")).await;
        let reader = desk.store();
        for tick in 1..=600u64 {
            tokio::time::sleep_until(desk.t0 + Duration::from_millis(100 * tick)).await;
            desk.input();
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
    .await;
    let worst = *worst.lock().unwrap();
    assert!(
        worst + WRITE_SLACK <= MAX_LOSS,
        "the committed data was {worst:?} old at worst; with {WRITE_SLACK:?} for the wake-up \
         and the commit, a kill -9 could lose more than {MAX_LOSS:?}"
    );
}
