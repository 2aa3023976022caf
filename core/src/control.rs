//! What the employee controls while dwell runs: pausing (off the record until a
//! time, or until `resume`) and retention (`[data] keep`).
//!
//! The pause lives in the database's `meta` table under [`PAUSED_UNTIL_KEY`]:
//! an RFC 3339 instant, or [`INDEFINITE`]. `dwell-agent pause` writes it and
//! signals the running agent (SIGUSR1), which re-reads it with [`paused`].
//!
//! "Snooze" and "Done for today" asked outside a notification (`dwell-agent
//! snooze`, `done-for-today`, for notification servers that draw no buttons)
//! take the same road: the command stores a [`Request`] under [`REQUEST_KEY`]
//! and signals the agent, which applies it with the reminders' own rules
//! (snoozes left today) and stores its [`Answer`] under [`ANSWER_KEY`] for the
//! command to print.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::parse_duration;
use crate::store::{Store, StoreError};
pub use crate::store::{PAUSED_UNTIL_KEY, RETENTION_RAN_KEY};

/// Value of [`PAUSED_UNTIL_KEY`] for a pause that lasts until `resume`.
pub const INDEFINITE: &str = "indefinite";

/// A pause: nothing is recorded while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pause {
    Until(DateTime<Utc>),
    Indefinite,
}

impl Pause {
    /// Parses the stored value; `None` for anything unreadable.
    pub fn parse(value: &str) -> Option<Pause> {
        let v = value.trim();
        if v == INDEFINITE {
            return Some(Pause::Indefinite);
        }
        DateTime::parse_from_rfc3339(v)
            .ok()
            .map(|d| Pause::Until(d.with_timezone(&Utc)))
    }

    /// The stored form (also the `paused_until` of `status --json`).
    pub fn to_value(self) -> String {
        match self {
            Pause::Until(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            Pause::Indefinite => INDEFINITE.to_owned(),
        }
    }

    /// Whether the pause still holds at `now`.
    pub fn is_active(self, now: DateTime<Utc>) -> bool {
        match self {
            Pause::Until(t) => now < t,
            Pause::Indefinite => true,
        }
    }

    /// When it ends, if it has an end.
    pub fn until(self) -> Option<DateTime<Utc>> {
        match self {
            Pause::Until(t) => Some(t),
            Pause::Indefinite => None,
        }
    }
}

/// Default length of `pause` without a duration.
pub const DEFAULT_PAUSE: &str = "1h";

/// Reads the DURATION argument of `pause` at `now`.
pub fn parse_pause(arg: &str, now: DateTime<Utc>) -> Result<Pause, String> {
    let a = arg.trim();
    if matches!(a, "indefinite" | "indefinitely" | "forever") {
        return Ok(Pause::Indefinite);
    }
    let d = parse_duration(a)?;
    if d.is_zero() {
        return Err(format!(
            "a pause of \"{arg}\" would end at once: give a length like \"1h\""
        ));
    }
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .map(Pause::Until)
        .ok_or_else(|| {
            format!("\"{arg}\" is too long: use \"indefinite\" to pause until `dwell-agent resume`")
        })
}

/// The pause in force at `now`, if any (an expired one is `None`). This is what
/// the run loop calls on start and on SIGUSR1.
pub fn paused(store: &Store, now: DateTime<Utc>) -> Result<Option<Pause>, StoreError> {
    Ok(store
        .meta_get(PAUSED_UNTIL_KEY)?
        .and_then(|v| Pause::parse(&v))
        .filter(|p| p.is_active(now)))
}

/// Stores a pause.
pub fn set_pause(store: &Store, pause: Pause) -> Result<(), StoreError> {
    store.meta_set(PAUSED_UNTIL_KEY, &pause.to_value())
}

/// Ends any pause.
pub fn clear_pause(store: &Store) -> Result<(), StoreError> {
    store.meta_delete(PAUSED_UNTIL_KEY)
}

/// `meta` key of a [`Request`] waiting for the running agent.
pub const REQUEST_KEY: &str = "reminder_request";
/// `meta` key of the agent's [`Answer`] to the last request.
pub const ANSWER_KEY: &str = "reminder_answer";

/// What the employee asks of the reminders from outside a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// "Snooze": no reminders for this long (`None`: `[reminders] snooze`).
    Snooze(Option<Duration>),
    /// "Done for today": no more reminders until tomorrow.
    DoneForToday,
}

impl Request {
    /// The stored form: `snooze`, `snooze 900` (seconds), `done`.
    pub fn to_value(self) -> String {
        match self {
            Request::Snooze(None) => "snooze".to_owned(),
            Request::Snooze(Some(d)) => format!("snooze {}", d.as_secs()),
            Request::DoneForToday => "done".to_owned(),
        }
    }

    /// Reads the stored form; `None` for anything else.
    pub fn parse(value: &str) -> Option<Request> {
        let mut words = value.split_whitespace();
        let r = match (words.next()?, words.next()) {
            ("snooze", None) => Request::Snooze(None),
            ("snooze", Some(s)) => Request::Snooze(Some(Duration::from_secs(s.parse().ok()?))),
            ("done", None) => Request::DoneForToday,
            _ => return None,
        };
        words.next().is_none().then_some(r)
    }
}

/// What the agent made of a [`Request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Snoozed until then; `left` snoozes remain today.
    Snoozed { until: DateTime<Utc>, left: u32 },
    /// Today's snoozes are used up (`per_day` a day): nothing changed.
    NoSnoozeLeft { per_day: u32 },
    /// No more reminders today.
    Done,
}

impl Answer {
    /// The stored form.
    pub fn to_value(self) -> String {
        match self {
            Answer::Snoozed { until, left } => format!(
                "snoozed {} {left}",
                until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            Answer::NoSnoozeLeft { per_day } => format!("no_snooze_left {per_day}"),
            Answer::Done => "done".to_owned(),
        }
    }

    /// Reads the stored form; `None` for anything else.
    pub fn parse(value: &str) -> Option<Answer> {
        let w: Vec<&str> = value.split_whitespace().collect();
        match w.as_slice() {
            ["snoozed", until, left] => Some(Answer::Snoozed {
                until: DateTime::parse_from_rfc3339(until)
                    .ok()?
                    .with_timezone(&Utc),
                left: left.parse().ok()?,
            }),
            ["no_snooze_left", n] => Some(Answer::NoSnoozeLeft {
                per_day: n.parse().ok()?,
            }),
            ["done"] => Some(Answer::Done),
            _ => None,
        }
    }
}

/// `meta` key of what was asked with no reminder to take it as its outcome
/// (see [`Asked`]).
pub const ASKED_KEY: &str = "reminders_asked";

/// "Snooze" and "Done for today" asked on a day when no reminder was there to
/// keep them as its outcome (a snooze before the first reminder, say): kept
/// under [`ASKED_KEY`] so a restart, and `status`, still know them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asked {
    /// The local day they hold for.
    pub day: chrono::NaiveDate,
    pub snoozes: u32,
    pub snoozed_until: Option<DateTime<Utc>>,
    pub done: bool,
}

impl Asked {
    /// Nothing asked yet on `day`.
    pub fn none(day: chrono::NaiveDate) -> Asked {
        Asked {
            day,
            snoozes: 0,
            snoozed_until: None,
            done: false,
        }
    }

    /// The stored form: `2026-11-24 1 2026-11-24T10:15:00Z done` (`-` for no
    /// snooze, `more` for not done).
    pub fn to_value(self) -> String {
        let until = self.snoozed_until.map_or("-".to_owned(), |t| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        });
        let done = if self.done { "done" } else { "more" };
        format!("{} {} {until} {done}", self.day, self.snoozes)
    }

    /// Reads the stored form; `None` for anything else.
    pub fn parse(value: &str) -> Option<Asked> {
        let w: Vec<&str> = value.split_whitespace().collect();
        let [day, snoozes, until, done] = w.as_slice() else {
            return None;
        };
        Some(Asked {
            day: day.parse().ok()?,
            snoozes: snoozes.parse().ok()?,
            snoozed_until: match *until {
                "-" => None,
                t => Some(DateTime::parse_from_rfc3339(t).ok()?.with_timezone(&Utc)),
            },
            done: match *done {
                "done" => true,
                "more" => false,
                _ => return None,
            },
        })
    }
}

/// What was asked on `day` with no reminder to keep it (see [`Asked`]).
pub fn asked(store: &Store, day: chrono::NaiveDate) -> Result<Asked, StoreError> {
    Ok(store
        .meta_get(ASKED_KEY)?
        .and_then(|v| Asked::parse(&v))
        .filter(|a| a.day == day)
        .unwrap_or(Asked::none(day)))
}

/// Keeps what was asked.
pub fn set_asked(store: &Store, asked: Asked) -> Result<(), StoreError> {
    store.meta_set(ASKED_KEY, &asked.to_value())
}

/// Stores a request for the running agent (and clears any older answer).
pub fn set_request(store: &Store, request: Request) -> Result<(), StoreError> {
    store.meta_delete(ANSWER_KEY)?;
    store.meta_set(REQUEST_KEY, &request.to_value())
}

/// Takes the waiting request, if any (the agent, on `SIGUSR1`); an
/// unreadable one is dropped.
pub fn take_request(store: &Store) -> Result<Option<Request>, StoreError> {
    let Some(v) = store.meta_get(REQUEST_KEY)? else {
        return Ok(None);
    };
    store.meta_delete(REQUEST_KEY)?;
    Ok(Request::parse(&v))
}

/// Withdraws a request no agent will take.
pub fn clear_request(store: &Store) -> Result<(), StoreError> {
    store.meta_delete(REQUEST_KEY)
}

/// Stores the agent's answer.
pub fn set_answer(store: &Store, answer: Answer) -> Result<(), StoreError> {
    store.meta_set(ANSWER_KEY, &answer.to_value())
}

/// The agent's answer, once there is one.
pub fn answer(store: &Store) -> Result<Option<Answer>, StoreError> {
    Ok(store.meta_get(ANSWER_KEY)?.and_then(|v| Answer::parse(&v)))
}

/// The instant before which data is deleted under `[data] keep`.
pub fn retention_cutoff(keep: Duration, now: DateTime<Utc>) -> DateTime<Utc> {
    chrono::Duration::from_std(keep)
        .ok()
        .and_then(|k| now.checked_sub_signed(k))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Whether retention is due at `now`, given when it last ran (daily).
pub fn retention_due(last_run: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    match last_run {
        None => true,
        Some(t) => now - t >= chrono::Duration::days(1) || t > now,
    }
}

/// Deletes spans that ended, and reminders due, more than `keep` before `now`;
/// compacts the database when anything went, and remembers when it ran.
/// Returns how many spans were deleted. Call it on start and then daily
/// ([`retention_due`] with [`RETENTION_RAN_KEY`] tells when).
pub fn apply_retention(
    store: &mut Store,
    keep: Duration,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let cutoff = retention_cutoff(keep, now);
    let n = store.delete_before(cutoff)?;
    store.delete_unused_sites()?;
    if n > 0 {
        store.compact()?;
    }
    store.meta_set(
        RETENTION_RAN_KEY,
        &now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )?;
    Ok(n)
}

/// When retention last ran, from [`RETENTION_RAN_KEY`].
pub fn retention_last_run(store: &Store) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(store
        .meta_get(RETENTION_RAN_KEY)?
        .and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
        .map(|d| d.with_timezone(&Utc)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{Activity, Source, Span};

    use crate::testing::t;

    #[test]
    fn pause_values_round_trip() {
        assert_eq!(Pause::parse("indefinite"), Some(Pause::Indefinite));
        let p = Pause::Until(t(0));
        assert_eq!(Pause::parse(&p.to_value()), Some(p));
        assert_eq!(Pause::parse("soon"), None);
        assert!(p.is_active(t(-1)));
        assert!(!p.is_active(t(0)));
        assert!(Pause::Indefinite.is_active(t(1_000_000)));
    }

    #[test]
    fn pause_1h1h_is_refused_not_two_hours() {
        let e = parse_pause("1h1h", t(0)).unwrap_err();
        assert!(e.contains("1h1h") && e.contains("once"), "{e}");
        assert_eq!(
            parse_pause("1h30m", t(0)),
            Ok(Pause::Until(t(0) + chrono::TimeDelta::minutes(90)))
        );
    }

    #[test]
    fn pause_in_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(paused(&store, t(0)).unwrap(), None);
        set_pause(&store, Pause::Until(t(60))).unwrap();
        assert_eq!(paused(&store, t(0)).unwrap(), Some(Pause::Until(t(60))));
        assert_eq!(paused(&store, t(61)).unwrap(), None);
        set_pause(&store, Pause::Indefinite).unwrap();
        assert_eq!(paused(&store, t(61)).unwrap(), Some(Pause::Indefinite));
        clear_pause(&store).unwrap();
        assert_eq!(paused(&store, t(0)).unwrap(), None);
    }

    #[test]
    fn requests_and_answers_round_trip_through_the_store() {
        for r in [
            Request::Snooze(None),
            Request::Snooze(Some(Duration::from_secs(1800))),
            Request::DoneForToday,
        ] {
            assert_eq!(Request::parse(&r.to_value()), Some(r));
        }
        assert_eq!(Request::parse("snooze soon"), None);
        assert_eq!(Request::parse("done 5"), None);
        for a in [
            Answer::Snoozed {
                until: t(900),
                left: 2,
            },
            Answer::NoSnoozeLeft { per_day: 3 },
            Answer::Done,
        ] {
            assert_eq!(Answer::parse(&a.to_value()), Some(a));
        }
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(take_request(&store).unwrap(), None);
        set_answer(&store, Answer::Done).unwrap();
        set_request(&store, Request::DoneForToday).unwrap();
        // A new request clears the previous answer.
        assert_eq!(answer(&store).unwrap(), None);
        assert_eq!(take_request(&store).unwrap(), Some(Request::DoneForToday));
        assert_eq!(take_request(&store).unwrap(), None, "taken once");
        set_answer(&store, Answer::Done).unwrap();
        assert_eq!(answer(&store).unwrap(), Some(Answer::Done));
    }

    #[test]
    fn what_was_asked_holds_for_its_day_only() {
        let day: chrono::NaiveDate = "2026-11-24".parse().unwrap();
        let a = Asked {
            day,
            snoozes: 2,
            snoozed_until: Some(t(900)),
            done: true,
        };
        assert_eq!(Asked::parse(&a.to_value()), Some(a));
        assert_eq!(
            Asked::parse(&Asked::none(day).to_value()),
            Some(Asked::none(day))
        );
        assert_eq!(Asked::parse("2026-11-24 x - more"), None);
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(asked(&store, day).unwrap(), Asked::none(day));
        set_asked(&store, a).unwrap();
        assert_eq!(asked(&store, day).unwrap(), a);
        let next = day.succ_opt().unwrap();
        assert_eq!(asked(&store, next).unwrap(), Asked::none(next));
    }

    #[test]
    fn cutoff_and_due() {
        let day = Duration::from_secs(86_400);
        assert_eq!(retention_cutoff(day, t(86_400)), t(0));
        assert!(retention_due(None, t(0)));
        assert!(!retention_due(Some(t(0)), t(3_600)));
        assert!(retention_due(Some(t(0)), t(86_400)));
        // A clock that went backwards does not block retention forever.
        assert!(retention_due(Some(t(100)), t(0)));
    }

    #[test]
    fn retention_deletes_what_is_older() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let span = |a: i64, b: i64, site: &str| Span {
            start: t(a),
            end: t(b),
            activity: Activity::Social(site.into()),
            source: Source::X11,
        };
        let day = 86_400;
        store
            .put_spans(&[
                span(0, 60, "old-zzq.example"),
                span(10 * day, 10 * day + 60, "new.example"),
            ])
            .unwrap();
        let n =
            apply_retention(&mut store, Duration::from_secs(5 * day as u64), t(12 * day)).unwrap();
        assert_eq!(n, 1);
        let left = store.spans(t(-day), t(20 * day)).unwrap();
        assert_eq!(left, vec![span(10 * day, 10 * day + 60, "new.example")]);
        assert_eq!(
            store.site_labels().unwrap(),
            vec!["new.example".to_string()]
        );
        assert_eq!(retention_last_run(&store).unwrap(), Some(t(12 * day)));
    }
}
