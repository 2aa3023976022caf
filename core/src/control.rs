//! What the employee controls while dwell runs: pausing (off the record until a
//! time, or until `resume`) and retention (`[data] keep`).
//!
//! The pause lives in the database's `meta` table under [`PAUSED_UNTIL_KEY`]:
//! an RFC 3339 instant, or [`INDEFINITE`]. `dwell-agent pause` writes it and
//! signals the running agent (SIGUSR1), which re-reads it with [`paused`].

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
