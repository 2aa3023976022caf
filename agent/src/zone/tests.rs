//! The remembered zone answers as the zone does (across DST changes, gaps and
//! folds, changes off the quarter hour), asks rarely, and sees a new zone.

use std::time::Duration;

use chrono::{
    DateTime, FixedOffset, MappedLocalTime, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone,
    Utc,
};
use chrono_tz::Tz;
use dwell_core::schedule::{local_date, local_day_bounds};

use super::{Memory, Remembered, System, KEEP, SETTLE};

/// A system whose zone, clock and count of questions the test sets.
macro_rules! test_system {
    ($name:ident) => {
        struct $name;
        #[allow(dead_code)]
        impl $name {
            fn zone() -> &'static std::sync::Mutex<chrono_tz::Tz> {
                static ZONE: std::sync::Mutex<chrono_tz::Tz> =
                    std::sync::Mutex::new(chrono_tz::Tz::UTC);
                &ZONE
            }
            fn asks() -> &'static std::sync::atomic::AtomicUsize {
                static ASKS: std::sync::atomic::AtomicUsize =
                    std::sync::atomic::AtomicUsize::new(0);
                &ASKS
            }
            /// The test's monotonic clock: `None` is the real one.
            fn clock() -> &'static std::sync::Mutex<Option<std::time::Instant>> {
                static CLOCK: std::sync::Mutex<Option<std::time::Instant>> =
                    std::sync::Mutex::new(None);
                &CLOCK
            }
            fn set_zone(tz: chrono_tz::Tz) {
                *Self::zone().lock().unwrap() = tz;
            }
            fn advance(by: std::time::Duration) {
                let mut clock = Self::clock().lock().unwrap();
                *clock = Some(clock.unwrap_or_else(std::time::Instant::now) + by);
            }
            fn asked() -> usize {
                Self::asks().load(std::sync::atomic::Ordering::SeqCst)
            }
        }
        impl $crate::zone::System for $name {
            fn memory() -> &'static $crate::zone::Memory {
                static MEMORY: $crate::zone::Memory = $crate::zone::Memory::new();
                &MEMORY
            }
            fn offset_from_utc(utc: &chrono::NaiveDateTime) -> chrono::FixedOffset {
                Self::asks().fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let tz = *Self::zone().lock().unwrap();
                chrono::Offset::fix(&chrono::TimeZone::offset_from_utc_datetime(&tz, utc))
            }
            fn offset_from_local(
                local: &chrono::NaiveDateTime,
            ) -> chrono::MappedLocalTime<chrono::FixedOffset> {
                Self::asks().fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let tz = *Self::zone().lock().unwrap();
                chrono::TimeZone::offset_from_local_datetime(&tz, local)
                    .map(|o| chrono::Offset::fix(&o))
            }
            fn now() -> std::time::Instant {
                Self::clock()
                    .lock()
                    .unwrap()
                    .unwrap_or_else(std::time::Instant::now)
            }
        }
    };
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Every `step` from `from` for `hours`, each also 1 ns before and after.
fn instants(from: DateTime<Utc>, hours: i64, step: TimeDelta) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut t = from;
    while t < from + TimeDelta::hours(hours) {
        out.extend([
            t - TimeDelta::nanoseconds(1),
            t,
            t + TimeDelta::nanoseconds(1),
        ]);
        t += step;
    }
    out
}

/// Compares the remembered zone with `tz` itself around `change` (UTC): both
/// ways, at every 5 minutes and 7 seconds, and the day bounds of the days
/// around it.
fn agrees_around<S: System>(tz: Tz, change: DateTime<Utc>) {
    let zone = Remembered::<S>::new();
    let from = change - TimeDelta::hours(36);
    for t in instants(from, 72, TimeDelta::seconds(5 * 60 + 7)) {
        let want = tz.offset_from_utc_datetime(&t.naive_utc()).fix();
        assert_eq!(
            zone.offset_from_utc_datetime(&t.naive_utc()),
            want,
            "{tz} at {t}"
        );
        assert_eq!(local_date(t, &zone), local_date(t, &tz), "{tz} at {t}");
        let local = t.naive_utc() + TimeDelta::seconds(i64::from(want.local_minus_utc()));
        for l in [
            local,
            local + TimeDelta::minutes(30),
            local - TimeDelta::minutes(45),
        ] {
            let want = tz.offset_from_local_datetime(&l).map(|o| o.fix());
            assert_eq!(
                zone.offset_from_local_datetime(&l),
                want,
                "{tz} at local {l}"
            );
        }
    }
    let day = local_date(change, &tz);
    for day in [day.pred_opt().unwrap(), day, day.succ_opt().unwrap()] {
        assert_eq!(
            local_day_bounds(day, &zone),
            local_day_bounds(day, &tz),
            "{tz} {day}"
        );
    }
}

test_system!(Dst);

#[test]
fn answers_as_the_zone_does_across_dst_changes() {
    use chrono_tz::{America, Asia, Australia, Europe, Pacific};
    for (tz, change) in [
        (Europe::Paris, "2026-03-29T01:00:00Z"),
        (Europe::Paris, "2026-10-25T01:00:00Z"),
        (America::New_York, "2026-03-08T07:00:00Z"),
        (America::New_York, "2026-11-01T06:00:00Z"),
        // A 30-minute change.
        (Australia::Lord_Howe, "2026-04-04T15:00:00Z"),
        (Australia::Lord_Howe, "2026-10-03T15:30:00Z"),
        // A midnight that did not happen (00:00-01:00 skipped).
        (America::Sao_Paulo, "2018-11-04T03:00:00Z"),
        // Quarter-hour offsets.
        (Asia::Kathmandu, "2026-06-01T00:00:00Z"),
        (Pacific::Chatham, "2026-04-04T14:00:00Z"),
    ] {
        Dst::set_zone(tz);
        Remembered::<Dst>::forget();
        Dst::advance(SETTLE);
        agrees_around::<Dst>(tz, utc(change));
    }
}

test_system!(Steady);

#[test]
fn asks_twice_per_quarter_hour() {
    Steady::set_zone(chrono_tz::Europe::Paris);
    let zone = Remembered::<Steady>::new();
    let start = utc("2026-11-24T10:00:00Z");
    let before = Steady::asked();
    for t in instants(start, 1, TimeDelta::seconds(1)) {
        let _ = t.with_timezone(&zone);
    }
    // The first and last instant of five quarter hours: the hour's four and
    // the one before it (1 ns before the hour).
    assert_eq!(Steady::asked() - before, 10);
    let before = Steady::asked();
    for _ in 0..100 {
        let _ = local_day_bounds(d(2026, 11, 24), &zone);
    }
    // Two local midnights (the day's start and end).
    assert_eq!(Steady::asked() - before, 4);
}

/// Windows' rules can change at "23:59:59.999" local time: here +02:00 until
/// 2026-10-24 21:59:59.999 UTC, +01:00 from then on.
struct OffQuarter;

impl OffQuarter {
    fn change() -> DateTime<Utc> {
        utc("2026-10-24T21:59:59.999Z")
    }
}

impl System for OffQuarter {
    fn memory() -> &'static Memory {
        static MEMORY: Memory = Memory::new();
        &MEMORY
    }
    fn offset_from_utc(utc: &NaiveDateTime) -> FixedOffset {
        let hours = if *utc < Self::change().naive_utc() {
            2
        } else {
            1
        };
        FixedOffset::east_opt(hours * 3600).unwrap()
    }
    fn offset_from_local(local: &NaiveDateTime) -> MappedLocalTime<FixedOffset> {
        let [summer, winter] = [2, 1].map(|h| FixedOffset::east_opt(h * 3600).unwrap());
        let as_summer = *local - summer < Self::change().naive_utc();
        let as_winter = *local - winter >= Self::change().naive_utc();
        match (as_summer, as_winter) {
            (true, true) => MappedLocalTime::Ambiguous(summer, winter),
            (true, false) => MappedLocalTime::Single(summer),
            (false, true) => MappedLocalTime::Single(winter),
            (false, false) => MappedLocalTime::None,
        }
    }
}

#[test]
fn a_change_off_the_quarter_hour_is_exact() {
    let zone = Remembered::<OffQuarter>::new();
    let change = OffQuarter::change();
    for t in instants(
        change - TimeDelta::hours(2),
        4,
        TimeDelta::milliseconds(997 * 61),
    ) {
        let want = OffQuarter::offset_from_utc(&t.naive_utc());
        assert_eq!(
            zone.offset_from_utc_datetime(&t.naive_utc()),
            want,
            "at {t}"
        );
    }
    for ms in -3..3 {
        let t = change + TimeDelta::milliseconds(ms);
        let want = OffQuarter::offset_from_utc(&t.naive_utc());
        assert_eq!(t.with_timezone(&zone).offset().fix(), want, "at {t}");
        let local = t.naive_utc() + TimeDelta::hours(2);
        let want = OffQuarter::offset_from_local(&local);
        assert_eq!(
            zone.offset_from_local_datetime(&local),
            want,
            "at local {local}"
        );
    }
}

test_system!(Moving);

#[test]
fn a_new_zone_is_seen_after_a_forget_and_within_keep() {
    let zone = Remembered::<Moving>::new();
    let t = utc("2026-11-24T10:00:00Z").naive_utc();
    let paris = FixedOffset::east_opt(3600).unwrap();
    let new_york = FixedOffset::west_opt(5 * 3600).unwrap();
    let tokyo = FixedOffset::east_opt(9 * 3600).unwrap();
    Moving::set_zone(chrono_tz::Europe::Paris);
    Moving::advance(Duration::ZERO);
    assert_eq!(zone.offset_from_utc_datetime(&t), paris);
    // The zone changes: what was asked is remembered until a forget...
    Moving::set_zone(chrono_tz::America::New_York);
    assert_eq!(zone.offset_from_utc_datetime(&t), paris);
    Remembered::<Moving>::forget();
    assert_eq!(zone.offset_from_utc_datetime(&t), new_york);
    // ...and for SETTLE after it, nothing is remembered.
    Moving::set_zone(chrono_tz::Asia::Tokyo);
    assert_eq!(zone.offset_from_utc_datetime(&t), tokyo);
    Moving::advance(SETTLE);
    assert_eq!(zone.offset_from_utc_datetime(&t), tokyo);
    let asked = Moving::asked();
    assert_eq!(zone.offset_from_utc_datetime(&t), tokyo);
    assert_eq!(Moving::asked(), asked, "remembered again after SETTLE");
    // With no forget (Windows: no watcher), a new zone is seen after KEEP.
    Moving::set_zone(chrono_tz::Europe::Paris);
    Moving::advance(KEEP - Duration::from_secs(1));
    assert_eq!(zone.offset_from_utc_datetime(&t), tokyo);
    Moving::advance(Duration::from_secs(1));
    assert_eq!(zone.offset_from_utc_datetime(&t), paris);
}

mod checkpoints;
