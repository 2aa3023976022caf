//! The browser extension's reports: tabs counted by host (private windows
//! not at all), an audible tab through idleness, and the pause page over the
//! limit (once per site, only when asked for, one page after another, each
//! answer kept).

use super::*;

use crate::door::PauseOutcome;

/// Over a 20 s daily limit, reminders at most a second apart and again
/// after 2 minutes; `extra` goes on in `[reminders]`.
fn over_the_limit(extra: &str) -> Config {
    config(&format!(
        "{}[limits]\ndaily = \"20s\"\nstreak = \"1h\"\nweekly = \"10h\"\n\
         [reminders]\nmin_gap = \"1s\"\nrepeat_over = \"2m\"\n{extra}",
        recorded_always("1h")
    ))
}

/// The tabs reported: at which second, on which host, whether the pause
/// page came.
type Answers = Arc<Mutex<Vec<(u64, &'static str, bool)>>>;

/// The pause-page replay's rounds: at so many seconds, a tab on each host in
/// turn, then the employee's answer on the page shown (if any).
const ROUNDS: [(u64, &[&str], Option<PauseOutcome>); 4] = [
    (0, &["www.facebook.com"], None),
    (
        30,
        &["docs.example.com", "www.facebook.com"],
        Some(PauseOutcome::Closed),
    ),
    (
        40,
        &["docs.example.com", "m.facebook.com", "old.reddit.com"],
        Some(PauseOutcome::Continued),
    ),
    (200, &["docs.example.com", "www.facebook.com"], None),
];

/// Over a 20 s daily limit, a switch to a social tab gets the pause page
/// once per site per `repeat_over`; the choice is stored. A page is in
/// French and names no host.
async fn pause_replay(extra: &str) -> (Vec<ReminderRecord>, Answers) {
    let config = over_the_limit(&format!("language = \"fr\"\n{extra}"));
    let answers: Answers = Arc::default();
    let seen = answers.clone();
    let (dir, _spans) = replay(config, |desk| async move {
        desk.connect(browser("New Tab")).await;
        for (s, hosts, outcome) in ROUNDS {
            desk.at(s).await;
            for &host in hosts {
                let pause = desk.tab_answer(host).await;
                if let Some(p) = &pause {
                    assert_eq!(
                        (p.limit.as_str(), p.lang.as_str(), p.continue_label.as_str()),
                        ("20\u{a0}s", "fr", "Continuer"),
                        "{p:?}"
                    );
                    assert!(!p.line.is_empty() && !p.line.contains(host), "{p:?}");
                }
                seen.lock().unwrap().push((s, host, pause.is_some()));
            }
            if let Some(outcome) = outcome {
                desk.send(WatchEvent::PauseResult(outcome)).await;
            }
        }
        desk.at(201).await;
    })
    .await;
    (pause_pages(dir.path()), answers)
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
        .map(|r| (since_start(r.at), r.outcome.as_str()))
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

/// Over the limit, two pause pages up at 40 s: Facebook's (from 35 s), then
/// Reddit's while the first still shows; both tabs on their page (an
/// extension page, no host).
async fn two_pause_pages(desk: &Desk) {
    desk.connect(browser("New Tab")).await;
    assert!(desk.tab_answer("www.facebook.com").await.is_none());
    desk.at(30).await;
    assert!(desk.tab_answer("docs.example.com").await.is_none());
    desk.at(35).await;
    assert!(desk.tab_answer("www.facebook.com").await.is_some());
    // The first pause page: an extension page, no host.
    desk.send(tab(None, false, false)).await;
    desk.at(40).await;
    // A second social tab while the first page shows: its own page.
    assert!(desk.tab_answer("old.reddit.com").await.is_some());
    desk.send(tab(None, false, false)).await;
}

/// The pause page in one tab, then in a second social tab while the first
/// still shows it, then the first one again: a tab on the pause page reports
/// no host, and counts as other time. Every second the browser had focus is
/// social or other, so the ledger's figures add up.
#[tokio::test(start_paused = true)]
async fn pause_pages_one_after_another_count_as_other_time() {
    let (_d, spans) = replay(over_the_limit("pause_page = true\n"), |desk| async move {
        two_pause_pages(&desk).await;
        desk.at(50).await;
        // Back to the first tab, still on its page (the same facts).
        desk.send(tab(None, false, false)).await;
        desk.at(55).await;
        // "Continue": back on Facebook, no third page.
        desk.send(WatchEvent::PauseResult(PauseOutcome::Continued))
            .await;
        assert!(desk.tab_answer("www.facebook.com").await.is_none());
        desk.at(60).await;
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
    let (dir, _spans) = replay(over_the_limit("pause_page = true\n"), |desk| async move {
        two_pause_pages(&desk).await;
        desk.at(45).await;
        // The newer page: "Close tab"; back on the older one: "Continue".
        desk.send(WatchEvent::PauseResult(PauseOutcome::Closed))
            .await;
        desk.at(50).await;
        desk.send(WatchEvent::PauseResult(PauseOutcome::Continued))
            .await;
        desk.at(55).await;
    })
    .await;
    let outcomes: Vec<(i64, String)> = pause_pages(dir.path())
        .into_iter()
        .map(|r| (since_start(r.at), r.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [(35, "continued".to_owned()), (40, "closed".to_owned())]
    );
}

#[tokio::test(start_paused = true)]
async fn a_connected_extension_counts_by_host_not_title() {
    let (_d, spans) = replay(always(), |desk| async move {
        // The title names Facebook, but the tab is on old.reddit.com.
        desk.connect(browser("Facebook")).await;
        desk.at(10).await;
        desk.send(tab(Some("old.reddit.com"), false, false)).await;
        desk.at(30).await;
        // A page whose title names no site: counted by its host.
        desk.send(tab(Some("mastodon.social"), false, false)).await;
        desk.at(45).await;
        desk.send(tab(Some("docs.example.com"), false, false)).await;
        desk.at(50).await;
        // A private window: not counted at all.
        desk.send(tab(None, true, false)).await;
        desk.at(70).await;
        // The host left: the title counts again.
        desk.send(WatchEvent::TabGone {
            sender: ":1.7".into(),
        })
        .await;
        desk.at(80).await;
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
    let (_d, spans) = replay(config, |desk| async move {
        desk.connect(browser("New Tab")).await;
        desk.send(tab(Some("www.youtube.com"), false, true)).await;
        desk.input();
        // No input from here on: counted for 600 s, then cut back.
        desk.at(1000).await;
    })
    .await;
    // Counted up to the media timeout after the last input, not beyond.
    assert_eq!(secs(&spans, Some("youtube.com")), 600.0, "{spans:?}");
}
