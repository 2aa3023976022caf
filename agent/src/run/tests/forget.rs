//! Forgets from another process while the loop runs: a site forgotten
//! while its span is open (or another site), today forgotten, everything
//! forgotten before the first checkpoint.

use super::*;

/// Moves the focus to each window of `focus` at its second (an input each
/// time), runs `forget` on a second connection at `secs` into the replay, as
/// `dwell-agent forget` does from another process, gives input every 30 s
/// from there to `end`, and returns what is stored at the end.
async fn forget_at(
    secs: u64,
    focus: Vec<(u64, Option<WindowInfo>)>,
    end: u64,
    forget: impl FnOnce(&mut Store, DateTime<Utc>) + 'static,
) -> Vec<Span> {
    let (_d, spans) = replay(always(), |desk| async move {
        let when = start() + chrono::Duration::seconds(secs as i64);
        desk.send(WatchEvent::Connected).await;
        let mut forget = Some(forget);
        for (s, window) in focus {
            if s > secs {
                if let Some(f) = forget.take() {
                    desk.at(secs).await;
                    f(&mut desk.store(), when);
                }
            }
            desk.at(s).await;
            desk.input();
            desk.focus(window).await;
        }
        if let Some(f) = forget.take() {
            desk.at(secs).await;
            f(&mut desk.store(), when);
        }
        for s in (secs..=end).step_by(30) {
            desk.at(s).await;
            desk.input();
        }
        desk.at(end).await;
    })
    .await;
    spans
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
