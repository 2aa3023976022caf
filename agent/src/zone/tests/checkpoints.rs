//! How often the run loop's checkpoints ask the zone: the loop and the
//! store's rollups on a counting zone, then on a remembered one, under paused
//! tokio time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{
    DateTime, FixedOffset, MappedLocalTime, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc,
};
use dwell_core::{Config, Store, WindowInfo};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::super::Remembered;
use crate::clock::TokioClock;
use crate::run::{run_while, Outlets, Sources};
use crate::watch::{IdleSource, WatchEvent};

/// `Europe/Paris`, counting every conversion.
#[derive(Clone, Copy, Debug)]
struct Counting;

static CONVERSIONS: AtomicUsize = AtomicUsize::new(0);

impl TimeZone for Counting {
    type Offset = FixedOffset;
    fn from_offset(_: &FixedOffset) -> Counting {
        Counting
    }
    fn offset_from_local_date(&self, local: &NaiveDate) -> MappedLocalTime<FixedOffset> {
        CONVERSIONS.fetch_add(1, Ordering::SeqCst);
        chrono_tz::Europe::Paris
            .offset_from_local_date(local)
            .map(|o| o.fix())
    }
    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> MappedLocalTime<FixedOffset> {
        CONVERSIONS.fetch_add(1, Ordering::SeqCst);
        chrono_tz::Europe::Paris
            .offset_from_local_datetime(local)
            .map(|o| o.fix())
    }
    fn offset_from_utc_date(&self, utc: &NaiveDate) -> FixedOffset {
        CONVERSIONS.fetch_add(1, Ordering::SeqCst);
        chrono_tz::Europe::Paris.offset_from_utc_date(utc).fix()
    }
    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> FixedOffset {
        CONVERSIONS.fetch_add(1, Ordering::SeqCst);
        chrono_tz::Europe::Paris.offset_from_utc_datetime(utc).fix()
    }
}

/// Always active.
struct Busy;

impl IdleSource for Busy {
    fn idle_for(&mut self) -> Option<Duration> {
        Some(Duration::ZERO)
    }
}

fn window(class: &str, title: &str) -> Option<WindowInfo> {
    Some(WindowInfo {
        class: class.into(),
        instance: class.to_lowercase(),
        title: title.into(),
        process: None,
        fullscreen: false,
    })
}

/// Runs the loop in `tz` (the store's rollups too) for four minutes from
/// 2026-11-24 10:00 UTC: a social site from 0 s, an editor from 125 s. Returns
/// what `count` said at 15 s and at 115 s (ten checkpoints of an open span,
/// nothing else happening).
async fn ten_checkpoints<Tz: TimeZone + Send + 'static>(tz: Tz, count: fn() -> usize) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.keep_rollups(tz.clone()).unwrap();
    let config = Config::parse(
        "[schedule]\nrecord = \"always\"\n",
        std::path::Path::new("t.toml"),
    )
    .unwrap();
    let wall: DateTime<Utc> = "2026-11-24T10:00:00Z".parse().unwrap();
    let clock = TokioClock::starting_at(wall);
    let (tx, rx) = mpsc::channel(16);
    let sources = Sources::watching(rx, Box::new(Busy));
    let counts = std::sync::Arc::new(std::sync::Mutex::new((0, 0)));
    let seen = counts.clone();
    let script = async move {
        let t0 = Instant::now();
        let at = |s: u64| tokio::time::sleep_until(t0 + Duration::from_secs(s));
        tx.send(WatchEvent::Connected).await.unwrap();
        let social = window("Chromium", "Home / Facebook - Chromium");
        tx.send(WatchEvent::Focus(social)).await.unwrap();
        at(15).await;
        seen.lock().unwrap().0 = count();
        at(115).await;
        seen.lock().unwrap().1 = count();
        at(125).await;
        tx.send(WatchEvent::Focus(window("Code", "main.rs")))
            .await
            .unwrap();
        at(240).await;
    };
    run_while(
        config,
        store,
        sources,
        Outlets::default(),
        &clock,
        &tz,
        script,
    )
    .await
    .unwrap();
    let (a, b) = *counts.lock().unwrap();
    b - a
}

test_system!(Paris);

#[tokio::test(start_paused = true)]
async fn checkpoints_ask_the_remembered_zone_nothing() {
    // What chrono's `Local` is asked: every conversion goes to the system
    // (on Windows a registry read, each a Wine-server round trip under Wine).
    let conversions = ten_checkpoints(Counting, || CONVERSIONS.load(Ordering::SeqCst)).await;
    eprintln!(
        "conversions per checkpoint: {} ({conversions} in 10)",
        conversions as f64 / 10.0
    );
    assert!(
        conversions >= 10,
        "{conversions} conversions in 10 checkpoints"
    );
    // Remembered, the system is asked nothing in the same ten checkpoints.
    Paris::set_zone(chrono_tz::Europe::Paris);
    let asks = ten_checkpoints(Remembered::<Paris>::new(), Paris::asked).await;
    eprintln!("system asked {asks} times in 10 checkpoints, remembered");
    assert_eq!(asks, 0);
}
