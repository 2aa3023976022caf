//! Time that is not counted, or not lost, when the wall clock moves: clock
//! steps back and forward, suspends (seen by any wake-up, or right before
//! shutdown), the screen locked, a span cut back after a step, and a change
//! of time zone.

use super::*;

/// Facebook in focus from the start, the wall clock stepped by `by` at
/// `step_at` s, then `after` (the replay ends when it does), with the
/// notification channels, idle after an hour: the spans stored.
async fn stepped<Fut: Future<Output = ()>>(
    step_at: u64,
    by: chrono::Duration,
    after: impl FnOnce(Desk) -> Fut,
) -> Vec<Span> {
    let (_d, spans) = Replay::new(config(&recorded_always("1h")))
        .notifying()
        .run(|desk| async move {
            desk.connect(browser("Facebook")).await;
            desk.at(step_at).await;
            desk.step(by);
            after(desk).await;
        })
        .await;
    spans
}

/// No span empty or negative, and Facebook's seconds within `range`.
fn assert_facebook_within(spans: &[Span], range: std::ops::RangeInclusive<f64>) {
    no_empty_or_negative(spans);
    let got = secs(spans, Some("facebook.com"));
    assert!(range.contains(&got), "{got} s: {spans:?}");
}

#[tokio::test(start_paused = true)]
async fn a_clock_stepped_back_loses_nothing() {
    let spans = stepped(25, -chrono::Duration::seconds(3625), |desk| async move {
        desk.at(60).await;
    })
    .await;
    assert_facebook_within(&spans, 59.0..=60.0);
}

#[tokio::test(start_paused = true)]
async fn a_clock_stepped_forward_loses_at_most_a_second() {
    let spans = stepped(25, chrono::Duration::hours(1), |desk| async move {
        desk.at(60).await;
    })
    .await;
    assert_facebook_within(&spans, 59.0..=60.0);
}

/// A suspend first noticed through a notification event (the reminder
/// expiring) is not counted.
#[tokio::test(start_paused = true)]
async fn a_suspend_seen_first_by_a_notification_is_not_counted() {
    let spans = stepped(5, chrono::Duration::hours(2), |desk| async move {
        desk.notify(NotifyEvent::Closed { id: 1, reason: 1 }).await;
        desk.at(6).await;
    })
    .await;
    assert_facebook_within(&spans, 5.0..=6.0);
}

/// A suspend, then the agent is stopped before anything else wakes it.
#[tokio::test(start_paused = true)]
async fn a_suspend_right_before_shutdown_is_not_counted() {
    let spans = stepped(5, chrono::Duration::hours(2), |_desk| async {}).await;
    assert_facebook_within(&spans, 4.0..=5.0);
}

#[tokio::test(start_paused = true)]
async fn locked_and_suspended_time_is_not_counted() {
    let (_d, spans) = replay(always(), |desk| async move {
        desk.connect(browser("Facebook")).await;
        desk.at(30).await;
        desk.send(WatchEvent::Locked(true)).await;
        desk.at(90).await;
        desk.input();
        desk.send(WatchEvent::Locked(false)).await;
        desk.at(100).await;
        desk.send(WatchEvent::Sleeping(true)).await;
        desk.at(400).await;
        desk.input();
        desk.send(WatchEvent::Sleeping(false)).await;
        desk.at(420).await;
    })
    .await;
    // 0..30, 90..100, 400..420.
    assert_eq!(secs(&spans, Some("facebook.com")), 60.0, "{spans:?}");
}

/// A clock set back onto time already recorded, then idleness cutting the
/// new open span back: what was recorded before the step stays, whatever
/// starts where the new span reached (issue 18: "rows that start in the same
/// millisecond replace each other", and the cut-back's retraction deleting
/// rows by time alone).
#[tokio::test(start_paused = true)]
async fn a_span_cut_back_after_the_clock_was_set_back_keeps_what_came_before() {
    let (_d, spans) = replay(always(), |desk| async move {
        desk.connect(browser("Facebook")).await;
        desk.at(30).await;
        desk.input();
        desk.focus(editor()).await;
        desk.at(40).await;
        // Set back a minute: the editor's span starts again 20 s before
        // Facebook's did, and reaches over both as it is checkpointed...
        desk.step(-chrono::Duration::seconds(60));
        // ...until idleness (2 minutes since the last input, at 30 s)
        // cuts it back to nothing.
        desk.at(200).await;
    })
    .await;
    no_empty_or_negative(&spans);
    assert_eq!(secs(&spans, Some("facebook.com")), 30.0, "{spans:?}");
    // The editor's 10 s before the step (idle since 30 s, it was not cut
    // back when it closed); nothing after it.
    assert_eq!(secs(&spans, None), 15.0, "{spans:?}");
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
    let (_d, spans) = Replay::live("[tracking]\nidle_timeout = \"1h\"\n")
        .run_in(&tz, |desk| async move {
            desk.connect(browser("Facebook")).await;
            tokio::time::sleep(Duration::from_secs(100)).await;
            zone.set(0);
            desk.look_again().await;
            tokio::time::sleep(Duration::from_secs(200)).await;
        })
        .await;
    let counted = secs(&spans, Some("facebook.com"));
    assert!((199.0..=200.0).contains(&counted), "{counted}: {spans:?}");
}
