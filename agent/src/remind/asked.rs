//! "Snooze" and "Done for today" asked outside a notification's buttons: from
//! the tray's menu, or from `dwell-agent snooze` / `done-for-today` (stored as
//! a [`Request`] in the database, then `SIGUSR1`, as `pause` does). Some
//! notification servers (mako, fnott) draw no buttons, so these are the only
//! way there; the reminder's body names the commands on such servers.
//!
//! The rules are the buttons' own: a snooze uses one of the day's
//! `snoozes_per_day`, "done for today" lasts until local midnight. The
//! reminder on screen (or the last one) takes the outcome, so a restart
//! counts it as the buttons' would be.

use chrono::{DateTime, TimeZone, Utc};
use dwell_core::control::{self, Answer, Request};
use dwell_core::messages::Lang;
use dwell_core::Store;

use super::{set_outcome, Reminding};
use crate::notify::Request as NoteRequest;

/// The line added to a reminder's body where the server draws no buttons.
pub fn without_buttons(lang: Lang, snoozes_left: bool) -> &'static str {
    match (lang, snoozes_left) {
        (Lang::En, true) => {
            "To snooze: `dwell-agent snooze`; to stop for today: `dwell-agent done-for-today` (or the dwell tray icon)."
        }
        (Lang::En, false) => {
            "To stop for today: `dwell-agent done-for-today` (or the dwell tray icon)."
        }
        (Lang::Fr, true) => {
            "Pour reporter\u{a0}: `dwell-agent snooze`; pour arrêter pour aujourd'hui\u{a0}: `dwell-agent done-for-today` (ou l'icône de dwell)."
        }
        (Lang::Fr, false) => {
            "Pour arrêter pour aujourd'hui\u{a0}: `dwell-agent done-for-today` (ou l'icône de dwell)."
        }
    }
}

impl Reminding {
    /// Applies what the employee asked; what to answer.
    pub fn apply_request<Tz: TimeZone>(
        &mut self,
        store: &mut Store,
        request: Request,
        now: DateTime<Utc>,
        tz: &Tz,
    ) -> Answer {
        match request {
            Request::Snooze(length) => {
                let length = length.unwrap_or(self.snooze);
                match self.policy.snooze_for(length, now, tz) {
                    Some(until) => {
                        tracing::info!("reminders snoozed");
                        // For `status`, however the snooze was kept below.
                        super::note_snooze(store, until);
                        if !self.settle_current(store, "snoozed") {
                            keep_asked(store, now, tz, |a| {
                                a.snoozes += 1;
                                a.snoozed_until = Some(until);
                            });
                        }
                        Answer::Snoozed {
                            until,
                            left: self.policy.snoozes_left(now, tz),
                        }
                    }
                    None => Answer::NoSnoozeLeft {
                        per_day: self.policy.config().snoozes_per_day,
                    },
                }
            }
            Request::DoneForToday => {
                tracing::info!("no more reminders today");
                self.policy.done_for_today(now, tz);
                if !self.settle_current(store, "done_for_today") {
                    keep_asked(store, now, tz, |a| a.done = true);
                }
                Answer::Done
            }
        }
    }

    /// Takes a request `dwell-agent snooze` / `done-for-today` stored, if
    /// any (on `SIGUSR1`), applies it and stores the answer for the command.
    pub fn take_request<Tz: TimeZone>(&mut self, store: &mut Store, now: DateTime<Utc>, tz: &Tz) {
        let request = match control::take_request(store) {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read a snooze request");
                return;
            }
        };
        let answer = self.apply_request(store, request, now, tz);
        if let Err(e) = control::set_answer(store, answer) {
            tracing::warn!(error = %e, "cannot store the answer to a snooze request");
        }
    }

    /// Whether the tray offers "Snooze" and "Done for today": while a
    /// reminder is on screen, or today is over the daily limit, and
    /// reminders are not already done for today.
    pub fn offers_actions<Tz: TimeZone>(
        &self,
        now: DateTime<Utc>,
        over_limit: bool,
        tz: &Tz,
    ) -> bool {
        let on_screen = self.current.as_ref().is_some_and(|c| c.on_screen);
        (on_screen || over_limit) && !self.policy.is_done_for_today(now, tz)
    }

    /// The reminder on screen (or the last one shown) takes `outcome`, unless
    /// the employee already chose there; one on screen is taken down.
    /// Whether a reminder kept it.
    fn settle_current(&mut self, store: &mut Store, outcome: &str) -> bool {
        let Some(cur) = self.current.as_mut() else {
            return false;
        };
        let close = cur.on_screen && !cur.settled;
        let kept = !cur.chosen;
        if kept {
            cur.settled = true;
            cur.chosen = true;
            set_outcome(store, cur.at, outcome);
        }
        if close {
            self.send_request(NoteRequest::Close);
        }
        kept
    }
}

/// Keeps a choice no reminder could keep (see `dwell_core::control::Asked`),
/// so a restart and `status` know it.
fn keep_asked<Tz: TimeZone>(
    store: &Store,
    now: DateTime<Utc>,
    tz: &Tz,
    change: impl FnOnce(&mut control::Asked),
) {
    let day = dwell_core::schedule::local_date(now, tz);
    let kept = control::asked(store, day).and_then(|mut a| {
        change(&mut a);
        control::set_asked(store, a)
    });
    if let Err(e) = kept {
        tracing::warn!(error = %e, "cannot keep the snooze or done-for-today");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::Current;
    use super::*;
    use chrono::TimeZone;
    use dwell_core::model::ReminderRecord;
    use dwell_core::Config;
    use std::time::Duration;

    #[test]
    fn snooze_and_done_asked_outside_the_notification_follow_its_rules() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let config = Config::parse(
            "[reminders]\nsnoozes_per_day = 1\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let mut r = Reminding::new(&config, Some(tx));
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
        assert!(!r.offers_actions(now, false, &Utc), "nothing on screen");
        // A snooze with no reminder to keep it is kept for the day.
        assert!(matches!(
            r.apply_request(&mut store, Request::Snooze(None), now, &Utc),
            Answer::Snoozed { left: 0, .. }
        ));
        let day = dwell_core::schedule::local_date(now, &Utc);
        assert_eq!(control::asked(&store, day).unwrap().snoozes, 1);
        let mut restarted = Reminding::new(&config, None);
        restarted.restore(&store, now, &Utc);
        assert_eq!(restarted.policy.snoozes_left(now, &Utc), 0);
        let config = Config::parse(
            "[reminders]\nsnoozes_per_day = 2\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let mut r = Reminding::new(&config, r.requests.clone());
        assert!(r.offers_actions(now, true, &Utc), "over the limit");
        store
            .put_reminder(&ReminderRecord {
                at: now,
                kind: "stage".into(),
                outcome: "shown".into(),
                left_social: None,
                message: None,
            })
            .unwrap();
        r.current = Some(Current {
            id: 1,
            at: now,
            settled: false,
            on_screen: true,
            chosen: false,
        });
        assert!(r.offers_actions(now, false, &Utc), "a reminder on screen");
        let later = now + chrono::Duration::seconds(5);
        let half_hour = Duration::from_secs(1800);
        r.restore(&store, now, &Utc);
        assert_eq!(
            r.apply_request(&mut store, Request::Snooze(Some(half_hour)), later, &Utc),
            Answer::Snoozed {
                until: later + chrono::Duration::minutes(30),
                left: 0
            }
        );
        // Taken off the screen, and stored as the button would store it.
        assert_eq!(rx.try_recv().unwrap(), NoteRequest::Close);
        let recs = store.reminders(now, later).unwrap();
        assert_eq!(recs[0].outcome, "snoozed");
        // The day's only snooze is used.
        assert_eq!(
            r.apply_request(&mut store, Request::Snooze(None), later, &Utc),
            Answer::NoSnoozeLeft { per_day: 2 }
        );
        // Done for today, through the store as the command asks it.
        control::set_request(&store, Request::DoneForToday).unwrap();
        r.take_request(&mut store, later, &Utc);
        assert_eq!(control::answer(&store).unwrap(), Some(Answer::Done));
        assert_eq!(control::take_request(&store).unwrap(), None);
        assert!(!r.offers_actions(later, true, &Utc), "done for today");
        // The snooze chosen first stays the reminder's outcome.
        assert_eq!(store.reminders(now, later).unwrap()[0].outcome, "snoozed");
    }

    #[test]
    fn the_words_without_buttons_name_the_commands_in_both_languages() {
        for lang in [Lang::En, Lang::Fr] {
            let with = without_buttons(lang, true);
            assert!(with.contains("`dwell-agent snooze`"), "{with}");
            assert!(with.contains("`dwell-agent done-for-today`"), "{with}");
            let without = without_buttons(lang, false);
            assert!(!without.contains("snooze`"), "{without}");
            assert!(
                without.contains("`dwell-agent done-for-today`"),
                "{without}"
            );
        }
        assert!(without_buttons(Lang::Fr, true).starts_with("Pour reporter"));
    }
}
